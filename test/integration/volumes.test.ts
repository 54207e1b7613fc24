// Named and anonymous volumes, bind mounts, tmpfs, copy-up, and mount validation (security case 5).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, existsSync, rmSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemon, api, isRoot, type TestDaemon } from '../helpers/daemon.ts';
import { bootstrap, runToExit, create, inspect } from '../helpers/containers.ts';

const skip = !isRoot ? 'integration tests need root' : false;
let d: TestDaemon;
let hostDir: string;

before(async () => {
  if (skip) return;
  d = await startDaemon();
  await bootstrap(d);
  hostDir = mkdtempSync('/tmp/berth-vol-host-');
  writeFileSync(join(hostDir, 'f'), 'from-host\n');
});

after(async () => {
  if (d) await d.cleanup();
  if (hostDir) rmSync(hostDir, { recursive: true, force: true });
});

test('a named volume keeps its data across containers and can be mounted read-only', { skip }, async () => {
  assert.equal((await api(d, 'POST', '/volumes/create', { Name: 'keep', Labels: { a: 'b' } })).status, 201);
  const w = await runToExit(d, { Cmd: ['sh', '-c', 'echo persisted > /data/x'], HostConfig: { Binds: ['keep:/data'] } });
  assert.equal(w.code, 0);
  const r = await runToExit(d, { Cmd: ['sh', '-c', 'cat /data/x; touch /data/y 2>/dev/null || echo ro'], HostConfig: { Binds: ['keep:/data:ro'] } });
  assert.equal(r.stdout, 'persisted\nro\n');
  const v = (await api(d, 'GET', '/volumes/keep')).json();
  assert.equal(readFileSync(join(v.Mountpoint, 'x'), 'utf8'), 'persisted\n');
  assert.equal(v.Labels.a, 'b');
  const inUse = await create(d, { Cmd: ['true'], HostConfig: { Binds: ['keep:/data'] } });
  const rm = await api(d, 'DELETE', '/volumes/keep');
  assert.equal(rm.status, 409);
  assert.match(rm.json().message, /volume is in use/);
  for (const id of [inUse, w.id, r.id]) await api(d, 'DELETE', `/containers/${id}`);
  assert.equal((await api(d, 'DELETE', '/volumes/keep')).status, 204);
  assert.ok(!existsSync(v.Mountpoint));
});

test('an empty volume is filled from the image once (copy-up)', { skip }, async () => {
  const r = await runToExit(d, { Cmd: ['sh', '-c', 'ls /etc | grep -c passwd'], HostConfig: { Binds: ['etcvol:/etc'] } });
  assert.equal(r.stdout.trim(), '1');
  const v = (await api(d, 'GET', '/volumes/etcvol')).json();
  assert.ok(readdirSync(v.Mountpoint).includes('passwd'));
});

test('bind mounts: read-only and read-write host directories', { skip }, async () => {
  const r = await runToExit(d, { Cmd: ['sh', '-c', 'cat /h/f; echo x > /h/g 2>/dev/null || echo refused'], HostConfig: { Binds: [`${hostDir}:/h:ro`] } });
  assert.equal(r.stdout, 'from-host\nrefused\n');
  assert.ok(!existsSync(join(hostDir, 'g')));
  const w = await runToExit(d, { Cmd: ['sh', '-c', 'echo written > /h/g'], HostConfig: { Mounts: [{ Type: 'bind', Source: hostDir, Target: '/h' }] } });
  assert.equal(w.code, 0);
  assert.equal(readFileSync(join(hostDir, 'g'), 'utf8'), 'written\n');
});

test('bind propagation: a shared bind needs a shared source, and then mounts made inside reach the host', { skip }, async () => {
  const { execFileSync } = await import('node:child_process');
  const { mkdirSync } = await import('node:fs');
  const priv = join(d.dir, 'private');
  const shared = join(d.dir, 'shared');
  for (const [dir, how] of [[priv, '--make-private'], [shared, '--make-shared']] as const) {
    mkdirSync(dir);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir]);
    execFileSync('mount', [how, dir]);
  }
  try {
    // A source on a private mount: rshared and rslave are refused at start, naming the mount.
    for (const [prop, what] of [['rshared', 'shared'], ['rslave', 'shared or slave']] as const) {
      const id = await create(d, { Cmd: ['true'], HostConfig: { Mounts: [{ Type: 'bind', Source: priv, Target: '/h', BindOptions: { Propagation: prop } }] } });
      const refused = await api(d, 'POST', `/containers/${id}/start`);
      assert.equal(refused.status, 400);
      assert.equal(refused.json().message, `path ${priv} is mounted on ${priv} but it is not a ${what} mount`);
      await api(d, 'DELETE', `/containers/${id}`);
    }
    const r = await runToExit(d, {
      Cmd: ['sh', '-c', 'mkdir /x/sub && mount -t tmpfs none /x/sub && echo inside > /x/sub/f'],
      HostConfig: { Privileged: true, Mounts: [{ Type: 'bind', Source: shared, Target: '/x', BindOptions: { Propagation: 'rshared' } }] },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(shared, 'sub', 'f'), 'utf8'), 'inside\n', 'the mount made in the container is on the host');
  } finally {
    execFileSync('umount', ['-R', shared]);
    execFileSync('umount', [priv]);
  }
});

test('tmpfs mounts are memory-backed', { skip }, async () => {
  const r = await runToExit(d, { Cmd: ['sh', '-c', 'grep " /scratch " /proc/mounts | cut -d" " -f3'], HostConfig: { Mounts: [{ Type: 'tmpfs', Target: '/scratch', TmpfsOptions: { SizeBytes: 1048576 } }] } });
  assert.equal(r.stdout.trim(), 'tmpfs');
});

test('anonymous volumes are created per container and removed by rm -v; prune removes unused anonymous ones', { skip }, async () => {
  const id = await create(d, { Cmd: ['true'], Volumes: { '/anon': {} } });
  const m = (await inspect(d, id)).Mounts;
  assert.equal(m.length, 1);
  assert.equal(m[0].Destination, '/anon');
  const name = m[0].Name as string;
  assert.equal((await api(d, 'GET', `/volumes/${name}`)).status, 200);
  assert.equal((await api(d, 'DELETE', `/containers/${id}?v=1`)).status, 204);
  assert.equal((await api(d, 'GET', `/volumes/${name}`)).status, 404);
  const id2 = await create(d, { Cmd: ['true'], Volumes: { '/anon2': {} } });
  const name2 = (await inspect(d, id2)).Mounts[0].Name as string;
  await api(d, 'DELETE', `/containers/${id2}`);
  await api(d, 'POST', '/volumes/create', { Name: 'named-kept' });
  const pr = (await api(d, 'POST', '/volumes/prune')).json();
  assert.ok(pr.VolumesDeleted.includes(name2));
  assert.ok(!pr.VolumesDeleted.includes('named-kept'));
});

test('mount validation: bad names, relative or missing sources and escaping targets are refused', { skip }, async () => {
  const before = (await api(d, 'GET', '/containers/json?all=1')).json<unknown[]>().length;
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ Binds: ['rel/path:/x'] }, /invalid characters for a local volume name/],
    [{ Binds: ['/tmp:/..'] }, /may not contain '\.\.'/],
    [{ Binds: ['/tmp:relative'] }, /invalid|not an absolute path/],
    [{ Mounts: [{ Type: 'bind', Source: '/no/such/dir', Target: '/x' }] }, /bind source path does not exist/],
    [{ Mounts: [{ Type: 'bind', Source: 'relative', Target: '/x' }] }, /must be absolute/],
    [{ Mounts: [{ Type: 'volume', Source: '../evil', Target: '/x' }] }, /invalid characters/],
    [{ Binds: ['/tmp:/x', '/tmp:/x'] }, /Duplicate mount point/],
  ];
  for (const [hc, re] of cases) {
    const r = await api(d, 'POST', '/containers/create', { Image: 'busybox', Cmd: ['true'], HostConfig: hc });
    assert.equal(r.status, 400, JSON.stringify(hc));
    assert.match(r.json().message, re);
  }
  const img = await api(d, 'POST', `/images/create?fromSrc=-&repo=evilvol&tag=1&changes=${encodeURIComponent('VOLUME ["../../etc"]')}`, Buffer.alloc(1024), { 'Content-Type': 'application/x-tar' });
  if (img.status === 200 && !img.text().includes('error')) {
    const r = await api(d, 'POST', '/containers/create', { Image: 'evilvol:1', Cmd: ['true'] });
    assert.equal(r.status, 400);
  }
  assert.equal((await api(d, 'GET', '/containers/json?all=1')).json<unknown[]>().length, before);
  assert.equal((await api(d, 'POST', '/volumes/create', { Name: '../x' })).status, 400);
});

test('--volumes-from shares another container\'s volumes and binds, with :ro, and explicit mounts win', { skip }, async () => {
  const src = await runToExit(d, { Cmd: ['sh', '-c', 'echo shared > /anon/x; echo named > /named/y'], HostConfig: { Binds: ['vf-named:/named', `${hostDir}:/host`] }, Volumes: { '/anon': {} } });
  assert.equal(src.code, 0);
  const r = await runToExit(d, { Cmd: ['sh', '-c', 'cat /anon/x /named/y /host/f; echo more >> /anon/x && echo rw'], HostConfig: { VolumesFrom: [src.id] } });
  assert.equal(r.stdout, 'shared\nnamed\nfrom-host\nrw\n');
  const ro = await runToExit(d, { Cmd: ['sh', '-c', 'cat /anon/x; touch /named/z 2>/dev/null || echo ro'], HostConfig: { VolumesFrom: [`${src.id.slice(0, 12)}:ro`] } });
  assert.equal(ro.stdout, 'shared\nmore\nro\n');
  const own = await runToExit(d, { Cmd: ['sh', '-c', 'ls /named'], HostConfig: { VolumesFrom: [src.id], Binds: ['vf-other:/named'] } });
  assert.equal(own.stdout, '');
  const missing = await api(d, 'POST', '/containers/create', { Image: 'busybox', HostConfig: { VolumesFrom: ['nope'] } });
  assert.equal(missing.status, 400);
  assert.match(missing.json().message, /No such container: nope/);
  // rm -v of a container that only borrowed the anonymous volume keeps it.
  const anon = (await inspect(d, src.id)).Mounts.find((m: { Destination: string }) => m.Destination === '/anon').Name;
  assert.equal((await api(d, 'DELETE', `/containers/${r.id}?v=1`)).status, 204);
  assert.equal((await api(d, 'GET', `/volumes/${anon}`)).status, 200);
  for (const c of [ro.id, own.id, src.id]) await api(d, 'DELETE', `/containers/${c}?v=1`);
  await api(d, 'DELETE', '/volumes/vf-named');
  await api(d, 'DELETE', '/volumes/vf-other');
});

test('volume driver options: a tmpfs volume, a bind of a host directory; removing them unmounts and keeps host files', { skip }, async () => {
  const mounted = (p: string): boolean => readFileSync('/proc/mounts', 'utf8').split('\n').some((l) => l.split(' ')[1] === p);
  assert.equal((await api(d, 'POST', '/volumes/create', { Name: 'tmpvol', DriverOpts: { type: 'tmpfs', device: 'tmpfs', o: 'size=8m' } })).status, 201);
  const w = await runToExit(d, { Cmd: ['sh', '-c', "echo kept > /v/f; df -k /v | tail -1 | awk '{print $2}'; grep ' /v ' /proc/mounts | cut -d' ' -f3"], HostConfig: { Binds: ['tmpvol:/v'] } });
  assert.equal(w.stdout, '8192\ntmpfs\n');
  assert.equal((await runToExit(d, { Cmd: ['cat', '/v/f'], HostConfig: { Binds: ['tmpvol:/v'] } })).stdout, 'kept\n');
  const tmpPath = (await api(d, 'GET', '/volumes/tmpvol')).json().Mountpoint as string;
  assert.deepEqual((await api(d, 'GET', '/volumes/tmpvol')).json().Options, { type: 'tmpfs', device: 'tmpfs', o: 'size=8m' });
  assert.ok(mounted(tmpPath));

  const host = mkdtempSync('/tmp/berth-vol-bind-');
  writeFileSync(join(host, 'from-host'), 'host file\n');
  assert.equal((await api(d, 'POST', '/volumes/create', { Name: 'bindvol', DriverOpts: { type: 'none', o: 'bind', device: host } })).status, 201);
  const b = await runToExit(d, { Cmd: ['sh', '-c', 'cat /b/from-host; echo from-ctr > /b/from-ctr'], HostConfig: { Binds: ['bindvol:/b'] } });
  assert.equal(b.stdout, 'host file\n');
  assert.equal(readFileSync(join(host, 'from-ctr'), 'utf8'), 'from-ctr\n');

  const users = ((await api(d, 'GET', '/containers/json?all=1')).json() as Array<{ Id: string }>).map((c) => c.Id);
  for (const id of users) await api(d, 'DELETE', `/containers/${id}?force=1`);
  assert.equal((await api(d, 'DELETE', '/volumes/tmpvol')).status, 204);
  assert.equal((await api(d, 'DELETE', '/volumes/bindvol')).status, 204);
  assert.ok(!mounted(tmpPath));
  assert.equal(readFileSync(join(host, 'from-host'), 'utf8'), 'host file\n', 'removing a bind volume keeps the host files');
  rmSync(host, { recursive: true, force: true });

  for (const bad of [{ type: 'tmpfs' }, { device: 'x' }, { type: 'none', o: 'bind', device: 'relative' }, { nope: 'x', type: 'tmpfs', device: 'tmpfs' }]) {
    const r = await api(d, 'POST', '/volumes/create', { Name: 'badopts', DriverOpts: bad });
    assert.equal(r.status, 400, JSON.stringify(bad));
  }
});

test('volume mount and unmount events, as Docker emits them', { skip }, async () => {
  const since = Math.floor(Date.now() / 1000) - 1;
  const r = await runToExit(d, { Cmd: ['true'], HostConfig: { Binds: ['evvol:/ev'] } });
  const until = Math.floor(Date.now() / 1000) + 1;
  const body = (await api(d, 'GET', `/events?since=${since}&until=${until}&filters=${encodeURIComponent(JSON.stringify({ type: ['volume'] }))}`)).body.toString();
  const events = body.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { Action: string; Actor: { ID: string; Attributes: Record<string, string> } });
  const mine = events.filter((e) => e.Actor.ID === 'evvol');
  assert.deepEqual(mine.map((e) => e.Action), ['create', 'mount', 'unmount']);
  assert.equal(mine[1]!.Actor.Attributes.container, r.id);
  assert.equal(mine[1]!.Actor.Attributes.destination, '/ev');
  await api(d, 'DELETE', `/containers/${r.id}`);
  await api(d, 'DELETE', '/volumes/evvol');
});
