// berth's registry server over real HTTP on 127.0.0.1: the push and pull flows of the OCI
// distribution spec, validation, auth, gc, restarts, and interop with skopeo. Most tests run the
// server in-process on a random port and a temp root; the CLI tests start `berth registry serve`
// as a child process and stop it by PID.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile, execFileSync, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join, resolve } from 'node:path';
import { RegistryServer, RegistryStorage, HtpasswdAuth, collectGarbage, type ListeningRegistry } from '../../src/registry/index.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'src/cli/main.ts');
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';

const tempDirs: string[] = [];
const servers: ListeningRegistry[] = [];
const children: ChildProcess[] = [];

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null && c.pid !== undefined) process.kill(c.pid, 'SIGKILL');
  for (const s of servers) await s.close().catch(() => {});
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync('/tmp/berth-registry-it-');
  tempDirs.push(d);
  return d;
}

const sha256 = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

interface Registry {
  url: string;
  root: string;
  storage: RegistryStorage;
  close(): Promise<void>;
}

async function startRegistry(opts: { root?: string; htpasswd?: string; readOnly?: boolean } = {}): Promise<Registry> {
  const root = opts.root ?? join(tempDir(), 'root');
  const storage = await RegistryStorage.open({ root });
  const auth = opts.htpasswd ? (await HtpasswdAuth.load(opts.htpasswd, 'test-realm')).auth : undefined;
  const l = await new RegistryServer({ storage, auth, readOnly: opts.readOnly ?? false }).listen('127.0.0.1', 0);
  servers.push(l);
  return { url: l.url, root, storage, close: () => l.close() };
}

function call(r: { url: string }, method: string, path: string, init: { body?: Buffer | string; headers?: Record<string, string> } = {}): Promise<Response> {
  return fetch(`${r.url}${path}`, { method, redirect: 'manual', headers: init.headers ?? {}, ...(init.body !== undefined ? { body: init.body } : {}) });
}

async function errorCode(res: Response): Promise<string> {
  const body = (await res.json()) as { errors: { code: string }[] };
  return body.errors[0]!.code;
}

async function pushBlob(r: Registry, repo: string, data: Buffer | string): Promise<{ digest: string; size: number }> {
  const digest = sha256(data);
  const res = await call(r, 'POST', `/v2/${repo}/blobs/uploads/?digest=${digest}`, { body: data, headers: { 'Content-Type': 'application/octet-stream' } });
  assert.equal(res.status, 201, await res.text());
  return { digest, size: Buffer.byteLength(data) };
}

function imageManifest(config: { digest: string; size: number }, layers: { digest: string; size: number }[], extra: Record<string, unknown> = {}): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...l })),
      ...extra,
    }),
  );
}

async function pushImage(r: Registry, repo: string, tag: string, seed: string): Promise<{ digest: string; manifest: Buffer; config: string; layer: string }> {
  const config = await pushBlob(r, repo, `{"seed":"${seed}"}`);
  const layer = await pushBlob(r, repo, `layer ${seed}`);
  const manifest = imageManifest(config, [layer]);
  const res = await call(r, 'PUT', `/v2/${repo}/manifests/${tag}`, { body: manifest, headers: { 'Content-Type': OCI_MANIFEST } });
  assert.equal(res.status, 201, await res.text());
  return { digest: res.headers.get('docker-content-digest')!, manifest, config: config.digest, layer: layer.digest };
}

test('GET /v2/ answers with the API version header', async () => {
  const r = await startRegistry();
  const res = await call(r, 'GET', '/v2/');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('docker-distribution-api-version'), 'registry/2.0');
  assert.deepEqual(await res.json(), {});
});

test('monolithic push, then GET and HEAD with Range', async () => {
  const r = await startRegistry();
  const data = Buffer.from('0123456789abcdef');
  const { digest } = await pushBlob(r, 'lib/one', data);
  const head = await call(r, 'HEAD', `/v2/lib/one/blobs/${digest}`);
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-length'), '16');
  assert.equal(head.headers.get('docker-content-digest'), digest);
  assert.equal(head.headers.get('content-type'), 'application/octet-stream');
  const full = await call(r, 'GET', `/v2/lib/one/blobs/${digest}`);
  assert.deepEqual(Buffer.from(await full.arrayBuffer()), data);
  const part = await call(r, 'GET', `/v2/lib/one/blobs/${digest}`, { headers: { Range: 'bytes=4-7' } });
  assert.equal(part.status, 206);
  assert.equal(part.headers.get('content-range'), 'bytes 4-7/16');
  assert.equal(await part.text(), '4567');
  const beyond = await call(r, 'GET', `/v2/lib/one/blobs/${digest}`, { headers: { Range: 'bytes=16-' } });
  assert.equal(beyond.status, 416);
  await beyond.body?.cancel();
  // Another repository does not see the blob until it is linked there.
  const other = await call(r, 'GET', `/v2/lib/two/blobs/${digest}`);
  assert.equal(other.status, 404);
  assert.equal(await errorCode(other), 'BLOB_UNKNOWN');
});

test('chunked upload: PATCH, status, out-of-order chunk → 416, final PUT with the last chunk', async () => {
  const r = await startRegistry();
  const data = Buffer.from('chunk-one|chunk-two|chunk-three');
  const digest = sha256(data);
  const start = await call(r, 'POST', '/v2/c/blobs/uploads/');
  assert.equal(start.status, 202);
  const uuid = start.headers.get('docker-upload-uuid')!;
  let location = start.headers.get('location')!;
  assert.equal(location, `/v2/c/blobs/uploads/${uuid}`);
  assert.equal(start.headers.get('range'), '0-0');

  const p1 = await call(r, 'PATCH', location, { body: data.subarray(0, 10), headers: { 'Content-Range': '0-9', 'Content-Type': 'application/octet-stream' } });
  assert.equal(p1.status, 202);
  assert.equal(p1.headers.get('range'), '0-9');
  location = p1.headers.get('location')!;

  const wrong = await call(r, 'PATCH', location, { body: data.subarray(20), headers: { 'Content-Range': `20-${data.length - 1}` } });
  assert.equal(wrong.status, 416);
  assert.equal(wrong.headers.get('range'), '0-9');
  await wrong.body?.cancel();

  const p2 = await call(r, 'PATCH', location, { body: data.subarray(10, 20), headers: { 'Content-Range': '10-19' } });
  assert.equal(p2.status, 202);
  const status = await call(r, 'GET', location);
  assert.equal(status.status, 204);
  assert.equal(status.headers.get('range'), '0-19');
  assert.equal(status.headers.get('docker-upload-uuid'), uuid);

  const done = await call(r, 'PUT', `${location}?digest=${digest}`, { body: data.subarray(20), headers: { 'Content-Range': `20-${data.length - 1}` } });
  assert.equal(done.status, 201, await done.text());
  assert.equal(done.headers.get('location'), `/v2/c/blobs/${digest}`);
  assert.equal(done.headers.get('docker-content-digest'), digest);
  assert.equal(await (await call(r, 'GET', `/v2/c/blobs/${digest}`)).text(), data.toString());
  assert.deepEqual(readdirSync(join(r.root, '_uploads')), []);
  const gone = await call(r, 'GET', location);
  assert.equal(gone.status, 404);
  assert.equal(await errorCode(gone), 'BLOB_UPLOAD_UNKNOWN');
});

test('an upload survives a restart (re-hashed at the end) and DELETE cancels one', async () => {
  const r = await startRegistry();
  const start = await call(r, 'POST', '/v2/r/blobs/uploads/');
  const location = start.headers.get('location')!;
  assert.equal((await call(r, 'PATCH', location, { body: 'abc' })).status, 202);
  await r.close();
  const r2 = await startRegistry({ root: r.root });
  assert.equal((await call(r2, 'PATCH', location, { body: 'def', headers: { 'Content-Range': '3-5' } })).status, 202);
  const done = await call(r2, 'PUT', `${location}?digest=${sha256('abcdef')}`);
  assert.equal(done.status, 201, await done.text());

  const other = await call(r2, 'POST', '/v2/r/blobs/uploads/');
  const loc2 = other.headers.get('location')!;
  assert.equal((await call(r2, 'DELETE', loc2)).status, 204);
  assert.equal((await call(r2, 'GET', loc2)).status, 404);
});

test('a chunk cut off mid-way is rolled back; the client resends it', async () => {
  const r = await startRegistry();
  const start = await call(r, 'POST', '/v2/cut/blobs/uploads/');
  const location = start.headers.get('location')!;
  assert.equal((await call(r, 'PATCH', location, { body: '0123456789', headers: { 'Content-Range': '0-9' } })).status, 202);
  const { connect } = await import('node:net');
  const port = Number(new URL(r.url).port);
  await new Promise<void>((done, reject) => {
    const sock = connect(port, '127.0.0.1', () => {
      sock.write(`PATCH ${location} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\nContent-Range: 10-109\r\nContent-Length: 100\r\n\r\n${'x'.repeat(50)}`);
      setTimeout(() => {
        sock.destroy();
        done();
      }, 100);
    });
    sock.on('error', reject);
  });
  let range = '';
  for (let i = 0; i < 40 && range !== '0-9'; i++) {
    await new Promise((res) => setTimeout(res, 50));
    range = (await call(r, 'GET', location)).headers.get('range') ?? '';
  }
  assert.equal(range, '0-9');
  const rest = 'abcdefghij';
  assert.equal((await call(r, 'PATCH', location, { body: rest, headers: { 'Content-Range': '10-19' } })).status, 202);
  assert.equal((await call(r, 'PUT', `${location}?digest=${sha256(`0123456789${rest}`)}`)).status, 201);
});

test('concurrent pushes of the same and of different blobs', async () => {
  const r = await startRegistry();
  const same = Buffer.alloc(256 * 1024, 7);
  const results = await Promise.all([
    ...Array.from({ length: 8 }, (_, i) => pushBlob(r, `par/r${i % 3}`, same)),
    ...Array.from({ length: 8 }, (_, i) => pushBlob(r, 'par/r0', Buffer.alloc(64 * 1024, i + 10))),
  ]);
  assert.equal(new Set(results.map((x) => x.digest)).size, 9);
  for (const repo of ['par/r0', 'par/r1', 'par/r2']) {
    assert.deepEqual(Buffer.from(await (await call(r, 'GET', `/v2/${repo}/blobs/${sha256(same)}`)).arrayBuffer()), same);
  }
  assert.deepEqual(readdirSync(join(r.root, 'blobs', '.tmp')), []);
});

test('cross-repository mount: 201 when the source has the blob, 202 (a new upload) when not', async () => {
  const r = await startRegistry();
  const { digest } = await pushBlob(r, 'src/repo', 'shared layer');
  const ok = await call(r, 'POST', `/v2/dst/repo/blobs/uploads/?mount=${digest}&from=src/repo`);
  assert.equal(ok.status, 201);
  assert.equal(ok.headers.get('location'), `/v2/dst/repo/blobs/${digest}`);
  assert.equal((await call(r, 'HEAD', `/v2/dst/repo/blobs/${digest}`)).status, 200);
  const missing = sha256('nobody has this');
  const no = await call(r, 'POST', `/v2/dst/repo/blobs/uploads/?mount=${missing}&from=src/repo`);
  assert.equal(no.status, 202);
  assert.ok(no.headers.get('docker-upload-uuid'));
  assert.equal((await call(r, 'HEAD', `/v2/dst/repo/blobs/${missing}`)).status, 404);
});

test('digest mismatch on blob PUT stores nothing', async () => {
  const r = await startRegistry();
  const claimed = sha256('something else');
  const mono = await call(r, 'POST', `/v2/m/blobs/uploads/?digest=${claimed}`, { body: 'actual bytes' });
  assert.equal(mono.status, 400);
  assert.equal(await errorCode(mono), 'DIGEST_INVALID');
  const start = await call(r, 'POST', '/v2/m/blobs/uploads/');
  const location = start.headers.get('location')!;
  const put = await call(r, 'PUT', `${location}?digest=${claimed}`, { body: 'actual bytes' });
  assert.equal(put.status, 400);
  assert.equal(await errorCode(put), 'DIGEST_INVALID');
  assert.deepEqual(readdirSync(join(r.root, 'blobs', 'sha256')), []);
  assert.deepEqual(readdirSync(join(r.root, 'blobs', '.tmp')), []);
  assert.deepEqual(readdirSync(join(r.root, '_uploads')), []);
  assert.equal((await call(r, 'HEAD', `/v2/m/blobs/${claimed}`)).status, 404);
});

test('manifests: by tag and by digest, media types and bytes preserved, HEAD, Docker schema2', async () => {
  const r = await startRegistry();
  const img = await pushImage(r, 'app', 'v1', 'a');
  assert.equal(img.digest, sha256(img.manifest));
  for (const ref of ['v1', img.digest]) {
    const res = await call(r, 'GET', `/v2/app/manifests/${ref}`, { headers: { Accept: `${OCI_MANIFEST}, ${DOCKER_MANIFEST}` } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), OCI_MANIFEST);
    assert.equal(res.headers.get('docker-content-digest'), img.digest);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), img.manifest);
    const head = await call(r, 'HEAD', `/v2/app/manifests/${ref}`);
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(img.manifest.length));
  }
  // Docker schema 2, with odd whitespace that must survive byte for byte.
  const docker = Buffer.from(
    `{\n   "schemaVersion": 2,\n   "mediaType": "${DOCKER_MANIFEST}",\n   "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": ${Buffer.byteLength('{"seed":"a"}')}, "digest": "${img.config}"},\n   "layers": [ {"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 7, "digest": "${img.layer}"} ]\n}`,
  );
  const put = await call(r, 'PUT', `/v2/app/manifests/${sha256(docker)}`, { body: docker, headers: { 'Content-Type': DOCKER_MANIFEST } });
  assert.equal(put.status, 201, await put.text());
  assert.equal(put.headers.get('location'), `/v2/app/manifests/${sha256(docker)}`);
  const got = await call(r, 'GET', `/v2/app/manifests/${sha256(docker)}`);
  assert.equal(got.headers.get('content-type'), DOCKER_MANIFEST);
  assert.deepEqual(Buffer.from(await got.arrayBuffer()), docker);
  // An index of both.
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: img.digest, size: img.manifest.length }, { mediaType: DOCKER_MANIFEST, digest: sha256(docker), size: docker.length }] }));
  assert.equal((await call(r, 'PUT', '/v2/app/manifests/multi', { body: index, headers: { 'Content-Type': OCI_INDEX } })).status, 201);
  const unknown = await call(r, 'GET', '/v2/app/manifests/nope');
  assert.equal(unknown.status, 404);
  assert.equal(await errorCode(unknown), 'MANIFEST_UNKNOWN');
});

test('manifest PUT checks: digest mismatch, missing blobs and children, invalid JSON, size', async () => {
  const r = await startRegistry();
  const config = await pushBlob(r, 'chk', '{}');
  const good = imageManifest(config, []);
  const mismatch = await call(r, 'PUT', `/v2/chk/manifests/${sha256('other')}`, { body: good, headers: { 'Content-Type': OCI_MANIFEST } });
  assert.equal(mismatch.status, 400);
  assert.equal(await errorCode(mismatch), 'DIGEST_INVALID');
  assert.equal((await call(r, 'GET', `/v2/chk/manifests/${sha256(good)}`)).status, 404);
  assert.equal(existsSync(join(r.root, 'blobs', 'sha256', sha256(good).slice(7))), false);

  const missing = imageManifest(config, [{ digest: sha256('not pushed'), size: 10 }]);
  const mb = await call(r, 'PUT', '/v2/chk/manifests/v1', { body: missing, headers: { 'Content-Type': OCI_MANIFEST } });
  assert.equal(mb.status, 404);
  assert.equal(await errorCode(mb), 'MANIFEST_BLOB_UNKNOWN');
  // A blob of another repository does not count.
  const foreign = await pushBlob(r, 'elsewhere', 'foreign');
  const fm = await call(r, 'PUT', '/v2/chk/manifests/v1', { body: imageManifest(config, [foreign]), headers: { 'Content-Type': OCI_MANIFEST } });
  assert.equal(await errorCode(fm), 'MANIFEST_BLOB_UNKNOWN');
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: sha256('child'), size: 5 }] }));
  const mi = await call(r, 'PUT', '/v2/chk/manifests/idx', { body: index, headers: { 'Content-Type': OCI_INDEX } });
  assert.equal(await errorCode(mi), 'MANIFEST_BLOB_UNKNOWN');

  const bad = await call(r, 'PUT', '/v2/chk/manifests/v1', { body: '{not json', headers: { 'Content-Type': OCI_MANIFEST } });
  assert.equal(bad.status, 400);
  assert.equal(await errorCode(bad), 'MANIFEST_INVALID');
  const wrongType = await call(r, 'PUT', '/v2/chk/manifests/v1', { body: good, headers: { 'Content-Type': DOCKER_MANIFEST } });
  assert.equal(await errorCode(wrongType), 'MANIFEST_INVALID');

  const huge = Buffer.alloc(4 * 1024 * 1024 + 1, 0x20);
  const big = await call(r, 'PUT', '/v2/chk/manifests/big', { body: huge, headers: { 'Content-Type': OCI_MANIFEST } });
  assert.equal(big.status, 413);
  assert.equal(await errorCode(big), 'SIZE_INVALID');
  assert.equal((await call(r, 'GET', '/v2/chk/tags/list')).status, 200);
});

test('invalid names, tags and digests are refused before any path use', async () => {
  const r = await startRegistry();
  writeFileSync(join(r.root, '..', 'x'), 'outside');
  const cases: [string, string, string][] = [
    ['GET', '/v2/a/blobs/sha256:..%2F..%2Fx', 'DIGEST_INVALID'],
    ['GET', `/v2/a/blobs/sha256:${'A'.repeat(64)}`, 'DIGEST_INVALID'],
    ['GET', `/v2/a/blobs/sha256:${'a'.repeat(63)}`, 'DIGEST_INVALID'],
    ['GET', `/v2/a/manifests/sha256:..%2F..%2F..%2Fx`, 'DIGEST_INVALID'],
    ['GET', '/v2/a/manifests/.hidden', 'MANIFEST_INVALID'],
    ['PUT', '/v2/a/manifests/-x', 'MANIFEST_INVALID'],
    ['GET', '/v2/Upper/tags/list', 'NAME_INVALID'],
    ['GET', '/v2/a%2F..%2Fb/tags/list', 'NAME_INVALID'],
    ['POST', '/v2/a..b/blobs/uploads/', 'NAME_INVALID'],
    ['GET', `/v2/${'a'.repeat(256)}/tags/list`, 'NAME_INVALID'],
    ['POST', `/v2/a/blobs/uploads/?digest=sha256:../../x`, 'DIGEST_INVALID'],
    ['POST', `/v2/a/blobs/uploads/?mount=sha256:${'a'.repeat(64)}&from=../b`, 'NAME_INVALID'],
    ['GET', `/v2/a/referrers/sha256:zz`, 'DIGEST_INVALID'],
  ];
  for (const [method, path, code] of cases) {
    const res = await call(r, method, path);
    assert.equal(res.status, 400, `${method} ${path}`);
    assert.equal(await errorCode(res), code, `${method} ${path}`);
  }
  const upload = await call(r, 'GET', '/v2/a/blobs/uploads/..%2F..%2Fx');
  assert.equal(upload.status, 404);
  assert.equal(await errorCode(upload), 'BLOB_UPLOAD_UNKNOWN');
  assert.equal(readFileSync(join(r.root, '..', 'x'), 'utf8'), 'outside');
  assert.deepEqual(readdirSync(join(r.root, 'repositories')), []);
});

test('tags/list and _catalog paginate with n, last and Link', async () => {
  const r = await startRegistry();
  const img = await pushImage(r, 'pg/one', 'a', 'p');
  for (const tag of ['b', 'c', 'd', 'e']) {
    assert.equal((await call(r, 'PUT', `/v2/pg/one/manifests/${tag}`, { body: img.manifest, headers: { 'Content-Type': OCI_MANIFEST } })).status, 201);
  }
  const all = await call(r, 'GET', '/v2/pg/one/tags/list');
  assert.deepEqual(await all.json(), { name: 'pg/one', tags: ['a', 'b', 'c', 'd', 'e'] });
  const p1 = await call(r, 'GET', '/v2/pg/one/tags/list?n=2');
  assert.deepEqual(((await p1.json()) as { tags: string[] }).tags, ['a', 'b']);
  assert.equal(p1.headers.get('link'), '</v2/pg/one/tags/list?n=2&last=b>; rel="next"');
  const p3 = await call(r, 'GET', '/v2/pg/one/tags/list?n=2&last=d');
  assert.deepEqual(((await p3.json()) as { tags: string[] }).tags, ['e']);
  assert.equal(p3.headers.get('link'), null);
  const none = await call(r, 'GET', '/v2/no/such/tags/list');
  assert.equal(none.status, 404);
  assert.equal(await errorCode(none), 'NAME_UNKNOWN');

  await pushImage(r, 'pg/two', 'x', 'q');
  await pushImage(r, 'pg/two/nested', 'x', 'r');
  await pushImage(r, 'alpha', 'x', 's');
  const cat = await call(r, 'GET', '/v2/_catalog');
  assert.deepEqual(await cat.json(), { repositories: ['alpha', 'pg/one', 'pg/two', 'pg/two/nested'] });
  const c1 = await call(r, 'GET', '/v2/_catalog?n=3');
  assert.deepEqual(((await c1.json()) as { repositories: string[] }).repositories, ['alpha', 'pg/one', 'pg/two']);
  assert.equal(c1.headers.get('link'), '</v2/_catalog?n=3&last=pg%2Ftwo>; rel="next"');
  const c2 = await call(r, 'GET', '/v2/_catalog?n=3&last=pg%2Ftwo');
  assert.deepEqual(((await c2.json()) as { repositories: string[] }).repositories, ['pg/two/nested']);
});

test('referrers: subject, OCI-Subject, artifactType filter', async () => {
  const r = await startRegistry();
  const img = await pushImage(r, 'ref', 'v1', 'subject');
  const empty = await pushBlob(r, 'ref', '{}');
  const subject = { mediaType: OCI_MANIFEST, digest: img.digest, size: img.manifest.length };
  const sig = imageManifest(empty, [], { artifactType: 'application/vnd.example.sig', subject, annotations: { who: 'me' } });
  const sbom = imageManifest({ ...empty }, [], { subject });
  for (const m of [sig, sbom]) {
    const res = await call(r, 'PUT', `/v2/ref/manifests/${sha256(m)}`, { body: m, headers: { 'Content-Type': OCI_MANIFEST } });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('oci-subject'), img.digest);
  }
  const all = await call(r, 'GET', `/v2/ref/referrers/${img.digest}`);
  assert.equal(all.status, 200);
  assert.equal(all.headers.get('content-type'), OCI_INDEX);
  const idx = (await all.json()) as { manifests: { digest: string; artifactType?: string; annotations?: Record<string, string> }[] };
  assert.equal(idx.manifests.length, 2);
  const bySig = idx.manifests.find((m) => m.digest === sha256(sig))!;
  assert.equal(bySig.artifactType, 'application/vnd.example.sig');
  assert.deepEqual(bySig.annotations, { who: 'me' });
  assert.equal(idx.manifests.find((m) => m.digest === sha256(sbom))!.artifactType, 'application/vnd.oci.image.config.v1+json');
  const filtered = await call(r, 'GET', `/v2/ref/referrers/${img.digest}?artifactType=application/vnd.example.sig`);
  assert.equal(filtered.headers.get('oci-filters-applied'), 'artifactType');
  assert.deepEqual(((await filtered.json()) as { manifests: { digest: string }[] }).manifests.map((m) => m.digest), [sha256(sig)]);
  const none = await call(r, 'GET', `/v2/ref/referrers/${sha256('nothing')}`);
  assert.deepEqual(((await none.json()) as { manifests: unknown[] }).manifests, []);
  // Deleting a referrer removes it from the list.
  assert.equal((await call(r, 'DELETE', `/v2/ref/manifests/${sha256(sig)}`)).status, 202);
  const after = (await (await call(r, 'GET', `/v2/ref/referrers/${img.digest}`)).json()) as { manifests: unknown[] };
  assert.equal(after.manifests.length, 1);
});

test('deletes: a tag, a manifest by digest (its tags go too), a blob link', async () => {
  const r = await startRegistry();
  const img = await pushImage(r, 'del', 'v1', 'd');
  await call(r, 'PUT', '/v2/del/manifests/v2', { body: img.manifest, headers: { 'Content-Type': OCI_MANIFEST } });
  assert.equal((await call(r, 'DELETE', '/v2/del/manifests/v2')).status, 202);
  assert.deepEqual(((await (await call(r, 'GET', '/v2/del/tags/list')).json()) as { tags: string[] }).tags, ['v1']);
  assert.equal((await call(r, 'DELETE', `/v2/del/manifests/${img.digest}`)).status, 202);
  assert.equal((await call(r, 'GET', '/v2/del/manifests/v1')).status, 404);
  assert.equal((await call(r, 'GET', `/v2/del/manifests/${img.digest}`)).status, 404);
  assert.deepEqual(((await (await call(r, 'GET', '/v2/del/tags/list')).json()) as { tags: string[] }).tags, []);
  const again = await call(r, 'DELETE', `/v2/del/manifests/${img.digest}`);
  assert.equal(again.status, 404);
  assert.equal(await errorCode(again), 'MANIFEST_UNKNOWN');
  assert.equal((await call(r, 'DELETE', `/v2/del/blobs/${img.layer}`)).status, 202);
  assert.equal((await call(r, 'GET', `/v2/del/blobs/${img.layer}`)).status, 404);
  assert.equal((await call(r, 'DELETE', `/v2/del/blobs/${img.layer}`)).status, 404);
});

test('gc keeps blobs still referenced and sweeps the rest', async () => {
  const r = await startRegistry();
  const keep = await pushImage(r, 'gc/a', 'v1', 'keep');
  const drop = await pushImage(r, 'gc/b', 'v1', 'drop');
  // The same layer, linked in a repository whose manifest goes away, stays for gc/a.
  await call(r, 'POST', `/v2/gc/b/blobs/uploads/?mount=${keep.layer}&from=gc/a`);
  const stray = await pushBlob(r, 'gc/b', 'uploaded but never referenced');
  assert.equal((await call(r, 'DELETE', `/v2/gc/b/manifests/${drop.digest}`)).status, 202);

  const dry = await collectGarbage(r.storage, { dryRun: true });
  const dryGone = dry.removedBlobs.map((b) => b.digest).sort();
  assert.deepEqual(dryGone, [drop.digest, drop.config, drop.layer, stray.digest].sort());
  assert.ok(existsSync(join(r.root, 'blobs', 'sha256', stray.digest.slice(7))));

  const res = await collectGarbage(r.storage);
  assert.deepEqual(res.removedBlobs.map((b) => b.digest).sort(), dryGone);
  for (const d of [keep.digest, keep.config, keep.layer]) assert.ok(existsSync(join(r.root, 'blobs', 'sha256', d.slice(7))), d);
  for (const d of dryGone) assert.equal(existsSync(join(r.root, 'blobs', 'sha256', d.slice(7))), false, d);
  const pulled = await call(r, 'GET', '/v2/gc/a/manifests/v1');
  assert.deepEqual(Buffer.from(await pulled.arrayBuffer()), keep.manifest);
  assert.equal((await call(r, 'GET', `/v2/gc/a/blobs/${keep.layer}`)).status, 200);
  assert.equal((await call(r, 'GET', `/v2/gc/b/blobs/${keep.layer}`)).status, 200);

  // --delete-untagged: an untagged manifest goes, with its blobs.
  const untagged = imageManifest(await pushBlob(r, 'gc/a', '{"u":1}'), []);
  assert.equal((await call(r, 'PUT', `/v2/gc/a/manifests/${sha256(untagged)}`, { body: untagged, headers: { 'Content-Type': OCI_MANIFEST } })).status, 201);
  const u = await collectGarbage(r.storage, { deleteUntagged: true });
  assert.deepEqual(u.removedManifests, [{ repository: 'gc/a', digest: sha256(untagged) }]);
  assert.equal((await call(r, 'GET', `/v2/gc/a/manifests/${sha256(untagged)}`)).status, 404);
  assert.equal((await call(r, 'GET', '/v2/gc/a/manifests/v1')).status, 200);
});

function htpasswdFile(user: string, password: string): string {
  if (!existsSync('/usr/bin/htpasswd')) assert.fail('htpasswd (apache2-utils) is not installed: run scripts/setup as root');
  const file = join(tempDir(), 'htpasswd');
  writeFileSync(file, execFileSync('/usr/bin/htpasswd', ['-nbB', user, password]));
  return file;
}

test('htpasswd auth: 401 with a Basic challenge, 200 with the right password, 401 with a wrong one', async () => {
  const r = await startRegistry({ htpasswd: htpasswdFile('alice', 's3cret') });
  const anon = await call(r, 'GET', '/v2/');
  assert.equal(anon.status, 401);
  assert.equal(anon.headers.get('www-authenticate'), 'Basic realm="test-realm"');
  assert.equal(await errorCode(anon), 'UNAUTHORIZED');
  const basic = (u: string, p: string) => ({ Authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });
  assert.equal((await call(r, 'GET', '/v2/', { headers: basic('alice', 's3cret') })).status, 200);
  const wrong = await call(r, 'GET', '/v2/_catalog', { headers: basic('alice', 'nope') });
  assert.equal(wrong.status, 401);
  assert.equal(await errorCode(wrong), 'UNAUTHORIZED');
  const pushAnon = await call(r, 'POST', `/v2/x/blobs/uploads/?digest=${sha256('a')}`, { body: 'a' });
  assert.equal(pushAnon.status, 401);
  await pushAnon.body?.cancel();
  assert.equal((await call(r, 'POST', `/v2/x/blobs/uploads/?digest=${sha256('a')}`, { body: 'a', headers: basic('alice', 's3cret') })).status, 201);
  // Wrong passwords from one address: after ten, 429 for a while, even with the right one.
  for (let i = 0; i < 10; i++) await (await call(r, 'GET', '/v2/', { headers: basic('alice', `guess${i}`) })).body?.cancel();
  const limited = await call(r, 'GET', '/v2/', { headers: basic('alice', 's3cret') });
  assert.equal(limited.status, 429);
  assert.ok(Number(limited.headers.get('retry-after')) > 0);
  assert.equal(await errorCode(limited), 'TOOMANYREQUESTS');
});

test('read-only mode refuses writes with UNSUPPORTED', async () => {
  const r = await startRegistry({ readOnly: true });
  const res = await call(r, 'POST', '/v2/x/blobs/uploads/');
  assert.equal(res.status, 405);
  assert.equal(await errorCode(res), 'UNSUPPORTED');
  assert.equal((await call(r, 'GET', '/v2/')).status, 200);
});

// ---- the CLI: berth registry serve as a child process ----

interface Child {
  proc: ChildProcess;
  url: string;
  output: () => string;
  stop(): Promise<number | null>;
}

async function serveCli(args: string[]): Promise<Child> {
  const proc = spawn(process.execPath, [CLI, 'registry', 'serve', '--addr', '127.0.0.1:0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(proc);
  let out = '';
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolveExit) => proc.once('exit', (code) => resolveExit(code)));
  const deadline = Date.now() + 20_000;
  let url: string | undefined;
  while (url === undefined) {
    const m = /listening on (http\S+)/.exec(out);
    if (m) url = m[1]!;
    else if (proc.exitCode !== null || Date.now() > deadline) assert.fail(`berth registry serve did not start:\n${out}`);
    else await new Promise((r) => setTimeout(r, 50));
  }
  return {
    proc,
    url,
    output: () => out,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) process.kill(proc.pid!, 'SIGTERM');
      return exited;
    },
  };
}

test('berth registry serve: data survives a restart; SIGTERM stops it; berth registry gc --dry-run lists', async () => {
  const root = join(tempDir(), 'root');
  const a = await serveCli(['--root', root, '--log-level', 'warn']);
  const reg = { url: a.url } as Registry;
  const blob = await pushBlob(reg, 'cli/test', 'persisted');
  const stray = await pushBlob(reg, 'cli/test', 'stray');
  const cfg = await pushBlob(reg, 'cli/test', '{}');
  const manifest = imageManifest(cfg, [blob]);
  assert.equal((await call(reg, 'PUT', '/v2/cli/test/manifests/latest', { body: manifest, headers: { 'Content-Type': OCI_MANIFEST } })).status, 201);
  // One writer per root: neither gc nor a second server while this one takes pushes.
  const refused = await promisify(execFile)(process.execPath, [CLI, 'registry', 'gc', '--root', root]).then(
    () => assert.fail('gc ran beside a writable server'),
    (err: { code?: number; stderr?: string }) => err,
  );
  assert.equal(refused.code, 1);
  assert.match(refused.stderr ?? '', new RegExp(`in use by pid ${a.proc.pid}`));
  assert.equal(await a.stop(), 0, a.output());
  assert.equal(existsSync(join(root, 'registry.lock')), false);

  const b = await serveCli(['--root', root]);
  const reg2 = { url: b.url } as Registry;
  assert.equal(await (await call(reg2, 'GET', `/v2/cli/test/blobs/${blob.digest}`)).text(), 'persisted');
  assert.deepEqual(Buffer.from(await (await call(reg2, 'GET', '/v2/cli/test/manifests/latest')).arrayBuffer()), manifest);
  assert.equal(await b.stop(), 0, b.output());
  assert.match(b.output(), /"GET \/v2\/cli\/test\/manifests\/latest" 200/);

  const gc = (extra: string[]) => execFileSync(process.execPath, [CLI, 'registry', 'gc', '--root', root, ...extra], { encoding: 'utf8' });
  const dry = gc(['--dry-run']);
  assert.match(dry, new RegExp(`would remove blob ${stray.digest}`));
  assert.doesNotMatch(dry, new RegExp(blob.digest));
  assert.ok(existsSync(join(root, 'blobs', 'sha256', stray.digest.slice(7))));
  assert.match(gc([]), new RegExp(`removed blob ${stray.digest}`));
  assert.equal(existsSync(join(root, 'blobs', 'sha256', stray.digest.slice(7))), false);
  assert.ok(existsSync(join(root, 'blobs', 'sha256', blob.digest.slice(7))));
});

test('berth registry serve with --tls-cert/--tls-key serves HTTPS', async (t) => {
  if (!existsSync('/usr/bin/openssl')) return t.skip('openssl not installed');
  const dir = tempDir();
  execFileSync('/usr/bin/openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  const s = await serveCli(['--root', join(dir, 'root'), '--tls-cert', join(dir, 'cert.pem'), '--tls-key', join(dir, 'key.pem')]);
  assert.match(s.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const status = await new Promise<number>((resolveStatus, reject) => {
    const req = httpsRequest(`${s.url}/v2/`, { ca: readFileSync(join(dir, 'cert.pem')) }, (res) => {
      res.resume();
      resolveStatus(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
  assert.equal(status, 200);
  assert.equal(await s.stop(), 0);
});

// ---- interop: skopeo pushes an OCI layout and pulls it back ----

function writeOciLayout(dir: string): { manifestDigest: string; layerDigest: string } {
  const blobs = join(dir, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const put = (b: Buffer): { digest: string; size: number } => {
    const digest = sha256(b);
    writeFileSync(join(blobs, digest.slice(7)), b);
    return { digest, size: b.length };
  };
  // A one-file tar layer, built by hand: a 512-byte ustar header, the data padded to 512, two zero blocks.
  const content = Buffer.from('hello from a berth registry test\n');
  const header = Buffer.alloc(512);
  header.write('hello.txt', 0);
  header.write('0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write(`${content.length.toString(8).padStart(11, '0')}\0`, 124);
  header.write('00000000000\0', 136);
  header.write('        ', 148);
  header.write('0', 156);
  header.write('ustar\0', 257);
  header.write('00', 263);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  const tar = Buffer.concat([header, content, Buffer.alloc(512 - content.length), Buffer.alloc(1024)]);
  // Compressed, as skopeo would otherwise compress it on the way and change the manifest.
  const layer = put(gzipSync(tar));
  const config = put(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256(tar)] }, config: {} })));
  const manifest = put(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }],
      }),
    ),
  );
  writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: OCI_MANIFEST, ...manifest, annotations: { 'org.opencontainers.image.ref.name': 'v1' } }] }));
  return { manifestDigest: manifest.digest, layerDigest: layer.digest };
}

// Asynchronous: the registry under test runs in this process and must keep serving meanwhile.
async function skopeo(args: string[]): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)('/usr/bin/skopeo', ['--insecure-policy', ...args], { encoding: 'utf8', timeout: 60_000, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: tempDir() } });
    return stdout;
  } catch (err) {
    assert.fail(`skopeo ${args.join(' ')}: ${(err as { stderr?: string }).stderr ?? String(err)}`);
  }
}

test('skopeo copies an OCI layout into the registry and back out, digests unchanged', async () => {
  if (!existsSync('/usr/bin/skopeo')) assert.fail('skopeo is not installed: run scripts/setup as root');
  const dir = tempDir();
  const { manifestDigest, layerDigest } = writeOciLayout(join(dir, 'layout'));
  const r = await startRegistry({ htpasswd: htpasswdFile('pusher', 'pw') });
  const host = r.url.replace('http://', '');
  await skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', 'pusher:pw', `oci:${join(dir, 'layout')}:v1`, `docker://${host}/test/img:v1`]);
  const basic = { Authorization: `Basic ${Buffer.from('pusher:pw').toString('base64')}` };
  const head = await call(r, 'HEAD', '/v2/test/img/manifests/v1', { headers: basic });
  assert.equal(head.headers.get('docker-content-digest'), manifestDigest);
  const raw = await skopeo(['inspect', '--raw', '--tls-verify=false', '--creds', 'pusher:pw', `docker://${host}/test/img:v1`]);
  assert.equal(sha256(raw), manifestDigest);
  await skopeo(['copy', '--src-tls-verify=false', '--src-creds', 'pusher:pw', `docker://${host}/test/img:v1`, `dir:${join(dir, 'out')}`]);
  assert.equal(sha256(readFileSync(join(dir, 'out', 'manifest.json'))), manifestDigest);
  assert.equal(sha256(readFileSync(join(dir, 'out', layerDigest.slice(7)))), layerDigest);
  // A second copy within the registry mounts the blobs across repositories.
  await skopeo(['copy', '--src-tls-verify=false', '--dest-tls-verify=false', '--src-creds', 'pusher:pw', '--dest-creds', 'pusher:pw', `docker://${host}/test/img:v1`, `docker://${host}/other/img:v2`]);
  const other = await call(r, 'GET', '/v2/other/img/manifests/v2', { headers: basic });
  assert.equal(other.headers.get('docker-content-digest'), manifestDigest);
  // From berth to the reference registry: what berth serves is what it was given.
  if (!existsSync('/usr/bin/docker-registry')) assert.fail('docker-registry is not installed: run scripts/setup as root');
  const ref = (await startReferenceRegistry()).url.replace('http://', '');
  await skopeo(['copy', '--src-tls-verify=false', '--dest-tls-verify=false', '--src-creds', 'pusher:pw', `docker://${host}/test/img:v1`, `docker://${ref}/copied/img:v1`]);
  const fromRef = await fetch(`http://${ref}/v2/copied/img/manifests/v1`, { headers: { Accept: OCI_MANIFEST } });
  assert.equal(fromRef.headers.get('docker-content-digest'), manifestDigest);
});

// ---- the same client-side scenario against berth and against the reference registry ----
// docker-registry (Debian, distribution 2.8) shows the assertions describe real registry
// behaviour. It predates parts of spec 1.1 (416 for out-of-order chunks, referrers), so those
// are checked against berth alone above.

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolvePort, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolvePort(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

async function startReferenceRegistry(): Promise<{ url: string }> {
  const dir = tempDir();
  const port = await freePort();
  const config = join(dir, 'config.yml');
  writeFileSync(
    config,
    ['version: 0.1', 'log:', '  level: error', 'storage:', '  filesystem:', `    rootdirectory: ${join(dir, 'root')}`, '  delete:', '    enabled: true', 'http:', `  addr: 127.0.0.1:${port}`, ''].join('\n'),
  );
  const proc = spawn('/usr/bin/docker-registry', ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(proc);
  let log = '';
  proc.stderr!.on('data', (c: Buffer) => (log += c.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (proc.exitCode !== null) assert.fail(`docker-registry exited:\n${log}`);
    try {
      if ((await fetch(`${url}/v2/`)).status === 200) return { url };
    } catch {}
    if (Date.now() > deadline) assert.fail(`docker-registry did not come up:\n${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function clientScenario(base: string): Promise<void> {
  const at = (loc: string): string => new URL(loc, base).href;
  const go = (method: string, url: string, init: { body?: Buffer | string; headers?: Record<string, string> } = {}) =>
    fetch(url.startsWith('http') ? url : `${base}${url}`, { method, redirect: 'manual', headers: init.headers ?? {}, ...(init.body !== undefined ? { body: init.body } : {}) });
  const codeOf = async (res: Response) => ((await res.json()) as { errors: { code: string }[] }).errors[0]!.code;

  // Chunked upload, in order, final chunk on the PUT.
  const layer = Buffer.from('layer bytes for the shared scenario');
  const start = await go('POST', '/v2/sc/app/blobs/uploads/');
  assert.equal(start.status, 202);
  assert.ok(start.headers.get('docker-upload-uuid'));
  const p1 = await go('PATCH', at(start.headers.get('location')!), { body: layer.subarray(0, 8), headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': '0-7' } });
  assert.equal(p1.status, 202);
  assert.equal(p1.headers.get('range'), '0-7');
  const status = await go('GET', at(p1.headers.get('location')!));
  assert.equal(status.status, 204);
  assert.equal(status.headers.get('range'), '0-7');
  const finalUrl = new URL(at(p1.headers.get('location')!));
  finalUrl.searchParams.set('digest', sha256(layer));
  const done = await go('PUT', finalUrl.href, { body: layer.subarray(8), headers: { 'Content-Type': 'application/octet-stream' } });
  assert.equal(done.status, 201);
  assert.equal(done.headers.get('docker-content-digest'), sha256(layer));

  // Monolithic upload: in the POST (201), or, where the registry does not take that (202), in one PUT.
  const monolithic = async (data: Buffer | string, digest: string): Promise<Response> => {
    const post = await go('POST', `/v2/sc/app/blobs/uploads/?digest=${digest}`, { body: data, headers: { 'Content-Type': 'application/octet-stream' } });
    if (post.status !== 202) return post;
    const url = new URL(at(post.headers.get('location')!));
    url.searchParams.set('digest', digest);
    return go('PUT', url.href, { body: data, headers: { 'Content-Type': 'application/octet-stream' } });
  };
  const config = Buffer.from('{"architecture":"amd64","os":"linux"}');
  assert.equal((await monolithic(config, sha256(config))).status, 201);
  const bad = await monolithic('y', sha256('x'));
  assert.equal(bad.status, 400);
  assert.equal(await codeOf(bad), 'DIGEST_INVALID');

  // Blob reads.
  const part = await go('GET', `/v2/sc/app/blobs/${sha256(layer)}`, { headers: { Range: 'bytes=0-4' } });
  assert.equal(part.status, 206);
  assert.equal(await part.text(), 'layer');
  const headBlob = await go('HEAD', `/v2/sc/app/blobs/${sha256(layer)}`);
  assert.equal(headBlob.headers.get('content-length'), String(layer.length));
  assert.equal(headBlob.headers.get('docker-content-digest'), sha256(layer));
  const unknownBlob = await go('GET', `/v2/sc/app/blobs/${sha256('none')}`);
  assert.equal(unknownBlob.status, 404);
  assert.equal(await codeOf(unknownBlob), 'BLOB_UNKNOWN');

  // Manifests.
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: DOCKER_MANIFEST,
      config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: config.length, digest: sha256(config) },
      layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: layer.length, digest: sha256(layer) }],
    }, null, 3),
  );
  const missing = Buffer.from(manifest.toString().replace(sha256(layer), sha256('never pushed')));
  // The status differs (the spec says 404, distribution 2.8 answers 400); the code is the same.
  const mb = await go('PUT', '/v2/sc/app/manifests/broken', { body: missing, headers: { 'Content-Type': DOCKER_MANIFEST } });
  assert.equal(await codeOf(mb), 'MANIFEST_BLOB_UNKNOWN');
  for (const tag of ['t3', 't1', 't2']) {
    const put = await go('PUT', `/v2/sc/app/manifests/${tag}`, { body: manifest, headers: { 'Content-Type': DOCKER_MANIFEST } });
    assert.equal(put.status, 201);
    assert.equal(put.headers.get('docker-content-digest'), sha256(manifest));
  }
  for (const ref of ['t1', sha256(manifest)]) {
    const got = await go('GET', `/v2/sc/app/manifests/${ref}`, { headers: { Accept: DOCKER_MANIFEST } });
    assert.equal(got.status, 200);
    assert.equal(got.headers.get('content-type'), DOCKER_MANIFEST);
    assert.deepEqual(Buffer.from(await got.arrayBuffer()), manifest);
  }
  const unknownManifest = await go('GET', '/v2/sc/app/manifests/nope', { headers: { Accept: DOCKER_MANIFEST } });
  assert.equal(unknownManifest.status, 404);
  assert.equal(await codeOf(unknownManifest), 'MANIFEST_UNKNOWN');

  // Tags (their pagination is spec 1.1, checked above on berth alone).
  const tags = (await (await go('GET', '/v2/sc/app/tags/list')).json()) as { name: string; tags: string[] };
  assert.equal(tags.name, 'sc/app');
  assert.deepEqual(tags.tags.sort(), ['t1', 't2', 't3']);
  const noRepo = await go('GET', '/v2/sc/none/tags/list');
  assert.equal(noRepo.status, 404);
  assert.equal(await codeOf(noRepo), 'NAME_UNKNOWN');

  // Mount into another repository; the catalog lists both, a page at a time.
  const mount = await go('POST', `/v2/sc/other/blobs/uploads/?mount=${sha256(layer)}&from=sc/app`);
  assert.equal(mount.status, 201);
  assert.equal(new URL(at(mount.headers.get('location')!)).pathname, `/v2/sc/other/blobs/${sha256(layer)}`);
  assert.equal((await go('POST', `/v2/sc/other/blobs/uploads/?mount=${sha256(config)}&from=sc/app`)).status, 201);
  assert.equal((await go('PUT', '/v2/sc/other/manifests/v1', { body: manifest, headers: { 'Content-Type': DOCKER_MANIFEST } })).status, 201);
  const page = await go('GET', '/v2/_catalog?n=1');
  assert.deepEqual(await page.json(), { repositories: ['sc/app'] });
  const next = new URL(/^<([^>]+)>; rel="next"$/.exec(page.headers.get('link') ?? '')![1]!, base);
  assert.equal(next.pathname, '/v2/_catalog');
  assert.equal(next.searchParams.get('last'), 'sc/app');
  assert.equal(next.searchParams.get('n'), '1');
  assert.deepEqual(((await (await go('GET', `${next.pathname}${next.search}`)).json()) as { repositories: string[] }).repositories, ['sc/other']);

  // Deletes.
  assert.equal((await go('DELETE', `/v2/sc/app/manifests/${sha256(manifest)}`)).status, 202);
  assert.equal((await go('GET', '/v2/sc/app/manifests/t1', { headers: { Accept: DOCKER_MANIFEST } })).status, 404);
  assert.equal((await go('DELETE', `/v2/sc/other/blobs/${sha256(layer)}`)).status, 202);
  assert.equal((await go('HEAD', `/v2/sc/other/blobs/${sha256(layer)}`)).status, 404);
}

test('client scenario: berth registry', async () => {
  await clientScenario((await startRegistry()).url);
});

test('client scenario: the reference registry (docker-registry) behaves the same', async () => {
  if (!existsSync('/usr/bin/docker-registry')) assert.fail('docker-registry is not installed: run scripts/setup as root');
  await clientScenario((await startReferenceRegistry()).url);
});
