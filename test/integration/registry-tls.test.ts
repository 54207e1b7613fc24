// Registries with a private CA: the daemon trusts the CA found under its certs.d directory for
// that host (as Docker's /etc/docker/certs.d), and refuses the registry without it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { api, berth, isRoot, stopProcess, BERTH, type TestDaemon } from '../helpers/daemon.ts';
import { useDaemon, waitFor } from '../helpers/containers.ts';

const skip = !isRoot ? 'integration tests need root' : !existsSync('/usr/bin/openssl') ? 'openssl not installed' : false;
let d: TestDaemon;
let reg: ChildProcess | undefined;
const dir = mkdtempSync('/tmp/berth-tls-');
const port = await new Promise<number>((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = (s.address() as { port: number }).port;
    s.close(() => resolve(p));
  });
});
const host = `127.0.0.1:${port}`;

useDaemon(skip, (x) => (d = x), { extraArgs: ['--certs-dir', join(dir, 'certs.d')] });

after(async () => {
  await stopProcess(reg);
  rmSync(dir, { recursive: true, force: true });
});

test('a registry whose CA is in certs.d/<host:port>/ca.crt is trusted; without it, refused', { skip }, async () => {
  execFileSync('/usr/bin/openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  reg = spawn(BERTH, ['registry', 'serve', '--addr', host, '--root', join(dir, 'root'), '--tls-cert', join(dir, 'cert.pem'), '--tls-key', join(dir, 'key.pem')], { stdio: 'ignore' });
  await waitFor(async () => new Promise<boolean>((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(true)).listen(port, '127.0.0.1', () => s.close(() => resolve(false)));
  }), 20_000, 'registry start');
  const ref = `${host}/tls/busybox:1`;
  assert.equal((await berth(d, ['tag', 'busybox', ref])).code, 0);
  // No CA for the host yet: the certificate is not trusted.
  const refused = await berth(d, ['push', ref]);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /certificate/i);
  mkdirSync(join(dir, 'certs.d', host), { recursive: true });
  copyFileSync(join(dir, 'cert.pem'), join(dir, 'certs.d', host, 'ca.crt'));
  const push = await berth(d, ['push', ref]);
  assert.equal(push.code, 0, push.stderr + push.stdout);
  const id = (await api(d, 'GET', `/images/${encodeURIComponent(ref)}/json`)).json().Id;
  assert.equal((await berth(d, ['rmi', ref])).code, 0);
  const pull = await berth(d, ['pull', ref]);
  assert.equal(pull.code, 0, pull.stderr);
  assert.equal((await api(d, 'GET', `/images/${encodeURIComponent(ref)}/json`)).json().Id, id);
});
