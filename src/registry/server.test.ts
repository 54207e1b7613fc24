import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isLoopbackHost, paginate, parseContentRange, parseListenAddress, parseRange, parseRoute } from './server.ts';
import { RegistryError } from './errors.ts';

const D = `sha256:${'a'.repeat(64)}`;

test('routes', () => {
  assert.deepEqual(parseRoute('/v2/'), { kind: 'base' });
  assert.deepEqual(parseRoute('/v2'), { kind: 'base' });
  assert.deepEqual(parseRoute('/v2/_catalog'), { kind: 'catalog' });
  assert.deepEqual(parseRoute('/v2/a/b/tags/list'), { kind: 'tags', name: 'a/b' });
  assert.deepEqual(parseRoute('/v2/a/manifests/v1'), { kind: 'manifest', name: 'a', reference: 'v1' });
  assert.deepEqual(parseRoute(`/v2/a/manifests/${D.replace(':', '%3A')}`), { kind: 'manifest', name: 'a', reference: D });
  assert.deepEqual(parseRoute(`/v2/x/y/blobs/${D}`), { kind: 'blob', name: 'x/y', digest: D });
  assert.deepEqual(parseRoute('/v2/x/blobs/uploads/'), { kind: 'uploads', name: 'x' });
  assert.deepEqual(parseRoute('/v2/x/blobs/uploads/abc'), { kind: 'upload', name: 'x', id: 'abc' });
  assert.deepEqual(parseRoute(`/v2/blobs/blobs/${D}`), { kind: 'blob', name: 'blobs', digest: D });
  assert.deepEqual(parseRoute(`/v2/x/referrers/${D}`), { kind: 'referrers', name: 'x', digest: D });
  assert.equal(parseRoute('/v1/x'), undefined);
  assert.equal(parseRoute('/v2/x'), undefined);
  assert.equal(parseRoute(`/v2/${'a/'.repeat(3000)}tags/list`), undefined);
});

test('pagination', () => {
  const list = ['a', 'b', 'c', 'd'];
  assert.deepEqual(paginate(list, new URLSearchParams('')), { page: list, n: undefined, more: false });
  assert.deepEqual(paginate(list, new URLSearchParams('n=2')), { page: ['a', 'b'], n: 2, more: true });
  assert.deepEqual(paginate(list, new URLSearchParams('n=2&last=b')), { page: ['c', 'd'], n: 2, more: false });
  assert.deepEqual(paginate(list, new URLSearchParams('last=bb')), { page: ['c', 'd'], n: undefined, more: false });
  assert.deepEqual(paginate(list, new URLSearchParams('n=0')), { page: [], n: 0, more: false });
  assert.throws(() => paginate(list, new URLSearchParams('n=-1')), (e: unknown) => e instanceof RegistryError && e.status === 400);
});

test('Range and Content-Range', () => {
  assert.deepEqual(parseRange('bytes=0-4', 10), { start: 0, end: 4 });
  assert.deepEqual(parseRange('bytes=5-', 10), { start: 5, end: 9 });
  assert.deepEqual(parseRange('bytes=-3', 10), { start: 7, end: 9 });
  assert.deepEqual(parseRange('bytes=8-100', 10), { start: 8, end: 9 });
  assert.equal(parseRange('bytes=10-', 10), 'unsatisfiable');
  assert.equal(parseRange('bytes=0-1,3-4', 10), undefined);
  assert.equal(parseRange(undefined, 10), undefined);
  assert.deepEqual(parseContentRange('0-99'), { start: 0, end: 99 });
  assert.deepEqual(parseContentRange('bytes 100-199/*'), { start: 100, end: 199 });
  assert.equal(parseContentRange(undefined), undefined);
  assert.throws(() => parseContentRange('x'), (e: unknown) => e instanceof RegistryError && e.code === 'BLOB_UPLOAD_INVALID');
  assert.throws(() => parseContentRange('9-1'), (e: unknown) => e instanceof RegistryError && e.status === 416);
});

test('listen addresses', () => {
  assert.deepEqual(parseListenAddress('127.0.0.1:5000'), { host: '127.0.0.1', port: 5000 });
  assert.deepEqual(parseListenAddress(':5000'), { host: '', port: 5000 });
  assert.deepEqual(parseListenAddress('[::1]:0'), { host: '::1', port: 0 });
  assert.throws(() => parseListenAddress('5000'));
  assert.throws(() => parseListenAddress('h:70000'));
  assert.ok(isLoopbackHost('127.0.0.1') && isLoopbackHost('::1') && isLoopbackHost('localhost'));
  assert.ok(!isLoopbackHost('') && !isLoopbackHost('0.0.0.0') && !isLoopbackHost('10.0.0.1'));
});
