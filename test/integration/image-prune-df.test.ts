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
