// The direction of dependencies (STYLE rule 1): lower layers never import higher ones. Each
// folder under src/ may import only the folders listed for it; a new edge needs a reason here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';

const SRC = resolve(import.meta.dirname, '../../src');

const ALLOWED: Record<string, string[]> = {
  core: ['core'],
  lib: ['core', 'lib'],
  adapters: ['core', 'lib', 'adapters'],
  stores: ['core', 'lib', 'adapters', 'stores'],
  // The frontends are pure: text in, model out.
  dockerfile: ['core', 'lib', 'dockerfile'],
  compose: ['core', 'lib', 'compose', 'dockerfile'],
  distribution: ['core', 'lib', 'adapters', 'stores', 'distribution'],
  // The registry server is a program of its own; it shares no state with the engine.
  registry: ['core', 'lib', 'adapters', 'registry'],
  engine: ['core', 'lib', 'adapters', 'stores', 'distribution', 'dockerfile', 'engine'],
  api: ['core', 'lib', 'adapters', 'stores', 'distribution', 'engine', 'api'],
  client: ['core', 'lib', 'client'],
  // The CLI talks to berthd through the client; it packs archives itself (build contexts, cp)
  // with the tar and rootfs adapters, and runs the registry server in-process.
  cli: ['core', 'lib', 'client', 'cli', 'dockerfile', 'compose', 'distribution', 'adapters', 'registry'],
  daemon: ['core', 'lib', 'adapters', 'stores', 'distribution', 'dockerfile', 'engine', 'api', 'registry', 'daemon'],
};

function files(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...files(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

test('src/ folders import only the layers below them', () => {
  const bad: string[] = [];
  for (const file of files(SRC)) {
    const layer = relative(SRC, file).split('/')[0]!;
    const allowed = ALLOWED[layer];
    assert.ok(allowed, `src/${layer} has no layering rule: add one to this test`);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g)) {
      const spec = m[1] ?? m[2]!;
      const target = relative(SRC, resolve(dirname(file), spec)).split('/')[0]!;
      if (!allowed.includes(target)) bad.push(`${relative(SRC, file)} imports ${spec} (${layer} → ${target})`);
    }
  }
  assert.deepEqual(bad, []);
});

// Adapters the engine reaches only through the interfaces in core/ports.ts; the daemon wires the
// implementations in. (Others still sit behind direct imports: each moved behind a port joins here.)
// The spawn helper is here too: the engine starts no program itself (DESIGN: no argv in the engine);
// each program has its adapter.
const PORTED: Record<string, string[]> = {
  engine: ['adapters/runc', 'adapters/netavark', 'adapters/netns', 'adapters/conmon', 'adapters/mount', 'adapters/cgroups', 'adapters/exec'],
};

test('the engine reaches ported adapters only through core/ports.ts', () => {
  const bad: string[] = [];
  for (const file of files(SRC)) {
    const layer = relative(SRC, file).split('/')[0]!;
    const ported = PORTED[layer];
    if (!ported) continue;
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g)) {
      const target = relative(SRC, resolve(dirname(file), m[1] ?? m[2]!));
      if (ported.some((p) => target === p || target.startsWith(`${p}/`))) bad.push(`${relative(SRC, file)} imports ${target}`);
    }
  }
  assert.deepEqual(bad, []);
});
