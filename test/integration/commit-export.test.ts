// commit (a container's changes as a new layer), export and diff.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { api, isRoot, type TestDaemon } from '../helpers/daemon.ts';
import { runToExit, useDaemon, waitFor } from '../helpers/containers.ts';

const skip = !isRoot ? 'integration tests need root' : false;
let d: TestDaemon;

useDaemon(skip, (x) => (d = x));

test('diff lists added, changed and deleted paths', { skip }, async () => {
  const r = await runToExit(d, { Cmd: ['sh', '-c', 'echo x > /root/new; rm /bin/vi; mkdir /made'] });
  const changes = (await api(d, 'GET', `/containers/${r.id}/changes`)).json<Array<{ Path: string; Kind: number }>>();
  const byPath = Object.fromEntries(changes.map((c) => [c.Path, c.Kind]));
  assert.equal(byPath['/root/new'], 1);
  assert.equal(byPath['/bin/vi'], 2);
  assert.equal(byPath['/made'], 1);
  assert.equal(byPath['/bin'], 0);
  assert.equal(byPath['/etc/hostname'], undefined);
});

test('commit stacks the changes on the image, keeps deletions, and applies changes', { skip }, async () => {
  const r = await runToExit(d, { Cmd: ['sh', '-c', 'echo committed > /root/file; rm /bin/vi'], Env: ['FROM_CTR=1'] });
  const c = await api(d, 'POST', `/commit?container=${r.id}&repo=mine&tag=1&comment=hello&author=me&changes=${encodeURIComponent('CMD ["cat","/root/file"]')}`);
  assert.equal(c.status, 201, c.text());
  const img = (await api(d, 'GET', '/images/mine:1/json')).json();
  assert.equal(img.RootFS.Layers.length, 2);
  assert.deepEqual(img.Config.Cmd, ['cat', '/root/file']);
  assert.ok(img.Config.Env.includes('FROM_CTR=1'));
  assert.equal(img.Author, 'me');
  assert.equal(img.Comment, 'hello');
  const run = await runToExit(d, { Image: 'mine:1' });
  assert.equal(run.stdout, 'committed\n');
  const gone = await runToExit(d, { Image: 'mine:1', Cmd: ['sh', '-c', 'test -e /bin/vi && echo present || echo absent'] });
  assert.equal(gone.stdout, 'absent\n');
  const base = (await api(d, 'GET', '/images/busybox/json')).json();
  assert.equal(img.RootFS.Layers[0], base.RootFS.Layers[0]);
});

test('export streams the flattened root filesystem of a stopped container', { skip }, async () => {
  const r = await runToExit(d, { Cmd: ['sh', '-c', 'echo exported > /root/e'] });
  const res = await api(d, 'GET', `/containers/${r.id}/export`);
  assert.equal(res.status, 200);
  const list = spawnSync('tar', ['-t'], { input: res.body, encoding: 'utf8' });
  assert.equal(list.status, 0);
  assert.ok(list.stdout.split('\n').includes('root/e'));
  assert.ok(list.stdout.split('\n').includes('bin/busybox'));
  const one = spawnSync('tar', ['-xO', 'root/e'], { input: res.body, encoding: 'utf8' });
  assert.equal(one.stdout, 'exported\n');
  // The temporary mount goes once the stream has ended, which may be just after the client has it all.
  const { readFileSync } = await import('node:fs');
  await waitFor(async () => !readFileSync('/proc/self/mountinfo', 'utf8').includes(`${r.id}/merged`), 5000, 'temporary mount removed');
});

test('a client hanging up mid-export or mid-save leaves berthd running and nothing mounted', { skip }, async () => {
  const { request } = await import('node:http');
  const r = await runToExit(d, { Cmd: ['true'] });
  for (const path of [`/containers/${r.id}/export`, '/images/get?names=busybox']) {
    for (let i = 0; i < 8; i++) {
      await new Promise<void>((resolve) => {
        const req = request({ socketPath: d.socket, path, method: 'GET' }, (res) => {
          let got = 0;
          res.on('data', (c: Buffer) => {
            got += c.length;
            if (got > 2000 * (i + 1)) req.destroy();
          });
          res.on('close', () => resolve());
          res.on('error', () => resolve());
        });
        req.on('error', () => resolve());
        req.end();
      });
    }
  }
  await new Promise((res) => setTimeout(res, 300));
  assert.equal((await api(d, 'GET', '/_ping')).status, 200);
  const mounts = spawnSync('sh', ['-c', `grep -c ${d.dataRoot}/containers/${r.id} /proc/mounts || true`], { encoding: 'utf8' }).stdout.trim();
  assert.equal(mounts, '0');
});

test('clients hanging up mid-stream or mid-upload on any streaming endpoint leave berthd running and nothing behind', { skip }, async () => {
  const { request } = await import('node:http');
  const { readdirSync } = await import('node:fs');
  const id = (await api(d, 'POST', '/containers/create', { Image: 'busybox', Cmd: ['sh', '-c', 'while :; do echo line; sleep 0.01; done'] })).json<{ Id: string }>().Id;
  assert.equal((await api(d, 'POST', `/containers/${id}/start`)).status, 204);
  const saved = await api(d, 'GET', '/images/get?names=busybox');
  const tarball = saved.body;
  const gets = [`/containers/${id}/logs?stdout=1&stderr=1&follow=1`, '/events', `/containers/${id}/stats`, `/containers/${id}/archive?path=/bin`, `/containers/${id}/attach?stream=1&stdout=1&logs=1`];
  const posts = ['/images/load', '/build?t=hangup', `/containers/${id}/archive?path=/tmp`, '/images/create?fromSrc=-&repo=hangup'];
  const one = (method: string, path: string, upTo: number, cut: number): Promise<void> =>
    new Promise<void>((resolve) => {
      const req = request({ socketPath: d.socket, path, method, headers: method === 'GET' ? {} : { 'Content-Type': 'application/x-tar' } }, (res) => {
        let got = 0;
        res.on('data', (c: Buffer) => {
          got += c.length;
          if (got > cut) req.destroy();
        });
        res.on('close', () => resolve());
        res.on('error', () => resolve());
        setTimeout(() => req.destroy(), 60);
      });
      req.on('error', () => resolve());
      if (method === 'GET') req.end();
      else {
        req.write(tarball.subarray(0, upTo));
        setTimeout(() => req.destroy(), 10);
      }
    });
  for (let round = 0; round < 4; round++) {
    await Promise.all([
      ...gets.map((p) => one('GET', p, 0, 500 + round * 3000)),
      ...posts.map((p) => one(p.includes('archive') ? 'PUT' : 'POST', p, Math.floor((tarball.length * (round + 1)) / 5), 100)),
    ]);
  }
  await new Promise((res) => setTimeout(res, 300));
  assert.equal((await api(d, 'GET', '/_ping')).status, 200);
  assert.equal(d.proc.exitCode, null);
  // No half-written image, no temporary file left, only the container's own mount.
  assert.equal((await api(d, 'GET', '/images/hangup/json')).status, 404);
  assert.deepEqual(readdirSync(`${d.dataRoot}/tmp`), []);
  const mounts = spawnSync('sh', ['-c', `grep -c ${d.dataRoot} /proc/mounts || true`], { encoding: 'utf8' }).stdout.trim();
  assert.equal(mounts, '1');
  await api(d, 'DELETE', `/containers/${id}?force=1`);
});

test('commit leaves out the empty stubs the runtime made for hostname, hosts and resolv.conf', { skip }, async () => {
  const { mkdtempSync, readFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { berth } = await import('../helpers/daemon.ts');
  const r = await runToExit(d, { Cmd: ['touch', '/made'] });
  assert.equal((await api(d, 'POST', `/commit?container=${r.id}&repo=stubs&tag=1`)).status, 201);
  const dir = mkdtempSync(join(d.dir, 'stubs-'));
  assert.equal((await berth(d, ['save', '-o', join(dir, 'img.tar'), 'stubs:1'])).code, 0);
  spawnSync('tar', ['-C', dir, '-xf', join(dir, 'img.tar')]);
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Array<{ Layers: string[] }>;
  const top = manifest[0]!.Layers.at(-1)!;
  const names = spawnSync('tar', ['-tf', join(dir, top)], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  assert.ok(names.includes('made'), names.join(' '));
  assert.ok(!names.some((n) => /^etc\/(hostname|hosts|resolv\.conf)$/.test(n)), names.join(' '));
  // Nor the etc/ directory copied up to hold them: its owner and mode are the image's.
  assert.ok(!names.some((n) => n.startsWith('etc')), names.join(' '));
  await api(d, 'DELETE', `/containers/${r.id}`);
  await api(d, 'DELETE', '/images/stubs:1');
});

test('commit of an unchanged container adds no layer; its history names the command', { skip }, async () => {
  const base = (await api(d, 'GET', '/images/busybox/json')).json();
  const r = await runToExit(d, { Cmd: ['sh', '-c', 'true'] });
  assert.equal((await api(d, 'POST', `/commit?container=${r.id}&repo=same&tag=1&comment=nothing`)).status, 201);
  const img = (await api(d, 'GET', '/images/same:1/json')).json();
  assert.deepEqual(img.RootFS.Layers, base.RootFS.Layers);
  const history = (await api(d, 'GET', '/images/same:1/history')).json() as Array<{ CreatedBy: string; Size: number; Comment: string }>;
  assert.deepEqual([history[0]!.CreatedBy, history[0]!.Size, history[0]!.Comment], ['sh -c true', 0, 'nothing']);
  // A change makes a layer, and the history says which command made it.
  const w = await runToExit(d, { Cmd: ['sh', '-c', 'echo x > /f'] });
  assert.equal((await api(d, 'POST', `/commit?container=${w.id}&repo=changed&tag=1`)).status, 201);
  const changed = (await api(d, 'GET', '/images/changed:1/json')).json();
  assert.equal(changed.RootFS.Layers.length, base.RootFS.Layers.length + 1);
  assert.equal((await api(d, 'GET', '/images/changed:1/history')).json()[0].CreatedBy, 'sh -c echo x > /f');
  for (const id of [r.id, w.id]) await api(d, 'DELETE', `/containers/${id}`);
  for (const ref of ['same:1', 'changed:1']) assert.equal((await api(d, 'DELETE', `/images/${ref}`)).status, 200);
});
