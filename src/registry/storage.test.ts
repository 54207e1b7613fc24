import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { RegistryStorage } from './storage.ts';
import { RegistryError } from './errors.ts';

async function withStorage(fn: (s: RegistryStorage, root: string) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'berth-registry-storage-'));
  try {
    await fn(await RegistryStorage.open({ root }), root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

const digestOf = (s: string, alg = 'sha256'): string => `${alg}:${createHash(alg).update(s).digest('hex')}`;
const code = (c: string) => (e: unknown) => e instanceof RegistryError && e.code === c;

test('a failed chunk is rolled back and the running hash stays right', async () => {
  await withStorage(async (s) => {
    const u = { repo: 'r', id: await s.startUpload('r') };
    assert.equal(await s.appendUpload(u, Readable.from([Buffer.from('abc')])), 3);
    const failing = new Readable({
      read() {
        this.push(Buffer.from('XXXX'));
        this.destroy(new Error('client went away'));
      },
    });
    await assert.rejects(s.appendUpload(u, failing), /client went away/);
    assert.equal(await s.uploadSize(u), 3);
    await assert.rejects(s.appendUpload(u, Readable.from([Buffer.from('zz')]), { start: 5 }), code('RANGE_INVALID'));
    assert.equal(await s.appendUpload(u, Readable.from([Buffer.from('def')]), { start: 3 }), 6);
    assert.equal(await s.completeUpload(u, digestOf('abcdef')), 6);
    assert.equal(await s.blobSize('r', digestOf('abcdef')), 6);
  });
});

test('uploads belong to their repository; sha512 digests are re-hashed', async () => {
  await withStorage(async (s) => {
    const id = await s.startUpload('a');
    await assert.rejects(s.uploadSize({ repo: 'b', id }), code('BLOB_UPLOAD_UNKNOWN'));
    await s.appendUpload({ repo: 'a', id }, Readable.from([Buffer.from('x512')]));
    await s.completeUpload({ repo: 'a', id }, digestOf('x512', 'sha512'));
    assert.equal(await s.blobSize('a', digestOf('x512', 'sha512')), 4);
  });
});

test('stale uploads are purged, fresh ones kept', async () => {
  await withStorage(async (s, root) => {
    const old = await s.startUpload('r');
    const fresh = await s.startUpload('r');
    const past = new Date(Date.now() - 25 * 3600 * 1000);
    await utimes(join(root, '_uploads', old, 'data'), past, past);
    assert.deepEqual(await s.purgeUploads(), [old]);
    assert.deepEqual(await readdir(join(root, '_uploads')), [fresh]);
    await assert.rejects(s.uploadSize({ repo: 'r', id: old }), code('BLOB_UPLOAD_UNKNOWN'));
  });
});

test('a digest mismatch leaves no temp file and no link', async () => {
  await withStorage(async (s, root) => {
    await assert.rejects(s.putBlob('r', Readable.from([Buffer.from('data')]), { digest: digestOf('other') }), code('DIGEST_INVALID'));
    assert.deepEqual(await readdir(join(root, 'blobs', '.tmp')), []);
    assert.deepEqual(await readdir(join(root, 'blobs', 'sha256')), []);
    assert.equal(await s.repositoryExists('r'), false);
  });
});
