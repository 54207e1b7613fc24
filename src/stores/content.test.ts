import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ContentStore } from './content.ts';
import { sha256Digest } from '../core/digest.ts';
import { isKind } from '../core/errors.ts';

async function withStore(fn: (s: ContentStore, root: string) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'berth-content-'));
  try {
    await fn(await ContentStore.open({ dataRoot: root }), root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

const blobDir = (root: string) => join(root, 'content', 'blobs', 'sha256');

test('put stores bytes and streams under their digest', async () => {
  await withStore(async (s, root) => {
    const d1 = await s.put(Buffer.from('hello'));
    assert.equal(d1, sha256Digest('hello'));
    assert.equal(s.path(d1), join(blobDir(root), d1.slice(7)));
    assert.equal((await s.get(d1)).toString(), 'hello');
    const d2 = await s.put(Readable.from([Buffer.from('a'), Buffer.from('b')]), sha256Digest('ab'));
    assert.equal(d2, sha256Digest('ab'));
    assert.equal(await s.has(d2), true);
    assert.equal(await s.size(d2), 2);
    await s.delete(d2);
    assert.equal(await s.has(d2), false);
    await assert.rejects(s.get(d2), (e: unknown) => isKind(e, 'NotFound'));
  });
});

test('a digest mismatch stores nothing and leaves no temp file', async () => {
  await withStore(async (s, root) => {
    const wrong = sha256Digest('other');
    await assert.rejects(s.put(Buffer.from('hello'), wrong), /digest mismatch/);
    assert.equal(await s.has(wrong), false);
    assert.deepEqual(await readdir(blobDir(root)), []);
    await assert.rejects(s.put(Buffer.from('x'.repeat(100)), undefined, { maxSize: 10 }), /size limit/);
    assert.deepEqual(await readdir(blobDir(root)), []);
  });
});

test('malformed digests never become paths', async () => {
  await withStore(async (s) => {
    for (const bad of ['sha256:../../etc/passwd', `sha256:${'a'.repeat(63)}`, `sha256:${'A'.repeat(64)}`]) {
      assert.throws(() => s.path(bad), (e: unknown) => isKind(e, 'InvalidParameter'));
      await assert.rejects(s.has(bad), (e: unknown) => isKind(e, 'InvalidParameter'));
      await assert.rejects(s.put(Buffer.from('x'), bad), (e: unknown) => isKind(e, 'InvalidParameter'));
    }
  });
});

test('temp files from a crash are removed on open', async () => {
  await withStore(async (_s, root) => {
    await writeFile(join(blobDir(root), '.tmp-deadbeef'), 'partial');
    await ContentStore.open({ dataRoot: root });
    assert.deepEqual(await readdir(blobDir(root)), []);
  });
});
