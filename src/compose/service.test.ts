import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fails, load, loadText, project } from './fixture.test.ts';
import type { Service } from './index.ts';

function svc(body: string, opts: Parameters<typeof loadText>[1] = {}): Service {
  const p = loadText(`services:\n  web:\n${body.replace(/^/gmu, '    ')}\n`, opts);
  const s = p.services['web'];
  assert.ok(s);
  return s;
}

describe('service normalization', () => {
  it('fills the defaults', () => {
    const s = svc('image: nginx');
    assert.deepEqual(s, {
      name: 'web',
      image: 'nginx',
      environment: {},
      ports: [],
      expose: [],
      volumes: [],
      networks: { default: { aliases: [] } },
      dependsOn: {},
      labels: {},
      capAdd: [],
      capDrop: [],
      ulimits: {},
      replicas: 1,
      extraHosts: [],
      dns: [],
      tmpfs: [],
      profiles: [],
    });
  });

  it('reads build as a string or a mapping, context made absolute', () => {
    const dir = project({ 'compose.yaml': 'services:\n  a:\n    build: ./src\n  b:\n    build:\n      context: ctx\n      dockerfile: Dockerfile.dev\n      args: [X=1, Y, Z=]\n      target: dev\n      labels: {l: v}\n  c:\n    build:\n      args: {N: 1}\n' });
    const p = load(dir, { env: { Y: 'from-env' } });
    assert.deepEqual(p.services['a']?.build, { context: join(dir, 'src'), dockerfile: 'Dockerfile', args: {}, labels: {} });
    assert.deepEqual(p.services['b']?.build, {
      context: join(dir, 'ctx'),
      dockerfile: 'Dockerfile.dev',
      args: { X: '1', Y: 'from-env', Z: '' },
      target: 'dev',
      labels: { l: 'v' },
    });
    assert.deepEqual(p.services['c']?.build?.args, { N: '1' });
    assert.equal(p.services['c']?.build?.context, dir);
  });

  it('keeps a remote build context as written', () => {
    assert.equal(svc('build: https://github.com/x/y.git#main').build?.context, 'https://github.com/x/y.git#main');
  });

  it('splits command and entrypoint strings like a shell, keeps lists', () => {
    const s = svc(`image: x\ncommand: sh -c 'echo "hi there"'\nentrypoint: ["/bin/tini", "--"]`);
    assert.deepEqual(s.command, ['sh', '-c', 'echo "hi there"']);
    assert.deepEqual(s.entrypoint, ['/bin/tini', '--']);
    assert.deepEqual(svc('image: x\ncommand: []').command, []);
  });

  it('reads environment as a mapping or a list', () => {
    assert.deepEqual(svc('image: x\nenvironment: {A: 1, B: true, C: null, D: ""}').environment, {
      A: '1',
      B: 'true',
      C: null,
      D: '',
    });
    assert.deepEqual(svc('image: x\nenvironment: [A=1, B, C=x=y, D=]').environment, { A: '1', B: null, C: 'x=y', D: '' });
  });

  it('reads env_file in order, environment winning, relative to the project', () => {
    const dir = project({
      'compose.yaml': 'services:\n  web:\n    image: x\n    env_file: [a.env, {path: sub/b.env, required: true}, {path: missing.env, required: false}]\n    environment: [C=env]\n',
      'a.env': 'A=a\nB=a\nC=a\n',
      'sub/b.env': 'B=b\nX=${FROM_OUTSIDE}\n',
    });
    assert.deepEqual(load(dir, { env: { FROM_OUTSIDE: 'o' } }).services['web']?.environment, { A: 'a', B: 'b', C: 'env', X: 'o' });
  });

  it('takes env_file as a single string and fails on a missing required one', () => {
    const dir = project({ 'compose.yaml': 'services:\n  web:\n    image: x\n    env_file: one.env\n', 'one.env': 'K=v' });
    assert.deepEqual(load(dir).services['web']?.environment, { K: 'v' });
    const bad = project({ 'compose.yaml': 'services:\n  web:\n    image: x\n    env_file: nope.env\n' });
    fails(() => load(bad), new RegExp(`^env file ${join(bad, 'nope.env')} not found: `));
  });

  it('reads the short port syntax', () => {
    const s = svc(
      'image: x\nports:\n  - "80"\n  - 8080:80\n  - 127.0.0.1:8081:81/udp\n  - 8000-8010:9000-9010\n  - 127.0.0.1::82\n  - 7000-7005:83\n  - "[::1]:6000:84/sctp"\n  - 85\n',
    );
    assert.deepEqual(s.ports, [
      { target: 80, protocol: 'tcp' },
      { target: 80, protocol: 'tcp', published: 8080 },
      { target: 81, protocol: 'udp', published: 8081, hostIp: '127.0.0.1' },
      { target: 9000, targetEnd: 9010, protocol: 'tcp', published: 8000, publishedEnd: 8010 },
      { target: 82, protocol: 'tcp', hostIp: '127.0.0.1' },
      { target: 83, protocol: 'tcp', published: 7000, publishedEnd: 7005 },
      { target: 84, protocol: 'sctp', published: 6000, hostIp: '::1' },
      { target: 85, protocol: 'tcp' },
    ]);
  });

  it('reads the long port syntax', () => {
    const s = svc(
      'image: x\nports:\n  - {target: 80, published: "8080", host_ip: 0.0.0.0, protocol: udp, mode: host}\n  - {target: 81, published: 8081}\n  - {target: 82}\n  - {target: 83, published: 9000-9005}\n',
    );
    assert.deepEqual(s.ports, [
      { target: 80, protocol: 'udp', published: 8080, hostIp: '0.0.0.0' },
      { target: 81, protocol: 'tcp', published: 8081 },
      { target: 82, protocol: 'tcp' },
      { target: 83, protocol: 'tcp', published: 9000, publishedEnd: 9005 },
    ]);
  });

  it('rejects bad ports', () => {
    fails(() => svc('image: x\nports: [[1]]'), /services\.web\.ports contains an invalid type, it should be a number, or an object$/u);
    fails(() => svc('image: x\nports: ["80/xtp"]'), /services\.web\.ports\.0 invalid protocol "xtp"$/u);
    fails(() => svc('image: x\nports: ["abc"]'), /services\.web\.ports\.0 invalid port "abc"$/u);
    fails(() => svc('image: x\nports: ["70000"]'), /services\.web\.ports\.0 invalid port range "70000"$/u);
    fails(() => svc('image: x\nports: ["8000-8002:80-85"]'), /port ranges of different sizes$/u);
    fails(() => svc('image: x\nports: [{published: 80}]'), /services\.web\.ports\.0 target is required$/u);
    fails(() => svc('image: x\nports: 80'), /services\.web\.ports must be a array$/u);
  });

  it('reads expose, dns, tmpfs, extra_hosts, cap_add and cap_drop', () => {
    const s = svc(
      'image: x\nexpose: [80, "90-91/udp"]\ndns: 8.8.8.8\ntmpfs: /run\ncap_add: [NET_ADMIN]\ncap_drop: [ALL]\nextra_hosts: ["a:1.2.3.4", "b=5.6.7.8"]',
    );
    assert.deepEqual(s.expose, ['80', '90-91/udp']);
    assert.deepEqual(s.dns, ['8.8.8.8']);
    assert.deepEqual(s.tmpfs, ['/run']);
    assert.deepEqual(s.capAdd, ['NET_ADMIN']);
    assert.deepEqual(s.capDrop, ['ALL']);
    assert.deepEqual(s.extraHosts, ['a:1.2.3.4', 'b:5.6.7.8']);
    assert.deepEqual(svc('image: x\nextra_hosts: {a: 1.2.3.4, b: [::1, 10.0.0.1]}').extraHosts, ['a:1.2.3.4', 'b:::1', 'b:10.0.0.1']);
    assert.deepEqual(svc('image: x\ndns: [1.1.1.1, 8.8.4.4]\ntmpfs: [/a, /b]').dns, ['1.1.1.1', '8.8.4.4']);
  });

  it('reads the short volume syntax', () => {
    const dir = project({
      'compose.yaml':
        'services:\n  web:\n    image: x\n    volumes:\n      - data:/data\n      - data2:/d2:ro,nocopy\n      - ./html:/html:ro\n      - ../up:/up:rw,z\n      - /abs:/abs\n      - ~/cfg:/cfg\n      - /anon\nvolumes: {data: {}, data2: {}}\n',
    });
    const p = load(dir, { env: { HOME: '/home/u' } });
    assert.deepEqual(p.services['web']?.volumes, [
      { type: 'volume', source: 'data', target: '/data', readOnly: false },
      { type: 'volume', source: 'data2', target: '/d2', readOnly: true, noCopy: true },
      { type: 'bind', source: join(dir, 'html'), target: '/html', readOnly: true, createHostPath: true },
      { type: 'bind', source: join(dir, '..', 'up'), target: '/up', readOnly: false, createHostPath: true },
      { type: 'bind', source: '/abs', target: '/abs', readOnly: false, createHostPath: true },
      { type: 'bind', source: '/home/u/cfg', target: '/cfg', readOnly: false, createHostPath: true },
      { type: 'volume', target: '/anon', readOnly: false },
    ]);
    const q = loadText('services:\n  web:\n    image: x\n    volumes: [~/y:/y]\n');
    assert.equal(q.services['web']?.volumes[0]?.source, join(homedir(), 'y'));
  });

  it('reads the long volume syntax', () => {
    const dir = project({
      'compose.yaml': [
        'services:',
        '  web:',
        '    image: x',
        '    volumes:',
        '      - {type: volume, source: data, target: /data, read_only: true, volume: {nocopy: true}}',
        '      - {type: bind, source: ./src, target: /src, bind: {create_host_path: true}}',
        '      - {type: bind, source: /etc/x, target: /x}',
        '      - {type: tmpfs, target: /tmp, tmpfs: {size: 64m}}',
        '      - {type: tmpfs, target: /t2, tmpfs: {size: 1000}}',
        '      - {type: volume, target: /anon}',
        'volumes:',
        '  data:',
      ].join('\n'),
    });
    assert.deepEqual(load(dir).services['web']?.volumes, [
      { type: 'volume', source: 'data', target: '/data', readOnly: true, noCopy: true },
      { type: 'bind', source: join(dir, 'src'), target: '/src', readOnly: false, createHostPath: true },
      { type: 'bind', source: '/etc/x', target: '/x', readOnly: false, createHostPath: false },
      { type: 'tmpfs', target: '/tmp', readOnly: false, tmpfsSize: 64 * 1024 * 1024 },
      { type: 'tmpfs', target: '/t2', readOnly: false, tmpfsSize: 1000 },
      { type: 'volume', target: '/anon', readOnly: false },
    ]);
  });

  it('rejects bad volumes', () => {
    fails(() => svc('image: x\nvolumes: [1]'), /services\.web\.volumes contains an invalid type, it should be a string, or an object$/u);
    fails(() => svc('image: x\nvolumes: ["rel"]'), /services\.web\.volumes\.0 invalid volume specification "rel"$/u);
    fails(() => svc('image: x\nvolumes: ["/a:/b:bogus"]'), /unknown mode "bogus"$/u);
    fails(() => svc('image: x\nvolumes: [{type: nfs, target: /x}]'), /services\.web\.volumes\.0\.type must be one of/u);
    fails(() => svc('image: x\nvolumes: [{type: bind, target: /x}]'), /bind mount requires a source$/u);
    fails(() => svc('image: x\nvolumes: [{type: volume, source: v}]'), /services\.web\.volumes\.0 target is required$/u);
  });

  it('reads networks as a list or a mapping', () => {
    const p = loadText(
      'services:\n  a:\n    image: x\n    networks: [front, back]\n  b:\n    image: x\n    networks:\n      front:\n        aliases: [web, www]\n        ipv4_address: 10.0.0.5\n      back:\n  c:\n    image: x\n    network_mode: host\nnetworks: {front: {}, back: {}}\n',
    );
    assert.deepEqual(p.services['a']?.networks, { front: { aliases: [] }, back: { aliases: [] } });
    assert.deepEqual(p.services['b']?.networks, { front: { aliases: ['web', 'www'], ipv4Address: '10.0.0.5' }, back: { aliases: [] } });
    assert.deepEqual(p.services['c']?.networks, {});
    assert.equal(p.services['c']?.networkMode, 'host');
  });

  it('reads depends_on as a list or a mapping', () => {
    const p = loadText(
      'services:\n  a:\n    image: x\n    depends_on: [b]\n  b:\n    image: x\n    depends_on:\n      c: {condition: service_healthy, restart: true}\n      d: {condition: service_completed_successfully, required: false}\n  c:\n    image: x\n  d:\n    image: x\n',
    );
    assert.deepEqual(p.services['a']?.dependsOn, { b: { condition: 'service_started', restart: false, required: true } });
    assert.deepEqual(p.services['b']?.dependsOn, {
      c: { condition: 'service_healthy', restart: true, required: true },
      d: { condition: 'service_completed_successfully', restart: false, required: false },
    });
    fails(
      () => loadText('services:\n  a:\n    image: x\n    depends_on: {b: {condition: running}}\n  b:\n    image: x\n'),
      /services\.a\.depends_on\.b\.condition must be one of the following/u,
    );
  });

  it('reads healthchecks', () => {
    assert.deepEqual(svc('image: x\nhealthcheck:\n  test: curl -f http://x\n  interval: 1m30s\n  timeout: 10s\n  start_period: 500ms\n  start_interval: 2s\n  retries: 3').healthcheck, {
      test: ['CMD-SHELL', 'curl -f http://x'],
      interval: 90e9,
      timeout: 10e9,
      startPeriod: 500e6,
      startInterval: 2e9,
      retries: 3,
    });
    assert.deepEqual(svc('image: x\nhealthcheck:\n  test: [CMD, true]').healthcheck, { test: ['CMD', 'true'] });
    assert.deepEqual(svc('image: x\nhealthcheck:\n  test: [NONE]').healthcheck, { test: ['NONE'], disable: true });
    assert.deepEqual(svc('image: x\nhealthcheck:\n  disable: true').healthcheck, { test: ['NONE'], disable: true });
    fails(() => svc('image: x\nhealthcheck:\n  interval: 10'), /services\.web\.healthcheck\.interval time: missing unit in duration "10"$/u);
    fails(() => svc('image: x\nhealthcheck:\n  tset: x'), /services\.web\.healthcheck Additional property tset is not allowed$/u);
  });

  it('reads the scalar settings', () => {
    const s = svc(
      [
        'image: x',
        'restart: unless-stopped',
        'user: "1000:1000"',
        'working_dir: /app',
        'hostname: h',
        'init: true',
        'read_only: true',
        'privileged: false',
        'tty: true',
        'stdin_open: true',
        'stop_signal: SIGINT',
        'stop_grace_period: 1m',
        'container_name: c1',
        'pull_policy: if_not_present',
        'platform: linux/arm64',
        'mem_limit: 512m',
        'cpus: 1.5',
        'pids_limit: 100',
        'scale: 3',
        'labels: [a=1, b]',
        'logging: {driver: json-file, options: {max-size: 10m, max-file: 3}}',
        'ulimits: {nofile: {soft: 1024, hard: 2048}, nproc: 65535}',
      ].join('\n'),
    );
    assert.equal(s.restart, 'unless-stopped');
    assert.equal(s.user, '1000:1000');
    assert.equal(s.workingDir, '/app');
    assert.equal(s.hostname, 'h');
    assert.equal(s.init, true);
    assert.equal(s.readOnly, true);
    assert.equal(s.privileged, false);
    assert.equal(s.tty, true);
    assert.equal(s.stdinOpen, true);
    assert.equal(s.stopSignal, 'SIGINT');
    assert.equal(s.stopGracePeriod, 60e9);
    assert.equal(s.containerName, 'c1');
    assert.equal(s.pullPolicy, 'missing');
    assert.equal(s.platform, 'linux/arm64');
    assert.equal(s.memLimit, 512 * 1024 * 1024);
    assert.equal(s.cpus, 1.5);
    assert.equal(s.pidsLimit, 100);
    assert.equal(s.replicas, 3);
    assert.deepEqual(s.labels, { a: '1', b: '' });
    assert.deepEqual(s.logging, { driver: 'json-file', options: { 'max-size': '10m', 'max-file': '3' } });
    assert.deepEqual(s.ulimits, { nofile: { soft: 1024, hard: 2048 }, nproc: { soft: 65535, hard: 65535 } });
  });

  it('reads deploy resources and replicas', () => {
    const s = svc('image: x\ndeploy:\n  replicas: 2\n  resources:\n    limits: {memory: 1g, cpus: "0.5", pids: 50}\n    reservations: {memory: 10m}');
    assert.equal(s.memLimit, 1024 ** 3);
    assert.equal(s.cpus, 0.5);
    assert.equal(s.pidsLimit, 50);
    assert.equal(s.replicas, 2);
    assert.equal(svc('image: x\nmem_limit: 1.5GB').memLimit, 1.5 * 1024 ** 3);
    assert.equal(svc('image: x\nmem_limit: 2048').memLimit, 2048);
    assert.equal(svc('image: x\nmem_limit: 100kb').memLimit, 102400);
    fails(() => svc('image: x\nmem_limit: lots'), /services\.web\.mem_limit invalid size: "lots"$/u);
    fails(() => svc('image: x\nscale: 2\ndeploy: {replicas: 3}'), /can't set distinct values on 'scale' and 'deploy.replicas'$/u);
    assert.equal(s.memReservation, 10 * 1024 ** 2);
  });

  it('reads deploy.restart_policy when restart is not set', () => {
    assert.equal(svc('image: x\ndeploy: {restart_policy: {condition: any}}').restart, 'always');
    assert.equal(svc('image: x\ndeploy: {restart_policy: {condition: on-failure, max_attempts: 3}}').restart, 'on-failure:3');
    assert.equal(svc('image: x\ndeploy: {restart_policy: {condition: none}}').restart, 'no');
    assert.equal(svc('image: x\nrestart: always\ndeploy: {restart_policy: {condition: none}}').restart, 'always');
    fails(() => svc('image: x\ndeploy: {restart_policy: {condition: sometimes}}'), /invalid restart condition "sometimes"/u);
  });

  it('reads devices (short and long forms)', () => {
    assert.deepEqual(svc('image: x\ndevices: ["/dev/fuse", "/dev/sda:/dev/xvda:r", "/dev/tty0:rw", {source: /dev/null, target: /dev/n, permissions: w}]').devices, [
      { host: '/dev/fuse', container: '/dev/fuse', permissions: 'rwm' },
      { host: '/dev/sda', container: '/dev/xvda', permissions: 'r' },
      { host: '/dev/tty0', container: '/dev/tty0', permissions: 'rw' },
      { host: '/dev/null', container: '/dev/n', permissions: 'w' },
    ]);
    fails(() => svc('image: x\ndevices: ["/a:/b:zz"]'), /invalid device mode "zz"/u);
  });

  it('validates types and keys', () => {
    fails(() => svc('image: x\nfoo: 1'), /^validating .*compose\.yaml: services\.web Additional property foo is not allowed$/u);
    fails(() => svc('image: x\nbuild: {context: ., dockerfil: x}'), /services\.web\.build Additional property dockerfil is not allowed$/u);
    fails(() => svc('image: x\ninit: maybe'), /services\.web\.init must be a boolean$/u);
    fails(() => svc('image: x\npids_limit: many'), /services\.web\.pids_limit must be a number$/u);
    fails(() => svc('image: x\npull_policy: sometimes'), /services\.web\.pull_policy must be one of always, never, missing, build$/u);
    fails(() => svc('image: x\nenvironment: {A: [1]}'), /services\.web\.environment\.A contains an invalid type/u);
    fails(() => svc('image: x\nnetwork_mode: host\nnetworks: [n]'), /network_mode and networks cannot be combined$/u);
    fails(() => svc('restart: always'), 'service "web" has neither an image nor a build context specified: invalid compose project');
    assert.equal(svc('image: x\nx-anything: {whatever: 1}').image, 'x');
  });
});
