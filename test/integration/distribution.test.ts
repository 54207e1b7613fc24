// Pull, push, login, save and load against registries on 127.0.0.1: Debian's reference registry
// for round trips, and a scripted registry for auth flows and hostile or failing responses.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { api, berth, isRoot, runProgram, type TestDaemon } from '../helpers/daemon.ts';
import { runToExit, useDaemon, waitFor } from '../helpers/containers.ts';
import { haveReferenceRegistry, makeFakeImage, startFakeRegistry, startReferenceRegistry, type FakeImage, type ReferenceRegistry } from '../helpers/registries.ts';

const DOCKER = ['/usr/local/bin/docker', '/usr/bin/docker'].find((p) => existsSync(p));
const skip = !isRoot ? 'integration tests need root' : false;
const skipRef = skip || (!haveReferenceRegistry ? 'docker-registry is not installed (scripts/setup installs it)' : false);
let d: TestDaemon;
let reg: ReferenceRegistry | undefined;
let fakeImage: FakeImage;

useDaemon(skip, (x) => (d = x));
before(async () => {
  if (skip) return;
  fakeImage = await makeFakeImage();
  if (!skipRef) reg = await startReferenceRegistry();
});
after(async () => {
  await reg?.stop();
});

async function imageId(ref: string): Promise<string | undefined> {
  const r = await api(d, 'GET', `/images/${ref}/json`);
  return r.status === 200 ? r.json().Id : undefined;
}

function partials(): string[] {
  const dir = join(d.dataRoot, 'distribution', 'partial');
  return existsSync(dir) ? readdirSync(dir) : [];
}

test('push, rmi, pull: the same image ID, runnable, with its repo digest; second push skips, another repo mounts', { skip: skipRef }, async () => {
  const ref = `${reg!.host}/team/bb:v1`;
  // A two-layer image: busybox plus a committed change.
  const c = await runToExit(d, { Cmd: ['sh', '-c', 'echo layered > /root/mark'] });
  assert.equal((await api(d, 'POST', `/commit?container=${c.id}&repo=${encodeURIComponent(`${reg!.host}/team/bb`)}&tag=v1`)).status, 201);
  const id = await imageId(ref);
  const push = await berth(d, ['push', ref]);
  assert.equal(push.code, 0, push.stderr);
  assert.match(push.stdout, /Pushed/);
  const digest = /v1: digest: (sha256:[0-9a-f]{64}) size: \d+/.exec(push.stdout)?.[1];
  assert.ok(digest, push.stdout);

  const again = await berth(d, ['push', ref]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /Layer already exists/);
  assert.doesNotMatch(again.stdout, /Pushed/);

  assert.equal((await berth(d, ['tag', ref, `${reg!.host}/other/bb:x`])).code, 0);
  const mounted = await berth(d, ['push', `${reg!.host}/other/bb:x`]);
  assert.equal(mounted.code, 0, mounted.stderr);
  assert.match(mounted.stdout, /Mounted from/);

  assert.equal((await api(d, 'DELETE', `/images/${encodeURIComponent(ref)}`)).status, 200);
  assert.equal((await api(d, 'DELETE', `/images/${encodeURIComponent(`${reg!.host}/other/bb:x`)}`)).status, 200);
  assert.equal(await imageId(ref), undefined);
  const pull = await berth(d, ['pull', ref]);
  assert.equal(pull.code, 0, pull.stderr);
  assert.match(pull.stdout, /Pull complete|Already exists/);
  assert.match(pull.stdout, new RegExp(`Digest: ${digest}`));
  assert.match(pull.stdout, /Status: Downloaded newer image for/);
  assert.equal(await imageId(ref), id, 'the pulled image has the pushed image ID');
  const info = (await api(d, 'GET', `/images/${encodeURIComponent(ref)}/json`)).json();
  assert.deepEqual(info.RepoDigests, [`${reg!.host}/team/bb@${digest}`]);
  const run = await runToExit(d, { Image: ref, Cmd: ['cat', '/root/mark'] });
  assert.equal(run.stdout, 'layered\n');
  const upToDate = await berth(d, ['pull', ref]);
  assert.match(upToDate.stdout, /Image is up to date/);
  // run pulls a missing image first, as docker run does.
  assert.equal((await api(d, 'DELETE', `/containers/${run.id}`)).status, 204);
  assert.equal((await api(d, 'DELETE', `/images/${encodeURIComponent(ref)}`)).status, 200);
  const ran = await berth(d, ['run', '--rm', ref, 'cat', '/root/mark']);
  assert.equal(ran.code, 0, ran.stderr);
  assert.equal(ran.stdout, 'layered\n');
  assert.match(ran.stderr, /Unable to find image .* locally/);
  // Pull by digest.
  const byDigest = await berth(d, ['pull', `${reg!.host}/team/bb@${digest}`]);
  assert.equal(byDigest.code, 0, byDigest.stderr);
  assert.deepEqual(partials(), []);
  // What the registry holds, without pulling (GET /distribution/{name}/json, the SDKs' registry data).
  const dist = await api(d, 'GET', `/distribution/${ref}/json`);
  assert.equal(dist.status, 200, dist.text());
  assert.deepEqual(dist.json(), { Descriptor: { mediaType: 'application/vnd.docker.distribution.manifest.v2+json', digest, size: dist.json().Descriptor.size }, Platforms: [{ os: 'linux', architecture: 'amd64' }] });
  assert.ok(dist.json().Descriptor.size > 0);
  const missing = await api(d, 'GET', `/distribution/${reg!.host}/team/bb:nope/json`);
  assert.equal(missing.status, 404, missing.text());
  assert.match(missing.json().message, /manifest for .*bb:nope not found/);
});

test('docker CLI: push, pull and an unknown tag against berthd', { skip: skipRef || (!DOCKER ? 'docker CLI not installed' : false) }, async () => {
  const docker = (args: string[]) => runProgram(DOCKER!, args, { env: { DOCKER_HOST: d.host, DOCKER_CONFIG: `${d.dir}/docker-config` } });
  const ref = `${reg!.host}/cli/busybox:1`;
  assert.equal((await docker(['tag', 'busybox', ref])).code, 0);
  const push = await docker(['push', ref]);
  assert.equal(push.code, 0, push.stderr);
  assert.match(push.stdout, /1: digest: sha256:[0-9a-f]{64} size: \d+/);
  assert.equal((await docker(['rmi', ref])).code, 0);
  const pull = await docker(['pull', ref]);
  assert.equal(pull.code, 0, pull.stderr);
  assert.match(pull.stdout, /Status: (Downloaded newer image|Image is up to date) for/);
  const missing = await docker(['pull', `${reg!.host}/cli/busybox:nope`]);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /manifest for .*:nope not found: manifest unknown/);
});

test('save and load round-trip in both archive layouts; the archive is what docker save writes', { skip }, async () => {
  const file = join(d.dir, 'saved.tar');
  const save = await berth(d, ['save', '-o', file, 'busybox']);
  assert.equal(save.code, 0, save.stderr);
  const list = await runProgram('tar', ['tf', file]);
  for (const name of ['manifest.json', 'index.json', 'oci-layout', 'repositories']) assert.match(list.stdout, new RegExp(`^${name}$`, 'm'));
  const id = await imageId('busybox');
  assert.equal((await berth(d, ['tag', 'busybox', 'keep:me'])).code, 0);
  assert.equal((await api(d, 'DELETE', '/images/busybox')).status, 200);
  const load = await berth(d, ['load', '-i', file]);
  assert.equal(load.code, 0, load.stderr);
  assert.match(load.stdout, /Loaded image: busybox:latest/);
  assert.equal(await imageId('busybox'), id);

  // The OCI layout alone (manifest.json removed) loads the same image.
  const dir = join(d.dir, 'oci');
  mkdirSync(dir);
  assert.equal((await runProgram('tar', ['xf', file, '-C', dir])).code, 0);
  const oci = join(d.dir, 'oci.tar');
  assert.equal((await runProgram('tar', ['cf', oci, '-C', dir, 'oci-layout', 'index.json', 'blobs'])).code, 0);
  assert.equal((await api(d, 'DELETE', '/images/busybox')).status, 200);
  const load2 = await berth(d, ['load', '-i', oci]);
  assert.equal(load2.code, 0, load2.stderr);
  assert.equal(await imageId('busybox'), id);

  // A blob that does not match its digest is refused and nothing is tagged.
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
  const mhex = index.manifests[0].digest.slice(7);
  const manifest = JSON.parse(readFileSync(join(dir, 'blobs/sha256', mhex), 'utf8'));
  writeFileSync(join(dir, 'blobs/sha256', manifest.config.digest.slice(7)), '{"rootfs":{"diff_ids":[]}}');
  const bad = join(d.dir, 'bad.tar');
  assert.equal((await runProgram('tar', ['cf', bad, '-C', dir, 'oci-layout', 'index.json', 'blobs'])).code, 0);
  assert.equal((await berth(d, ['tag', 'busybox', 'busybox:before'])).code, 0);
  assert.equal((await api(d, 'DELETE', '/images/busybox')).status, 200);
  const refused = await berth(d, ['load', '-i', bad]);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /does not match its digest/);
  assert.equal(await imageId('busybox'), undefined);
  assert.equal((await berth(d, ['tag', 'busybox:before', 'busybox'])).code, 0);

  // Names in an archive never become host paths.
  const evil = join(d.dir, 'evil');
  mkdirSync(evil);
  writeFileSync(join(evil, 'manifest.json'), JSON.stringify([{ Config: '../../../../etc/passwd', RepoTags: ['evil:1'], Layers: [] }]));
  const evilTar = join(d.dir, 'evil.tar');
  assert.equal((await runProgram('tar', ['cf', evilTar, '-C', evil, 'manifest.json'])).code, 0);
  const r = await berth(d, ['load', '-i', evilTar]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /missing/);
  assert.equal(await imageId('evil:1'), undefined);
});

test('token auth: docker login and berth login check credentials; pulls send them', { skip }, async () => {
  const fake = await startFakeRegistry(fakeImage, { token: { user: 'alice', password: 's3cret' } });
  try {
    const env = { DOCKER_CONFIG: join(d.dir, 'cfg-token') };
    const wrong = await berth(d, ['login', '-u', 'alice', '--password-stdin', fake.host], { input: 'nope\n', env });
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /unauthorized|incorrect username or password/);
    const anon = await berth(d, ['pull', `${fake.host}/fake/app:v1`], { env });
    assert.notEqual(anon.code, 0);
    assert.match(anon.stderr, /unauthorized|incorrect username or password|pull access denied/);
    const ok = await berth(d, ['login', '-u', 'alice', '--password-stdin', fake.host], { input: 's3cret\n', env });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /Login Succeeded/);
    const stored = JSON.parse(readFileSync(join(env.DOCKER_CONFIG, 'config.json'), 'utf8'));
    assert.equal(Buffer.from(stored.auths[fake.host].auth, 'base64').toString(), 'alice:s3cret');
    const pull = await berth(d, ['pull', `${fake.host}/fake/app:v1`], { env });
    assert.equal(pull.code, 0, pull.stderr);
    assert.equal(await imageId(`${fake.host}/fake/app:v1`), fakeImage.configDigest);
    if (DOCKER) {
      const dl = await runProgram(DOCKER, ['login', '-u', 'alice', '--password-stdin', fake.host], { input: 's3cret\n', env: { DOCKER_HOST: d.host, DOCKER_CONFIG: join(d.dir, 'cfg-docker') } });
      assert.equal(dl.code, 0, dl.stderr);
      assert.match(dl.stdout, /Login Succeeded/);
    }
    const out = await berth(d, ['logout', fake.host], { env });
    assert.match(out.stdout, /Removing login credentials/);
    assert.equal(JSON.parse(readFileSync(join(env.DOCKER_CONFIG, 'config.json'), 'utf8')).auths[fake.host], undefined);
    await api(d, 'DELETE', `/images/${fake.host}/fake/app:v1`);
  } finally {
    await fake.stop();
  }
});

test('hostile and failing registries: clear errors, nothing tagged, no partial layers kept', { skip }, async () => {
  const fake = await startFakeRegistry(fakeImage);
  const ref = `${fake.host}/fake/app:v1`;
  const pull = () => api(d, 'POST', `/images/create?fromImage=${encodeURIComponent(`${fake.host}/fake/app`)}&tag=v1`);
  const layers = () => readdirSync(join(d.dataRoot, 'layers')).filter((n) => n !== 'l').length;
  try {
    const before = layers();
    const cases: Array<[string, Parameters<typeof startFakeRegistry>[1], RegExp]> = [
      ['corrupt blob', { corruptBlob: fakeImage.layers[1]!.digest }, /verification failed/],
      ['lying manifest digest', { lyingManifestDigest: true }, /manifest digest mismatch/],
      ['401 loop', { alwaysUnauthorized: true }, /unauthorized|denied/],
      ['huge manifest', { hugeManifest: 5 * 1024 * 1024 }, /too large/],
    ];
    for (const [what, faults, msg] of cases) {
      fake.faults = faults ?? {};
      const r = await pull();
      const text = r.text();
      assert.match(text, msg, what);
      assert.equal(await imageId(ref), undefined, `${what}: nothing tagged`);
      assert.equal(layers(), before, `${what}: no layer kept`);
    }
    // 5xx first, then a connection cut mid-blob: retried, resumed with a range request, pulled.
    fake.faults = { failFirstBlobRequests: 2, truncateOnce: fakeImage.layers[1]!.digest };
    fake.ranges.length = 0;
    const ok = await pull();
    assert.match(ok.text(), /Downloaded newer image/);
    assert.ok(fake.ranges.some((r) => /^bytes=[1-9]\d*-$/.test(r)), `resumed with a range request: ${fake.ranges.join(',')}`);
    assert.equal(await imageId(ref), fakeImage.configDigest);
    assert.deepEqual(partials(), []);
    await api(d, 'DELETE', `/images/${ref}`);
    // Unknown manifest before any output: a plain 404 with Docker's wording.
    const nf = await api(d, 'POST', `/images/create?fromImage=${encodeURIComponent(`${fake.host}/fake/app`)}&tag=nope`);
    assert.equal(nf.status, 404);
    assert.match(nf.json().message, /manifest for .*nope not found: manifest unknown/);
    // Bad references are refused at once.
    // An index: the host's platform is picked; a platform it lacks is a clear 404.
    const multi = await api(d, 'POST', `/images/create?fromImage=${encodeURIComponent(`${fake.host}/fake/app`)}&tag=multi`);
    assert.match(multi.text(), /Downloaded newer image/);
    assert.equal(await imageId(`${fake.host}/fake/app:multi`), fakeImage.configDigest);
    const s390 = await api(d, 'POST', `/images/create?fromImage=${encodeURIComponent(`${fake.host}/fake/app`)}&tag=multi&platform=linux/s390x`);
    assert.equal(s390.status, 404);
    assert.match(s390.json().message, /no matching manifest for linux\/s390x/);
    await api(d, 'DELETE', `/images/${fake.host}/fake/app:multi`);
    for (const bad of ['busybox@sha256:../../tmp/x', `busybox@sha256:${'A'.repeat(64)}`, `busybox@sha256:${'a'.repeat(63)}`, 'lower/UPPER', 'a//b', '-.'.repeat(5000), `${'a'.repeat(300)}`, `x:${'t'.repeat(200)}`]) {
      const r = await api(d, 'POST', `/images/create?fromImage=${encodeURIComponent(bad)}`);
      assert.equal(r.status, 400, bad);
      assert.match(r.json().message, /invalid reference format/);
    }
  } finally {
    await fake.stop();
  }
});

test('kill -9 of berthd mid-pull: after restart no half image, and the pull resumes where it stopped', { skip }, async () => {
  const big = await makeFakeImage(4 * 1024 * 1024);
  const fake = await startFakeRegistry(big, { slowBlobs: 20 });
  const ref = `${fake.host}/fake/app:v1`;
  try {
    const pulling = api(d, 'POST', `/images/create?fromImage=${encodeURIComponent(`${fake.host}/fake/app`)}&tag=v1`).catch(() => undefined);
    const partial = join(d.dataRoot, 'distribution', 'partial', big.layers[1]!.digest.slice(7));
    await waitFor(async () => existsSync(partial) && readFileSync(partial).length > 256 * 1024, 20_000, 'part of the blob on disk');
    await d.stop({ signal: 'SIGKILL' });
    await pulling;
    await d.restart();
    assert.equal(await imageId(ref), undefined, 'no half-pulled image');
    assert.ok(existsSync(partial), 'the partial blob is kept for resuming');
    fake.faults = {};
    fake.ranges.length = 0;
    const r = await api(d, 'POST', `/images/create?fromImage=${encodeURIComponent(`${fake.host}/fake/app`)}&tag=v1`);
    assert.match(r.text(), /Downloaded newer image/);
    assert.ok(fake.ranges.some((x) => /^bytes=[1-9]\d*-$/.test(x)), `resumed: ${fake.ranges.join(',')}`);
    assert.equal(await imageId(ref), big.configDigest);
    assert.deepEqual(partials(), []);
    await api(d, 'DELETE', `/images/${ref}`);
  } finally {
    await fake.stop();
  }
});

test('berth push and pull through berth\'s own registry (berth registry serve), every tag with -a', { skip }, async () => {
  const { spawn } = await import('node:child_process');
  const { BERTH } = await import('../helpers/daemon.ts');
  const root = join(d.dir, 'own-registry');
  // On a port fetch() refuses when one is free (a registry may sit on 6000 or 10080): berth reaches it as Docker does.
  const { createServer } = await import('node:net');
  const free = (port: number): Promise<boolean> =>
    new Promise((ok) => {
      const s = createServer();
      s.once('error', () => ok(false));
      s.listen(port, '127.0.0.1', () => s.close(() => ok(true)));
    });
  let port = 0;
  for (const p of [6668, 6669, 10080, 6000]) if (await free(p)) { port = p; break; }
  const child = spawn(BERTH, ['registry', 'serve', '--addr', `127.0.0.1:${port}`, '--root', root], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const host = await new Promise<string>((resolve, reject) => {
      let text = '';
      const onData = (c: Buffer): void => {
        text += c.toString();
        const m = /listening on (?:https?:\/\/)?(127\.0\.0\.1:\d+)/.exec(text);
        if (m) resolve(m[1]!);
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code) => reject(new Error(`registry exited ${code}: ${text}`)));
    });
    for (const tag of ['a', 'b']) {
      assert.equal((await berth(d, ['tag', 'busybox', `${host}/own/bb:${tag}`])).code, 0);
    }
    const push = await berth(d, ['push', '-a', `${host}/own/bb`]);
    assert.equal(push.code, 0, push.stderr);
    assert.match(push.stdout, /a: digest: sha256:[0-9a-f]{64}/);
    assert.match(push.stdout, /b: digest: sha256:[0-9a-f]{64}/);
    const id = await imageId('busybox');
    for (const tag of ['a', 'b']) assert.equal((await api(d, 'DELETE', `/images/${host}/own/bb:${tag}`)).status, 200);
    const pull = await berth(d, ['pull', '-a', `${host}/own/bb`]);
    assert.equal(pull.code, 0, pull.stderr);
    assert.equal(await imageId(`${host}/own/bb:a`), id);
    assert.equal(await imageId(`${host}/own/bb:b`), id);
    for (const tag of ['a', 'b']) await api(d, 'DELETE', `/images/${host}/own/bb:${tag}`);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
  }
});

test('a decompression bomb is refused at the layer size limit; nothing is kept (case 9)', { skip }, async () => {
  const { startDaemon } = await import('../helpers/daemon.ts');
  // 96 MiB of zeros gzip to about 100 KB; the daemon allows 32 MiB per layer.
  const bomb = await makeFakeImage(96 * 1024 * 1024, { zeros: true });
  assert.ok(bomb.layers[1]!.blob.length < 1024 * 1024);
  const fake = await startFakeRegistry(bomb);
  const small = await startDaemon({ extraArgs: ['--max-layer-size', '32m'] });
  try {
    const r = await api(small, 'POST', `/images/create?fromImage=${encodeURIComponent(`${fake.host}/fake/app`)}&tag=v1`);
    assert.match(r.text(), /decompression bomb/);
    assert.equal((await api(small, 'GET', `/images/${fake.host}/fake/app:v1/json`)).status, 404);
    assert.deepEqual(readdirSync(join(small.dataRoot, 'layers')).filter((n) => n !== 'l'), []);
    const partialDir = join(small.dataRoot, 'distribution', 'partial');
    assert.deepEqual(existsSync(partialDir) ? readdirSync(partialDir) : [], []);
  } finally {
    await small.cleanup();
    await fake.stop();
  }
});

test('an archive written by Docker 20.10\'s docker save loads with the same image ID and content', { skip }, async () => {
  const fixture = join(import.meta.dirname, '../fixtures/docker-20.10-save.tar');
  const r = await berth(d, ['load', '-i', fixture]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Loaded image: fixture\/docker-made:1/);
  const img = (await api(d, 'GET', '/images/fixture/docker-made:1/json')).json();
  assert.equal(img.Id, 'sha256:5d3bf68ff0af65ad12e25f43468d491d8bc48e9087e4b0b1e18ac26c2db3923e');
  assert.equal(img.Config.Labels['made.by'], 'docker');
  assert.deepEqual(img.Config.Cmd, ['/hello']);
  const c = (await api(d, 'POST', '/containers/create', { Image: 'fixture/docker-made:1' })).json().Id as string;
  const file = await api(d, 'GET', `/containers/${c}/archive?path=/etc/origin`);
  assert.equal(file.status, 200);
  assert.match(file.body.toString('latin1'), /made by docker/);
  await api(d, 'DELETE', `/containers/${c}`);
  // And berth's save of it loads back to the same ID.
  const out = join(d.dir, 'resaved.tar');
  assert.equal((await berth(d, ['save', '-o', out, 'fixture/docker-made:1'])).code, 0);
  assert.equal((await api(d, 'DELETE', '/images/fixture/docker-made:1')).status, 200);
  assert.equal((await berth(d, ['load', '-i', out])).code, 0);
  assert.equal(await imageId('fixture/docker-made:1'), img.Id);
});

test('search asks the registry a term names (its v1 search): table, --limit, --filter, --format; docker search too', { skip }, async () => {
  const { createServer } = await import('node:http');
  const seen: string[] = [];
  const srv = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    seen.push(url.pathname + url.search);
    if (url.pathname === '/v2/') {
      res.setHeader('Docker-Distribution-API-Version', 'registry/2.0');
      res.end('{}');
      return;
    }
    if (url.pathname === '/v1/search') {
      const all = [
        { name: 'library/busybox', description: 'Busybox base image, with a description long enough to be cut short', star_count: 3000, is_official: true, is_automated: false },
        { name: 'someone/busybox-tools', description: 'tools', star_count: 3, is_official: false, is_automated: false },
      ].filter((r) => r.name.includes(url.searchParams.get('q') ?? ''));
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ query: url.searchParams.get('q'), num_results: all.length, results: all.slice(0, Number(url.searchParams.get('n') ?? 25)) }));
      return;
    }
    res.statusCode = 404;
    res.end();
  });
  await new Promise<void>((ok) => srv.listen(0, '127.0.0.1', ok));
  const host = `127.0.0.1:${(srv.address() as { port: number }).port}`;
  try {
    const table = await berth(d, ['search', `${host}/busybox`]);
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.trim().split('\n');
    assert.match(lines[0]!, /^NAME\s+DESCRIPTION\s+STARS\s+OFFICIAL$/);
    assert.match(lines[1]!, new RegExp(`^${host}/library/busybox\\s+Busybox base image, with a description long …\\s+3000\\s+\\[OK\\]$`));
    assert.equal(lines.length, 3);
    assert.ok(seen.some((s) => s === '/v1/search?q=busybox&n=25'));
    assert.equal((await berth(d, ['search', '--limit', '1', '--format', '{{.Name}}', `${host}/busybox`])).stdout, `${host}/library/busybox\n`);
    assert.equal((await berth(d, ['search', '--filter', 'is-official=false', '--format', '{{.Name}} {{.StarCount}}', `${host}/busybox`])).stdout, `${host}/someone/busybox-tools 3\n`);
    assert.equal((await berth(d, ['search', '--filter', 'stars=10', '--format', '{{.Name}}', `${host}/busybox`])).stdout, `${host}/library/busybox\n`);
    assert.equal((await api(d, 'GET', '/images/search?term=x&limit=0')).status, 400);
    if (DOCKER) {
      const r = await runProgram(DOCKER, ['search', '--format', '{{.Name}}', `${host}/busybox`], { env: { DOCKER_HOST: d.host, DOCKER_CONFIG: `${d.dir}/docker-config` } });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `${host}/library/busybox\n${host}/someone/busybox-tools\n`);
    }
  } finally {
    srv.close();
  }
});

test('Docker\'s words for a registry that cannot be reached and for pushing what is not there', { skip }, async () => {
  // Nothing listens on 127.0.0.1:1; loopback is insecure by default, so http is tried last and told.
  for (const args of [['login', '-u', 'a', '-p', 'b', '127.0.0.1:1'], ['pull', '127.0.0.1:1/nothing']]) {
    const r = await berth(d, args);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Error response from daemon: Get "http:\/\/127\.0\.0\.1:1\/v2\/": dial tcp 127\.0\.0\.1:1: connect: connection refused/, r.stderr);
  }
  // The repository is named first; the missing image is the stream's own error, printed as it is.
  const none = await berth(d, ['push', '127.0.0.1:1/never-tagged']);
  assert.equal(none.code, 1);
  assert.match(none.stdout, /^The push refers to repository \[127\.0\.0\.1:1\/never-tagged\]/);
  assert.equal(none.stderr.trim(), 'An image does not exist locally with the tag: 127.0.0.1:1/never-tagged');
  assert.equal((await berth(d, ['tag', 'busybox', '127.0.0.1:1/tagged:one'])).code, 0);
  const other = await berth(d, ['push', '127.0.0.1:1/tagged:two']);
  assert.equal(other.code, 1);
  assert.equal(other.stderr.trim(), 'tag does not exist: 127.0.0.1:1/tagged:two');
  await berth(d, ['rmi', '127.0.0.1:1/tagged:one']);
});
