import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlagError } from './flags.ts';
import { splitDev } from '../engine/spec/devices.ts';
import {
  createBody,
  parseDevice,
  parseMount,
  parsePortSpec,
  parseRestartPolicy,
  parseRunOptions,
  parseUlimit,
  ramInBytes,
  RunOptionsError,
  type RunOptions,
} from './run-options.ts';

const files: Record<string, string> = {
  '/env.list': '# comment\n\n  A=1\nB=two words \nFROM_ENV\nUNSET_VAR\nC=x=y\n',
  '/labels': 'l1=v1\nl2\n# nope\n',
  '/bad.env': 'BAD KEY=1\n',
};

function parse(argv: string[], command: 'run' | 'create' = 'run', env: Record<string, string> = {}): RunOptions {
  const r = parseRunOptions(argv, {
    command,
    env,
    readFile: (p) => {
      const c = files[p];
      if (c === undefined) throw new Error(`no file ${p}`);
      return c;
    },
  });
  assert.equal(r.help, false);
  return r as RunOptions;
}

test('defaults: attach stdout/stderr, no stdin, default network, null cmd and entrypoint', () => {
  const o = parse(['busybox']);
  assert.equal(o.image, 'busybox');
  assert.equal(o.detach, false);
  assert.deepEqual(o.attach, { stdin: false, stdout: true, stderr: true });
  assert.equal(o.config.Cmd, null);
  assert.equal(o.config.Entrypoint, null);
  assert.equal(o.config.AttachStdout, true);
  assert.equal(o.config.OpenStdin, false);
  assert.equal(o.hostConfig.NetworkMode, 'default');
  assert.deepEqual(o.networkingConfig, { EndpointsConfig: { default: {} } });
  assert.deepEqual(o.hostConfig.RestartPolicy, { Name: 'no', MaximumRetryCount: 0 });
  assert.equal(o.pull, 'missing');
  assert.equal(o.sigProxy, true);
  assert.equal(o.name, undefined);
});

test('combined short flags -itd and the command after the image', () => {
  const o = parse(['-itd', 'busybox', 'sh', '-c', 'echo hi', '--rm']);
  assert.equal(o.interactive, true);
  assert.equal(o.tty, true);
  assert.equal(o.detach, true);
  assert.equal(o.rm, false, '--rm after the image belongs to the command');
  assert.deepEqual(o.config.Cmd, ['sh', '-c', 'echo hi', '--rm']);
  assert.equal(o.config.Tty, true);
  assert.equal(o.config.OpenStdin, true);
  assert.equal(o.config.AttachStdin, false, 'detached runs attach nothing');
  assert.equal(o.config.StdinOnce, false);
});

test('-it attaches stdin once', () => {
  const o = parse(['-it', 'busybox']);
  assert.deepEqual(o.attach, { stdin: true, stdout: true, stderr: true });
  assert.equal(o.config.StdinOnce, true);
});

test('--name forms: separate value and = form; -e=VALUE short form', () => {
  assert.equal(parse(['--name', 'x', 'img']).name, 'x');
  assert.equal(parse(['--name=y', 'img']).name, 'y');
  assert.deepEqual(parse(['-e=A=1', 'img']).config.Env, ['A=1']);
  assert.deepEqual(parse(['-eB=2', 'img']).config.Env, ['B=2']);
});

test('env from flags, from the environment, and from files in docker order', () => {
  const o = parse(['--env-file', '/env.list', '-e', 'X=1', '-e', 'HOME_VAR', '-e', 'UNSET', 'img'], 'run', { FROM_ENV: 'fe', HOME_VAR: '/root' });
  assert.deepEqual(o.config.Env, ['A=1', 'B=two words ', 'FROM_ENV=fe', 'C=x=y', 'X=1', 'HOME_VAR=/root', 'UNSET']);
});

test('env file with whitespace in a key is rejected', () => {
  assert.throws(() => parse(['--env-file', '/bad.env', 'img']), RunOptionsError);
});

test('labels from -l and --label-file; a label without value is empty', () => {
  const o = parse(['--label-file', '/labels', '-l', 'a=b', '--label', 'c', 'img']);
  assert.deepEqual(o.config.Labels, { l1: 'v1', l2: '', a: 'b', c: '' });
});

test('memory units and swap -1', () => {
  const o = parse(['-m', '512m', '--memory-swap', '-1', '--memory-reservation=1g', '--shm-size', '64k', 'img']);
  assert.equal(o.hostConfig.Memory, 512 * 1024 * 1024);
  assert.equal(o.hostConfig.MemorySwap, -1);
  assert.equal(o.hostConfig.MemoryReservation, 1024 ** 3);
  assert.equal(o.hostConfig.ShmSize, 64 * 1024);
  assert.equal(parse(['--memory-swap', '1g', 'img']).hostConfig.MemorySwap, 1024 ** 3);
});

test('ramInBytes accepts docker unit spellings and rejects junk', () => {
  assert.equal(ramInBytes('100'), 100);
  assert.equal(ramInBytes('100b'), 100);
  assert.equal(ramInBytes('2k'), 2048);
  assert.equal(ramInBytes('2KB'), 2048);
  assert.equal(ramInBytes('1.5g'), 1.5 * 1024 ** 3);
  assert.equal(ramInBytes('3MiB'), 3 * 1024 ** 2);
  assert.throws(() => ramInBytes('12x'), RunOptionsError);
  assert.throws(() => ramInBytes('-1'), RunOptionsError);
  assert.throws(() => parse(['-m', 'lots', 'img']), /invalid argument "lots" for "-m, --memory" flag/);
});

test('cpus to NanoCpus and the CFS flags', () => {
  const o = parse(['--cpus', '1.5', '-c', '512', '--cpu-period', '100000', '--cpu-quota=50000', '--cpuset-cpus', '0-1', 'img']);
  assert.equal(o.hostConfig.NanoCpus, 1_500_000_000);
  assert.equal(o.hostConfig.CpuShares, 512);
  assert.equal(o.hostConfig.CpuPeriod, 100000);
  assert.equal(o.hostConfig.CpuQuota, 50000);
  assert.equal(o.hostConfig.CpusetCpus, '0-1');
  assert.equal(parse(['--cpus=0.25', 'img']).hostConfig.NanoCpus, 250_000_000);
  assert.throws(() => parse(['--cpus', 'abc', 'img']), RunOptionsError);
  assert.throws(() => parse(['-c', 'abc', 'img']), FlagError);
});

test('ulimits', () => {
  assert.deepEqual(parseUlimit('nofile=1024:2048'), { Name: 'nofile', Hard: 2048, Soft: 1024 });
  assert.deepEqual(parseUlimit('nproc=10'), { Name: 'nproc', Hard: 10, Soft: 10 });
  assert.throws(() => parseUlimit('bogus=1'), /invalid ulimit type: bogus/);
  assert.throws(() => parseUlimit('nofile=2:1'), /soft limit must be less than or equal to hard limit/);
  assert.throws(() => parseUlimit('nofile'), RunOptionsError);
  assert.deepEqual(parse(['--ulimit', 'nofile=1:2', '--ulimit', 'core=0', 'img']).hostConfig.Ulimits, [
    { Name: 'nofile', Hard: 2, Soft: 1 },
    { Name: 'core', Hard: 0, Soft: 0 },
  ]);
});

test('restart policies', () => {
  assert.deepEqual(parseRestartPolicy('always'), { Name: 'always', MaximumRetryCount: 0 });
  assert.deepEqual(parseRestartPolicy('unless-stopped'), { Name: 'unless-stopped', MaximumRetryCount: 0 });
  assert.deepEqual(parseRestartPolicy('on-failure'), { Name: 'on-failure', MaximumRetryCount: 0 });
  assert.deepEqual(parseRestartPolicy('on-failure:5'), { Name: 'on-failure', MaximumRetryCount: 5 });
  assert.deepEqual(parseRestartPolicy('no'), { Name: 'no', MaximumRetryCount: 0 });
  assert.throws(() => parseRestartPolicy('always:3'), /cannot be used with restart policy 'always'/);
  assert.throws(() => parseRestartPolicy('on-failure:x'), /must be an integer/);
  assert.throws(() => parseRestartPolicy('sometimes'), /unknown policy/);
  assert.throws(() => parse(['--rm', '--restart', 'always', 'img']), /cannot specify both --restart and --rm/);
  assert.equal(parse(['--rm', '--restart', 'no', 'img']).hostConfig.AutoRemove, true);
});

test('ports: -p 8080:80/udp gives a binding and an exposed port', () => {
  const o = parse(['-p', '8080:80/udp', 'img']);
  assert.deepEqual(o.config.ExposedPorts, { '80/udp': {} });
  assert.deepEqual(o.hostConfig.PortBindings, { '80/udp': [{ HostIp: '', HostPort: '8080' }] });
});

test('ports: ip forms, ranges, container-only and IPv6', () => {
  assert.deepEqual(parsePortSpec('127.0.0.1::53').bindings, { '53/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] });
  assert.deepEqual(parsePortSpec('5000').bindings, { '5000/tcp': [{ HostIp: '', HostPort: '' }] });
  assert.deepEqual(parsePortSpec('[::1]:7000:7000').bindings, { '7000/tcp': [{ HostIp: '::1', HostPort: '7000' }] });
  assert.deepEqual(parsePortSpec('9000-9001:8000-8001').bindings, {
    '8000/tcp': [{ HostIp: '', HostPort: '9000' }],
    '8001/tcp': [{ HostIp: '', HostPort: '9001' }],
  });
  assert.deepEqual(parsePortSpec('9000-9010:80').bindings, { '80/tcp': [{ HostIp: '', HostPort: '9000-9010' }] });
  assert.throws(() => parsePortSpec('1-2:3-5'), /invalid ranges/);
  assert.throws(() => parsePortSpec('80/icmp'), /invalid proto/);
  assert.throws(() => parsePortSpec('a:b'), RunOptionsError);
  const o = parse(['-p', '80', '-p', '1.2.3.4:8080:80', '--expose', '7/udp', 'img']);
  assert.deepEqual(o.hostConfig.PortBindings, { '80/tcp': [{ HostIp: '', HostPort: '' }, { HostIp: '1.2.3.4', HostPort: '8080' }] });
  assert.deepEqual(o.config.ExposedPorts, { '80/tcp': {}, '7/udp': {} });
});

test('entrypoint: given, cleared with empty string, absent', () => {
  assert.deepEqual(parse(['--entrypoint', '/bin/sh', 'img']).config.Entrypoint, ['/bin/sh']);
  assert.deepEqual(parse(['--entrypoint', '', 'img']).config.Entrypoint, ['']);
  assert.deepEqual(parse(['--entrypoint=', 'img']).config.Entrypoint, ['']);
  assert.equal(parse(['img']).config.Entrypoint, null);
});

test('volumes: anonymous to Volumes, others to Binds; --mount to Mounts', () => {
  const o = parse(['-v', '/data', '-v', '/h:/c:ro', '-v', 'named:/n', '--mount', 'type=bind,source=/a,target=/b,readonly', 'img']);
  assert.deepEqual(o.config.Volumes, { '/data': {} });
  assert.deepEqual(o.hostConfig.Binds, ['/h:/c:ro', 'named:/n']);
  assert.deepEqual(o.hostConfig.Mounts, [{ Type: 'bind', Source: '/a', Target: '/b', ReadOnly: true }]);
  assert.equal(parse(['img']).hostConfig.Binds, null);
});

test('--mount variants', () => {
  assert.deepEqual(parseMount('type=tmpfs,dst=/t,tmpfs-size=1k,tmpfs-mode=1770'), { Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 1024, Mode: 0o1770 } });
  assert.deepEqual(parseMount('src=v,dst=/v,volume-nocopy,volume-label=a=b,ro=false'), {
    Type: 'volume',
    Source: 'v',
    Target: '/v',
    ReadOnly: false,
    VolumeOptions: { NoCopy: true, Labels: { a: 'b' } },
  });
  assert.deepEqual(parseMount('"type=bind","source=/a,b",target=/c').Source, '/a,b');
  assert.throws(() => parseMount('type=bind,source=/a'), /target is required/);
  assert.throws(() => parseMount('type=bind,target=/a,bogus=1'), /unexpected key 'bogus'/);
  assert.throws(() => parseMount('type=tmpfs,target=/a,volume-nocopy'), /cannot mix/);
});

test('capabilities, security, hosts, dns, tmpfs, sysctl, logging, init, stop settings', () => {
  const o = parse([
    '--cap-add', 'net_admin', '--cap-add', 'CAP_SYS_TIME', '--cap-drop', 'all', '--privileged', '--read-only',
    '--security-opt', 'no-new-privileges', '--add-host', 'a:1.2.3.4', '--add-host', 'b=::1', '--dns', '8.8.8.8',
    '--tmpfs', '/run:rw,size=64m', '--tmpfs', '/x', '--sysctl', 'net.ipv4.ip_forward=1', '--log-driver', 'json-file',
    '--log-opt', 'max-size=10m', '--init', '--stop-signal', 'SIGINT', '--stop-timeout', '5', '--pids-limit', '100',
    '--group-add', 'audio', '-u', '1000:1000', '-w', '/tmp', '-h', 'hh', 'img',
  ]);
  assert.deepEqual(o.hostConfig.CapAdd, ['CAP_NET_ADMIN', 'CAP_SYS_TIME']);
  assert.deepEqual(o.hostConfig.CapDrop, ['ALL']);
  assert.equal(o.hostConfig.Privileged, true);
  assert.equal(o.hostConfig.ReadonlyRootfs, true);
  assert.deepEqual(o.hostConfig.SecurityOpt, ['no-new-privileges']);
  assert.deepEqual(o.hostConfig.ExtraHosts, ['a:1.2.3.4', 'b:::1']);
  assert.deepEqual(o.hostConfig.Dns, ['8.8.8.8']);
  assert.deepEqual(o.hostConfig.Tmpfs, { '/run': 'rw,size=64m', '/x': '' });
  assert.deepEqual(o.hostConfig.Sysctls, { 'net.ipv4.ip_forward': '1' });
  assert.deepEqual(o.hostConfig.LogConfig, { Type: 'json-file', Config: { 'max-size': '10m' } });
  assert.equal(o.hostConfig.Init, true);
  assert.equal(o.hostConfig.PidsLimit, 100);
  assert.deepEqual(o.hostConfig.GroupAdd, ['audio']);
  assert.equal(o.config.StopSignal, 'SIGINT');
  assert.equal(o.config.StopTimeout, 5);
  assert.equal(o.config.User, '1000:1000');
  assert.equal(o.config.WorkingDir, '/tmp');
  assert.equal(o.config.Hostname, 'hh');
  const d = parse(['img']);
  assert.equal(d.hostConfig.Init, undefined);
  assert.equal(d.hostConfig.PidsLimit, undefined);
  assert.equal(d.config.StopTimeout, undefined);
  assert.equal(d.hostConfig.CapAdd, null);
});

test('network modes: named networks get an endpoint, host/none/container do not; --net alias', () => {
  assert.deepEqual(parse(['--network', 'mynet', 'img']).networkingConfig, { EndpointsConfig: { mynet: {} } });
  assert.deepEqual(parse(['--net=host', 'img']).networkingConfig, { EndpointsConfig: {} });
  assert.equal(parse(['--net=host', 'img']).hostConfig.NetworkMode, 'host');
  assert.deepEqual(parse(['--network', 'container:abc', 'img']).networkingConfig, { EndpointsConfig: {} });
});

test('attach, pull, detach keys, sig-proxy', () => {
  const o = parse(['-a', 'stdout', '-a', 'STDIN', 'img']);
  assert.deepEqual(o.attach, { stdin: true, stdout: true, stderr: false });
  assert.throws(() => parse(['-a', 'stdfoo', 'img']), /valid streams are STDIN, STDOUT and STDERR/);
  assert.throws(() => parse(['-d', '-a', 'stdout', 'img']), /cannot specify both --attach and --detach/);
  assert.equal(parse(['--pull', 'never', 'img']).pull, 'never');
  assert.throws(() => parse(['--pull', 'sometimes', 'img']), /invalid pull option/);
  const r = parse(['--detach-keys', 'ctrl-a', '--sig-proxy=false', 'img']);
  assert.equal(r.detachKeys, 'ctrl-a');
  assert.equal(r.sigProxy, false);
});

test('create has no -d or --detach-keys; usage errors', () => {
  assert.throws(() => parse(['-d', 'img'], 'create'), (e: unknown) => e instanceof FlagError && e.exitCode === 125);
  assert.throws(() => parse(['--nope', 'img']), (e: unknown) => e instanceof FlagError && /unknown flag: --nope/.test(e.message));
  assert.throws(() => parse([]), (e: unknown) => e instanceof FlagError && e.exitCode === 1);
  assert.throws(() => parse(['--name']), /flag needs an argument/);
  const h = parseRunOptions(['--help'], { command: 'run', env: {}, readFile: () => '' });
  assert.equal(h.help, true);
});

test('createBody nests HostConfig and NetworkingConfig into the config', () => {
  const o = parse(['--name', 'x', '-m', '1m', 'img', 'true']);
  const body = createBody(o);
  assert.equal(body.Image, 'img');
  assert.deepEqual(body.Cmd, ['true']);
  assert.equal(body.HostConfig.Memory, 1024 * 1024);
  assert.deepEqual(body.NetworkingConfig, { EndpointsConfig: { default: {} } });
});

test('health flags become a Healthcheck with durations in nanoseconds; --no-healthcheck disables', () => {
  const o = parse(['--health-cmd', 'test -e /ok', '--health-interval', '1m30s', '--health-timeout', '500ms', '--health-retries', '5', '--health-start-period', '2s', 'img']);
  assert.deepEqual(o.config.Healthcheck, { Test: ['CMD-SHELL', 'test -e /ok'], Interval: 90e9, Timeout: 500e6, StartPeriod: 2e9, Retries: 5 });
  assert.deepEqual(parse(['--no-healthcheck', 'img']).config.Healthcheck, { Test: ['NONE'] });
  assert.equal(parse(['img']).config.Healthcheck, undefined);
  assert.throws(() => parse(['--health-interval', '10x', 'img']), RunOptionsError);
});

test('--ip, --network-alias and --mac-address go to the endpoint of the chosen network', () => {
  const o = parse(['--network', 'n1', '--ip', '10.1.2.3', '--network-alias', 'db', '--mac-address', '02:42:ac:11:00:02', 'img']);
  assert.deepEqual(o.networkingConfig.EndpointsConfig.n1, { IPAMConfig: { IPv4Address: '10.1.2.3' }, Aliases: ['db'], MacAddress: '02:42:ac:11:00:02' });
  assert.equal((parse(['-P', 'img']).hostConfig as { PublishAllPorts?: boolean }).PublishAllPorts, true);
});

test('--device: HOST, HOST:PERMS, HOST:CONTAINER, HOST:CONTAINER:PERMS', () => {
  assert.deepEqual(parseDevice('/dev/fuse'), { PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rwm' });
  assert.deepEqual(parseDevice('/dev/sda:r'), { PathOnHost: '/dev/sda', PathInContainer: '/dev/sda', CgroupPermissions: 'r' });
  assert.deepEqual(parseDevice('/dev/sda:/dev/xvda'), { PathOnHost: '/dev/sda', PathInContainer: '/dev/xvda', CgroupPermissions: 'rwm' });
  assert.deepEqual(parseDevice('/dev/sda:/dev/xvda:rw'), { PathOnHost: '/dev/sda', PathInContainer: '/dev/xvda', CgroupPermissions: 'rw' });
  assert.throws(() => parseDevice('/dev/sda:/dev/xvda:x'), /invalid device mode: x/);
  assert.throws(() => parseDevice('sda'), /not an absolute path/);
  assert.throws(() => parseDevice('/a:/b:r:x'), /invalid device specification/);
});

test('dev_t splits as glibc does, large numbers included', () => {
  assert.deepEqual(splitDev(0x0103), { major: 1, minor: 3 });
  assert.deepEqual(splitDev((10 << 8) | 229), { major: 10, minor: 229 });
  // makedev(259, 70000): minor's high bits above bit 20, major's above bit 8 of the high word.
  const makedev = (ma: number, mi: number): number => (ma & 0xfffff000) * 2 ** 32 + ((((ma & 0xfff) << 8) | (mi & 0xff) | ((mi & 0xfff00) << 12)) >>> 0);
  assert.deepEqual(splitDev(makedev(259, 70000)), { major: 259, minor: 70000 });
  assert.deepEqual(splitDev(makedev(0x12345, 7)), { major: 0x12345, minor: 7 });
});

test('block I/O, real-time CPU, kernel memory and --gpus flags become Docker\'s HostConfig fields; bad values are refused as the docker CLI refuses them', () => {
  const o = parse(['--blkio-weight', '300', '--blkio-weight-device', '/dev/sda:200', '--device-read-bps', '/dev/sda:1mb', '--device-write-bps', '/dev/sdb:512k', '--device-read-iops', '/dev/sda:100', '--device-write-iops', '/dev/sda:50', '--kernel-memory', '10m', '--cpu-rt-period', '1000000', '--cpu-rt-runtime', '950000', '--gpus', 'all', 'busybox']);
  const hc = o.hostConfig;
  assert.equal(hc.BlkioWeight, 300);
  assert.deepEqual(hc.BlkioWeightDevice, [{ Path: '/dev/sda', Weight: 200 }]);
  assert.deepEqual(hc.BlkioDeviceReadBps, [{ Path: '/dev/sda', Rate: 1048576 }]);
  assert.deepEqual(hc.BlkioDeviceWriteBps, [{ Path: '/dev/sdb', Rate: 524288 }]);
  assert.deepEqual(hc.BlkioDeviceReadIOps, [{ Path: '/dev/sda', Rate: 100 }]);
  assert.deepEqual(hc.BlkioDeviceWriteIOps, [{ Path: '/dev/sda', Rate: 50 }]);
  assert.equal(hc.KernelMemory, 10 * 1024 * 1024);
  assert.equal(hc.CpuRealtimePeriod, 1000000);
  assert.equal(hc.CpuRealtimeRuntime, 950000);
  assert.deepEqual(hc.DeviceRequests, [{ Driver: '', Count: -1, DeviceIDs: null, Capabilities: [['gpu']], Options: null }]);
  assert.equal(parse(['--gpus', '2', 'busybox']).hostConfig.DeviceRequests?.[0]?.Count, 2);
  assert.deepEqual(parse(['--gpus', 'driver=nvidia,"device=0,1"', 'busybox']).hostConfig.DeviceRequests?.[0]?.DeviceIDs, ['0', '1']);
  assert.throws(() => parse(['--blkio-weight-device', 'sda:200', 'busybox']), /bad format for device path: sda:200/);
  assert.throws(() => parse(['--blkio-weight-device', '/dev/sda:5', 'busybox']), /invalid weight for device: \/dev\/sda:5/);
  assert.throws(() => parse(['--device-read-bps', '/dev/sda', 'busybox']), /"--device-read-bps" flag: bad format: \/dev\/sda/);
  assert.throws(() => parse(['--device-read-bps', '/dev/sda:fast', 'busybox']), /invalid rate for device: \/dev\/sda:fast. The correct format is <device-path>:<number>\[<unit>\]/);
  assert.throws(() => parse(['--device-write-iops', '/dev/sda:1k', 'busybox']), /invalid rate for device: \/dev\/sda:1k. The correct format is <device-path>:<number>. Number/);
  assert.throws(() => parse(['--gpus', 'bogus', 'busybox']), /"--gpus" flag: unexpected key 'bogus'/);
});
