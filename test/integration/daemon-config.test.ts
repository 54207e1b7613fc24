// berthd configuration: --config-file, a TCP listener on 127.0.0.1, host and none networking.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync, rmSync, readdirSync, existsSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { startDaemon, isRoot, api, type TestDaemon } from '../helpers/daemon.ts';
import { bootstrap, runToExit, create, inspect } from '../helpers/containers.ts';

const skip = !isRoot ? 'integration tests need root' : false;
let d: TestDaemon;
let cfgDir: string;
const port = 23000 + Math.floor(Math.random() * 2000);

before(async () => {
  if (skip) return;
  cfgDir = mkdtempSync('/tmp/berth-cfg-');
  const cfg = join(cfgDir, 'daemon.json');
  // A second name for runc: containers on it keep their state under their own runtime root.
  const runc = execFileSync('sh', ['-c', 'command -v runc'], { encoding: 'utf8' }).trim();
  writeFileSync(cfg, JSON.stringify({ 'log-level': 'warn', runtimes: { alt: { path: runc } } }));
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

test('berthd turns on favordynmods on the host\'s cgroup2 mount, keeping its flags; the config key takes only a boolean', { skip }, async () => {
  const features = existsSync('/sys/kernel/cgroup/features') ? readFileSync('/sys/kernel/cgroup/features', 'utf8') : '';
  const cgroup2 = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => / - cgroup2 /.test(l) && l.split(' ')[3] === '/');
  if (!features.split('\n').includes('favordynmods') || !cgroup2) {
    process.stderr.write('# favordynmods: kernel without the option or host without a cgroup2 mount; not checked\n');
  } else {
    assert.match(cgroup2.split(' - ')[1]!, /[ ,]favordynmods(,|$)/, cgroup2);
    // A container started and exec'd into meanwhile: cgroup moves still work.
    const r = await runToExit(d, { Cmd: ['cat', '/proc/self/cgroup'], HostConfig: { NetworkMode: 'none' } });
    assert.equal(r.code, 0);
    assert.match(r.stdout, /berth/);
  }
  const cfg = join(cfgDir, 'fdm.json');
  writeFileSync(cfg, JSON.stringify({ 'cgroup-favordynmods': 'yes' }));
  const { spawnSync } = await import('node:child_process');
  const bad = spawnSync(join(import.meta.dirname, '../../bin/berthd'), ['--config-file', cfg, '--data-root', join(cfgDir, 'y')], { encoding: 'utf8', timeout: 15000 });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /cgroup-favordynmods must be true or false/);
});

test('runtimes from the config file are listed and chosen per container', { skip }, async () => {
  const info = JSON.parse((await api(d, 'GET', '/info')).body.toString());
  assert.deepEqual(Object.keys(info.Runtimes).sort(), ['alt', 'runc']);
  assert.equal(info.DefaultRuntime, 'runc');
  const plain = await runToExit(d, { Cmd: ['echo', 'default'] });
  assert.equal((await inspect(d, plain.id)).HostConfig.Runtime, 'runc');
  const id = await create(d, { Cmd: ['sleep', '30'], HostConfig: { Runtime: 'alt', NetworkMode: 'none' } });
  assert.equal((await api(d, 'POST', `/containers/${id}/start`)).status, 204);
  try {
    assert.ok(existsSync(join(d.execRoot, 'runtimes', 'alt', id, 'state.json')), 'state kept under the runtime\'s own root');
    assert.ok(!existsSync(join(d.execRoot, 'runc', id)));
    const c = await inspect(d, id);
    assert.equal(c.HostConfig.Runtime, 'alt');
    assert.equal(c.State.Running, true);
    const ex = await api(d, 'POST', `/containers/${id}/exec`, { Cmd: ['echo', 'in-alt'], AttachStdout: true });
    const exId = JSON.parse(ex.body.toString()).Id;
    const out = await api(d, 'POST', `/exec/${exId}/start`, { Detach: false, Tty: true });
    assert.equal(out.body.toString().trim(), 'in-alt');
    assert.equal((await api(d, 'POST', `/containers/${id}/stop?t=1`)).status, 204);
    assert.equal((await inspect(d, id)).State.ExitCode, 137); // sleep as PID 1 ignores SIGTERM
    assert.ok(!existsSync(join(d.execRoot, 'runtimes', 'alt', id)), 'runtime state removed after exit');
  } finally {
    await api(d, 'DELETE', `/containers/${id}?force=1`);
  }
  const bad = await api(d, 'POST', '/containers/create', { Image: 'busybox', Cmd: ['true'], HostConfig: { Runtime: 'nope' } });
  assert.equal(bad.status, 400);
  assert.match(JSON.parse(bad.body.toString()).message, /unknown or invalid runtime name: nope/);
});

test('a default runtime that is not configured is refused at start', { skip }, async () => {
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(join(import.meta.dirname, '../../bin/berthd'), ['--default-runtime', 'nope', '--data-root', join(cfgDir, 'y')], { encoding: 'utf8', timeout: 15000 });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /default runtime nope is not a configured runtime/);
});

test('--ipv6: the default bridge gives containers an IPv6 address too (from --fixed-cidr-v6, else the daemon\'s own /48); --fixed-cidr-v6 alone is refused', { skip: skip || (!existsSync('/proc/sys/net/ipv6') ? 'the host kernel has no IPv6' : false) }, async () => {
  const { spawnSync } = await import('node:child_process');
  const alone = spawnSync(join(import.meta.dirname, '../../bin/berthd'), ['--fixed-cidr-v6', 'fd12::/64', '--data-root', join(cfgDir, 'z')], { encoding: 'utf8', timeout: 15000 });
  assert.notEqual(alone.status, 0);
  assert.match(alone.stderr, /--fixed-cidr-v6 needs --ipv6/);
  const notBool = spawnSync(join(import.meta.dirname, '../../bin/berthd'), ['--ipv6=maybe', '--data-root', join(cfgDir, 'z')], { encoding: 'utf8', timeout: 15000 });
  assert.equal(notBool.status, 125);
  assert.match(notBool.stderr, /invalid boolean value "maybe" for --ipv6/);
  const v6 = await startDaemon({ extraArgs: ['--ipv6'] });
  try {
    await bootstrap(v6);
    const net = (await api(v6, 'GET', '/networks/bridge')).json();
    assert.equal(net.EnableIPv6, true);
    const sub = net.IPAM.Config[1].Subnet as string;
    assert.match(sub, /^fd[0-9a-f:]+::\/64$/);
    const r = await runToExit(v6, { Cmd: ['sh', '-c', 'ip -6 addr show eth0 scope global; ip -6 route show default'] });
    assert.match(r.stdout, new RegExp(`inet6 ${sub.replace('::/64', '::')}\\d+/64`));
    assert.match(r.stdout, new RegExp(`default via ${sub.replace('::/64', '::1')}`));
    // inspect's top-level fields, as Docker fills them for the default bridge.
    const id = await create(v6, { Cmd: ['sleep', '30'] });
    assert.equal((await api(v6, 'POST', `/containers/${id}/start`)).status, 204);
    const ns = (await inspect(v6, id)).NetworkSettings;
    assert.equal(ns.GlobalIPv6Address, ns.Networks.bridge.GlobalIPv6Address);
    assert.match(ns.GlobalIPv6Address, /^fd/);
    assert.equal(ns.GlobalIPv6PrefixLen, 64);
    assert.equal(ns.IPv6Gateway, sub.replace('::/64', '::1'));
  } finally {
    await v6.cleanup();
  }
});
