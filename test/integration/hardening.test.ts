// Cases that broke other engines: oversize bodies, removal races, unbounded logs, hostile rootfs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { api, isRoot, type TestDaemon } from '../helpers/daemon.ts';
import { create, inspect, runToExit, waitFor, useDaemon } from '../helpers/containers.ts';

const skip = !isRoot ? 'integration tests need root' : false;
let d: TestDaemon;

useDaemon(skip, (x) => (d = x));

test('an oversize request body is refused with 413 and nothing is created', { skip }, async () => {
  const big = Buffer.alloc(17 << 20, 0x20);
  big.write('{"Image":"busybox","Cmd":["true"],"X":"', 0);
  const r = await api(d, 'POST', '/containers/create', big).catch(() => ({ status: 0 }));
  assert.ok(r.status === 413 || r.status === 0, `status ${r.status}`);
  assert.equal((await api(d, 'GET', '/containers/json?all=1')).json<unknown[]>().length, 0);
});

test('unknown API versions and paths get clear errors', { skip }, async () => {
  const v = await api(d, 'GET', '/v9.99/version');
  assert.equal(v.status, 400);
  assert.match(v.json().message, /client version 9.99 is too new/);
  const p = await api(d, 'GET', '/v1.44/nope');
  assert.equal(p.status, 404);
  const ok = await api(d, 'GET', '/v1.44/version');
  assert.equal(ok.status, 200);
  assert.equal(ok.headers['api-version'], '1.47');
});

test('two concurrent removals: one wins, nothing leaks', { skip }, async () => {
  const id = await create(d, { Cmd: ['sleep', '300'] });
  await api(d, 'POST', `/containers/${id}/start`);
  const [a, b] = await Promise.all([api(d, 'DELETE', `/containers/${id}?force=1`), api(d, 'DELETE', `/containers/${id}?force=1`)]);
  const codes = [a.status, b.status].sort();
  assert.equal(codes[0], 204);
  assert.ok([204, 404, 409].includes(codes[1]!), `second removal: ${codes[1]}`);
  assert.equal((await api(d, 'GET', `/containers/${id}/json`)).status, 404);
  assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(id));
});

test('rm -f racing start leaves either a removed container or nothing half-made', { skip }, async () => {
  for (let i = 0; i < 5; i++) {
    const id = await create(d, { Cmd: ['sleep', '300'] });
    const [s, r] = await Promise.all([api(d, 'POST', `/containers/${id}/start`), api(d, 'DELETE', `/containers/${id}?force=1`)]);
    assert.ok([204, 404, 409, 500].includes(s.status), `start ${s.status}`);
    assert.ok([204, 409].includes(r.status), `rm ${r.status}`);
    if (r.status === 409) assert.equal((await api(d, 'DELETE', `/containers/${id}?force=1`)).status, 204);
    assert.equal((await api(d, 'GET', `/containers/${id}/json`)).status, 404);
    assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(id));
  }
});

test('logs: output without newlines is split into 16 KiB pieces and max-size bounds the files', { skip }, async () => {
  // 8 MB with no newline, then rotation at 1 MB keeping 2 files.
  const r = await runToExit(d, {
    Cmd: ['sh', '-c', 'head -c 8000000 /dev/zero | tr "\\0" x; sleep 1; echo; echo done'],
    HostConfig: { LogConfig: { Type: 'json-file', Config: { 'max-size': '1m', 'max-file': '2' } } },
  });
  assert.equal(r.code, 0);
  assert.match(r.stdout, /done\n$/);
  const dir = join(d.dataRoot, 'containers', r.id);
  // The live file and rotated ones (the held name is a link to one of them, counted once).
  const files = readdirSync(dir).filter((f) => /^ctr\.log(\.\d+(\.gz)?)?$/.test(f));
  assert.ok(files.length <= 2, files.join(','));
  const inodes = new Map<number, number>();
  for (const f of readdirSync(dir).filter((x) => x.startsWith('ctr.log'))) {
    const st = statSync(join(dir, f));
    inodes.set(st.ino, st.size);
  }
  const total = [...inodes.values()].reduce((a, b) => a + b, 0);
  // conmon starts a new file at max-size, between records: no file is larger.
  for (const size of inodes.values()) assert.ok(size <= 1_000_000 + 64 * 1024, `a log file of ${size} bytes`);
  assert.ok(total <= 3 * 1_000_000 + 64 * 1024, `log files hold ${total} bytes`);
  const logs = await api(d, 'GET', `/containers/${r.id}/logs?stdout=1&tail=3`);
  let off = 0;
  while (off + 8 <= logs.body.length) {
    const len = logs.body.readUInt32BE(off + 4);
    assert.ok(len <= 16 * 1024, `frame of ${len} bytes`);
    off += 8 + len;
  }
});

// The server's keep-alive timeout (5 s) passes with every client idle. Before the fix, the
// daemon's shutdown then ended with node's event loop, before the default bridge's teardown: the
// file's after-hook (which fails on any network object left behind) caught it.
test('clients idle past the keep-alive timeout: a later stop still tears the network down', { skip }, async () => {
  await new Promise((r) => setTimeout(r, 5200));
  assert.equal((await api(d, 'GET', '/_ping')).status, 200);
});

test('a rootfs whose /proc is a symlink cannot start, and the host is untouched', { skip }, async () => {
  const tar = spawn('sh', ['-c', 'd=$(mktemp -d); mkdir -p $d/bin; cp /bin/busybox $d/bin/; ln -s busybox $d/bin/sh; ln -s /tmp $d/proc; tar -C $d -c .; rm -rf $d']);
  const chunks: Buffer[] = [];
  for await (const c of tar.stdout) chunks.push(c as Buffer);
  const imp = await api(d, 'POST', '/images/create?fromSrc=-&repo=evilproc&tag=1', Buffer.concat(chunks), { 'Content-Type': 'application/x-tar' });
  assert.equal(imp.status, 200);
  assert.doesNotMatch(imp.text(), /error/);
  const core = readFileSync('/proc/sys/kernel/core_pattern', 'utf8');
  const id = await create(d, { Image: 'evilproc:1', Cmd: ['/bin/sh', '-c', 'echo x > /proc/sys/kernel/core_pattern; echo ran'] });
  const s = await api(d, 'POST', `/containers/${id}/start`);
  if (s.status === 204) await waitFor(async () => (await inspect(d, id)).State.Status !== 'running', 5000, 'exit');
  assert.equal(readFileSync('/proc/sys/kernel/core_pattern', 'utf8'), core);
  await api(d, 'DELETE', `/containers/${id}?force=1`);
});

test('an events subscriber that stops reading loses events instead of growing the daemon', { skip }, async () => {
  const { request } = await import('node:http');
  const id = await create(d, { Cmd: ['sleep', '300'] });
  await api(d, 'POST', `/containers/${id}/start`);
  const req = request({ socketPath: d.socket, path: '/events?filters=' + encodeURIComponent(JSON.stringify({ event: ['exec_create'] })), method: 'GET' });
  const res = await new Promise<import('node:http').IncomingMessage>((resolve) => req.on('response', resolve).end());
  res.pause();
  // ~6,000 events of ~450 bytes: several times the backlog a subscriber is allowed.
  const total = 6000;
  for (let i = 0; i < total; i += 20) {
    await Promise.all(Array.from({ length: 20 }, () => api(d, 'POST', `/containers/${id}/exec`, { Cmd: ['true'] })));
  }
  let text = '';
  res.setEncoding('utf8');
  res.on('data', (c: string) => (text += c));
  res.resume();
  await new Promise((r) => setTimeout(r, 500));
  req.destroy();
  const got = text.split('\n').filter(Boolean).length;
  assert.ok(got > 0 && got < total, `the stalled subscriber got ${got} of ${total} events`);
  assert.equal((await api(d, 'GET', '/_ping')).status, 200);
  await api(d, 'DELETE', `/containers/${id}?force=1`);
});
