// image prune (dangling, -a, filters) and system df (with container log sizes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, berth, isRoot, type TestDaemon } from '../helpers/daemon.ts';
import { runToExit, useDaemon } from '../helpers/containers.ts';

const skip = !isRoot ? 'integration tests need root' : false;
let d: TestDaemon;

useDaemon(skip, (x) => (d = x));

const exists = async (ref: string): Promise<boolean> => (await api(d, 'GET', `/images/${ref}/json`)).status === 200;

test('image prune removes dangling images only; -a removes every image no container uses', { skip }, async () => {
  const c = await runToExit(d, { Cmd: ['sh', '-c', 'echo data > /f'] });
  const dangling = (await api(d, 'POST', `/commit?container=${c.id}`)).json().Id as string;
  assert.equal((await api(d, 'POST', `/commit?container=${c.id}&repo=kept&tag=1&changes=${encodeURIComponent('LABEL keep=yes')}`)).status, 201);
  assert.equal((await api(d, 'POST', `/commit?container=${c.id}&repo=other&tag=1`)).status, 201);
  const r = await berth(d, ['image', 'prune', '-f']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`deleted: ${dangling}`));
  assert.equal(await exists(dangling), false);
  assert.equal(await exists('kept:1'), true);
  // -a with a label filter: only unused images without keep=yes go; busybox is used by a container.
  const all = await berth(d, ['image', 'prune', '-a', '-f', '--filter', 'label!=keep=yes']);
  assert.equal(all.code, 0, all.stderr);
  assert.match(all.stdout, /untagged: other:1/);
  assert.equal(await exists('other:1'), false);
  assert.equal(await exists('kept:1'), true);
  assert.equal(await exists('busybox'), true);
  const bad = await api(d, 'POST', `/images/prune?filters=${encodeURIComponent('{"nope":["x"]}')}`);
  assert.equal(bad.status, 400);
  await api(d, 'DELETE', '/images/kept:1');
  await api(d, 'DELETE', `/containers/${c.id}`);
});

test('system df reports images, containers, volumes and container log files', { skip }, async () => {
  const c = await runToExit(d, { Cmd: ['sh', '-c', 'echo 0123456789; echo abc > /root/x'], HostConfig: { Binds: ['dfvol:/data'] } });
  const df = (await api(d, 'GET', '/system/df')).json();
  assert.ok(df.LayersSize > 0);
  const img = df.Images.find((i: { RepoTags: string[] }) => i.RepoTags.includes('busybox:latest'));
  assert.ok(img && img.Containers >= 1);
  const ctr = df.Containers.find((x: { Id: string }) => x.Id === c.id);
  assert.ok(ctr.SizeRw > 0 && ctr.SizeRootFs > ctr.SizeRw);
  const vol = df.Volumes.find((v: { Name: string }) => v.Name === 'dfvol');
  assert.equal(vol.UsageData.RefCount, 1);
  const log = df.ContainerLogs.find((l: { Id: string }) => l.Id === c.id);
  assert.ok(log.Size >= 11, `log size ${log.Size}`);
  const only = (await api(d, 'GET', '/system/df?type=volume')).json();
  assert.deepEqual(Object.keys(only), ['Volumes']);
  const cli = await berth(d, ['system', 'df']);
  assert.equal(cli.code, 0, cli.stderr);
  assert.match(cli.stdout, /^Container logs\s+\d+/m);
  await api(d, 'DELETE', `/containers/${c.id}?v=1`);
  await api(d, 'DELETE', '/volumes/dfvol');
});

test('container, network and volume prune check their filters first and honour label and until', { skip }, async () => {
  const q = (f: object): string => `filters=${encodeURIComponent(JSON.stringify(f))}`;
  for (const path of ['/containers/prune', '/networks/prune', '/volumes/prune']) {
    const r = await api(d, 'POST', `${path}?${q({ bogus: ['1'] })}`);
    assert.equal(r.status, 400, path);
    assert.match(r.json().message, /invalid filter 'bogus'/);
  }
  for (const path of ['/containers/prune', '/networks/prune']) {
    const r = await api(d, 'POST', `${path}?${q({ until: ['not-a-time'] })}`);
    assert.equal(r.status, 400, path);
  }
  for (const name of ['pr-keep', 'pr-go']) {
    const r = await api(d, 'POST', '/networks/create', { Name: name, Labels: { role: name } });
    assert.equal(r.status, 201, r.text());
    const v = await api(d, 'POST', '/volumes/create', { Name: name, Labels: { role: name } });
    assert.equal(v.status, 201, v.text());
  }
  const nets = (await api(d, 'POST', `/networks/prune?${q({ label: ['role=pr-go'] })}`)).json().NetworksDeleted as string[];
  assert.deepEqual(nets, ['pr-go']);
  // Created just now: not older than an hour ago.
  assert.deepEqual((await api(d, 'POST', `/networks/prune?${q({ until: ['1h'] })}`)).json().NetworksDeleted, []);
  const vols = (await api(d, 'POST', `/volumes/prune?${q({ all: ['true'], 'label!': ['role=pr-keep'] })}`)).json().VolumesDeleted as string[];
  assert.ok(vols.includes('pr-go') && !vols.includes('pr-keep'), JSON.stringify(vols));
  assert.equal((await api(d, 'DELETE', '/networks/pr-keep')).status, 204);
  assert.equal((await api(d, 'DELETE', '/volumes/pr-keep')).status, 204);
  const ev = await api(d, 'GET', '/events?since=200&until=100');
  assert.equal(ev.status, 400);
  assert.match(ev.json().message, /`since` time \(200\) cannot be after `until` time \(100\)/);
});
