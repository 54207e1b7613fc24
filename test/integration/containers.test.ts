// The container lifecycle against a real berthd with real runc/conmon containers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { api, isRoot, type TestDaemon } from '../helpers/daemon.ts';
import { create, runToExit, inspect, demux, waitFor, useDaemon } from '../helpers/containers.ts';

const skip = !isRoot ? 'integration tests need root' : false;
let d: TestDaemon;

useDaemon(skip, (x) => (d = x));

test('a container runs, prints, and reports its exit code', { skip }, async () => {
  const r = await runToExit(d, { Cmd: ['sh', '-c', 'echo hello; echo oops >&2; exit 3'] });
  assert.equal(r.code, 3);
  assert.equal(r.stdout, 'hello\n');
  assert.equal(r.stderr, 'oops\n');
  const info = await inspect(d, r.id);
  assert.equal(info.State.Status, 'exited');
  assert.equal(info.State.ExitCode, 3);
  assert.notEqual(info.State.FinishedAt, '0001-01-01T00:00:00Z');
});

test('namespaces: own pid 1, hostname and mount table', { skip }, async () => {
  const r = await runToExit(d, { Cmd: ['sh', '-c', 'echo $$; hostname; cat /etc/hostname; ls /'], Hostname: 'box1' });
  const [pid, hn, hnFile] = r.stdout.split('\n');
  assert.equal(pid, '1');
  assert.equal(hn, 'box1');
  assert.equal(hnFile, 'box1');
  assert.match(r.stdout, /\bbin\b/);
});

test("Docker's default capability set and masked paths", { skip }, async () => {
  const r = await runToExit(d, { Cmd: ['sh', '-c', 'grep CapEff /proc/self/status; cat /proc/kcore | wc -c; cat /proc/sys/kernel/hostname >/dev/null; echo 1 > /proc/sys/kernel/hostname || echo ro'] });
  assert.match(r.stdout, /CapEff:\s+00000000a80425fb/);
  assert.match(r.stdout, /^0$/m);
  assert.match(r.stdout, /ro/);
});

test('seccomp and capabilities deny unshare and mount by default', { skip }, async () => {
  const r = await runToExit(d, { Cmd: ['sh', '-c', 'unshare -U true; echo u=$?; mkdir -p /mnt/x; mount -t tmpfs t /mnt/x; echo m=$?'] });
  assert.match(r.stdout, /u=[1-9]/);
  assert.match(r.stdout, /m=[1-9]/);
});

test('environment, working dir and user from create', { skip }, async () => {
  const r = await runToExit(d, { Cmd: ['sh', '-c', 'echo $FOO; pwd; id -u; id -g; id -G'], Env: ['FOO=bar'], WorkingDir: '/tmp', User: '65534:65534' });
  // As Docker: the primary group is among the supplementary groups too.
  assert.equal(r.stdout, 'bar\n/tmp\n65534\n65534\n65534\n');
  const g = await runToExit(d, { Cmd: ['id', '-G'], User: '1000:1000', HostConfig: { GroupAdd: ['44', '7'] } });
  assert.deepEqual(g.stdout.trim().split(' ').sort(), ['1000', '44', '7']);
});

test('bad stop signals, CPU counts and cpusets the host lacks are refused at create with 400', { skip }, async () => {
  const before = (await api(d, 'GET', '/containers/json?all=1')).json<unknown[]>().length;
  const cases: Array<[object, RegExp]> = [
    [{ Image: 'busybox', StopSignal: 'WHAT' }, /^Invalid signal: WHAT$/],
    [{ Image: 'busybox', HostConfig: { NanoCpus: 100000e9 } }, /^Range of CPUs is from 0.01 to/],
    [{ Image: 'busybox', HostConfig: { CpusetCpus: '4095' } }, /^Requested CPUs are not available - requested 4095, available: /],
    [{ Image: 'busybox', HostConfig: { CpusetCpus: 'x' } }, /^Invalid value x for cpuset cpus$/],
  ];
  for (const [body, msg] of cases) {
    const r = await api(d, 'POST', '/containers/create', body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.match(r.json().message, msg);
  }
  assert.equal((await api(d, 'GET', '/containers/json?all=1')).json<unknown[]>().length, before);
});

test('read-only rootfs refuses writes but /tmp-like tmpfs works', { skip }, async () => {
  const r = await runToExit(d, { Cmd: ['sh', '-c', 'touch /x 2>/dev/null && echo wrote || echo refused; touch /run/y && echo tmpfs-ok'], HostConfig: { ReadonlyRootfs: true, Tmpfs: { '/run': 'rw' } } });
  assert.equal(r.stdout, 'refused\ntmpfs-ok\n');
});

test('writes in one container do not leak into another (copy-on-write)', { skip }, async () => {
  const a = await runToExit(d, { Cmd: ['sh', '-c', 'echo changed > /bin/marker; cat /bin/marker'] });
  assert.equal(a.stdout, 'changed\n');
  const b = await runToExit(d, { Cmd: ['sh', '-c', 'cat /bin/marker 2>&1 || true'] });
  assert.match(b.stdout, /No such file/);
});

test('unknown image gives 404, bad JSON and wrong types give 400, no container left', { skip }, async () => {
  const before = (await api(d, 'GET', '/containers/json?all=1')).json<unknown[]>().length;
  const r1 = await api(d, 'POST', '/containers/create', { Image: 'nosuchimage:1' });
  assert.equal(r1.status, 404);
  assert.match(r1.json().message, /No such image: nosuchimage:1/);
  const r2 = await api(d, 'POST', '/containers/create', '{"Image":');
  assert.equal(r2.status, 400);
  assert.match(r2.json().message, /invalid JSON/);
  const r3 = await api(d, 'POST', '/containers/create', { Image: 'busybox', Env: 'FOO=1x', Cmd: 5 });
  assert.equal(r3.status, 400);
  assert.match(r3.json().message, /Cmd/);
  const r4 = await api(d, 'POST', '/containers/create', '{}x');
  assert.equal(r4.status, 400);
  const nested = '['.repeat(100000) + ']'.repeat(100000);
  const r5 = await api(d, 'POST', '/containers/create', `{"Image":"busybox","Cmd":${nested}}`);
  assert.equal(r5.status, 400);
  // A platform the local image is not for is a 404 (clients then pull that platform's image).
  const arch = (await api(d, 'GET', '/images/busybox/json')).json().Architecture as string;
  const other = await api(d, 'POST', '/containers/create?platform=linux/s390x', { Image: 'busybox' });
  assert.equal(other.status, 404);
  assert.match(other.json().message, new RegExp(`^image with reference busybox was found but its platform \\(linux/${arch}\\) does not match the specified platform \\(linux/s390x\\)$`));
  assert.equal((await api(d, 'POST', '/containers/create?platform=bogus', { Image: 'busybox' })).status, 400);
  const same = await api(d, 'POST', `/containers/create?platform=linux/${arch === 'amd64' ? 'x86_64' : arch}`, { Image: 'busybox' });
  assert.equal(same.status, 201, same.text());
  await api(d, 'DELETE', `/containers/${same.json().Id}`);
  const after = (await api(d, 'GET', '/containers/json?all=1')).json<unknown[]>().length;
  assert.equal(after, before);
  assert.equal((await api(d, 'GET', '/_ping')).status, 200);
});

test('oversize headers are refused and the daemon keeps serving', { skip }, async () => {
  const r = await api(d, 'GET', '/_ping', undefined, { 'X-Big': 'a'.repeat(300 * 1024) }).catch(() => ({ status: 0 }));
  assert.ok(r.status === 431 || r.status === 0, `status ${r.status}`);
  assert.equal((await api(d, 'GET', '/_ping')).status, 200);
});

test('name conflicts: exactly one of 20 concurrent creates wins', { skip }, async () => {
  const results = await Promise.all(Array.from({ length: 20 }, () => api(d, 'POST', '/containers/create?name=dup', { Image: 'busybox', Cmd: ['true'] })));
  const codes = results.map((r) => r.status).sort();
  assert.equal(codes.filter((c) => c === 201).length, 1);
  assert.equal(codes.filter((c) => c === 409).length, 19);
  assert.match(results.find((r) => r.status === 409)!.json().message, /Conflict. The container name "\/dup" is already in use/);
  assert.equal((await api(d, 'DELETE', '/containers/dup')).status, 204);
});

test('stop, kill, pause, unpause and rm follow Docker status codes', { skip }, async () => {
  const id = await create(d, { Cmd: ['sleep', '300'] }, 'lifecycle');
  assert.equal((await api(d, 'POST', `/containers/${id}/start`)).status, 204);
  assert.equal((await api(d, 'POST', `/containers/${id}/start`)).status, 304);
  assert.equal((await inspect(d, id)).State.Running, true);
  const rm = await api(d, 'DELETE', `/containers/${id}`);
  assert.equal(rm.status, 409);
  assert.equal((await api(d, 'POST', `/containers/${id}/pause`)).status, 204);
  assert.equal((await inspect(d, id)).State.Status, 'paused');
  assert.equal((await api(d, 'POST', `/containers/${id}/pause`)).status, 409);
  assert.equal((await api(d, 'POST', `/containers/${id}/unpause`)).status, 204);
  const t0 = Date.now();
  assert.equal((await api(d, 'POST', `/containers/${id}/stop?t=1`)).status, 204);
  assert.ok(Date.now() - t0 < 8000);
  const st = (await inspect(d, id)).State;
  assert.equal(st.Status, 'exited');
  assert.equal(st.ExitCode, 137);
  assert.equal((await api(d, 'POST', `/containers/${id}/stop`)).status, 304);
  assert.equal((await api(d, 'POST', `/containers/${id}/kill`)).status, 409);
  assert.equal((await api(d, 'POST', `/containers/${id}/exec`, { Cmd: ['true'] })).status, 409);
  assert.equal((await api(d, 'DELETE', `/containers/${id}`)).status, 204);
  assert.equal((await api(d, 'GET', `/containers/${id}/json`)).status, 404);
});

test('a stop signal the process handles ends it gracefully', { skip }, async () => {
  const id = await create(d, { Cmd: ['sh', '-c', 'trap "echo bye; exit 0" TERM; while true; do sleep 0.1; done'] });
  await api(d, 'POST', `/containers/${id}/start`);
  await new Promise((r) => setTimeout(r, 300));
  await api(d, 'POST', `/containers/${id}/stop?t=5`);
  const info = await inspect(d, id);
  assert.equal(info.State.ExitCode, 0);
  const logs = demux((await api(d, 'GET', `/containers/${id}/logs?stdout=1`)).body);
  assert.equal(logs.stdout, 'bye\n');
});

test('exec runs in the container and reports its exit code', { skip }, async () => {
  const id = await create(d, { Cmd: ['sleep', '300'], Env: ['CENV=1', 'KEEP=k', 'DROP=d'] });
  await api(d, 'POST', `/containers/${id}/start`);
  const ex = await api(d, 'POST', `/containers/${id}/exec`, { Cmd: ['sh', '-c', 'echo $CENV $XENV; pwd; exit 7'], AttachStdout: true, AttachStderr: true, Env: ['XENV=2'], WorkingDir: '/tmp' });
  assert.equal(ex.status, 201);
  const execId = ex.json().Id;
  const out = await api(d, 'POST', `/exec/${execId}/start`, { Detach: false, Tty: false });
  assert.equal(out.status, 200);
  assert.equal(demux(out.body).stdout, '1 2\n/tmp\n');
  const info = (await api(d, 'GET', `/exec/${execId}/json`)).json();
  assert.equal(info.ExitCode, 7);
  assert.equal(info.Running, false);
  // The exec's variables replace the container's in place; a bare name unsets one (as Docker).
  const envEx = await api(d, 'POST', `/containers/${id}/exec`, { Cmd: ['sh', '-c', 'env | grep -E "^(CENV|KEEP|DROP|NEW|NOPE)=" | sort'], AttachStdout: true, Env: ['CENV=over', 'DROP', 'NEW=x', 'NOPE'] });
  const envOut = await api(d, 'POST', `/exec/${envEx.json().Id}/start`, { Detach: false });
  assert.equal(demux(envOut.body).stdout, 'CENV=over\nKEEP=k\nNEW=x\n');
  const bad = await api(d, 'POST', `/containers/${id}/exec`, { Cmd: ['/nonexistent'], AttachStdout: true, AttachStderr: true });
  const badOut = await api(d, 'POST', `/exec/${bad.json().Id}/start`, {});
  assert.match(demux(badOut.body).stderr, /no such file|not found/i);
  assert.equal((await api(d, 'GET', `/exec/${bad.json().Id}/json`)).json().ExitCode, 126, 'as Docker: any exec that cannot start reports 126');
  const wd = await api(d, 'POST', `/containers/${id}/exec`, { Cmd: ['true'], WorkingDir: '/proc/self/fd/7' });
  assert.equal(wd.status, 400);
  await api(d, 'DELETE', `/containers/${id}?force=1`);
});

test('an exec whose client went away keeps running, and its endless output is not kept anywhere', { skip }, async () => {
  const { execFileSync } = await import('node:child_process');
  const id = await create(d, { Cmd: ['sleep', '300'] });
  await api(d, 'POST', `/containers/${id}/start`);
  const ex = await api(d, 'POST', `/containers/${id}/exec`, { Cmd: ['sh', '-c', 'while :; do echo endless output line; done'], AttachStdout: true });
  const { request } = await import('node:http');
  // Read a little of the stream, then hang up.
  await new Promise<void>((resolve) => {
    const req = request({ socketPath: d.socket, path: `/exec/${ex.json().Id}/start`, method: 'POST', headers: { 'Content-Type': 'application/json' } }, (res) => {
      res.once('data', () => {
        req.destroy();
        resolve();
      });
    });
    req.on('error', () => resolve());
    req.end(JSON.stringify({ Detach: false }));
  });
  const size = (): number => Number(execFileSync('du', ['-sk', d.execRoot], { encoding: 'utf8' }).split('\t')[0]);
  await new Promise((r) => setTimeout(r, 300));
  const before = size();
  await new Promise((r) => setTimeout(r, 1000));
  assert.ok(size() - before < 512, `the exec root grew from ${before} KiB to ${size()} KiB`);
  assert.equal((await api(d, 'GET', `/exec/${ex.json().Id}/json`)).json().Running, true, 'as Docker, the exec goes on without its client');
  await api(d, 'DELETE', `/containers/${id}?force=1`);
});

test('stdin without a TTY is data: bytes that spell the detach keys pass through, megabytes arrive whole', { skip }, async () => {
  const { berth } = await import('../helpers/daemon.ts');
  const { createHash, randomBytes } = await import('node:crypto');
  // Ctrl-P Ctrl-Q (the default detach keys) in the middle of 3 MB of binary input.
  const input = Buffer.concat([randomBytes(1 << 20), Buffer.from([0x10, 0x11, 0x10, 0x11]), randomBytes(2 << 20)]);
  const r = await berth(d, ['run', '--rm', '-i', 'busybox', 'md5sum'], { input, timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.split(' ')[0], createHash('md5').update(input).digest('hex'));
});

test('a client that stops reading an attach stream holds the container back, not berthd\'s memory', { skip }, async () => {
  const { request } = await import('node:http');
  const id = await create(d, { Cmd: ['sh', '-c', 'while :; do echo 0123456789012345678901234567890123456789012345678901234567890123456789; done'] });
  await api(d, 'POST', `/containers/${id}/start`);
  const rss = (): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${d.proc.pid}/status`, 'utf8'))![1]) / 1024;
  await new Promise((r) => setTimeout(r, 300));
  const before = rss();
  const req = request({ socketPath: d.socket, path: `/containers/${id}/attach?stream=1&stdout=1`, method: 'POST', headers: { Connection: 'Upgrade', Upgrade: 'tcp' } });
  const socket = await new Promise<import('node:net').Socket>((resolve) => req.on('upgrade', (_res, s) => resolve(s)).end());
  socket.pause();
  await new Promise((r) => setTimeout(r, 3000));
  const grown = rss() - before;
  // Unpaced, the output piled up at ~50 MB/s.
  assert.ok(grown < 40, `berthd grew by ${grown.toFixed(1)} MiB while the client read nothing`);
  // Reading again, the client gets the stream where it stopped.
  let got = 0;
  socket.on('data', (c: Buffer) => (got += c.length));
  socket.resume();
  await waitFor(async () => got > 1 << 20, 10_000, 'output flows again');
  // Held back again, the container still stops: once it is killed its stream is let go (conmon,
  // blocked on the client, would otherwise never see the exit).
  socket.pause();
  await new Promise((r) => setTimeout(r, 1000));
  const t0 = Date.now();
  assert.equal((await api(d, 'POST', `/containers/${id}/stop?t=1`)).status, 204);
  assert.ok(Date.now() - t0 < 6000, `stop took ${Date.now() - t0} ms`);
  assert.equal((await inspect(d, id)).State.Status, 'exited');
  socket.destroy();
  await api(d, 'DELETE', `/containers/${id}?force=1`);
});

test('stdin sent faster than the container reads it waits in the client, not in berthd', { skip }, async () => {
  const { request } = await import('node:http');
  const id = await create(d, { Cmd: ['sleep', '300'], OpenStdin: true });
  await api(d, 'POST', `/containers/${id}/start`);
  const rss = (): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${d.proc.pid}/status`, 'utf8'))![1]) / 1024;
  const before = rss();
  const req = request({ socketPath: d.socket, path: `/containers/${id}/attach?stream=1&stdin=1`, method: 'POST', headers: { Connection: 'Upgrade', Upgrade: 'tcp' } });
  const socket = await new Promise<import('node:net').Socket>((resolve) => req.on('upgrade', (_res, s) => resolve(s)).end());
  // 100 MiB offered to a container that never reads its stdin.
  const chunk = Buffer.alloc(1 << 20, 0x41);
  let sent = 0;
  await new Promise<void>((resolve) => {
    const pump = (): void => {
      while (sent < 100) {
        sent++;
        if (!socket.write(chunk)) {
          socket.once('drain', pump);
          return;
        }
      }
      resolve();
    };
    pump();
    setTimeout(resolve, 3000);
  });
  const grown = rss() - before;
  socket.destroy();
  assert.ok(grown < 40, `berthd grew by ${grown.toFixed(1)} MiB holding stdin the container did not read (${sent} MiB offered)`);
  await api(d, 'DELETE', `/containers/${id}?force=1`);
});

test('a missing executable fails start with 127-style error and stays created', { skip }, async () => {
  const id = await create(d, { Cmd: ['/no/such/binary'] });
  const s = await api(d, 'POST', `/containers/${id}/start`);
  assert.equal(s.status, 500);
  assert.match(s.json().message, /no such file or directory|executable file not found/);
  const info = await inspect(d, id);
  assert.equal(info.State.Status, 'created');
  assert.equal(info.State.ExitCode, 127);
});

test('restart policy on-failure:2 restarts twice, then stops', { skip }, async () => {
  const id = await create(d, { Cmd: ['sh', '-c', 'echo run; exit 1'], HostConfig: { RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 2 } } });
  await api(d, 'POST', `/containers/${id}/start`);
  await waitFor(async () => {
    const s = (await inspect(d, id)) as { RestartCount: number; State: { Status: string } };
    return s.RestartCount === 2 && s.State.Status === 'exited';
  }, 15_000, 'two restarts');
  const logs = demux((await api(d, 'GET', `/containers/${id}/logs?stdout=1`)).body);
  assert.equal(logs.stdout, 'run\nrun\nrun\n');
});

test('memory limit: an OOM-killed container reports 137 and OOMKilled', { skip }, async () => {
  const r = await runToExit(d, { Cmd: ['sh', '-c', 'x=a; while true; do x=$x$x; done'], HostConfig: { Memory: 16 * 1024 * 1024, MemorySwap: 16 * 1024 * 1024 } });
  assert.equal(r.code, 137);
  const info = await inspect(d, r.id);
  assert.equal(info.State.OOMKilled, true);
});

test('pids limit stops a fork bomb', { skip }, async () => {
  const r = await runToExit(d, { Cmd: ['sh', '-c', 'for i in $(seq 40); do sleep 5 & done 2>/dev/null; echo started; ls /proc | grep -c "^[0-9]"'], HostConfig: { PidsLimit: 10 } });
  const n = Number(r.stdout.trim().split('\n').pop());
  assert.ok(n <= 12, `processes: ${n}`);
});

test('logs: tail, timestamps, since', { skip }, async () => {
  const r = await runToExit(d, { Cmd: ['sh', '-c', 'for i in 1 2 3 4 5; do echo line$i; done'] });
  const tail = demux((await api(d, 'GET', `/containers/${r.id}/logs?stdout=1&tail=2`)).body);
  assert.equal(tail.stdout, 'line4\nline5\n');
  // As Docker: a tail that is not a number means every line.
  assert.equal(demux((await api(d, 'GET', `/containers/${r.id}/logs?stdout=1&tail=x`)).body).stdout.split('\n').length, 6);
  const ts = demux((await api(d, 'GET', `/containers/${r.id}/logs?stdout=1&timestamps=1&tail=1`)).body);
  assert.match(ts.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z line5\n$/);
  const none = demux((await api(d, 'GET', `/containers/${r.id}/logs?stdout=1&since=${Math.floor(Date.now() / 1000) + 100}`)).body);
  assert.equal(none.stdout, '');
  assert.equal((await api(d, 'GET', `/containers/${r.id}/logs`)).status, 400);
  // --details: the attributes the log options name, then a space (only the space without any).
  assert.equal(demux((await api(d, 'GET', `/containers/${r.id}/logs?stdout=1&details=1&tail=1`)).body).stdout, ' line5\n');
  const attrs = await runToExit(d, { Cmd: ['echo', 'hi'], Labels: { team: 'a b' }, Env: ['REGION=eu/west'], HostConfig: { LogConfig: { Type: 'json-file', Config: { labels: 'team', env: 'REGION' } } } });
  const both = demux((await api(d, 'GET', `/containers/${attrs.id}/logs?stdout=1&details=1&timestamps=1`)).body).stdout;
  assert.match(both, /^\d{4}-\S+Z REGION=eu%2Fwest,team=a\+b hi\n$/);
});

test('logs with the local driver: rotated files are compressed, and logs reads through them', { skip }, async () => {
  // ~90 KB of numbered lines in bursts of ~4.5 KB (well under what the rotator's checks allow
  // for), so 20 KB files rotate several times, keeping 4 files.
  const r = await runToExit(d, {
    Cmd: ['sh', '-c', 'i=0; while [ $i -lt 2000 ]; do echo "line $i padded to be long enough xxxxxxxxxx"; i=$((i+1)); [ $((i % 100)) = 0 ] && sleep 0.25; done'],
    HostConfig: { NetworkMode: 'none', LogConfig: { Type: 'local', Config: { 'max-size': '20k', 'max-file': '4' } } },
  });
  assert.equal(r.code, 0);
  const dir = join(d.dataRoot, 'containers', r.id);
  const files = readdirSync(dir).filter((f) => /^ctr\.log(\.\d+(\.gz)?)?$/.test(f)).sort();
  assert.ok(files.some((f) => f.endsWith('.gz')), files.join(','));
  assert.ok(files.length <= 4, files.join(','));
  // What is kept reads in order, up to the last line, from compressed and plain files alike.
  const lines = r.stdout.trim().split('\n').map((l) => Number(l.split(' ')[1]));
  assert.equal(lines.at(-1), 1999);
  for (let i = 1; i < lines.length; i++) assert.equal(lines[i], lines[i - 1]! + 1);
  const tail = await api(d, 'GET', `/containers/${r.id}/logs?stdout=1&tail=2`);
  assert.match(tail.body.toString('latin1'), /line 1998 [^]*line 1999 /);
  await api(d, 'DELETE', `/containers/${r.id}`);
  assert.ok(!readdirSync(join(d.dataRoot, 'containers')).includes(r.id));
});

test('logs -f follows a running container until it exits', { skip }, async () => {
  const id = await create(d, { Cmd: ['sh', '-c', 'for i in 1 2 3; do echo tick$i; sleep 0.2; done'] });
  await api(d, 'POST', `/containers/${id}/start`);
  const r = await api(d, 'GET', `/containers/${id}/logs?stdout=1&follow=1`);
  assert.equal(demux(r.body).stdout, 'tick1\ntick2\ntick3\n');
});

test('list filters and inspect by name and short id', { skip }, async () => {
  const id = await create(d, { Cmd: ['true'], Labels: { team: 'a' } }, 'labelled');
  const all = (await api(d, 'GET', `/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ label: ['team=a'] }))}`)).json<Array<{ Id: string; Names: string[]; State: string }>>();
  assert.deepEqual(all.map((c) => c.Id), [id]);
  assert.deepEqual(all[0]!.Names, ['/labelled']);
  assert.equal(all[0]!.State, 'created');
  assert.equal((await inspect(d, 'labelled')).Id, id);
  assert.equal((await inspect(d, id.slice(0, 12))).Id, id);
  const running = (await api(d, 'GET', '/containers/json')).json<unknown[]>();
  assert.ok(!running.some((c) => (c as { Id: string }).Id === id));
  assert.equal((await api(d, 'POST', `/containers/${id}/rename?name=renamed`)).status, 204);
  assert.equal((await inspect(d, 'renamed')).Id, id);
});

test('top and stats read the container cgroup', { skip }, async () => {
  const id = await create(d, { Cmd: ['sleep', '300'], HostConfig: { Memory: 64 * 1024 * 1024 } });
  await api(d, 'POST', `/containers/${id}/start`);
  const top = (await api(d, 'GET', `/containers/${id}/top`)).json<{ Titles: string[]; Processes: string[][] }>();
  assert.ok(top.Titles.includes('PID'));
  assert.ok(top.Processes.some((p) => p.join(' ').includes('sleep 300')));
  const stats = (await api(d, 'GET', `/containers/${id}/stats?stream=0&one-shot=1`)).json();
  assert.equal(stats.memory_stats.limit, 64 * 1024 * 1024);
  assert.ok(stats.pids_stats.current >= 1);
  // Interface counters from the container's own namespace (eth0 on the default bridge), no loopback.
  assert.deepEqual(Object.keys(stats.networks), ['eth0']);
  assert.equal(typeof stats.networks.eth0.rx_bytes, 'number');
  assert.equal(typeof stats.networks.eth0.tx_packets, 'number');
  await api(d, 'DELETE', `/containers/${id}?force=1`);
});

test('wait conditions and auto-remove', { skip }, async () => {
  const id = await create(d, { Cmd: ['sh', '-c', 'exit 4'], HostConfig: { AutoRemove: true } });
  const waiting = api(d, 'POST', `/containers/${id}/wait?condition=removed`);
  await new Promise((r) => setTimeout(r, 20));
  await api(d, 'POST', `/containers/${id}/start`);
  const w = await waiting;
  assert.equal(w.json().StatusCode, 4);
  assert.equal((await api(d, 'GET', `/containers/${id}/json`)).status, 404);
  assert.equal((await api(d, 'POST', `/containers/${id}/wait`)).status, 404);
  assert.equal((await api(d, 'POST', `/containers/${id}/wait?condition=bogus`)).status, 400);
});

test('events stream container lifecycle events', { skip }, async () => {
  const since = Math.floor(Date.now() / 1000) - 1;
  const r = await runToExit(d, { Cmd: ['true'] });
  const until = Math.floor(Date.now() / 1000) + 1;
  const ev = await api(d, 'GET', `/events?since=${since}&until=${until}&filters=${encodeURIComponent(JSON.stringify({ container: [r.id] }))}`);
  const actions = ev.text().trim().split('\n').map((l) => JSON.parse(l).Action);
  assert.deepEqual(actions.slice(0, 3), ['create', 'start', 'die']);
});

test('nothing is left on the host after containers are removed', { skip }, async () => {
  const r = await runToExit(d, { Cmd: ['true'] });
  await api(d, 'DELETE', `/containers/${r.id}`);
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8');
  assert.ok(!mounts.includes(r.id), 'rootfs still mounted');
  assert.ok(!existsSync(`/sys/fs/cgroup/memory${d.cgroupParent}/${r.id}`), 'cgroup left');
});

test('health checks run in the container: starting, healthy, unhealthy, with events', { skip }, async () => {
  const since = Math.floor(Date.now() / 1000) - 1;
  const id = await create(d, { Cmd: ['sh', '-c', 'touch /tmp/ok; sleep 300'], Healthcheck: { Test: ['CMD-SHELL', 'test -e /tmp/ok'], Interval: 200_000_000, Timeout: 2_000_000_000, Retries: 2 } });
  await api(d, 'POST', `/containers/${id}/start`);
  assert.equal((await inspect(d, id)).State.Health.Status, 'starting');
  await waitFor(async () => (await inspect(d, id)).State.Health.Status === 'healthy', 10_000, 'healthy');
  const ps = (await api(d, 'GET', `/containers/json?filters=${encodeURIComponent(JSON.stringify({ health: ['healthy'] }))}`)).json<Array<{ Id: string; Status: string }>>();
  assert.match(ps.find((c) => c.Id === id)!.Status, /\(healthy\)$/);
  const ex = await api(d, 'POST', `/containers/${id}/exec`, { Cmd: ['rm', '/tmp/ok'] });
  await api(d, 'POST', `/exec/${ex.json().Id}/start`, { Detach: true });
  await waitFor(async () => (await inspect(d, id)).State.Health.Status === 'unhealthy', 10_000, 'unhealthy');
  const h = (await inspect(d, id)).State.Health;
  assert.ok(h.FailingStreak >= 2);
  assert.ok(h.Log.length > 0 && h.Log.at(-1).ExitCode !== 0);
  const ev = await api(d, 'GET', `/events?since=${since}&until=${Math.floor(Date.now() / 1000) + 1}&filters=${encodeURIComponent(JSON.stringify({ container: [id] }))}`);
  const actions = ev.text().trim().split('\n').map((l) => JSON.parse(l).Action);
  assert.ok(actions.includes('health_status: healthy'));
  assert.ok(actions.includes('health_status: unhealthy'));
  await api(d, 'DELETE', `/containers/${id}?force=1`);
});

test('--device: a host device under another name, cgroup permissions enforced; privileged sees the host\'s devices', { skip: skip || (!existsSync('/dev/cpu_dma_latency') ? 'no /dev/cpu_dma_latency on this host' : false) }, async () => {
  const rw = await runToExit(d, {
    Cmd: ['sh', '-c', 'echo x > /dev/mynull && echo wrote; dd if=/dev/rodev bs=4 count=1 2>/dev/null | wc -c; (echo x > /dev/rodev) 2>/dev/null && echo writable || echo refused; ls -l /dev/mynull | cut -c1'],
    HostConfig: {
      Devices: [
        { PathOnHost: '/dev/null', PathInContainer: '/dev/mynull', CgroupPermissions: 'rwm' },
        // cpu_dma_latency (c 10:259) is outside the default allow list: 'r' is all the device cgroup lets through.
        { PathOnHost: '/dev/cpu_dma_latency', PathInContainer: '/dev/rodev', CgroupPermissions: 'r' },
      ],
    },
  });
  assert.equal(rw.code, 0, rw.stderr);
  assert.equal(rw.stdout, 'wrote\n4\nrefused\nc\n');
  // A missing host device fails the start with Docker's message; the container stays created.
  const id = await create(d, { Cmd: ['true'], HostConfig: { Devices: [{ PathOnHost: '/dev/nope-berth', PathInContainer: '', CgroupPermissions: 'rwm' }] } });
  const r = await api(d, 'POST', `/containers/${id}/start`);
  assert.equal(r.status, 500);
  assert.match(r.json().message, /error gathering device information while adding custom device "\/dev\/nope-berth": no such file or directory/);
  assert.equal((await inspect(d, id)).State.Status, 'created');
  await api(d, 'DELETE', `/containers/${id}`);
  const bad = await api(d, 'POST', '/containers/create', { Image: 'busybox', Cmd: ['true'], HostConfig: { Devices: [{ PathOnHost: '/dev/null', PathInContainer: 'rel', CgroupPermissions: 'rwm' }] } });
  assert.equal(bad.status, 400);
  // Privileged: a device node the default set lacks (loop0, when the host has one) is there.
  if (existsSync('/dev/loop0')) {
    const p = await runToExit(d, { Cmd: ['sh', '-c', 'ls /dev/loop0'], HostConfig: { Privileged: true } });
    assert.equal(p.stdout.trim(), '/dev/loop0');
    const u = await runToExit(d, { Cmd: ['sh', '-c', 'ls /dev/loop0 2>&1 || true'] });
    assert.match(u.stdout, /No such file/);
  }
});

test('update changes a running container\'s cgroup limits and restart policy, and keeps them for later starts', { skip }, async () => {
  // The container reads its own limits: cgroup v1 files, or v2's.
  const limits = 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max';
  const id = await create(d, { Cmd: ['sleep', '300'], HostConfig: { Memory: 64 * 1024 * 1024, NetworkMode: 'none' } });
  assert.equal((await api(d, 'POST', `/containers/${id}/start`)).status, 204);
  try {
    const up = await api(d, 'POST', `/containers/${id}/update`, { Memory: 128 * 1024 * 1024, PidsLimit: 42, NanoCpus: 5e8, RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 } });
    assert.equal(up.status, 200, up.text());
    assert.deepEqual(up.json(), { Warnings: [] });
    const exec = async (): Promise<string> => {
      const e = await api(d, 'POST', `/containers/${id}/exec`, { Cmd: ['sh', '-c', limits], AttachStdout: true });
      return demux((await api(d, 'POST', `/exec/${e.json().Id}/start`, { Detach: false })).body).stdout;
    };
    assert.equal(await exec(), `${128 * 1024 * 1024}\n42\n`);
    const hc = (await inspect(d, id)).HostConfig;
    assert.deepEqual([hc.Memory, hc.PidsLimit, hc.NanoCpus, hc.RestartPolicy], [128 * 1024 * 1024, 42, 5e8, { Name: 'on-failure', MaximumRetryCount: 3 }]);
    // Zero leaves a value as it is; the limits hold after a restart.
    assert.equal((await api(d, 'POST', `/containers/${id}/update`, { Memory: 0, CpuShares: 512 })).status, 200);
    assert.equal((await api(d, 'POST', `/containers/${id}/restart?t=0`)).status, 204);
    assert.equal(await exec(), `${128 * 1024 * 1024}\n42\n`);
    // Killed by the restart (137), running again: as Docker, a running container's code is 0.
    assert.equal((await inspect(d, id)).State.ExitCode, 0);
    // Bad input: a swap below memory, a bad policy, a wrong type; a missing container.
    assert.equal((await api(d, 'POST', `/containers/${id}/update`, { Memory: 300 * 1024 * 1024, MemorySwap: 200 * 1024 * 1024 })).status, 400);
    assert.equal((await api(d, 'POST', `/containers/${id}/update`, { RestartPolicy: { Name: 'sometimes' } })).status, 400);
    assert.equal((await api(d, 'POST', `/containers/${id}/update`, { Memory: 'lots' })).status, 400);
    assert.equal((await api(d, 'POST', '/containers/nosuch/update', { Memory: 1 << 27 })).status, 404);
    assert.equal((await inspect(d, id)).HostConfig.Memory, 128 * 1024 * 1024, 'a refused update changes nothing');
  } finally {
    await api(d, 'DELETE', `/containers/${id}?force=1`);
  }
  // Docker's rules for memory: a limit alone allows as much swap again; an update above the
  // current memory+swap limit (unset or unlimited counts) needs a swap limit with it.
  const m = await create(d, { Cmd: ['true'], HostConfig: { Memory: 32 * 1024 * 1024 } });
  assert.equal((await inspect(d, m)).HostConfig.MemorySwap, 64 * 1024 * 1024);
  const free = await create(d, { Cmd: ['true'] });
  const alone = await api(d, 'POST', `/containers/${free}/update`, { Memory: 32 * 1024 * 1024 });
  assert.equal(alone.status, 409, alone.text());
  assert.match(alone.json().message, /^Cannot update container [0-9a-f]{64}: Memory limit should be smaller than already set memoryswap limit/);
  assert.equal((await api(d, 'POST', `/containers/${free}/update`, { Memory: 32 * 1024 * 1024, MemorySwap: -1 })).status, 200);
  assert.equal((await api(d, 'POST', `/containers/${free}/update`, { Memory: 64 * 1024 * 1024 })).status, 409);
  const hcFree = (await inspect(d, free)).HostConfig;
  assert.deepEqual([hcFree.Memory, hcFree.MemorySwap], [32 * 1024 * 1024, -1]);
  for (const c of [m, free]) await api(d, 'DELETE', `/containers/${c}`);
  // An auto-removed container keeps its "no" policy.
  const rm = await create(d, { Cmd: ['true'], HostConfig: { AutoRemove: true } });
  assert.equal((await api(d, 'POST', `/containers/${rm}/update`, { RestartPolicy: { Name: 'always' } })).status, 400);
  await api(d, 'DELETE', `/containers/${rm}?force=1`);
});

test('--pid container:X shares X\'s process namespace (X must exist, and run at start)', { skip }, async () => {
  const app = await create(d, { Cmd: ['sleep', '300'], HostConfig: { NetworkMode: 'none' } }, 'pidshare-app');
  assert.equal((await api(d, 'POST', `/containers/${app}/start`)).status, 204);
  try {
    const ps = await runToExit(d, { Cmd: ['ps', '-o', 'comm'], HostConfig: { PidMode: 'container:pidshare-app', NetworkMode: 'none' } });
    assert.match(ps.stdout, /^sleep$/m, 'the app\'s process is visible');
    // As Docker: a 400, since clients pull the image on a 404 from create.
    assert.equal((await api(d, 'POST', '/containers/create', { Image: 'busybox', Cmd: ['true'], HostConfig: { PidMode: 'container:nosuch' } })).status, 400);
    assert.equal((await api(d, 'POST', `/containers/${app}/stop?t=0`)).status, 204);
    const late = await create(d, { Cmd: ['true'], HostConfig: { PidMode: 'container:pidshare-app', NetworkMode: 'none' } });
    const r = await api(d, 'POST', `/containers/${late}/start`);
    assert.equal(r.status, 409);
    assert.match(r.json().message, /cannot join PID of a non running container/);
    await api(d, 'DELETE', `/containers/${late}`);
  } finally {
    await api(d, 'DELETE', `/containers/${app}?force=1`);
  }
});

test('the none log driver keeps nothing (no file; logs answers 501) while attach still sees the output', { skip }, async () => {
  const id = await create(d, { Cmd: ['sh', '-c', 'echo to-attach'], AttachStdout: true, HostConfig: { LogConfig: { Type: 'none', Config: {} }, NetworkMode: 'none' } });
  const attached = api(d, 'POST', `/containers/${id}/attach?stream=1&stdout=1`);
  await new Promise((r) => setTimeout(r, 50));
  const waiting = api(d, 'POST', `/containers/${id}/wait?condition=next-exit`);
  assert.equal((await api(d, 'POST', `/containers/${id}/start`)).status, 204);
  assert.equal((await waiting).json().StatusCode, 0);
  assert.equal(demux((await attached).body).stdout, 'to-attach\n');
  const logs = await api(d, 'GET', `/containers/${id}/logs?stdout=1`);
  assert.equal(logs.status, 501);
  assert.match(logs.json().message, /configured logging driver does not support reading/);
  assert.ok(!existsSync((await inspect(d, id)).LogPath), 'no log file');
  await api(d, 'DELETE', `/containers/${id}`);
});

test('--ipc shareable and --ipc container:X: the same IPC namespace and /dev/shm; a private donor is refused', { skip }, async () => {
  const { readlinkSync } = await import('node:fs');
  const donor = await create(d, { Cmd: ['sh', '-c', 'echo shared-memory > /dev/shm/x; sleep 300'], HostConfig: { IpcMode: 'shareable', NetworkMode: 'none' } }, 'ipc-donor');
  const priv = await create(d, { Cmd: ['sleep', '300'], HostConfig: { NetworkMode: 'none' } }, 'ipc-private');
  try {
    assert.equal((await api(d, 'POST', `/containers/${donor}/start`)).status, 204);
    assert.equal((await api(d, 'POST', `/containers/${priv}/start`)).status, 204);
    await waitFor(async () => {
      const e = await api(d, 'POST', `/containers/${donor}/exec`, { Cmd: ['cat', '/dev/shm/x'], AttachStdout: true });
      return demux((await api(d, 'POST', `/exec/${e.json().Id}/start`, { Detach: false })).body).stdout === 'shared-memory\n';
    }, 5000, 'the donor wrote its shm');
    const donorNs = readlinkSync(`/proc/${(await inspect(d, donor)).State.Pid}/ns/ipc`);
    const joiner = await runToExit(d, { Cmd: ['sh', '-c', 'cat /dev/shm/x; readlink /proc/self/ns/ipc'], HostConfig: { IpcMode: 'container:ipc-donor', NetworkMode: 'none' } });
    assert.equal(joiner.stdout, `shared-memory\n${donorNs}\n`);
    const refused = await create(d, { Cmd: ['true'], HostConfig: { IpcMode: 'container:ipc-private', NetworkMode: 'none' } });
    const r = await api(d, 'POST', `/containers/${refused}/start`);
    assert.equal(r.status, 409);
    assert.match(r.json().message, /non-shareable IPC/);
    await api(d, 'DELETE', `/containers/${refused}`);
  } finally {
    await api(d, 'DELETE', `/containers/${donor}?force=1`);
    await api(d, 'DELETE', `/containers/${priv}?force=1`);
  }
});

test('block I/O limits reach the container\'s cgroup (or are discarded with Docker\'s warning where the host has none); a missing device, a GPU request and kernel memory answer as Docker', { skip }, async () => {
  const { readCgroupFeatures, detectCgroupVersion } = await import('../../src/adapters/cgroups/index.ts');
  const { splitDev } = await import('../../src/engine/spec/devices.ts');
  const { statSync } = await import('node:fs');
  const features = readCgroupFeatures();
  const v2 = detectCgroupVersion() === 2;
  const dev = readdirSync('/sys/block').find((n) => !/^(loop|ram|zram|nbd|sr)/.test(n) && existsSync(`/dev/${n}`));
  if (dev) {
    const { major, minor } = splitDev(statSync(`/dev/${dev}`).rdev);
    const body = {
      Image: 'busybox',
      Cmd: ['sh', '-c', v2 ? 'cat /sys/fs/cgroup/io.max' : 'cat /sys/fs/cgroup/blkio/blkio.throttle.read_bps_device /sys/fs/cgroup/blkio/blkio.throttle.write_iops_device'],
      HostConfig: { BlkioDeviceReadBps: [{ Path: `/dev/${dev}`, Rate: 1048576 }], BlkioDeviceWriteIOps: [{ Path: `/dev/${dev}`, Rate: 100 }] },
    };
    const made = await api(d, 'POST', '/containers/create', body);
    assert.equal(made.status, 201, made.text());
    const id = made.json().Id as string;
    const waiting = api(d, 'POST', `/containers/${id}/wait?condition=next-exit`);
    assert.equal((await api(d, 'POST', `/containers/${id}/start`)).status, 204);
    await waiting;
    const out = demux((await api(d, 'GET', `/containers/${id}/logs?stdout=1&stderr=1`)).body).stdout;
    if (features.blkioReadBps) {
      assert.match(out, v2 ? new RegExp(`^${major}:${minor} rbps=1048576 .*wiops=100`, 'm') : new RegExp(`^${major}:${minor} 1048576$[\\s\\S]*^${major}:${minor} 100$`, 'm'));
      assert.deepEqual((await inspect(d, id)).HostConfig.BlkioDeviceReadBps, [{ Path: `/dev/${dev}`, Rate: 1048576 }]);
    } else {
      assert.ok((made.json().Warnings as string[]).some((w) => /BPS Block I\/O read limit discarded/.test(w)));
    }
    await api(d, 'DELETE', `/containers/${id}`);
  }
  // The weight: applied, refused out of range, or discarded with the warning.
  const weighted = await api(d, 'POST', '/containers/create', { Image: 'busybox', Cmd: ['true'], HostConfig: { BlkioWeight: 5 } });
  if (features.blkioWeight) {
    assert.equal(weighted.status, 400);
    assert.match(weighted.json().message, /Range of blkio weight is from 10 to 1000/);
  } else {
    assert.equal(weighted.status, 201);
    assert.deepEqual(weighted.json().Warnings, ['Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.']);
    await api(d, 'DELETE', `/containers/${weighted.json().Id}`);
  }
  // A throttled device that is not there: the start fails and the container stays created.
  const missing = await create(d, { Cmd: ['true'], HostConfig: { BlkioDeviceReadIOps: [{ Path: '/dev/berth-no-such-disk', Rate: 10 }] } });
  if (features.blkioReadIops) {
    const r = await api(d, 'POST', `/containers/${missing}/start`);
    assert.equal(r.status, 500);
    assert.match(r.json().message, /stat \/dev\/berth-no-such-disk: no such file or directory/);
    assert.equal((await inspect(d, missing)).State.Status, 'created');
  }
  await api(d, 'DELETE', `/containers/${missing}?force=1`);
  // --gpus: created, and refused at start (no device driver), as Docker without one.
  const gpu = await create(d, { Cmd: ['true'], HostConfig: { DeviceRequests: [{ Driver: '', Count: -1, Capabilities: [['gpu']] }] } });
  const g = await api(d, 'POST', `/containers/${gpu}/start`);
  assert.equal(g.status, 500);
  assert.equal(g.json().message, 'could not select device driver "" with capabilities: [[gpu]]');
  await api(d, 'DELETE', `/containers/${gpu}?force=1`);
  const km = await api(d, 'POST', '/containers/create', { Image: 'busybox', Cmd: ['true'], HostConfig: { KernelMemory: 10 << 20 } });
  assert.ok((km.json().Warnings as string[]).includes('Specifying a kernel memory limit is deprecated and will be removed in a future release.'));
  assert.equal((await inspect(d, km.json().Id)).HostConfig.KernelMemory, 10 << 20);
  await api(d, 'DELETE', `/containers/${km.json().Id}`);
});

test('inspect shows every HostConfig field Docker shows (defaults for unset ones); update takes a block I/O weight, real-time CPU and kernel memory with Docker\'s warnings', { skip }, async () => {
  const { readCgroupFeatures } = await import('../../src/adapters/cgroups/index.ts');
  const id = await create(d, { Cmd: ['sleep', '60'], HostConfig: { PidsLimit: 0, MemorySwappiness: -1 } });
  const info = await inspect(d, id);
  const hc = info.HostConfig;
  assert.equal(hc.PidsLimit, null);
  // Docker's default cgroup namespace, stored at create: the container's own on cgroup v2.
  assert.equal(hc.CgroupnsMode, readCgroupFeatures().version === 2 ? 'private' : 'host');
  assert.equal(hc.MemorySwappiness, null);
  assert.equal(info.Config.Volumes, null);
  assert.equal(info.Config.OnBuild, null);
  assert.ok(info.GraphDriver.Data.LowerDir.length > 0);
  for (const [k, v] of Object.entries({ BlkioWeight: 0, BlkioWeightDevice: [], BlkioDeviceReadBps: [], Devices: [], DeviceRequests: null, CpuRealtimeRuntime: 0, OomScoreAdj: 0, IpcMode: 'private', ShmSize: 64 * 1024 * 1024, ConsoleSize: [0, 0], UsernsMode: '', Isolation: '' })) {
    assert.deepEqual(hc[k], v, k);
  }
  assert.ok(Array.isArray(hc.MaskedPaths) && hc.MaskedPaths.includes('/proc/kcore'));
  for (const k of ['Tmpfs', 'Sysctls', 'Init']) assert.ok(!(k in hc), `${k} is left out when unset`);
  assert.equal((await api(d, 'POST', `/containers/${id}/start`)).status, 204);
  const r = await api(d, 'POST', `/containers/${id}/update`, { BlkioWeight: 300, KernelMemory: 10 << 20 });
  assert.equal(r.status, 200, r.text());
  const warnings = r.json().Warnings as string[];
  assert.ok(warnings.includes('Specifying a kernel memory limit is deprecated and will be removed in a future release.'));
  const after = (await inspect(d, id)).HostConfig;
  if (readCgroupFeatures().blkioWeight) assert.equal(after.BlkioWeight, 300);
  else {
    assert.ok(warnings.includes('Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.'));
    assert.equal(after.BlkioWeight, 0);
  }
  assert.equal(after.KernelMemory, 10 << 20);
  await api(d, 'DELETE', `/containers/${id}?force=1`);
});
