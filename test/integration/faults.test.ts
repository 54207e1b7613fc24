// Daemon restarts and crashes: containers outlive berthd, state survives kill -9, a killed
// monitor is noticed, a missing runtime is reported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { api, isRoot, type TestDaemon } from '../helpers/daemon.ts';
import { create, inspect, demux, waitFor, useDaemon } from '../helpers/containers.ts';

const skip = !isRoot ? 'integration tests need root' : false;
let d: TestDaemon;

useDaemon(skip, (x) => (d = x));

test('the socket is 0660 and a second daemon on the same data root is refused', { skip }, async () => {
  assert.equal(statSync(d.socket).mode & 0o777, 0o660);
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(join(import.meta.dirname, '../../bin/berthd'), ['--data-root', d.dataRoot, '--exec-root', `${d.dir}/run2`, '-H', `unix://${d.dir}/b2.sock`], { encoding: 'utf8', timeout: 15000 });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /another berthd/);
});

test('containers keep running across kill -9 of berthd, and their exit is recorded after', { skip }, async () => {
  const id = await create(d, { Cmd: ['sh', '-c', 'i=0; while [ $i -lt 30 ]; do echo n$i; i=$((i+1)); sleep 0.1; done; exit 5'] });
  const keep = await create(d, { Cmd: ['sleep', '300'] });
  await api(d, 'POST', `/containers/${id}/start`);
  await api(d, 'POST', `/containers/${keep}/start`);
  const pid = (await inspect(d, keep)).State.Pid as number;
  await d.stop({ signal: 'SIGKILL' });
  // While the daemon is down the containers go on writing.
  await new Promise((r) => setTimeout(r, 1500));
  assert.ok(existsSync(`/proc/${pid}`), 'container process died with the daemon');
  await d.restart();
  await waitFor(async () => (await inspect(d, id)).State.Status === 'exited', 10_000, 'exit recorded after restart');
  const info = await inspect(d, id);
  assert.equal(info.State.ExitCode, 5);
  const logs = demux((await api(d, 'GET', `/containers/${id}/logs?stdout=1`)).body);
  assert.equal(logs.stdout.split('\n').filter(Boolean).length, 30);
  const k = await inspect(d, keep);
  assert.equal(k.State.Status, 'running');
  assert.equal(k.State.Pid, pid);
  // Still controllable after the restart.
  const ex = await api(d, 'POST', `/containers/${keep}/exec`, { Cmd: ['echo', 'alive'], AttachStdout: true });
  const out = await api(d, 'POST', `/exec/${ex.json().Id}/start`, {});
  assert.equal(demux(out.body).stdout, 'alive\n');
  assert.equal((await api(d, 'POST', `/containers/${keep}/stop?t=0`)).status, 204);
  assert.equal((await inspect(d, keep)).State.Status, 'exited');
});

test('a start whose record was not written before a crash: the running container is kept, not torn down', { skip }, async () => {
  const id = await create(d, { Cmd: ['sleep', '300'] });
  await api(d, 'POST', `/containers/${id}/start`);
  const pid = (await inspect(d, id)).State.Pid as number;
  await d.stop({ signal: 'SIGKILL' });
  // The record as a crash just before its write leaves it (the start is answered first).
  const file = join(d.dataRoot, 'containers', id, 'config.v2.json');
  const rec = JSON.parse(readFileSync(file, 'utf8')) as { State: Record<string, unknown> };
  Object.assign(rec.State, { Status: 'created', Running: false, Pid: 0, StartedAt: '0001-01-01T00:00:00Z' });
  writeFileSync(file, JSON.stringify(rec));
  await d.restart();
  const info = await inspect(d, id);
  assert.equal(info.State.Status, 'running');
  assert.equal(info.State.Pid, pid);
  assert.ok(existsSync(`/proc/${pid}`));
  assert.notEqual(info.State.StartedAt, '0001-01-01T00:00:00Z');
  const ex = await api(d, 'POST', `/containers/${id}/exec`, { Cmd: ['echo', 'kept'], AttachStdout: true });
  assert.equal(demux((await api(d, 'POST', `/exec/${ex.json().Id}/start`, {})).body).stdout, 'kept\n');
  assert.equal((await api(d, 'POST', `/containers/${id}/stop?t=0`)).status, 204);
  assert.equal((await inspect(d, id)).State.Status, 'exited');
  await api(d, 'DELETE', `/containers/${id}`);
});

test('a graceful daemon stop leaves containers running', { skip }, async () => {
  const id = await create(d, { Cmd: ['sleep', '300'] });
  await api(d, 'POST', `/containers/${id}/start`);
  await d.restart();
  assert.equal((await inspect(d, id)).State.Status, 'running');
  await api(d, 'DELETE', `/containers/${id}?force=1`);
});

test('kill -9 of a container monitor is noticed; rm -f cleans up', { skip }, async () => {
  const id = await create(d, { Cmd: ['sleep', '300'] });
  await api(d, 'POST', `/containers/${id}/start`);
  const conmonPid = Number(readFileSync(join(d.execRoot, 'c', id.slice(0, 12), 'conmon.pid'), 'utf8'));
  process.kill(conmonPid, 'SIGKILL');
  await waitFor(async () => (await inspect(d, id)).State.Status === 'exited', 10_000, 'monitor death noticed');
  const info = await inspect(d, id);
  assert.notEqual(info.State.ExitCode, 0);
  assert.equal((await api(d, 'DELETE', `/containers/${id}?force=1`)).status, 204);
  assert.ok(!existsSync(`/sys/fs/cgroup/pids${d.cgroupParent}/${id}`));
  assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(id));
});

test('state files are never torn: every record parses after repeated kill -9', { skip }, async () => {
  const ids = await Promise.all([1, 2, 3].map(() => create(d, { Cmd: ['true'] })));
  for (let i = 0; i < 3; i++) {
    const starts = ids.map((id) => api(d, 'POST', `/containers/${id}/start`).catch(() => undefined));
    await new Promise((r) => setTimeout(r, 30 + i * 40));
    await d.stop({ signal: 'SIGKILL' });
    await Promise.all(starts);
    for (const id of readdirSync(join(d.dataRoot, 'containers'))) {
      const p = join(d.dataRoot, 'containers', id, 'config.v2.json');
      if (existsSync(p)) JSON.parse(readFileSync(p, 'utf8'));
    }
    await d.restart();
  }
  for (const id of ids) {
    const st = (await inspect(d, id)).State.Status;
    assert.ok(['created', 'running', 'exited'].includes(st), st);
  }
});

test('restart policies resume after a daemon crash; a manual stop is remembered', { skip }, async () => {
  const always = await create(d, { Cmd: ['sh', '-c', 'sleep 1; exit 2'], HostConfig: { RestartPolicy: { Name: 'always' } } });
  const stopped = await create(d, { Cmd: ['sleep', '300'], HostConfig: { RestartPolicy: { Name: 'unless-stopped' } } });
  await api(d, 'POST', `/containers/${always}/start`);
  await api(d, 'POST', `/containers/${stopped}/start`);
  assert.equal((await api(d, 'POST', `/containers/${stopped}/stop?t=0`)).status, 204);
  await d.stop({ signal: 'SIGKILL' });
  // The container exits while no daemon watches it.
  await new Promise((r) => setTimeout(r, 1500));
  await d.restart();
  await waitFor(async () => {
    const s = await inspect(d, always);
    return s.RestartCount >= 1 && s.State.Status === 'running';
  }, 10_000, 'restart after daemon crash');
  assert.equal((await inspect(d, stopped)).State.Status, 'exited');
  assert.equal((await api(d, 'POST', `/containers/${always}/stop?t=0`)).status, 204);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal((await inspect(d, always)).State.Status, 'exited');
});
