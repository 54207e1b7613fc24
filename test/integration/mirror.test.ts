// Registry mirrors: a daemon with --registry-mirror pulls Docker Hub references from the mirror
// (a berth registry on 127.0.0.1), under the Hub's names; nothing reaches Docker Hub.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { api, berth, isRoot, stopProcess, BERTH, type TestDaemon } from '../helpers/daemon.ts';
import { useDaemon, waitFor } from '../helpers/containers.ts';

const skip = !isRoot ? 'integration tests need root' : false;
let d: TestDaemon;
let reg: ChildProcess | undefined;
let regDir: string | undefined;

// The mirror's port is known before the daemon starts: it goes on the daemon's command line.
const port = await new Promise<number>((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = (s.address() as { port: number }).port;
    s.close(() => resolve(p));
  });
});

useDaemon(skip, (x) => (d = x), { extraArgs: ['--registry-mirror', `http://127.0.0.1:${port}`] });

after(async () => {
  await stopProcess(reg);
  if (regDir) rmSync(regDir, { recursive: true, force: true });
});

test('info names the mirror as Docker does (RegistryConfig.Mirrors and docker.io\'s index entry)', { skip }, async () => {
  const rc = (await api(d, 'GET', '/info')).json().RegistryConfig;
  assert.deepEqual(rc.Mirrors, [`http://127.0.0.1:${port}/`]);
  assert.deepEqual(rc.IndexConfigs['docker.io'], { Name: 'docker.io', Mirrors: [`http://127.0.0.1:${port}/`], Secure: true, Official: true });
  assert.ok(rc.InsecureRegistryCIDRs.includes('127.0.0.0/8'));
});

test('a Docker Hub reference is pulled from the configured mirror', { skip }, async () => {
  regDir = mkdtempSync('/tmp/berth-mirror-');
  reg = spawn(BERTH, ['registry', 'serve', '--addr', `127.0.0.1:${port}`, '--root', regDir], { stdio: 'ignore' });
  await waitFor(async () => fetch(`http://127.0.0.1:${port}/v2/`).then((r) => r.ok, () => false), 20_000, 'mirror start');
  // The mirror holds library/busybox:mirrored, as a Hub mirror would.
  const mirrorRef = `127.0.0.1:${port}/library/busybox:mirrored`;
  assert.equal((await berth(d, ['tag', 'busybox', mirrorRef])).code, 0);
  const push = await berth(d, ['push', '-q', mirrorRef]);
  assert.equal(push.code, 0, push.stderr);
  const id = (await api(d, 'GET', '/images/busybox/json')).json().Id;
  assert.equal((await berth(d, ['rmi', mirrorRef])).code, 0);
  const pull = await berth(d, ['pull', 'busybox:mirrored']);
  assert.equal(pull.code, 0, pull.stderr + pull.stdout);
  assert.match(pull.stdout, /docker\.io\/library\/busybox:mirrored/);
  const img = (await api(d, 'GET', '/images/busybox:mirrored/json')).json();
  assert.equal(img.Id, id);
  assert.ok(img.RepoTags.includes('busybox:mirrored'));
});
