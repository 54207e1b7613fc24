// berth compose against a throwaway berthd: a healthy-gated two-service app reaching each other by
// name, a built service, a named volume, .env interpolation, recreate on change, down -v.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { api, berth, isRoot, stopProcess, type TestDaemon } from '../helpers/daemon.ts';
import { useDaemon, waitFor } from '../helpers/containers.ts';

const skip = !isRoot ? 'integration tests need root' : false;
let d: TestDaemon;

useDaemon(skip, (x) => (d = x));

function project(): string {
  const dir = join(d.dir, 'app');
  mkdirSync(join(dir, 'tool'), { recursive: true });
  writeFileSync(join(dir, '.env'), 'GREETING=hello-from-env\n');
  writeFileSync(join(dir, 'tool', 'Dockerfile'), 'FROM busybox\nRUN echo built-tool > /tool.txt\nCMD ["sh", "-c", "cat /tool.txt; sleep 300"]\n');
  writeFileSync(
    join(dir, 'compose.yaml'),
    [
      'services:',
      '  web:',
      '    image: busybox',
      '    command: ["sh", "-c", "mkdir -p /www && echo $$GREETING > /www/index.html && exec httpd -f -p 80 -h /www"]',
      '    environment:',
      '      GREETING: ${GREETING:-unset}',
      '    healthcheck:',
      '      test: ["CMD-SHELL", "test -f /www/index.html"]',
      '      interval: 200ms',
      '      retries: 20',
      '    volumes:',
      '      - data:/data',
      '    stop_grace_period: 1s',
      '    ports:',
      '      - "127.0.0.1::80"',
      '  client:',
      '    image: busybox',
      `    command: ["sh", "-c", "printf 'GET / HTTP/1.0\\\\r\\\\n\\\\r\\\\n' | nc web 80 | tail -1; exec sleep 300"]`,
      '    depends_on:',
      '      web:',
      '        condition: service_healthy',
      '  tool:',
      '    build: ./tool',
      'volumes:',
      '  data:',
      '',
    ].join('\n'),
  );
  return dir;
}

test('berth compose: up -d (healthy gate, build, volume), ps, logs, exec, config, recreate on change, down -v', { skip }, async () => {
  const dir = project();
  const compose = (...args: string[]) => berth(d, ['compose', '--project-directory', dir, '-p', 'demo', ...args], { timeoutMs: 120_000 });
  const up = await compose('up', '-d');
  assert.equal(up.code, 0, up.stderr + up.stdout);
  assert.match(up.stderr, /Container demo-web-1 {2}Started/);
  const ps = await compose('ps');
  assert.equal(ps.code, 0, ps.stderr);
  for (const s of ['demo-web-1', 'demo-client-1', 'demo-tool-1']) assert.match(ps.stdout, new RegExp(s));
  let logs = '';
  await waitFor(async () => (logs = (await compose('logs', 'client')).stdout).includes('hello-from-env'), 20_000, 'the client reaching web by name');
  assert.match(logs, /client-1 +\| hello-from-env/);
  assert.match((await compose('logs', 'tool')).stdout, /built-tool/);
  const ex = await compose('exec', '-T', 'web', 'cat', '/www/index.html');
  assert.equal(ex.stdout, 'hello-from-env\n', ex.stderr);
  const port = await compose('port', 'web', '80');
  assert.match(port.stdout, /^127\.0\.0\.1:\d+\n$/, port.stderr);
  assert.match((await compose('images')).stdout, /demo-web-1 +busybox +latest/);
  assert.match((await compose('top', 'web')).stdout, /httpd/);
  const cfg = await compose('config');
  assert.match(cfg.stdout, /GREETING: hello-from-env/);
  const inspectWeb = (await api(d, 'GET', '/containers/demo-web-1/json')).json();
  assert.equal(inspectWeb.Config.Labels['com.docker.compose.project'], 'demo');
  assert.equal(inspectWeb.Config.Labels['com.docker.compose.service'], 'web');
  assert.ok(inspectWeb.Mounts.some((m: { Name?: string }) => m.Name === 'demo_data'));

  // Unchanged: nothing is recreated. A changed service is, alone.
  const again = await compose('up', '-d');
  assert.doesNotMatch(again.stderr, /Recreate/);
  writeFileSync(join(dir, '.env'), 'GREETING=changed\n');
  const changed = await compose('up', '-d');
  assert.equal(changed.code, 0, changed.stderr);
  assert.match(changed.stderr, /Container demo-web-1 {2}Recreate/);
  assert.doesNotMatch(changed.stderr, /demo-tool-1 {2}Recreate/);

  const down = await compose('down', '-v', '-t', '1');
  assert.equal(down.code, 0, down.stderr);
  const left = (await api(d, 'GET', '/containers/json?all=1')).json() as Array<{ Labels: Record<string, string> }>;
  assert.equal(left.filter((c) => c.Labels['com.docker.compose.project'] === 'demo').length, 0);
  assert.equal((await api(d, 'GET', '/networks/demo_default')).status, 404);
  assert.equal((await api(d, 'GET', '/volumes/demo_data')).status, 404);
});

test('berth compose up (attached) prints prefixed logs; --abort-on-container-exit returns the exit code; run --rm', { skip }, async () => {
  const dir = join(d.dir, 'oneshot');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'docker-compose.yml'),
    ['services:', '  job:', '    image: busybox', '    command: ["sh", "-c", "echo working; exit 3"]', '  idle:', '    image: busybox', '    command: ["sleep", "300"]', '    stop_grace_period: 1s', ''].join('\n'),
  );
  const compose = (...args: string[]) => berth(d, ['compose', '-f', join(dir, 'docker-compose.yml'), ...args], { timeoutMs: 120_000 });
  const up = await compose('up', '--abort-on-container-exit');
  assert.equal(up.code, 3, up.stderr + up.stdout);
  assert.match(up.stdout, /job-1 +\| working/);
  assert.match(up.stdout, /job-1 exited with code 3/);
  const run = await compose('run', '--rm', 'job', 'echo', 'one-off');
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, 'one-off\n');
  const ls = await compose('ls', '-a');
  assert.match(ls.stdout, /oneshot/);
  assert.equal((await compose('down', '-t', '1')).code, 0);
  const left = (await api(d, 'GET', '/containers/json?all=1')).json() as Array<{ Labels: Record<string, string> }>;
  assert.equal(left.filter((c) => c.Labels['com.docker.compose.project'] === 'oneshot').length, 0);
});

test('berth compose: secrets and configs (file, environment, content), sysctls, shm_size, volumes_from', { skip }, async () => {
  const dir = join(d.dir, 'extras');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'db-password.txt'), 's3cret-from-file\n');
  writeFileSync(
    join(dir, 'compose.yaml'),
    [
      'services:',
      '  store:',
      '    image: busybox',
      '    command: ["sh", "-c", "echo shared > /data/x; exec sleep 300"]',
      '    volumes: ["/data"]',
      '    stop_grace_period: 1s',
      '  app:',
      '    image: busybox',
      '    command: ["sh", "-c", "cat /run/secrets/db_password /run/secrets/token /app.conf; cat /data/x; cat /proc/sys/net/ipv4/ip_unprivileged_port_start; df -k /dev/shm | tail -1 | awk \'{print $$2}\'"]',
      '    depends_on: [store]',
      '    secrets: [db_password, token]',
      '    configs:',
      '      - source: app_conf',
      '        target: /app.conf',
      '    sysctls:',
      '      net.ipv4.ip_unprivileged_port_start: "80"',
      '    shm_size: 16m',
      '    volumes_from: [store]',
      'secrets:',
      '  db_password:',
      '    file: ./db-password.txt',
      '  token:',
      '    environment: BERTH_TEST_TOKEN',
      'configs:',
      '  app_conf:',
      '    content: "setting=on"',
      '',
    ].join('\n'),
  );
  const compose = (...args: string[]) => berth(d, ['compose', '--project-directory', dir, ...args], { timeoutMs: 120_000, env: { BERTH_TEST_TOKEN: 'token-from-env' } });
  const up = await compose('up', '-d');
  assert.equal(up.code, 0, up.stderr);
  const wait = await compose('wait', 'app');
  assert.equal(wait.code, 0, wait.stderr);
  const logs = await compose('logs', '--no-log-prefix', 'app');
  assert.equal(logs.stdout, 's3cret-from-file\ntoken-from-envsetting=onshared\n80\n16384\n');
  assert.equal((await compose('down', '-v', '-t', '1')).code, 0);
});

test('berth compose events, cp (both ways), attach and push', { skip }, async () => {
  const { spawn } = await import('node:child_process');
  const { mkdtempSync, readFileSync } = await import('node:fs');
  const { BERTH } = await import('../helpers/daemon.ts');
  const dir = mkdtempSync(join(d.dir, 'ops-'));
  // A registry of berth's own on 127.0.0.1 for push.
  const reg = spawn(BERTH, ['registry', 'serve', '--addr', '127.0.0.1:0', '--root', join(dir, 'registry')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let regOut = '';
  reg.stdout!.on('data', (c: Buffer) => (regOut += c.toString()));
  reg.stderr!.on('data', (c: Buffer) => (regOut += c.toString()));
  try {
    await waitFor(async () => /listening on http:\/\/127\.0\.0\.1:\d+/.test(regOut), 20_000, 'registry start');
    const regHost = /listening on http:\/\/(127\.0\.0\.1:\d+)/.exec(regOut)![1]!;
    writeFileSync(join(dir, 'compose.yaml'), [
      'services:',
      '  echo:',
      `    image: ${regHost}/ops/echo:1`,
      '    command: ["sh", "-c", "echo started; while read l; do echo got:$$l; done"]',
      '    stdin_open: true',
      '    stop_signal: SIGKILL',
      '',
    ].join('\n'));
    assert.equal((await berth(d, ['tag', 'busybox', `${regHost}/ops/echo:1`])).code, 0);
    const c = (args: string[], input?: string) => berth(d, ['compose', '-f', join(dir, 'compose.yaml'), '-p', 'ops', ...args], { timeoutMs: 60_000, ...(input !== undefined ? { input } : {}) });
    // events: a stream of the project's container events while up runs.
    const ev = spawn(BERTH, ['compose', '-f', join(dir, 'compose.yaml'), '-p', 'ops', 'events', '--json'], { env: { ...process.env, BERTH_HOST: d.host }, stdio: ['ignore', 'pipe', 'pipe'] });
    let evOut = '';
    ev.stdout!.on('data', (b: Buffer) => (evOut += b.toString()));
    await new Promise((r) => setTimeout(r, 300));
    const up = await c(['up', '-d']);
    assert.equal(up.code, 0, up.stderr);
    await waitFor(async () => evOut.includes('"action":"start"'), 10_000, 'start event');
    ev.kill();
    const start = evOut.split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((e) => e.action === 'start');
    assert.equal(start.service, 'echo');
    assert.equal(start.attributes.name, 'ops-echo-1');
    // cp in and out.
    writeFileSync(join(dir, 'in.txt'), 'into the service\n');
    const cpIn = await c(['cp', join(dir, 'in.txt'), 'echo:/tmp/in.txt']);
    assert.equal(cpIn.code, 0, cpIn.stderr);
    const cpOut = await c(['cp', 'echo:/tmp/in.txt', join(dir, 'out.txt')]);
    assert.equal(cpOut.code, 0, cpOut.stderr);
    assert.equal(readFileSync(join(dir, 'out.txt'), 'utf8'), 'into the service\n');
    assert.notEqual((await c(['cp', 'nosuch:/x', join(dir, 'y')])).code, 0);
    // attach: stdin reaches the service's process, its output comes back. The container's stdin
    // stays open (as docker's), so the attach is ended once the echo is seen.
    const att = spawn(BERTH, ['compose', '-f', join(dir, 'compose.yaml'), '-p', 'ops', 'attach', '--sig-proxy=false', 'echo'], { env: { ...process.env, BERTH_HOST: d.host }, stdio: ['pipe', 'pipe', 'pipe'] });
    let attOut = '';
    att.stdout!.on('data', (b: Buffer) => (attOut += b.toString()));
    await new Promise((r) => setTimeout(r, 300));
    att.stdin!.write('hello\n');
    await waitFor(async () => attOut.includes('got:hello'), 10_000, 'echo through attach');
    att.kill();
    // push: the service's image to the registry.
    const push = await c(['push', '-q']);
    assert.equal(push.code, 0, push.stderr + push.stdout);
    const tags = await fetch(`http://${regHost}/v2/ops/echo/tags/list`).then((r) => r.json() as Promise<{ tags: string[] }>);
    assert.deepEqual(tags.tags, ['1']);
    assert.equal((await c(['down', '-t', '0'])).code, 0);
  } finally {
    await stopProcess(reg);
  }
});

test('berth compose: links (hosts entries and a dependency), devices, deploy restart_policy and reservations', { skip }, async () => {
  const { mkdtempSync } = await import('node:fs');
  const { inspect } = await import('../helpers/containers.ts');
  const dir = mkdtempSync(join(d.dir, 'links-'));
  writeFileSync(join(dir, 'compose.yaml'), [
    'services:',
    '  web:',
    '    image: busybox',
    '    command: ["sleep", "300"]',
    '    stop_signal: SIGKILL',
    '    links: ["db:database"]',
    '    devices: ["/dev/null:/dev/cnull"]',
    '    deploy:',
    '      restart_policy: {condition: on-failure, max_attempts: 2}',
    '      resources: {reservations: {memory: 10m}}',
    '  db:',
    '    image: busybox',
    '    command: ["sleep", "300"]',
    '    stop_signal: SIGKILL',
    '',
  ].join('\n'));
  const c = (...args: string[]) => berth(d, ['compose', '-f', join(dir, 'compose.yaml'), '-p', 'lk', ...args], { timeoutMs: 60_000 });
  const up = await c('up', '-d', 'web');
  assert.equal(up.code, 0, up.stderr);
  try {
    // db came up with web, as its link made it a dependency.
    const db = await inspect(d, 'lk-db-1');
    assert.equal(db.State.Running, true);
    const web = await inspect(d, 'lk-web-1');
    assert.deepEqual(web.HostConfig.Links, ['/lk-db-1:/lk-web-1/database']);
    assert.deepEqual(web.HostConfig.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 2 });
    assert.equal(web.HostConfig.MemoryReservation, 10 * 1024 * 1024);
    assert.deepEqual(web.HostConfig.Devices, [{ PathOnHost: '/dev/null', PathInContainer: '/dev/cnull', CgroupPermissions: 'rwm' }]);
    const ip = db.NetworkSettings.Networks.lk_default.IPAddress;
    const hosts = await c('exec', '-T', 'web', 'sh', '-c', 'grep database /etc/hosts; ping -c1 -W2 database >/dev/null && echo reached; echo x > /dev/cnull && echo dev-ok');
    assert.equal(hosts.code, 0, hosts.stderr);
    assert.match(hosts.stdout, new RegExp(`^${ip.replace(/\./g, '\\.')}\\tdatabase [0-9a-f]{12} lk-db-1\\nreached\\ndev-ok\\n$`));
    // A link to a stopped container stops the start.
    assert.equal((await api(d, 'POST', '/containers/lk-db-1/stop?t=0')).status, 204);
    const again = await api(d, 'POST', '/containers/lk-web-1/restart?t=0');
    assert.equal(again.status, 409);
    assert.match(again.json().message, /Cannot link to a non running container: \/lk-db-1 AS \/lk-web-1\/database/);
    const missing = await api(d, 'POST', '/containers/create', { Image: 'busybox', HostConfig: { Links: ['nosuch:x'] } });
    // As Docker: 400 at create (only a missing image is a 404 there).
    assert.equal(missing.status, 400);
  } finally {
    await c('down', '-t', '0');
  }
});

test('berth compose: --scale, --wait, --no-deps, --force-recreate, profiles, --env-file, completed_successfully, start/stop/restart/kill/rm, build, down --rmi local --remove-orphans', { skip }, async () => {
  const { mkdtempSync } = await import('node:fs');
  const dir = mkdtempSync(join(d.dir, 'flags-'));
  mkdirSync(join(dir, 'img'));
  writeFileSync(join(dir, 'img', 'Dockerfile'), 'FROM busybox\nRUN echo built > /built\n');
  writeFileSync(join(dir, 'custom.env'), 'TAG=from-env-file\n');
  const file = (extra: string[]) => writeFileSync(join(dir, 'compose.yaml'), [
    'services:',
    '  init:',
    '    image: busybox',
    '    command: ["sh", "-c", "echo init-done"]',
    '  web:',
    '    image: busybox',
    '    command: ["sh", "-c", "echo $$TAG > /tag; exec sleep 300"]',
    '    environment: {TAG: "${TAG:-unset}"}',
    '    stop_signal: SIGKILL',
    '    healthcheck: {test: ["CMD", "test", "-f", "/tag"], interval: 200ms, retries: 20}',
    '    depends_on: {init: {condition: service_completed_successfully}}',
    '  built:',
    '    build: ./img',
    '    command: ["sleep", "300"]',
    '    stop_signal: SIGKILL',
    '  debug:',
    '    image: busybox',
    '    profiles: [debug]',
    '    command: ["sleep", "300"]',
    ...extra,
    '',
  ].join('\n'));
  file([]);
  const c = (...args: string[]) => berth(d, ['compose', '-f', join(dir, 'compose.yaml'), '-p', 'fl', ...args], { timeoutMs: 120_000 });
  const names = async (): Promise<string[]> => ((await api(d, 'GET', '/containers/json?all=1')).json() as Array<{ Names: string[]; Labels: Record<string, string> }>)
    .filter((x) => x.Labels['com.docker.compose.project'] === 'fl').map((x) => x.Names[0]!.slice(1)).sort();
  const state = async (n: string): Promise<string> => (await api(d, 'GET', `/containers/${n}/json`)).json().State.Status;
  try {
    const up = await c('--env-file', join(dir, 'custom.env'), 'up', '-d', '--wait', '--scale', 'web=2');
    assert.equal(up.code, 0, up.stderr + up.stdout);
    assert.deepEqual(await names(), ['fl-built-1', 'fl-init-1', 'fl-web-1', 'fl-web-2']);
    assert.equal(await state('fl-init-1'), 'exited');
    assert.equal((await api(d, 'GET', '/containers/fl-web-2/json')).json().State.Health.Status, 'healthy', '--wait waited for health');
    assert.equal((await c('exec', '-T', '--index', '2', 'web', 'cat', '/tag')).stdout, 'from-env-file\n');
    assert.equal((await c('exec', '-T', 'built', 'cat', '/built')).stdout, 'built\n');
    // A profile's service comes up only with its profile.
    assert.equal((await c('--profile', 'debug', 'up', '-d', '--no-deps', 'debug')).code, 0);
    assert.ok((await names()).includes('fl-debug-1'));
    // --force-recreate makes a new container with the same name; --no-deps leaves the rest.
    const before = (await api(d, 'GET', '/containers/fl-built-1/json')).json().Id;
    const rec = await c('up', '-d', '--no-deps', '--force-recreate', 'built');
    assert.equal(rec.code, 0, rec.stderr);
    assert.notEqual((await api(d, 'GET', '/containers/fl-built-1/json')).json().Id, before);
    // Lifecycle commands.
    assert.equal((await c('stop', 'built')).code, 0);
    assert.equal(await state('fl-built-1'), 'exited');
    assert.equal((await c('start', 'built')).code, 0);
    assert.equal(await state('fl-built-1'), 'running');
    assert.equal((await c('restart', '-t', '0', 'built')).code, 0);
    assert.equal(await state('fl-built-1'), 'running');
    assert.equal((await c('kill', 'built')).code, 0);
    await waitFor(async () => (await state('fl-built-1')) === 'exited', 10_000, 'killed');
    assert.equal((await c('rm', '-f', 'built')).code, 0);
    assert.ok(!(await names()).includes('fl-built-1'));
    assert.equal((await c('build', 'built')).code, 0);
    // debug is an orphan once the file drops it; down removes it with --remove-orphans, and the
    // built image with --rmi local.
    writeFileSync(join(dir, 'compose.yaml'), readFileSync(join(dir, 'compose.yaml'), 'utf8').replace(/  debug:[\s\S]*$/, ''));
    const down = await c('down', '--rmi', 'local', '--remove-orphans', '-t', '0');
    assert.equal(down.code, 0, down.stderr);
    assert.deepEqual(await names(), []);
    assert.equal((await api(d, 'GET', '/images/fl-built/json')).status, 404);
  } finally {
    await c('--profile', 'debug', 'down', '--remove-orphans', '-t', '0');
  }
});

test('berth compose: an IPv6 network (enable_ipv6, two ipam entries) and a service address on it (ipv6_address)', { skip }, async () => {
  const dir = join(d.dir, 'v6app');
  mkdirSync(dir, { recursive: true });
  const v6 = `fd${Math.floor(Math.random() * 256).toString(16)}:${Math.floor(Math.random() * 65536).toString(16)}:7::`;
  writeFileSync(
    join(dir, 'compose.yaml'),
    [
      'services:',
      '  a:',
      '    image: busybox',
      '    command: ["sleep", "300"]',
      '    stop_grace_period: 1s',
      '    networks:',
      '      six:',
      `        ipv6_address: "${v6}42"`,
      'networks:',
      '  six:',
      '    enable_ipv6: true',
      '    ipam:',
      '      config:',
      '        - subnet: 10.231.7.0/24',
      `        - subnet: "${v6}/64"`,
      '',
    ].join('\n'),
  );
  const c = (...args: string[]) => berth(d, ['compose', '--project-directory', dir, '-p', 'six', ...args], { timeoutMs: 60_000 });
  try {
    const up = await c('up', '-d');
    assert.equal(up.code, 0, up.stderr);
    const net = (await api(d, 'GET', '/networks/six_six')).json();
    assert.equal(net.EnableIPv6, true);
    assert.deepEqual(net.IPAM.Config.map((x: { Subnet: string }) => x.Subnet), ['10.231.7.0/24', `${v6}/64`]);
    const ep = (await api(d, 'GET', '/containers/six-a-1/json')).json().NetworkSettings.Networks.six_six;
    assert.equal(ep.GlobalIPv6Address, `${v6}42`);
    assert.match(ep.IPAddress, /^10\.231\.7\./);
  } finally {
    await c('down', '-t', '0');
  }
});
