import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile, link, symlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { directorySize } from './index.ts';

test('directorySize counts files and symlinks once per inode, never directories, as Docker does', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-size-'));
  try {
    assert.equal(await directorySize(dir), 0);
    await writeFile(join(dir, 'five'), '12345');
    await link(join(dir, 'five'), join(dir, 'five-again'));
    await symlink('abc', join(dir, 'link'));
    await mkdir(join(dir, 'sub', 'deeper'), { recursive: true });
    await writeFile(join(dir, 'sub', 'deeper', 'seven'), '1234567');
    assert.equal(await directorySize(dir), 5 + 3 + 7);
    assert.equal(await directorySize(join(dir, 'missing')), 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
