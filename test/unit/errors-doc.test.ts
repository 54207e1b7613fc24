// docs/errors.md lists the messages clients see; every one of them must still be in the code, so
// the page cannot go on promising errors berth no longer raises (or raises in other words).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) out.push(readFileSync(p, 'utf8'));
  }
  return out;
}

test('every message docs/errors.md lists is raised somewhere in src/', () => {
  const code = sources(join(ROOT, 'src')).join('\n');
  const doc = readFileSync(join(ROOT, 'docs/errors.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## Messages clients see most'), doc.indexOf('## Client-side messages'));
  // The messages are the code spans of each bullet before its ` — ` explanation (continuation lines
  // included); spans in the explanations are examples and flags, not messages.
  const bullets = section.split(/\n(?=- |#)/).filter((b) => b.startsWith('- '));
  const spans = bullets.flatMap((b) => [...b.split(' — ')[0]!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!)).filter((sp) => !sp.startsWith('--'));
  const missing: string[] = [];
  let checked = 0;
  for (const span of spans) {
    // Placeholders (<name>, …, ...) stand for values; the text between them is the code's own.
    const fragments = span
      .split(/<[^>]*>|…|\.\.\./)
      .map((f) => f.trim())
      .filter((f) => f.length >= 12);
    for (const f of fragments) {
      checked++;
      if (!code.includes(f)) missing.push(`${f}   (from: ${span})`);
    }
  }
  assert.ok(checked > 50, `only ${checked} fragments found: the page's layout changed`);
  assert.deepEqual(missing, [], 'docs/errors.md names messages the code no longer has');
});
