// The build cache's bound: beyond --builder-cache-max, the least recently used cached steps go,
// with the untagged images only they held; tagged images and their steps stay.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { api, berth, isRoot, type TestDaemon } from '../helpers/daemon.ts';
import { useDaemon } from '../helpers/containers.ts';

const skip = !isRoot ? 'integration tests need root' : false;
let d: TestDaemon;

useDaemon(skip, (x) => (d = x), { extraArgs: ['--builder-cache-max', '1m'] });

function contextDir(dockerfile: string): string {
  const dir = mkdtempSync(join(d.dir, 'ctx-'));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'Dockerfile'), dockerfile);
  return dir;
}

const build = (dir: string, ...args: string[]) => berth(d, ['build', ...args, dir], { timeoutMs: 120_000 });
const cachedSteps = (out: string): number => out.match(/Using cache/g)?.length ?? 0;

test('beyond the bound the least recently used steps go; tagged images keep theirs', { skip }, async () => {
  const a = contextDir('FROM busybox\nRUN dd if=/dev/zero of=/big bs=1k count=400 2>/dev/null\nRUN echo a > /a\n');
  const b = contextDir('FROM busybox\nRUN dd if=/dev/zero of=/big bs=1k count=500 2>/dev/null\nRUN echo b > /b\n');
  const t = contextDir('FROM busybox\nRUN dd if=/dev/zero of=/big bs=1k count=300 2>/dev/null\n');
  assert.equal((await build(t, '-t', 'kept:1')).code, 0);
  assert.equal((await build(a)).code, 0);
  const again = await build(a);
  assert.equal(cachedSteps(again.stdout), 2, 'under the bound: cached');
  // b pushes the untagged steps past 1 MiB: a's go (least recently used), b's and kept's stay.
  assert.equal((await build(b)).code, 0);
  assert.equal(cachedSteps((await build(b)).stdout), 2);
  assert.equal(cachedSteps((await build(t)).stdout), 1);
  const ra = await build(a);
  assert.equal(cachedSteps(ra.stdout), 0, ra.stdout);
  const df = (await api(d, 'GET', '/system/df')).json() as { BuildCache: Array<{ Size: number; Type: string }> };
  assert.ok(df.BuildCache.some((c) => c.Type === 'regular' && c.Size >= 400 * 1024));
  // builder prune forgets every step and frees the untagged images; the tagged one stays.
  const pruned = await berth(d, ['builder', 'prune', '-f']);
  assert.equal(pruned.code, 0, pruned.stderr);
  assert.match(pruned.stdout, /Total reclaimed space: [1-9]/);
  assert.equal((await api(d, 'GET', '/images/kept:1/json')).status, 200);
  assert.equal(cachedSteps((await build(t)).stdout), 0);
});
