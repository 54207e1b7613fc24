import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseReference, normalizeName, familiarName } from './reference.ts';
import { validateDigest, isDigest, sha256Hex, DigestingStream } from './digest.ts';
import { isKind } from './errors.ts';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';

const HEX = 'a'.repeat(64);
const DIGEST = `sha256:${HEX}`;

test('normalizeName fills in Docker Hub, library/ and latest', () => {
  assert.equal(normalizeName('busybox'), 'docker.io/library/busybox:latest');
  assert.equal(normalizeName('busybox:1.36'), 'docker.io/library/busybox:1.36');
  assert.equal(normalizeName('user/app:1'), 'docker.io/user/app:1');
  assert.equal(normalizeName('docker.io/busybox'), 'docker.io/library/busybox:latest');
  assert.equal(normalizeName('index.docker.io/library/busybox'), 'docker.io/library/busybox:latest');
  assert.equal(normalizeName('localhost:5000/x/y:tag'), 'localhost:5000/x/y:tag');
  assert.equal(normalizeName('localhost/x'), 'localhost/x:latest');
  assert.equal(normalizeName('[::1]:5000/x'), '[::1]:5000/x:latest');
  assert.equal(normalizeName(`x@${DIGEST}`), `docker.io/library/x@${DIGEST}`);
  assert.equal(normalizeName(`x:tag@${DIGEST}`), `docker.io/library/x:tag@${DIGEST}`);
  assert.equal(normalizeName('localhost:5000'), 'docker.io/library/localhost:5000');
});

test('parseReference splits domain, path, tag and digest', () => {
  assert.deepEqual(parseReference('busybox'), { domain: 'docker.io', path: 'library/busybox' });
  assert.deepEqual(parseReference('registry.example.com:443/a/b-c__d.e:v1.0-rc'), {
    domain: 'registry.example.com:443',
    path: 'a/b-c__d.e',
    tag: 'v1.0-rc',
  });
  assert.deepEqual(parseReference(`x:tag@${DIGEST}`), { domain: 'docker.io', path: 'library/x', tag: 'tag', digest: DIGEST });
  // An uppercase first component is taken as a registry host, as Docker does.
  assert.deepEqual(parseReference('UPPER/x'), { domain: 'UPPER', path: 'x' });
});

test('familiarName gives the short display form', () => {
  assert.equal(familiarName('docker.io/library/busybox:latest'), 'busybox:latest');
  assert.equal(familiarName('busybox'), 'busybox');
  assert.equal(familiarName('docker.io/user/app:1'), 'user/app:1');
  assert.equal(familiarName('localhost:5000/x:y'), 'localhost:5000/x:y');
  assert.equal(familiarName(`docker.io/library/x@${DIGEST}`), `x@${DIGEST}`);
  assert.equal(familiarName('docker.io/library/a/b'), 'library/a/b');
});

test('invalid references are refused with Docker wording', () => {
  const invalid = (s: string, re = /^invalid reference format$/) =>
    assert.throws(() => parseReference(s), (err: unknown) => isKind(err, 'InvalidParameter') && re.test((err as Error).message), s);
  invalid('UPPER', /^invalid reference format: repository name \(library\/UPPER\) must be lowercase$/);
  invalid('user/App', /must be lowercase/);
  for (const s of ['', 'a//b', 'a/', '/a', '-a', 'a-', 'a..b', 'a___b', 'a:', 'a:-x', 'a@sha256:abc', `a@sha256:${'A'.repeat(64)}`, 'a b', 'a:t@', 'host:port/x', 'a.b:99999999/x']) {
    invalid(s);
  }
  invalid('a'.repeat(256));
  invalid(`a:${'t'.repeat(129)}`);
  assert.doesNotThrow(() => parseReference(`a:${'t'.repeat(128)}`));
  assert.doesNotThrow(() => parseReference('a'.repeat(237)));
  invalid('a'.repeat(238)); // docker.io/library/ + 238 > 255
  invalid(HEX, /cannot specify 64-byte hexadecimal strings/);
});

test('adversarial references are rejected quickly', () => {
  const inputs = [
    '-.'.repeat(10_000),
    `${'a'.repeat(5000)}.com/x`,
    `${'a.'.repeat(2500)}com/x`,
    `a${'-'.repeat(200)}`,
    `${'a-'.repeat(120)}!`,
    `x/${'a_'.repeat(60)}A`,
    `${'a'.repeat(200)}:${'b'.repeat(120)}!`,
  ];
  for (const s of inputs) {
    const t0 = performance.now();
    assert.throws(() => parseReference(s), (err: unknown) => isKind(err, 'InvalidParameter'));
    const ms = performance.now() - t0;
    assert.ok(ms < 50, `${s.slice(0, 20)}… took ${ms} ms`);
  }
});

test('validateDigest accepts only sha256 with 64 lowercase hex', () => {
  assert.equal(validateDigest(DIGEST), DIGEST);
  for (const bad of ['sha256:../../x', `sha256:${'a'.repeat(63)}`, `sha256:${'A'.repeat(64)}`, `sha512:${HEX}`, HEX, `sha256:${HEX}\n`, `sha256:${'a'.repeat(65)}`]) {
    assert.equal(isDigest(bad), false, bad);
    assert.throws(() => validateDigest(bad), (err: unknown) => isKind(err, 'InvalidParameter'), bad);
  }
});

test('DigestingStream hashes and counts what passes and enforces its budget', async () => {
  const d = new DigestingStream();
  const sink: Buffer[] = [];
  await pipeline(Readable.from([Buffer.from('hello '), Buffer.from('world')]), d, new Writable({ write: (c, _e, cb) => (sink.push(c), cb()) }));
  assert.equal(d.digest(), `sha256:${sha256Hex('hello world')}`);
  assert.equal(d.bytes, 11);
  assert.equal(Buffer.concat(sink).toString(), 'hello world');
  const small = new DigestingStream({ maxBytes: 5 });
  await assert.rejects(pipeline(Readable.from([Buffer.from('hello world')]), small, new Writable({ write: (_c, _e, cb) => cb() })), /size limit/);
});
