// User-defined bridge networks through netavark: addresses, DNS by name, published ports, and a
// host left exactly as it was (links, netns, iptables).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { request } from 'node:http';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { api, isRoot, stopProcess, type TestDaemon } from '../helpers/daemon.ts';
import { create, runToExit, inspect, waitFor, useDaemon } from '../helpers/containers.ts';

const skip = !isRoot ? 'integration tests need root' : !existsSync('/usr/lib/podman/netavark') ? 'netavark not installed' : false;
let d: TestDaemon;
const tag = Math.random().toString(16).slice(2, 8);
const subnet = `10.${200 + Math.floor(Math.random() * 50)}.${Math.floor(Math.random() * 250)}.0/24`;
const prefix = subnet.split('.').slice(0, 3).join('.');
const netName = `tn${tag}`;
const bridge = `bt${tag}`;

/** What this test's network may leave on the host: lines and links naming its subnet or bridges, its netns. */
function leftovers(): string[] {
  const out: string[] = [];
  const ipt = execFileSync('iptables-save', { encoding: 'utf8' }).split('\n');
  out.push(...ipt.filter((l) => l.includes(`${prefix}.`) || l.includes(bridge)));
  const links = execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' }).split('\n');
  out.push(...links.filter((l) => l.includes(bridge)));
  if (existsSync('/run/netns')) out.push(...readdirSync('/run/netns').filter((n) => containerIds.some((id) => n === `berth-${id.slice(0, 12)}`)));
  return out;
}
const containerIds: string[] = [];

function netnsOf(): string {
  return existsSync('/run/netns') ? readdirSync('/run/netns').sort().join(' ') : '';
}

/** GET over the published port; a refusal is retried for a while (the server may still be starting). */
async function httpGet(port: number, path: string, host = '127.0.0.1', retryMs = 3000): Promise<string> {
  const until = Date.now() + retryMs;
  for (;;) {
    try {
      return await httpGetOnce(port, path, host);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ECONNREFUSED' || Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

function httpGetOnce(port: number, path: string, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    request({ host, port, path, timeout: 3000 }, (res) => {
      let s = '';
      res.on('data', (c: Buffer) => (s += c.toString()));
      res.on('end', () => resolve(s));
    }).on('error', reject).end();
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

useDaemon(skip, (x) => (d = x));

test('network create, inspect, list; bad input refused', { skip }, async () => {
  const r = await api(d, 'POST', '/networks/create', { Name: netName, IPAM: { Config: [{ Subnet: subnet }] }, Options: { 'com.docker.network.bridge.name': bridge }, Labels: { t: tag } });
  assert.equal(r.status, 201, r.text());
  const n = (await api(d, 'GET', `/networks/${netName}`)).json();
  assert.equal(n.IPAM.Config[0].Subnet, subnet);
  assert.equal(n.IPAM.Config[0].Gateway, `${prefix}.1`);
  const list = (await api(d, 'GET', `/networks?filters=${encodeURIComponent(JSON.stringify({ label: [`t=${tag}`] }))}`)).json<Array<{ Name: string }>>();
  assert.deepEqual(list.map((x) => x.Name), [netName]);
  assert.equal((await api(d, 'POST', '/networks/create', { Name: netName })).status, 409);
  assert.equal((await api(d, 'POST', '/networks/create', { Name: 'x', IPAM: { Config: [{ Subnet: '10.1.2.3/24' }] } })).status, 400);
  assert.equal((await api(d, 'POST', '/networks/create', { Name: 'bridge' })).status, 409);
  assert.equal((await api(d, 'GET', '/networks/nope')).status, 404);
});

test('containers on a network get addresses and reach each other by name', { skip }, async () => {
  const web = await create(d, { Cmd: ['httpd', '-f', '-p', '80', '-h', '/etc'], HostConfig: { NetworkMode: netName } }, `web${tag}`);
  containerIds.push(web);
  assert.equal((await api(d, 'POST', `/containers/${web}/start`)).status, 204);
  const info = await inspect(d, web);
  const ep = info.NetworkSettings.Networks[netName];
  assert.equal(ep.IPAddress, `${prefix}.2`);
  assert.equal(ep.Gateway, `${prefix}.1`);
  const r = await runToExit(d, { Cmd: ['sh', '-c', `nslookup -type=a web${tag} | tail -2; printf "GET /hostname HTTP/1.0\\r\\n\\r\\n" | nc -w 3 web${tag} 80 | tail -1`], HostConfig: { NetworkMode: netName } });
  assert.match(r.stdout, new RegExp(`Address: ${prefix.replace(/\./g, '\\.')}\\.2`));
  assert.match(r.stdout, new RegExp(`${web.slice(0, 12)}\\n$`));
  const mac = await runToExit(d, { Cmd: ['cat', '/sys/class/net/eth0/address'], HostConfig: { NetworkMode: netName }, NetworkingConfig: { EndpointsConfig: { [netName]: { MacAddress: '02:42:ac:11:00:99' } } } });
  assert.equal(mac.stdout.trim(), '02:42:ac:11:00:99');
  const isolated = await runToExit(d, { Cmd: ['sh', '-c', `ping -c1 -W1 web${tag} 2>&1 | head -1`] });
  assert.match(isolated.stdout, /bad address/);
  assert.equal((await api(d, 'DELETE', `/networks/${netName}`)).status, 409);
  await api(d, 'DELETE', `/containers/${web}?force=1`);
});

test('a start and an exit emit network connect and disconnect; ps filters by network, published port and volume', { skip }, async () => {
  const since = Math.floor(Date.now() / 1000) - 1;
  const r = await runToExit(d, { Cmd: ['true'], ExposedPorts: { '90/tcp': {} }, HostConfig: { NetworkMode: netName, PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] }, Binds: [`evvol${tag}:/data`] } });
  containerIds.push(r.id);
  await waitFor(async () => {
    const ev = await api(d, 'GET', `/events?since=${since}&until=${Math.ceil(Date.now() / 1000) + 1}&filters=${encodeURIComponent(JSON.stringify({ type: ['network'], network: [netName] }))}`);
    const all = ev.text().trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { Action: string; Actor: { Attributes: Record<string, string> } });
    const mine = all.filter((a) => a.Actor.Attributes.container === r.id);
    return mine.map((a) => a.Action).join() === 'connect,disconnect' && mine.every((a) => a.Actor.Attributes.name === netName);
  }, 5000, 'connect and disconnect events');
  // In Docker's order: the container's die before the network's disconnect, the volume's unmount after.
  const ordered = (await api(d, 'GET', `/events?since=${since}&until=${Math.ceil(Date.now() / 1000) + 1}`)).text().trim().split('\n').filter(Boolean)
    .map((l) => JSON.parse(l) as { Type: string; Action: string; id?: string; Actor: { ID: string; Attributes: Record<string, string> } })
    .filter((e) => e.Actor.ID === r.id || e.Actor.Attributes.container === r.id)
    .map((e) => `${e.Type} ${e.Action}`);
  assert.deepEqual(ordered.filter((e) => /die|disconnect|unmount/.test(e)), ['container die', 'network disconnect', 'volume unmount']);
  const ps = async (filters: Record<string, string[]>): Promise<string[]> =>
    (await api(d, 'GET', `/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify(filters))}`)).json<Array<{ Id: string }>>().map((c) => c.Id);
  for (const f of [{ network: [netName] }, { publish: ['80'] }, { publish: ['79-81/tcp'] }, { expose: ['90'] }, { volume: ['/data'] }, { volume: [`evvol${tag}`] }]) {
    assert.ok((await ps(f)).includes(r.id), JSON.stringify(f));
  }
  for (const f of [{ network: ['nosuchnet'] }, { publish: ['80/udp'] }, { publish: ['81'] }, { volume: ['nothing'] }]) {
    assert.ok(!(await ps(f)).includes(r.id), JSON.stringify(f));
  }
  assert.equal((await api(d, 'GET', `/containers/json?filters=${encodeURIComponent(JSON.stringify({ publish: ['x'] }))}`)).status, 400);
  await api(d, 'DELETE', `/containers/${r.id}?v=1`);
  await api(d, 'DELETE', `/volumes/evvol${tag}`);
});

test('a published port is reachable on 127.0.0.1; a taken port leaves the container created', { skip }, async () => {
  const port = await freePort();
  const id = await create(d, { Cmd: ['httpd', '-f', '-p', '80', '-h', '/etc'], ExposedPorts: { '80/tcp': {} }, HostConfig: { NetworkMode: netName, PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: String(port) }] } } });
  assert.equal((await api(d, 'POST', `/containers/${id}/start`)).status, 204);
  assert.equal((await httpGet(port, '/hostname')).trim(), id.slice(0, 12));
  const ps = (await api(d, 'GET', '/containers/json')).json<Array<{ Id: string; Ports: Array<{ PublicPort: number; PrivatePort: number }> }>>();
  assert.deepEqual(ps.find((c) => c.Id === id)!.Ports.map((p) => [p.PrivatePort, p.PublicPort]), [[80, port]]);

  const blocker: Server = await new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => resolve(s));
  });
  const taken = (blocker.address() as { port: number }).port;
  containerIds.push(id);
  const netnsBefore = netnsOf();
  const id2 = await create(d, { Cmd: ['true'], HostConfig: { NetworkMode: netName, PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: String(taken) }] } } });
  const s2 = await api(d, 'POST', `/containers/${id2}/start`);
  assert.equal(s2.status, 500);
  assert.match(s2.json().message, /port is already allocated/);
  assert.equal((await inspect(d, id2)).State.Status, 'created');
  containerIds.push(id2);
  assert.equal(netnsOf(), netnsBefore);
  blocker.close();
  await api(d, 'DELETE', `/containers/${id}?force=1`);
  await api(d, 'DELETE', `/containers/${id2}?force=1`);
});

test('static addresses, network aliases, -P and host-gateway', { skip }, async () => {
  const db = await create(d, { Cmd: ['httpd', '-f', '-p', '80', '-h', '/etc'], ExposedPorts: { '80/tcp': {} }, HostConfig: { NetworkMode: netName, PublishAllPorts: true, ExtraHosts: ['gw:host-gateway'] }, NetworkingConfig: { EndpointsConfig: { [netName]: { IPAMConfig: { IPv4Address: `${prefix}.50` }, Aliases: ['db'] } } } });
  containerIds.push(db);
  assert.equal((await api(d, 'POST', `/containers/${db}/start`)).status, 204);
  const info = await inspect(d, db);
  assert.equal(info.NetworkSettings.Networks[netName].IPAddress, `${prefix}.50`);
  // API 1.45+: Aliases are what was asked for; DNSNames every name the network resolves.
  const name = (info.Name as string).slice(1);
  assert.deepEqual(info.NetworkSettings.Networks[netName].Aliases, ['db']);
  assert.deepEqual(info.NetworkSettings.Networks[netName].DNSNames, [name, 'db', db.slice(0, 12)]);
  const old = (await api(d, 'GET', `/v1.43/containers/${db}/json`)).json();
  assert.deepEqual(old.NetworkSettings.Networks[netName].Aliases, ['db', db.slice(0, 12)]);
  assert.equal('DNSNames' in old.NetworkSettings.Networks[netName], false);
  const hostPort = Number(info.NetworkSettings.Ports['80/tcp'][0].HostPort);
  assert.ok(hostPort > 0);
  assert.equal((await httpGet(hostPort, '/hostname')).trim(), db.slice(0, 12));
  const r = await runToExit(d, { Cmd: ['sh', '-c', 'nslookup -type=a db | tail -2'], HostConfig: { NetworkMode: netName } });
  assert.match(r.stdout, new RegExp(`Address: ${prefix.replace(/\./g, '\\.')}\\.50`));
  const hosts = await api(d, 'POST', `/containers/${db}/exec`, { Cmd: ['grep', 'gw', '/etc/hosts'], AttachStdout: true });
  const out = await api(d, 'POST', `/exec/${hosts.json().Id}/start`, {});
  const gw = (await api(d, 'GET', '/networks/bridge')).json().IPAM.Config[0].Gateway;
  assert.match(out.body.toString(), new RegExp(`${gw.replace(/\./g, '\\.')}\\s+gw`));
  const taken = await api(d, 'POST', '/containers/create', { Image: 'busybox', Cmd: ['true'], HostConfig: { NetworkMode: netName }, NetworkingConfig: { EndpointsConfig: { [netName]: { IPAMConfig: { IPv4Address: `${prefix}.50` } } } } });
  assert.equal(taken.status, 201);
  const s2 = await api(d, 'POST', `/containers/${taken.json().Id}/start`);
  assert.equal(s2.status, 409);
  assert.match(s2.json().message, /Address already in use/);
  const bad = await api(d, 'POST', '/containers/create', { Image: 'busybox', Cmd: ['true'], NetworkingConfig: { EndpointsConfig: { bridge: { Aliases: ['x'] } } } });
  assert.equal(bad.status, 400);
  await api(d, 'DELETE', `/containers/${taken.json().Id}?force=1`);
  await api(d, 'DELETE', `/containers/${db}?force=1`);
});

test('an internal network has no route out', { skip }, async () => {
  const name = `in${tag}`;
  const sub = `10.${200 + Math.floor(Math.random() * 50)}.${Math.floor(Math.random() * 250)}.0/24`;
  assert.equal((await api(d, 'POST', '/networks/create', { Name: name, Internal: true, IPAM: { Config: [{ Subnet: sub }] }, Options: { 'com.docker.network.bridge.name': `bi${tag}` } })).status, 201);
  const r = await runToExit(d, { Cmd: ['sh', '-c', 'ip route'], HostConfig: { NetworkMode: name } });
  assert.doesNotMatch(r.stdout, /default/);
  assert.match(r.stdout, new RegExp(sub.replace('.0/24', '.0/24').replace(/\./g, '\\.')));
  await api(d, 'DELETE', `/containers/${r.id}`);
  await waitFor(async () => (await api(d, 'DELETE', `/networks/${name}`)).status === 204, 5000, 'internal network removal');
});

test('network connect and disconnect of a running container', { skip }, async () => {
  const other = `oc${tag}`;
  const sub2 = `10.${200 + Math.floor(Math.random() * 50)}.${Math.floor(Math.random() * 250)}.0/24`;
  assert.equal((await api(d, 'POST', '/networks/create', { Name: other, IPAM: { Config: [{ Subnet: sub2 }] }, Options: { 'com.docker.network.bridge.name': `bo${tag}` } })).status, 201);
  const svc = await create(d, { Cmd: ['httpd', '-f', '-p', '80', '-h', '/etc'], HostConfig: { NetworkMode: netName } }, `svc${tag}`);
  containerIds.push(svc);
  await api(d, 'POST', `/containers/${svc}/start`);
  const c = await api(d, 'POST', `/networks/${other}/connect`, { Container: svc, EndpointConfig: { Aliases: ['api'] } });
  assert.equal(c.status, 200, c.text());
  const nets = (await inspect(d, svc)).NetworkSettings.Networks;
  assert.deepEqual(Object.keys(nets).sort(), [netName, other].sort());
  const probe = `printf "GET /hostname HTTP/1.0\\r\\n\\r\\n" | nc -w 3 api 80 | tail -1`;
  const r = await runToExit(d, { Cmd: ['sh', '-c', probe], HostConfig: { NetworkMode: other } });
  assert.equal(r.stdout.trim(), svc.slice(0, 12));
  assert.equal((await api(d, 'POST', `/networks/${other}/connect`, { Container: svc })).status, 403);
  assert.equal((await api(d, 'DELETE', `/networks/${other}`)).status, 409);
  assert.equal((await api(d, 'POST', `/networks/${other}/disconnect`, { Container: svc })).status, 200);
  const r2 = await runToExit(d, { Cmd: ['sh', '-c', 'nslookup -type=a api 2>&1 | tail -1; ip -o link | grep -c eth'], HostConfig: { NetworkMode: other } });
  assert.doesNotMatch(r2.stdout, new RegExp(sub2.split('.').slice(0, 3).join('\\.')));
  assert.deepEqual(Object.keys((await inspect(d, svc)).NetworkSettings.Networks), [netName]);
  await api(d, 'DELETE', `/containers/${r.id}`);
  await api(d, 'DELETE', `/containers/${r2.id}`);
  await api(d, 'DELETE', `/containers/${svc}?force=1`);
  await waitFor(async () => (await api(d, 'DELETE', `/networks/${other}`)).status === 204, 5000, 'network removal');
});

test('a running container leaves the network it was created on, rejoins it, and starts detached with loopback only', { skip }, async () => {
  const execOut = async (id: string, cmd: string): Promise<string> => {
    const e = await api(d, 'POST', `/containers/${id}/exec`, { Cmd: ['sh', '-c', cmd], AttachStdout: true, AttachStderr: true, Tty: true });
    return (await api(d, 'POST', `/exec/${e.json().Id}/start`, { Detach: false, Tty: true })).body.toString().replace(/\r/g, '').trim();
  };
  const resolves = async (name: string): Promise<boolean> => {
    const r = await runToExit(d, { Cmd: ['nslookup', '-type=a', name], HostConfig: { NetworkMode: netName } });
    await api(d, 'DELETE', `/containers/${r.id}`);
    return r.code === 0 && r.stdout.includes(`${prefix}.`);
  };
  const leaver = `lv${tag}`;
  const id = await create(d, { Cmd: ['sleep', '120'], HostConfig: { NetworkMode: netName } }, leaver);
  containerIds.push(id);
  assert.equal((await api(d, 'POST', `/containers/${id}/start`)).status, 204);
  assert.ok(await resolves(leaver));
  assert.equal((await api(d, 'POST', `/networks/${netName}/disconnect`, { Container: id })).status, 200);
  assert.equal(await execOut(id, 'ls /sys/class/net | tr "\\n" " "'), 'lo');
  assert.equal(await resolves(leaver), false);
  const c = await inspect(d, id);
  assert.deepEqual(Object.keys(c.NetworkSettings.Networks), []);
  assert.equal(c.State.Running, true);
  assert.equal((await api(d, 'GET', `/networks/${netName}`)).json().Containers[id], undefined);
  assert.equal((await api(d, 'POST', `/networks/${netName}/disconnect`, { Container: id })).status, 404);
  // Back, with an alias: eth0 again, reachable by both names.
  const back = await api(d, 'POST', `/networks/${netName}/connect`, { Container: id, EndpointConfig: { Aliases: [`al${tag}`] } });
  assert.equal(back.status, 200, back.text());
  assert.equal(await execOut(id, 'ls /sys/class/net | tr "\\n" " "'), 'eth0 lo');
  assert.ok(await resolves(`al${tag}`));
  const ip = (await inspect(d, id)).NetworkSettings.Networks[netName].IPAddress;
  assert.match(ip, new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.`));
  assert.ok((await execOut(id, 'ip -o -4 addr show eth0')).includes(ip));
  // Left again and restarted: the namespace has loopback only.
  assert.equal((await api(d, 'POST', `/networks/${netName}/disconnect`, { Container: id })).status, 200);
  assert.equal((await api(d, 'POST', `/containers/${id}/restart?t=0`)).status, 204);
  assert.equal(await execOut(id, 'ls /sys/class/net | tr "\\n" " "'), 'lo');
  assert.equal((await api(d, 'DELETE', `/containers/${id}?force=1`)).status, 204);
});

/**
 * A UDP echo on port 5353 in a container's namespace (busybox has no UDP server: the host's
 * python, run in the container's netns), answering one datagram; ready when it listens.
 */
async function udpEcho(id: string, family: 4 | 6): Promise<ReturnType<typeof spawn>> {
  const server = spawn('ip', ['netns', 'exec', `berth-${id.slice(0, 12)}`, 'python3', '-c', [
    'import socket',
    `s = socket.socket(socket.AF_INET${family === 6 ? '6' : ''}, socket.SOCK_DGRAM)`,
    `s.bind(('${family === 6 ? '::' : '0.0.0.0'}', 5353))`,
    "print('ready', flush=True)",
    'd, a = s.recvfrom(100)',
    "s.sendto(b'echo:' + d, a)",
  ].join('\n')], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => server.stdout!.once('data', () => resolve()));
  return server;
}

/** Sends `ping` to host:port over UDP and answers the reply. */
function udpAsk(port: number, host: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const sock = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const timer = setTimeout(() => { sock.close(); reject(new Error(`no UDP reply from ${host}:${port}`)); }, 5000);
    sock.on('message', (m) => { clearTimeout(timer); sock.close(); resolve(m.toString()); });
    sock.send('ping', port, host);
  });
}

test('a published UDP port reaches a listener in the container\'s namespace; a taken UDP port is refused', { skip: skip || (!existsSync('/usr/bin/python3') ? 'python3 not installed' : false) }, async () => {
  // busybox has no UDP server: the listener is the host's python, run in the container's netns.
  const hostPort = await freePort();
  const id = await create(d, { Cmd: ['sleep', '60'], HostConfig: { NetworkMode: netName, PortBindings: { '5353/udp': [{ HostIp: '127.0.0.1', HostPort: String(hostPort) }] } } });
  containerIds.push(id);
  assert.equal((await api(d, 'POST', `/containers/${id}/start`)).status, 204);
  assert.deepEqual((await inspect(d, id)).NetworkSettings.Ports['5353/udp'], [{ HostIp: '127.0.0.1', HostPort: String(hostPort) }]);
  const server = await udpEcho(id, 4);
  try {
    assert.equal(await udpAsk(hostPort, '127.0.0.1'), 'echo:ping');
    // The same host port again: refused, the second container stays created.
    const second = await create(d, { Cmd: ['sleep', '60'], HostConfig: { NetworkMode: netName, PortBindings: { '5353/udp': [{ HostIp: '127.0.0.1', HostPort: String(hostPort) }] } } });
    containerIds.push(second);
    const refused = await api(d, 'POST', `/containers/${second}/start`);
    assert.equal(refused.status, 500);
    assert.match(refused.json().message, /port is already allocated/);
    assert.equal((await inspect(d, second)).State.Status, 'created');
    await api(d, 'DELETE', `/containers/${second}?force=1`);
  } finally {
    await stopProcess(server);
    await api(d, 'DELETE', `/containers/${id}?force=1`);
  }
});

const hasIpv6Loopback = Object.values(networkInterfaces()).some((list) => list?.some((a) => a.address === '::1'));

test('a port published on all addresses answers on IPv6 as well ([::], relayed by berthd); an IPv6 address alone; both freed at removal', { skip: skip || (!hasIpv6Loopback ? 'the host has no IPv6 loopback' : false) }, async () => {
  const port = await freePort();
  const only6 = await freePort();
  const id = await create(d, { Cmd: ['httpd', '-f', '-p', '80', '-h', '/etc'], HostConfig: { NetworkMode: netName, PortBindings: { '80/tcp': [{ HostIp: '', HostPort: String(port) }, { HostIp: '::1', HostPort: String(only6) }] } } });
  containerIds.push(id);
  assert.equal((await api(d, 'POST', `/containers/${id}/start`)).status, 204);
  assert.deepEqual((await inspect(d, id)).NetworkSettings.Ports['80/tcp'], [
    { HostIp: '0.0.0.0', HostPort: String(port) },
    { HostIp: '::', HostPort: String(port) },
    { HostIp: '::1', HostPort: String(only6) },
  ]);
  const hostname = execFileSync('cat', [`${(await inspect(d, id)).HostnamePath}`], { encoding: 'utf8' });
  assert.equal(await httpGet(port, '/hostname', '127.0.0.1'), hostname);
  assert.equal(await httpGet(port, '/hostname', '::1'), hostname);
  assert.equal(await httpGet(only6, '/hostname', '::1'), hostname);
  await assert.rejects(httpGet(only6, '/hostname', '127.0.0.1', 0), /ECONNREFUSED/);
  // The relay is berthd's: a restarted daemon opens it again for the running container.
  await d.restart();
  assert.equal(await httpGet(port, '/hostname', '::1'), hostname);
  assert.equal(await httpGet(only6, '/hostname', '::1'), hostname);
  // The IPv6 address again: refused, and the second container is not started half-wired.
  const second = await create(d, { Cmd: ['sleep', '60'], HostConfig: { NetworkMode: netName, PortBindings: { '81/tcp': [{ HostIp: '::1', HostPort: String(only6) }] } } });
  containerIds.push(second);
  const refused = await api(d, 'POST', `/containers/${second}/start`);
  assert.equal(refused.status, 500);
  assert.match(refused.json().message, /Bind for \[::1\]:\d+ failed: port is already allocated/);
  assert.equal((await inspect(d, second)).State.Status, 'created');
  await api(d, 'DELETE', `/containers/${second}?force=1`);
  await api(d, 'DELETE', `/containers/${id}?force=1`);
  // Nothing holds the IPv6 ports any more.
  for (const p of [port, only6]) {
    await new Promise<void>((resolve, reject) => {
      const s: Server = createServer().once('error', reject).listen({ host: '::1', port: p, ipv6Only: true }, () => s.close(() => resolve()));
    });
  }
});

test('an IPv6 network: addresses from its subnet and --ip6, names over IPv6, inspect as Docker shows it, nothing left in ip6tables', { skip: skip || (!hasIpv6Loopback ? 'the host has no IPv6' : false) }, async () => {
  // A random unique-local /64, written as berth writes addresses (no leading zeros).
  const v6 = `fd${tag.slice(0, 2)}:${parseInt(tag.slice(2, 6), 16).toString(16)}:6::`;
  const name6 = `n6${tag}`;
  const br6 = `b6${tag}`;
  const ids: string[] = [];
  const ip6Leftovers = (): string[] => execFileSync('ip6tables-save', { encoding: 'utf8' }).split('\n').filter((l) => l.includes(v6) || l.includes(br6) || l.includes('BERTH-LOOPBACK6'));
  try {
    const made = await api(d, 'POST', '/networks/create', { Name: name6, EnableIPv6: true, IPAM: { Config: [{ Subnet: `${v6}/64` }] }, Options: { 'com.docker.network.bridge.name': br6 } });
    assert.equal(made.status, 201, made.text());
    const net = (await api(d, 'GET', `/networks/${name6}`)).json();
    assert.equal(net.EnableIPv6, true);
    assert.deepEqual(net.IPAM.Config[1], { Subnet: `${v6}/64` });
    assert.match(net.IPAM.Config[0].Subnet, /^\d+\.\d+\.\d+\.0\/24$/);
    // --ipv6 with no IPv6 subnet, as Docker 27: a /64 of the daemon's own unique local /48 (the
    // same /48 for every such network, a different /64 each), its first address the gateway.
    const auto: Array<{ Subnet: string; Gateway: string }> = [];
    for (const n of [`x${name6}`, `y${name6}`]) {
      const made = await api(d, 'POST', '/networks/create', { Name: n, EnableIPv6: true });
      assert.equal(made.status, 201, made.text());
      auto.push((await api(d, 'GET', `/networks/${n}`)).json().IPAM.Config[1]);
    }
    try {
      for (const c of auto) assert.match(c.Subnet, /^fd[0-9a-f]{2}(:[0-9a-f]{1,4}){2}(:[0-9a-f]{1,4})?::\/64$/, c.Subnet);
      const prefix48 = (s: string): string => s.split(':').slice(0, 3).join(':');
      assert.equal(prefix48(auto[0]!.Subnet), prefix48(auto[1]!.Subnet));
      assert.notEqual(auto[0]!.Subnet, auto[1]!.Subnet);
      assert.equal(auto[0]!.Gateway, auto[0]!.Subnet.replace('/64', '1'));
      const r = await runToExit(d, { Cmd: ['ip', '-6', 'addr', 'show', 'eth0'], HostConfig: { NetworkMode: `x${name6}` } });
      assert.match(r.stdout, new RegExp(`inet6 ${auto[0]!.Subnet.replace('/64', '2/64')}`));
    } finally {
      for (const n of [`x${name6}`, `y${name6}`]) await api(d, 'DELETE', `/networks/${n}`);
    }

    const port = await freePort();
    const a = await create(d, { Cmd: ['sleep', '60'], HostConfig: { NetworkMode: name6 } }, `a6${tag}`);
    ids.push(a);
    const b = await create(d, { Cmd: ['httpd', '-f', '-p', '80', '-h', '/etc'], HostConfig: { NetworkMode: name6, PortBindings: { '80/tcp': [{ HostIp: '', HostPort: String(port) }] } }, NetworkingConfig: { EndpointsConfig: { [name6]: { IPAMConfig: { IPv6Address: `${v6}99` } } } } }, `b6${tag}`);
    ids.push(b);
    for (const id of [a, b]) assert.equal((await api(d, 'POST', `/containers/${id}/start`)).status, 204);
    const eb = (await inspect(d, b)).NetworkSettings.Networks[name6];
    assert.equal(eb.GlobalIPv6Address, `${v6}99`);
    assert.equal(eb.GlobalIPv6PrefixLen, 64);
    assert.equal(eb.IPv6Gateway, `${v6}1`);
    assert.deepEqual(eb.IPAMConfig, { IPv6Address: `${v6}99` });
    const ea = (await inspect(d, a)).NetworkSettings.Networks[name6];
    assert.equal(ea.GlobalIPv6Address, `${v6}2`);
    assert.ok((await inspect(d, b)).NetworkSettings.Ports['80/tcp'].some((p: { HostIp: string }) => p.HostIp === '::'));
    const members = (await api(d, 'GET', `/networks/${name6}`)).json().Containers;
    assert.equal(members[b].IPv6Address, `${v6}99/64`);

    const execOut = async (id: string, cmd: string): Promise<string> => {
      const e = await api(d, 'POST', `/containers/${id}/exec`, { Cmd: ['sh', '-c', cmd], AttachStdout: true, AttachStderr: true, Tty: true });
      return (await api(d, 'POST', `/exec/${e.json().Id}/start`, { Detach: false, Tty: true })).body.toString().replace(/\r/g, '').trim();
    };
    // IPv6 is on in the namespace (it is turned off only for containers without an IPv6 network).
    assert.match(await execOut(a, 'ip -6 addr show eth0'), new RegExp(`inet6 ${v6}2/64`));
    assert.match(await execOut(a, `ping6 -c 1 -W 3 b6${tag} >/dev/null && echo reached`), /reached/);
    const hostname = readFileSync((await inspect(d, b)).HostnamePath, 'utf8');
    assert.equal(await execOut(a, `wget -q -O - http://[${v6}99]/hostname`), hostname.trim());
    assert.match(await execOut(b, 'cat /etc/hosts'), new RegExp(`${v6}99\t`));
    // A running container with IPv6 off (an IPv4 network) joins the IPv6 network: eth1 has IPv6.
    const c4 = await create(d, { Cmd: ['sleep', '60'], HostConfig: { NetworkMode: netName } });
    ids.push(c4);
    assert.equal((await api(d, 'POST', `/containers/${c4}/start`)).status, 204);
    const joined = await api(d, 'POST', `/networks/${name6}/connect`, { Container: c4, EndpointConfig: { IPAMConfig: { IPv6Address: `${v6}77` } } });
    assert.equal(joined.status, 200, joined.text());
    assert.match(await execOut(c4, 'ip -6 addr show eth1'), new RegExp(`inet6 ${v6}77/64`));
    assert.match(await execOut(c4, `ping6 -c 1 -W 3 ${v6}99 >/dev/null && echo reached`), /reached/);
    assert.equal((await inspect(d, c4)).NetworkSettings.Networks[name6].GlobalIPv6Address, `${v6}77`);
    // From the host: the container's IPv6 address on berth's bridge, and the published port —
    // on [::1] too (netavark's forwarding cannot take a packet from there: berthd relays it), also
    // after berthd started again, and for UDP.
    assert.equal(await httpGet(80, '/hostname', `${v6}99`), hostname);
    assert.equal(await httpGet(port, '/hostname', '127.0.0.1'), hostname);
    assert.equal(await httpGet(port, '/hostname', '::1'), hostname);
    await d.restart();
    assert.equal(await httpGet(port, '/hostname', '::1'), hostname);
    const udpPort = await freePort();
    const u = await create(d, { Cmd: ['sleep', '60'], HostConfig: { NetworkMode: name6, PortBindings: { '5353/udp': [{ HostIp: '', HostPort: String(udpPort) }] } } }, `u6${tag}`);
    ids.push(u);
    assert.equal((await api(d, 'POST', `/containers/${u}/start`)).status, 204);
    const server = await udpEcho(u, 6);
    try {
      assert.equal(await udpAsk(udpPort, '::1'), 'echo:ping');
    } finally {
      await stopProcess(server);
    }

    for (const id of ids.splice(0)) await api(d, 'DELETE', `/containers/${id}?force=1`);
    assert.equal((await api(d, 'DELETE', `/networks/${name6}`)).status, 204);
    await waitFor(async () => ip6Leftovers().length === 0, 5000, 'IPv6 network teardown').catch(() => {});
    assert.deepEqual(ip6Leftovers(), []);
  } finally {
    for (const id of ids) await api(d, 'DELETE', `/containers/${id}?force=1`).catch(() => {});
    await api(d, 'DELETE', `/networks/${name6}`).catch(() => {});
  }
});

test('removing containers and the network leaves no link, netns or iptables rule behind', { skip }, async () => {
  assert.equal((await api(d, 'DELETE', `/networks/${netName}`)).status, 204);
  // Teardown finishes in the background after removal; it must not take long.
  await waitFor(async () => leftovers().length === 0, 5000, 'network teardown').catch(() => {});
  assert.deepEqual(leftovers(), []);
});

test('the default bridge network gives containers an address, a default route via its gateway and published ports', { skip }, async () => {
  const info = (await api(d, 'GET', '/networks/bridge')).json();
  const gw = info.IPAM.Config[0].Gateway as string;
  const port = await freePort();
  const id = await create(d, { Cmd: ['httpd', '-f', '-p', '80', '-h', '/etc'], HostConfig: { PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: String(port) }] } } });
  await api(d, 'POST', `/containers/${id}/start`);
  const c = await inspect(d, id);
  assert.equal(c.NetworkSettings.Gateway, gw);
  assert.match(c.NetworkSettings.IPAddress, /^10\./);
  assert.equal((await httpGet(port, '/hostname')).trim(), id.slice(0, 12));
  const r = await runToExit(d, { Cmd: ['sh', '-c', `ip route | head -1; printf "GET /hostname HTTP/1.0\\r\\n\\r\\n" | nc -w 3 ${c.NetworkSettings.IPAddress} 80 | tail -1`] });
  assert.match(r.stdout, new RegExp(`default via ${gw.replace(/\./g, '\\.')}`));
  assert.match(r.stdout, new RegExp(`${id.slice(0, 12)}\\n$`));
  assert.equal((await api(d, 'DELETE', '/networks/bridge')).status, 403);
  await api(d, 'DELETE', `/containers/${id}?force=1`);
});

test('as Docker: IPv6 is off in a container on an IPv4 network (no link-local address, no router advertisements); /etc/hosts has Docker\'s block and the container\'s own address', { skip: skip || (!existsSync('/proc/sys/net/ipv6') ? 'the host kernel has no IPv6' : false) }, async () => {
  const r = await runToExit(d, { Cmd: ['sh', '-c', 'cat /proc/sys/net/ipv6/conf/all/disable_ipv6 /proc/sys/net/ipv6/conf/eth0/disable_ipv6; ip -6 addr | grep -c inet6; cat /etc/hosts'] });
  assert.equal(r.code, 0, r.stderr);
  const [all, eth0, inet6, ...hosts] = r.stdout.split('\n');
  assert.deepEqual([all, eth0, inet6], ['1', '1', '0']);
  assert.deepEqual(hosts.slice(0, 6), ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback', 'fe00::0\tip6-localnet', 'ff00::0\tip6-mcastprefix', 'ff02::1\tip6-allnodes', 'ff02::2\tip6-allrouters']);
  assert.match(hosts[6] ?? '', /^10\.\d+\.\d+\.\d+\t[0-9a-f]{12}$/);
  const none = await runToExit(d, { Cmd: ['sh', '-c', 'ip -6 addr | grep -c inet6'], HostConfig: { NetworkMode: 'none' } });
  assert.equal(none.stdout.trim(), '0');
  const keep = await runToExit(d, { Cmd: ['cat', '/proc/sys/net/ipv6/conf/all/disable_ipv6'], HostConfig: { Sysctls: { 'net.ipv6.conf.all.disable_ipv6': '0' } } });
  assert.equal(keep.stdout.trim(), '0');
  // --domainname: the UTS domain, and the full name first in /etc/hosts.
  const dn = await runToExit(d, { Hostname: 'h1', Domainname: 'ex.com', Cmd: ['sh', '-c', 'cat /proc/sys/kernel/domainname; tail -1 /etc/hosts'] });
  assert.equal(dn.stderr, '');
  assert.match(dn.stdout, /^ex\.com\n10\.\d+\.\d+\.\d+\th1\.ex\.com h1\n$/);
});

test('Docker\'s pre-defined host and none networks: listed, inspected, kept; a host-mode container shows on host', { skip }, async () => {
  const list = (await api(d, 'GET', '/networks')).json() as Array<{ Name: string; Driver: string; Id: string }>;
  const host = list.find((n) => n.Name === 'host');
  const none = list.find((n) => n.Name === 'none');
  assert.equal(host?.Driver, 'host');
  assert.equal(none?.Driver, 'null');
  assert.match(host!.Id, /^[0-9a-f]{64}$/);
  const builtin = (await api(d, 'GET', `/networks?filters=${encodeURIComponent(JSON.stringify({ type: ['builtin'] }))}`)).json() as Array<{ Name: string }>;
  assert.deepEqual(builtin.map((n) => n.Name), ['bridge', 'host', 'none']);
  const byId = (await api(d, 'GET', `/networks/${none!.Id.slice(0, 12)}`)).json();
  assert.equal(byId.Name, 'none');
  assert.deepEqual(byId.IPAM.Config, []);
  const rm = await api(d, 'DELETE', '/networks/host');
  assert.equal(rm.status, 403);
  assert.match(rm.json().message, /host is a pre-defined network and cannot be removed/);
  const again = await api(d, 'POST', '/networks/create', { Name: 'h2', Driver: 'host' });
  assert.equal(again.status, 403);
  assert.match(again.json().message, /only one instance of "host" network is allowed/);
  const id = await create(d, { Cmd: ['sleep', '30'], HostConfig: { NetworkMode: 'host' } });
  try {
    assert.equal((await api(d, 'POST', `/containers/${id}/start`)).status, 204);
    const onHost = (await api(d, 'GET', '/networks/host')).json();
    assert.ok(id in onHost.Containers, 'the running host-mode container is listed on host');
    const c = await inspect(d, id);
    assert.equal(c.NetworkSettings.Networks.host.NetworkID, host!.Id);
    const conn = await api(d, 'POST', '/networks/bridge/connect', { Container: id });
    assert.equal(conn.status, 400);
    assert.match(conn.json().message, /cannot be connected to any other network/);
    const off = await api(d, 'POST', '/networks/host/disconnect', { Container: id });
    assert.equal(off.status, 400);
    assert.match(off.json().message, /cannot be disconnected from host network/);
  } finally {
    await api(d, 'DELETE', `/containers/${id}?force=1`);
  }
  // The IDs are the data root's: the same after a daemon restart.
  assert.equal(JSON.parse(readFileSync(join(d.dataRoot, 'networks', 'predefined.json'), 'utf8')).find((n: { Name: string }) => n.Name === 'host').Id, host!.Id);
});
