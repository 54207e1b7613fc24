// The official docker CLI, unchanged, against a throwaway berthd.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { runProgram, isRoot, type TestDaemon } from '../helpers/daemon.ts';
import { useDaemon } from '../helpers/containers.ts';

const DOCKER = ['/usr/local/bin/docker', '/usr/bin/docker'].find((p) => existsSync(p));
const skip = !isRoot ? 'integration tests need root' : !DOCKER ? 'docker CLI not installed: skipping compatibility tests' : false;
let d: TestDaemon;

function docker(args: string[], input?: string) {
  return runProgram(DOCKER!, args, { env: { DOCKER_HOST: d.host, DOCKER_CONFIG: `${d.dir}/docker-config` }, ...(input !== undefined ? { input } : {}) });
}

useDaemon(skip, (x) => (d = x));

test('docker version negotiates the API with berthd', { skip }, async () => {
  const r = await docker(['version', '--format', '{{.Server.APIVersion}}']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), '1.47');
});

test('docker run --rm busybox echo hi', { skip }, async () => {
  const r = await docker(['run', '--rm', 'busybox', 'echo', 'hi']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'hi\n');
  const ps = await docker(['ps', '-aq']);
  assert.equal(ps.stdout.trim(), '');
});

test('docker run passes exit codes, stderr and stdin through', { skip }, async () => {
  const r = await docker(['run', '--rm', 'busybox', 'sh', '-c', 'echo err >&2; exit 3']);
  assert.equal(r.code, 3);
  assert.equal(r.stderr, 'err\n');
  const i = await docker(['run', '-i', '--rm', 'busybox', 'sh', '-c', 'tr a-z A-Z'], 'hello\n');
  assert.equal(i.stdout, 'HELLO\n');
  // Input that ends before the container starts (`< /dev/null`): the docker CLI half-closes the
  // attach connection at once, and the container still gets its end of input.
  const empty = runProgram(DOCKER!, ['run', '-i', '--rm', 'busybox', 'sh', '-c', 'cat; echo done'], { env: { DOCKER_HOST: d.host, DOCKER_CONFIG: `${d.dir}/docker-config` }, input: '', timeoutMs: 15_000 });
  const e = await empty;
  assert.deepEqual([e.code, e.stdout], [0, 'done\n'], e.stderr);
  const missing = await docker(['run', '--rm', 'busybox', 'no-such-command']);
  assert.equal(missing.code, 127);
  assert.match(missing.stderr, /executable file not found/);
});

test('docker run naming a missing network, container or link gets the daemon\'s error, not a pull of the image', { skip }, async () => {
  for (const [flags, msg] of [
    [['--network', 'nosuchnet'], /network nosuchnet not found/],
    [['--volumes-from', 'nosuch'], /No such container: nosuch/],
    [['--pid', 'container:nosuch'], /No such container: nosuch/],
    [['--network', 'container:nosuch'], /No such container: nosuch/],
    [['--link', 'nosuch:x'], /could not get container for nosuch/],
  ] as const) {
    const r = await docker(['run', '--rm', ...flags, 'busybox', 'true']);
    assert.equal(r.code, 125, `${flags.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, msg);
    assert.doesNotMatch(r.stderr, /Unable to find image|registry-1\.docker\.io/);
  }
});

test('docker run -itd, ps, logs, exec, inspect, stop, rm -f', { skip }, async () => {
  const run = await docker(['run', '-itd', '--name', 'bg', 'busybox', 'sh', '-c', 'echo started; sleep 300']);
  assert.equal(run.code, 0, run.stderr);
  const id = run.stdout.trim();
  assert.match(id, /^[0-9a-f]{64}$/);
  const ps = await docker(['ps', '--format', '{{.Names}} {{.Status}}']);
  assert.match(ps.stdout, /^bg Up /m);
  let logs = '';
  for (let i = 0; i < 40 && !logs.includes('started'); i++) {
    logs = (await docker(['logs', 'bg'])).stdout;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.match(logs, /started\r?\n/);
  const ex = await docker(['exec', 'bg', 'sh', '-c', 'echo from-exec; exit 6']);
  assert.equal(ex.code, 6);
  assert.equal(ex.stdout, 'from-exec\n');
  const insp = await docker(['inspect', '--format', '{{.State.Status}} {{.Config.Tty}} {{.Name}}', 'bg']);
  assert.equal(insp.stdout.trim(), 'running true /bg');
  const stop = await docker(['stop', '-t', '1', 'bg']);
  assert.equal(stop.code, 0, stop.stderr);
  assert.equal((await docker(['inspect', '--format', '{{.State.Status}}', 'bg'])).stdout.trim(), 'exited');
  const rm = await docker(['rm', '-f', 'bg']);
  assert.equal(rm.code, 0);
  const gone = await docker(['inspect', 'bg']);
  assert.notEqual(gone.code, 0);
  assert.match(gone.stderr, /No such/);
});

test('docker errors carry berthd messages and non-zero exits', { skip }, async () => {
  await docker(['create', '--name', 'taken', 'busybox', 'true']);
  const dup = await docker(['create', '--name', 'taken', 'busybox', 'true']);
  assert.notEqual(dup.code, 0);
  assert.match(dup.stderr, /Conflict. The container name "\/taken" is already in use/);
  const noimg = await docker(['run', '--rm', '--pull', 'never', 'nosuchimage']);
  assert.equal(noimg.code, 125);
  assert.match(noimg.stderr, /No such image/);
  const ex = await docker(['exec', 'taken', 'true']);
  assert.notEqual(ex.code, 0);
  assert.match(ex.stderr, /is not running/);
  await docker(['rm', 'taken']);
});

test('docker run -it busybox sh gives an interactive shell through a terminal', { skip }, async () => {
  // script(1) gives the docker CLI a pseudo-terminal; keystrokes arrive through its stdin.
  const p = spawn('script', ['-qec', `${DOCKER} run -it --rm busybox sh`, '/dev/null'], { env: { PATH: process.env.PATH ?? '', DOCKER_HOST: d.host, DOCKER_CONFIG: `${d.dir}/docker-config` } });
  let out = '';
  p.stdout.on('data', (b: Buffer) => (out += b.toString()));
  const code = new Promise<number>((r) => p.on('close', (c) => r(c ?? -1)));
  await new Promise((r) => setTimeout(r, 1500));
  p.stdin.write('echo marker-$((40+2)); tty\r');
  await new Promise((r) => setTimeout(r, 700));
  p.stdin.write('exit 5\r');
  const timer = setTimeout(() => p.kill('SIGKILL'), 15_000);
  assert.equal(await code, 5);
  clearTimeout(timer);
  assert.match(out, /marker-42/);
  assert.match(out, /\/dev\/pts\/\d+/);
});

test('docker network create; containers resolve each other by name; published port on 127.0.0.1', { skip: skip || (!existsSync('/usr/lib/podman/netavark') && 'netavark not installed') }, async () => {
  const tag = Math.random().toString(16).slice(2, 8);
  const net = `dn${tag}`;
  const c = await docker(['network', 'create', '--subnet', `10.${200 + Math.floor(Math.random() * 50)}.${Math.floor(Math.random() * 250)}.0/24`, '-o', `com.docker.network.bridge.name=bd${tag}`, net]);
  assert.equal(c.code, 0, c.stderr);
  const port = 20000 + Math.floor(Math.random() * 20000);
  const web = await docker(['run', '-d', '--name', `w${tag}`, '--network', net, '-p', `127.0.0.1:${port}:80`, 'busybox', 'httpd', '-f', '-p', '80', '-h', '/etc']);
  assert.equal(web.code, 0, web.stderr);
  // httpd may still be starting when the client runs (app readiness, not the engine's): a few tries.
  const fetchName = `for i in 1 2 3 4 5; do out=$(printf "GET /hostname HTTP/1.0\\r\\n\\r\\n" | nc -w 3 w${tag} 80 | tail -1); [ -n "$out" ] && break; sleep 0.3; done; echo "$out"`;
  const ns = await docker(['run', '--rm', '--network', net, 'busybox', 'sh', '-c', fetchName]);
  assert.equal(ns.stdout.trim(), web.stdout.trim().slice(0, 12), ns.stderr);
  const port2 = await docker(['port', `w${tag}`]);
  assert.match(port2.stdout, new RegExp(`80/tcp -> 127.0.0.1:${port}`));
  assert.equal((await docker(['rm', '-f', `w${tag}`])).code, 0);
  assert.equal((await docker(['network', 'rm', net])).code, 0);
});

test('docker volume commands and docker run -v', { skip }, async () => {
  assert.equal((await docker(['volume', 'create', 'dv1'])).stdout.trim(), 'dv1');
  assert.match((await docker(['volume', 'ls'])).stdout, /local\s+dv1/);
  assert.equal((await docker(['run', '--rm', '-v', 'dv1:/d', 'busybox', 'sh', '-c', 'echo kept > /d/k'])).code, 0);
  assert.equal((await docker(['run', '--rm', '-v', 'dv1:/d:ro', 'busybox', 'cat', '/d/k'])).stdout, 'kept\n');
  const insp = await docker(['volume', 'inspect', '--format', '{{.Driver}} {{.Name}}', 'dv1']);
  assert.equal(insp.stdout.trim(), 'local dv1');
  assert.equal((await docker(['volume', 'rm', 'dv1'])).code, 0);
  const gone = await docker(['volume', 'inspect', 'dv1']);
  assert.notEqual(gone.code, 0);
});

test('docker pause/unpause, rename, top, stats, update, diff, commit, history, images, export/import, save/load, kill, wait, restart, events, network connect, system df, prune, info', { skip }, async () => {
  const ok = async (args: string[], input?: string): Promise<string> => {
    const r = await docker(args, input);
    assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const since = String(Math.floor(Date.now() / 1000) - 1);
  await ok(['run', '-d', '--name', 'sweep', 'busybox', 'sleep', '300']);
  await ok(['pause', 'sweep']);
  assert.equal((await ok(['inspect', '-f', '{{.State.Status}}', 'sweep'])).trim(), 'paused');
  await ok(['unpause', 'sweep']);
  await ok(['rename', 'sweep', 'sweep2']);
  assert.match(await ok(['top', 'sweep2']), /sleep 300/);
  assert.equal((await ok(['stats', '--no-stream', '--format', '{{.Name}}', 'sweep2'])).trim(), 'sweep2');
  assert.equal((await ok(['update', '--memory', '64m', '--memory-swap', '128m', 'sweep2'])).trim(), 'sweep2');
  assert.equal((await ok(['inspect', '-f', '{{.HostConfig.Memory}}', 'sweep2'])).trim(), String(64 * 1024 * 1024));
  await ok(['exec', 'sweep2', 'touch', '/newfile']);
  assert.match(await ok(['diff', 'sweep2']), /^A \/newfile$/m);
  assert.match(await ok(['commit', 'sweep2', 'committed:1']), /^sha256:[0-9a-f]{64}$/m);
  assert.ok((await ok(['history', '--format', '{{.CreatedBy}}', 'committed:1'])).trim().length > 0);
  assert.match(await ok(['images', '--format', '{{.Repository}}:{{.Tag}}']), /^committed:1$/m);
  const exported = `${d.dir}/sweep.tar`;
  await ok(['export', '-o', exported, 'sweep2']);
  assert.match(await ok(['import', exported, 'imported:1']), /^sha256:/);
  assert.equal((await ok(['run', '--rm', 'imported:1', 'ls', '/newfile'])).trim(), '/newfile');
  const saved = `${d.dir}/committed.tar`;
  await ok(['save', '-o', saved, 'committed:1']);
  await ok(['rmi', 'committed:1']);
  assert.match(await ok(['load', '-i', saved]), /Loaded image: committed:1/);
  await ok(['kill', '-s', 'KILL', 'sweep2']);
  assert.equal((await ok(['wait', 'sweep2'])).trim(), '137');
  await ok(['restart', '-t', '0', 'sweep2']);
  assert.equal((await ok(['inspect', '-f', '{{.State.Running}}', 'sweep2'])).trim(), 'true');
  await ok(['network', 'create', 'sweepnet']);
  await ok(['network', 'connect', '--alias', 'sw', 'sweepnet', 'sweep2']);
  assert.match(await ok(['network', 'inspect', '-f', '{{range .Containers}}{{.Name}}{{end}}', 'sweepnet']), /sweep2/);
  assert.match(await ok(['network', 'ls', '--format', '{{.Name}}']), /^sweepnet$/m);
  await ok(['network', 'disconnect', 'sweepnet', 'sweep2']);
  await ok(['rm', '-f', 'sweep2']);
  await ok(['network', 'rm', 'sweepnet']);
  const events = await ok(['events', '--since', since, '--until', String(Math.floor(Date.now() / 1000) + 1), '--filter', 'type=container', '--format', '{{.Action}}']);
  for (const a of ['create', 'start', 'pause', 'unpause', 'rename', 'update', 'commit', 'kill', 'die', 'restart', 'destroy']) assert.match(events, new RegExp(`^${a}$`, 'm'), `event ${a}`);
  assert.match(await ok(['system', 'df']), /^Images\s/m);
  await ok(['container', 'prune', '-f']);
  await ok(['image', 'prune', '-f']);
  assert.equal((await ok(['info', '--format', '{{.OSType}}'])).trim(), 'linux');
});

test('docker attach, start -a, image inspect, create, and the prune family', { skip }, async () => {
  const ok = async (args: string[]): Promise<string> => {
    const r = await docker(args);
    assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  await ok(['run', '-d', '--name', 'late', 'busybox', 'sh', '-c', 'sleep 1; echo late-output']);
  assert.match(await ok(['attach', 'late']), /late-output/);
  await ok(['create', '--name', 'starter', 'busybox', 'echo', 'started-attached']);
  assert.equal(await ok(['start', '-a', 'starter']), 'started-attached\n');
  assert.equal((await ok(['image', 'inspect', '-f', '{{.Os}} {{len .RootFS.Layers}}', 'busybox'])).trim(), 'linux 1');
  await ok(['volume', 'create', 'prunable']);
  await ok(['network', 'create', 'prunable-net']);
  assert.match(await ok(['volume', 'prune', '-a', '-f']), /prunable/);
  assert.match(await ok(['network', 'prune', '-f']), /prunable-net/);
  await ok(['builder', 'prune', '-f']);
  await ok(['system', 'prune', '-f']);
  assert.equal((await ok(['ps', '-aq', '--filter', 'name=late'])).trim(), '');
});
