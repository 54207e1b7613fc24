// berthd configuration: --config-file, a TCP listener on 127.0.0.1, host and none networking.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync, rmSync, readdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { startDaemon, isRoot, type TestDaemon } from '../helpers/daemon.ts';
import { bootstrap, runToExit } from '../helpers/containers.ts';

const skip = !isRoot ? 'integration tests need root' : false;
let d: TestDaemon;
let cfgDir: string;
const port = 23000 + Math.floor(Math.random() * 2000);

before(async () => {
  if (skip) return;
  cfgDir = mkdtempSync('/tmp/berth-cfg-');
  const cfg = join(cfgDir, 'daemon.json');
  writeFileSync(cfg, JSON.stringify({ 'log-level': 'warn' }));
  d = await startDaemon({ extraArgs: ['--config-file', cfg, '-H', `tcp://127.0.0.1:${port}`] });
  await bootstrap(d);
});

after(async () => {
  if (d) await d.cleanup();
  if (cfgDir) rmSync(cfgDir, { recursive: true, force: true });
});

test('the API answers on a TCP listener as well as the socket', { skip }, async () => {
  const body = await new Promise<string>((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/v1.44/_ping' }, (res) => {
      let s = '';
      res.on('data', (c: Buffer) => (s += c.toString()));
      res.on('end', () => resolve(`${res.statusCode} ${res.headers['api-version']} ${s}`));
    }).on('error', reject).end();
  });
  assert.equal(body, '200 1.47 OK');
});

test('--network host shares the host network namespace; none has only loopback', { skip }, async () => {
  // Other tests add and remove veths and bridges meanwhile: compare the host's stable interfaces.
  const stable = (names: string[]): string[] => names.filter((n) => !/^(veth|bt|bi|bo|bd|br-|berth)/.test(n)).sort();
  const hostIfs = stable(readdirSync('/sys/class/net'));
  const h = await runToExit(d, { Cmd: ['ls', '/sys/class/net'], HostConfig: { NetworkMode: 'host' } });
  assert.deepEqual(stable(h.stdout.trim().split(/\s+/)), hostIfs);
  assert.ok(hostIfs.length > 1);
  const n = await runToExit(d, { Cmd: ['sh', '-c', 'ls /sys/class/net'], HostConfig: { NetworkMode: 'none' } });
  assert.equal(n.stdout.trim(), 'lo');
});

test('an unknown config key is refused at start', { skip }, async () => {
  const cfg = join(cfgDir, 'bad.json');
  writeFileSync(cfg, JSON.stringify({ 'no-such-key': 1 }));
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(join(import.meta.dirname, '../../bin/berthd'), ['--config-file', cfg, '--data-root', join(cfgDir, 'x')], { encoding: 'utf8', timeout: 15000 });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /unknown key no-such-key/);
});
