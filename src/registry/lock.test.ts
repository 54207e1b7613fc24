import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lockRoot, RootLockedError } from './lock.ts';

test('one holder at a time; a stale lock is taken over', async () => {
  const root = await mkdtemp(join(tmpdir(), 'berth-registry-lock-'));
  try {
    // A live process (pid 1 always is) holds it.
    await writeFile(join(root, 'registry.lock'), JSON.stringify({ pid: 1, readOnly: true }));
    await assert.rejects(lockRoot(root), (e: unknown) => e instanceof RootLockedError && e.holder.pid === 1 && e.holder.readOnly);
    // A process that has exited does not.
    const gone = spawnSync(process.execPath, ['-e', '']).pid!;
    await writeFile(join(root, 'registry.lock'), JSON.stringify({ pid: gone }));
    const release = await lockRoot(root);
    assert.ok(existsSync(join(root, 'registry.lock')));
    await release();
    assert.equal(existsSync(join(root, 'registry.lock')), false);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
