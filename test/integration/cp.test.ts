// The container archive API (HEAD/GET/PUT /containers/{id}/archive) and `berth cp`, with berth's
// CLI and the official docker CLI, and the copy's safety against a hostile container.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync, readdirSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { api, berth, runProgram, isRoot, type TestDaemon } from '../helpers/daemon.ts';
import { create, inspect, runToExit, useDaemon, waitFor } from '../helpers/containers.ts';

const DOCKER = ['/usr/local/bin/docker', '/usr/bin/docker'].find((p) => existsSync(p));
const skip = !isRoot ? 'integration tests need root' : false;
const skipDocker = skip || (!DOCKER ? 'docker CLI not installed: skipping compatibility tests' : false);
let d: TestDaemon;

useDaemon(skip, (x) => (d = x));

function docker(args: string[], input?: string) {
  return runProgram(DOCKER!, args, { env: { DOCKER_HOST: d.host, DOCKER_CONFIG: `${d.dir}/docker-config` }, ...(input !== undefined ? { input } : {}) });
}

/** A tar made by the host's tar(1) from a directory. */
function tarOf(dir: string, ...names: string[]): Buffer {
  const r = spawnSync('tar', ['-C', dir, '-c', ...names]);
  assert.equal(r.status, 0, r.stderr.toString());
  return r.stdout;
}

function tarList(buf: Buffer): string[] {
  const r = spawnSync('tar', ['-tv'], { input: buf, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split('\n');
}

function tarNames(buf: Buffer): string[] {
  const r = spawnSync('tar', ['-t'], { input: buf, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split('\n');
}

function statHeader(h: string | string[] | undefined): { name: string; size: number; mode: number; mtime: string; linkTarget: string } {
  assert.equal(typeof h, 'string');
  return JSON.parse(Buffer.from(h as string, 'base64').toString());
}

async function running(cmd: string, body: Record<string, unknown> = {}, name?: string): Promise<string> {
  const id = await create(d, { Cmd: ['sh', '-c', cmd], ...body }, name);
  const s = await api(d, 'POST', `/containers/${id}/start`);
  assert.equal(s.status, 204, s.text());
  return id;
}

async function exec(id: string, cmd: string): Promise<string> {
  const r = await berth(d, ['exec', id, 'sh', '-c', cmd]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

function tmp(): string {
  return mkdtempSync('/tmp/berth-cp-');
}

test('HEAD archive: the stat header, 404 and 400', { skip }, async () => {
  const id = await running('mkdir -p /data && echo hello > /data/f && ln -s /bin/busybox /data/l && sleep 300');
  await waitFor(async () => (await api(d, 'HEAD', `/containers/${id}/archive?path=/data/l`)).status === 200);
  const f = await api(d, 'HEAD', `/containers/${id}/archive?path=/data/f`);
  assert.equal(f.status, 200);
  const st = statHeader(f.headers['x-docker-container-path-stat']);
  assert.equal(st.name, 'f');
  assert.equal(st.size, 6);
  assert.equal(st.mode, 0o644);
  assert.match(st.mtime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  assert.equal(st.linkTarget, '');
  const dir = statHeader((await api(d, 'HEAD', `/containers/${id}/archive?path=/data`)).headers['x-docker-container-path-stat']);
  assert.equal(dir.mode, 2 ** 31 + 0o755);
  const link = statHeader((await api(d, 'HEAD', `/containers/${id}/archive?path=/data/l`)).headers['x-docker-container-path-stat']);
  assert.equal(link.mode, 2 ** 27 + 0o777);
  assert.equal(link.linkTarget, '/bin/busybox');
  assert.equal((await api(d, 'HEAD', `/containers/${id}/archive?path=/nope`)).status, 404);
  assert.equal((await api(d, 'HEAD', `/containers/${id}/archive`)).status, 400);
  const g = await api(d, 'GET', `/containers/${id}/archive?path=/nope`);
  assert.equal(g.status, 404);
  assert.equal(g.json().message, `Could not find the file /nope in container ${id}`);
});

test('GET archive: file, directory and P/. as Docker names them; PUT into a running container', { skip }, async () => {
  const id = await running('mkdir -p /data/sub && echo one > /data/one && echo two > /data/sub/two && ln -s / /data/root && sleep 300');
  await waitFor(async () => (await api(d, 'HEAD', `/containers/${id}/archive?path=/data/root`)).status === 200);
  const file = await api(d, 'GET', `/containers/${id}/archive?path=/data/one`);
  assert.equal(file.status, 200);
  assert.equal(statHeader(file.headers['x-docker-container-path-stat']).name, 'one');
  assert.deepEqual(tarNames(file.body), ['one']);
  const dir = await api(d, 'GET', `/containers/${id}/archive?path=/data`);
  assert.deepEqual(tarNames(dir.body), ['data/', 'data/one', 'data/root', 'data/sub/', 'data/sub/two']);
  assert.ok(tarList(dir.body).some((l) => l.startsWith('l') && l.includes('data/root -> /')));
  const dot = await api(d, 'GET', `/containers/${id}/archive?path=/data/.`);
  assert.deepEqual(tarNames(dot.body), ['./', './one', './root', './sub/', './sub/two']);

  const src = tmp();
  try {
    mkdirSync(join(src, 'in'));
    writeFileSync(join(src, 'in', 'a'), 'A');
    const put = await api(d, 'PUT', `/containers/${id}/archive?path=/data`, tarOf(src, 'in'), { 'Content-Type': 'application/x-tar' });
    assert.equal(put.status, 200, put.text());
    assert.equal(await exec(id, 'cat /data/in/a'), 'A');
    const gz = await api(d, 'PUT', `/containers/${id}/archive?path=/data/sub`, gzipSync(tarOf(src, 'in')));
    assert.equal(gz.status, 200, gz.text());
    assert.equal(await exec(id, 'cat /data/sub/in/a'), 'A');
    const notDir = await api(d, 'PUT', `/containers/${id}/archive?path=/data/one`, tarOf(src, 'in'));
    assert.equal(notDir.status, 400);
    assert.equal(notDir.json().message, 'extraction point is not a directory');
    const missing = await api(d, 'PUT', `/containers/${id}/archive?path=/nope`, tarOf(src, 'in'));
    assert.equal(missing.status, 404);
    assert.equal(missing.json().message, `Could not find the file /nope in container ${id}`);
  } finally {
    rmSync(src, { recursive: true, force: true });
  }
});
