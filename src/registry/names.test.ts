import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isNameComponent, isRepositoryName, isTag, isUploadId, parseDigest, validateDigest, validateRepositoryName } from './names.ts';
import { RegistryError } from './errors.ts';

test('repository names follow the distribution grammar', () => {
  for (const ok of ['a', 'library/busybox', 'a.b/c_d/e__f/g-h/i---j', 'x0/1y', 'a'.repeat(255)]) assert.ok(isRepositoryName(ok), ok);
  for (const bad of ['', 'A', 'a/', '/a', 'a//b', '.a', 'a.', 'a..b', 'a___b', 'a._b', '-a', 'a-', '_a', '../etc', 'a/../b', 'a/./b', 'a%2fb', 'a b', 'a\0b', 'a'.repeat(256), 'ä']) {
    assert.equal(isRepositoryName(bad), false, JSON.stringify(bad));
  }
});

test('name checks stay linear on near-miss input', () => {
  const evil = `${'a-'.repeat(120)}!`;
  const t = process.hrtime.bigint();
  assert.equal(isNameComponent(evil), false);
  assert.equal(isRepositoryName(`${'a'.repeat(254)}_`), false);
  assert.ok(process.hrtime.bigint() - t < 50_000_000n);
});

test('invalid names throw NAME_INVALID', () => {
  assert.throws(() => validateRepositoryName('../x'), (e: unknown) => e instanceof RegistryError && e.code === 'NAME_INVALID' && e.status === 400);
});

test('tags', () => {
  for (const ok of ['latest', 'v1.0', '_x', 'A-b.c_D', 'a'.repeat(128)]) assert.ok(isTag(ok), ok);
  for (const bad of ['', '.x', '-x', 'a/b', 'a:b', 'a'.repeat(129), '..']) assert.equal(isTag(bad), false, bad);
});

test('digests: sha256 and sha512, lowercase hex of the exact length', () => {
  const h64 = 'a'.repeat(64);
  assert.deepEqual(parseDigest(`sha256:${h64}`), { algorithm: 'sha256', hex: h64 });
  assert.deepEqual(parseDigest(`sha512:${'0'.repeat(128)}`), { algorithm: 'sha512', hex: '0'.repeat(128) });
  for (const bad of ['sha256:../../x', `sha256:${'A'.repeat(64)}`, `sha256:${'a'.repeat(63)}`, `sha256:${'a'.repeat(65)}`, `md5:${'a'.repeat(32)}`, h64, `sha512:${h64}`, `sha256:${'a'.repeat(62)}/.`]) {
    assert.equal(parseDigest(bad), undefined, bad);
  }
  assert.throws(() => validateDigest('sha256:../../x'), (e: unknown) => e instanceof RegistryError && e.code === 'DIGEST_INVALID');
});

test('upload ids are UUIDs', () => {
  assert.ok(isUploadId('0f8fad5b-d9cb-469f-a165-70867728950e'));
  assert.equal(isUploadId('../../../etc/passwd'), false);
  assert.equal(isUploadId('0F8FAD5B-D9CB-469F-A165-70867728950E'), false);
});
