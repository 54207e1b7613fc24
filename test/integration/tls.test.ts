// TLS on TCP listeners: berthd with --tlsverify serves the API over TLS to clients whose
// certificate its CA signed; the berth CLI (flags or DOCKER_TLS_VERIFY/DOCKER_CERT_PATH) and the
// docker CLI connect, run containers (attach over TLS included); others are refused.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { berth, isRoot, runProgram } from '../helpers/daemon.ts';
import { useDaemon } from '../helpers/containers.ts';

const OPENSSL = '/usr/bin/openssl';
const DOCKER = ['/usr/local/bin/docker', '/usr/bin/docker'].find((p) => existsSync(p));
const skip = !isRoot ? 'integration tests need root' : !existsSync(OPENSSL) ? 'openssl not installed' : false;

const dir = mkdtempSync('/tmp/berth-tls-api-');
const port = await new Promise<number>((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = (s.address() as { port: number }).port;
    s.close(() => resolve(p));
  });
});
const tcp = `tcp://127.0.0.1:${port}`;
const f = (n: string): string => join(dir, n);

if (!skip) {
  const ssl = (...args: string[]) => execFileSync(OPENSSL, args, { stdio: 'ignore' });
  ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=berth test CA', '-keyout', f('ca-key.pem'), '-out', f('ca.pem'));
  for (const [name, ext] of [['server', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth'], ['client', 'extendedKeyUsage=clientAuth']] as const) {
    ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${name}`, '-keyout', f(`${name}-key.pem`), '-out', f(`${name}.csr`));
    writeFileSync(f(`${name}.ext`), `${ext}\n`);
    ssl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca-key.pem'), '-CAcreateserial', '-days', '1', '-extfile', f(`${name}.ext`), '-out', f(`${name}-cert.pem`));
  }
}

useDaemon(skip, () => {}, { extraArgs: ['-H', tcp, '--tlsverify', '--tlscacert', f('ca.pem'), '--tlscert', f('server-cert.pem'), '--tlskey', f('server-key.pem')] });

after(() => rmSync(dir, { recursive: true, force: true }));

test('berth over TLS with a client certificate: version, run (attach) and ps; refused without one', { skip }, async () => {
  const tlsFlags = ['-H', tcp, '--tlsverify', '--tlscacert', f('ca.pem'), '--tlscert', f('client-cert.pem'), '--tlskey', f('client-key.pem')];
  const v = await berth({ host: '' }, [...tlsFlags, 'version']);
  assert.equal(v.code, 0, v.stderr);
  assert.match(v.stdout, /Server/);
  const run = await berth({ host: '' }, [...tlsFlags, 'run', '--rm', 'busybox', 'echo', 'over-tls']);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, 'over-tls\n');
  // DOCKER_TLS_VERIFY with DOCKER_CERT_PATH holding ca.pem, cert.pem, key.pem.
  const certs = join(dir, 'certs');
  mkdirSync(certs, { recursive: true });
  copyFileSync(f('ca.pem'), join(certs, 'ca.pem'));
  copyFileSync(f('client-cert.pem'), join(certs, 'cert.pem'));
  copyFileSync(f('client-key.pem'), join(certs, 'key.pem'));
  const ps = await runProgram(join(import.meta.dirname, '../../bin/berth'), ['ps', '-a'], { env: { DOCKER_HOST: tcp, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certs } });
  assert.equal(ps.code, 0, ps.stderr);
  // No client certificate: the handshake fails. Plain HTTP: no answer from the API.
  const noCert = await berth({ host: '' }, ['-H', tcp, '--tlsverify', '--tlscacert', f('ca.pem'), 'version']);
  assert.notEqual(noCert.code, 0);
  const plain = await new Promise<string>((resolve) => {
    request({ host: '127.0.0.1', port, path: '/_ping', timeout: 3000 }, (res) => resolve(String(res.statusCode))).on('error', (e) => resolve(e.message)).end();
  });
  assert.notEqual(plain, '200');
  if (DOCKER) {
    const dk = await runProgram(DOCKER, ['--tlsverify', '--tlscacert', f('ca.pem'), '--tlscert', f('client-cert.pem'), '--tlskey', f('client-key.pem'), '-H', tcp, 'run', '--rm', 'busybox', 'echo', 'docker-over-tls'], { env: { DOCKER_CONFIG: `${dir}/docker-config` } });
    assert.equal(dk.code, 0, dk.stderr);
    assert.equal(dk.stdout, 'docker-over-tls\n');
  }
});
