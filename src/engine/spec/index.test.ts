import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerConfig, HostConfig } from '../../core/types.ts';
import { isKind } from '../../core/errors.ts';
import {
  allCapabilities,
  buildSpec,
  replaceOrAppendEnv,
  capabilityMask,
  defaultMaskedPaths,
  mergeTmpfsOptions,
  parseSecurityOpts,
  type OciMount,
  type SpecInput,
} from './index.ts';

function containerConfig(over: Partial<ContainerConfig> = {}): ContainerConfig {
  return {
    Hostname: 'abc',
    Domainname: '',
    User: '',
    AttachStdin: false,
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
    OpenStdin: false,
    StdinOnce: false,
    Env: [],
    Cmd: ['sh'],
    Image: 'busybox',
    WorkingDir: '',
    Entrypoint: null,
    Labels: {},
    ...over,
  };
}

function hostConfig(over: Partial<HostConfig> = {}): HostConfig {
  return {
    NetworkMode: 'bridge',
    RestartPolicy: { Name: '' },
    AutoRemove: false,
    LogConfig: { Type: 'json-file', Config: {} },
    Privileged: false,
    ReadonlyRootfs: false,
    Memory: 0,
    MemorySwap: 0,
    NanoCpus: 0,
    CpuShares: 0,
    CpuPeriod: 0,
    CpuQuota: 0,
    ...over,
  };
}

function input(hc: Partial<HostConfig> = {}, cfg: Partial<ContainerConfig> = {}, extra: Partial<SpecInput> = {}): SpecInput {
  return {
    id: 'c1',
    rootfs: '/var/lib/berth/containers/c1/merged',
    config: containerConfig(cfg),
    hostConfig: hostConfig(hc),
    args: ['sh', '-c', 'true'],
    user: { uid: 0, gid: 0, additionalGids: [] },
    hostname: 'abc',
    netnsPath: '/run/netns/c1',
    cgroupsPath: '/berth/c1',
    mounts: [],
    hostRlimitNofile: { soft: 20000, hard: 20000 },
    ...extra,
  };
}

function withoutNetns(i: SpecInput): SpecInput {
  const { netnsPath: _unused, ...rest } = i;
  return rest;
}

const mount = (mounts: OciMount[], dest: string): OciMount | undefined => mounts.find((m) => m.destination === dest);

test('process defaults: user, args, cwd, capabilities with empty inheritable and ambient', () => {
  const s = buildSpec(input({}, {}, { user: { uid: 1000, gid: 1000, additionalGids: [29] } }));
  assert.equal(s.ociVersion, '1.0.2-dev');
  assert.equal(s.process.terminal, false);
  assert.deepEqual(s.process.user, { uid: 1000, gid: 1000, additionalGids: [29] });
  assert.deepEqual(s.process.args, ['sh', '-c', 'true']);
  assert.equal(s.process.cwd, '/');
  assert.equal(capabilityMask(s.process.capabilities.bounding), '00000000a80425fb');
  assert.deepEqual(s.process.capabilities.effective, s.process.capabilities.bounding);
  assert.deepEqual(s.process.capabilities.permitted, s.process.capabilities.bounding);
  assert.deepEqual(s.process.capabilities.inheritable, []);
  assert.deepEqual(s.process.capabilities.ambient, []);
  assert.equal(s.process.noNewPrivileges, false);
  assert.equal(s.process.oomScoreAdj, 0);
  assert.deepEqual(s.root, { path: '/var/lib/berth/containers/c1/merged', readonly: false });
  assert.equal(s.hostname, 'abc');
  assert.equal(s.linux.cgroupsPath, '/berth/c1');
});

test('environment: PATH and HOSTNAME defaults, TERM with a TTY, container values win, bare names unset', () => {
  const s = buildSpec(input({}, { Env: ['FOO=1', 'PATH=/opt/bin', 'HOSTNAME', 'FOO=2'], Tty: true, WorkingDir: '/work' }));
  assert.deepEqual(s.process.env, ['PATH=/opt/bin', 'TERM=xterm', 'FOO=2']);
  assert.equal(s.process.terminal, true);
  assert.equal(s.process.cwd, '/work');
  const plain = buildSpec(input());
  assert.deepEqual(plain.process.env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOSTNAME=abc']);
});

test('a relative working directory is refused', () => {
  assert.throws(() => buildSpec(input({}, { WorkingDir: 'rel' })), (e: unknown) => isKind(e, 'InvalidParameter'));
});

test('nofile defaults to the host limits; every nofile value is capped at the host hard limit', () => {
  assert.deepEqual(buildSpec(input()).process.rlimits, [{ type: 'RLIMIT_NOFILE', hard: 20000, soft: 20000 }]);
  const s = buildSpec(
    input({
      Ulimits: [
        { Name: 'nofile', Soft: 1048576, Hard: 1048576 },
        { Name: 'nproc', Soft: 100, Hard: 200 },
        { Name: 'CORE', Soft: -1, Hard: -1 },
      ],
    }),
  );
  assert.deepEqual(s.process.rlimits, [
    { type: 'RLIMIT_NOFILE', hard: 20000, soft: 20000 },
    { type: 'RLIMIT_NPROC', hard: 200, soft: 100 },
    { type: 'RLIMIT_CORE', hard: -1, soft: -1 },
  ]);
  const low = buildSpec(input({ Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 4096 }] }));
  assert.deepEqual(low.process.rlimits, [{ type: 'RLIMIT_NOFILE', hard: 4096, soft: 1024 }]);
  const halfHost = buildSpec(input({}, {}, { hostRlimitNofile: { soft: 1024, hard: 4096 } }));
  assert.deepEqual(halfHost.process.rlimits, [{ type: 'RLIMIT_NOFILE', hard: 4096, soft: 1024 }]);
  const softOver = buildSpec(input({ Ulimits: [{ Name: 'nofile', Soft: 30000, Hard: 40000 }] }));
  assert.deepEqual(softOver.process.rlimits, [{ type: 'RLIMIT_NOFILE', hard: 20000, soft: 20000 }]);
});

test('bad ulimits are invalid parameters', () => {
  assert.throws(() => buildSpec(input({ Ulimits: [{ Name: 'bogus', Soft: 1, Hard: 1 }] })), /invalid ulimit type: bogus/);
  assert.throws(() => buildSpec(input({ Ulimits: [{ Name: 'nproc', Soft: 10, Hard: 5 }] })), /soft limit must be less than or equal to hard limit/);
});

test('memory: limit, swap = 2 x memory by default, explicit and unlimited swap, reservation', () => {
  const mib = 1024 * 1024;
  assert.deepEqual(buildSpec(input({ Memory: 64 * mib })).linux.resources.memory, { limit: 64 * mib, swap: 128 * mib });
  assert.deepEqual(buildSpec(input({ Memory: 64 * mib, MemorySwap: 100 * mib })).linux.resources.memory, { limit: 64 * mib, swap: 100 * mib });
  assert.deepEqual(buildSpec(input({ Memory: 64 * mib, MemorySwap: -1 })).linux.resources.memory, { limit: 64 * mib, swap: -1 });
  assert.deepEqual(buildSpec(input({ MemoryReservation: 32 * mib })).linux.resources.memory, { reservation: 32 * mib });
  assert.equal(buildSpec(input()).linux.resources.memory, undefined);
  assert.throws(() => buildSpec(input({ Memory: 64 * mib, MemorySwap: 32 * mib })), /memoryswap limit should be larger than memory limit/);
  assert.throws(() => buildSpec(input({ Memory: 1024 })), /Minimum memory limit allowed is 6MB/);
  assert.throws(() => buildSpec(input({ MemorySwap: 64 * mib })), /always set the Memory limit/);
});

test('cpu: NanoCpus become quota over a 100ms period; shares, quota, period and cpusets pass through', () => {
  assert.deepEqual(buildSpec(input({ NanoCpus: 1_500_000_000 })).linux.resources.cpu, { period: 100000, quota: 150000 });
  assert.deepEqual(buildSpec(input({ NanoCpus: 10_000_000 })).linux.resources.cpu, { period: 100000, quota: 1000 });
  assert.deepEqual(
    buildSpec(input({ CpuShares: 512, CpuQuota: 50000, CpuPeriod: 200000, CpusetCpus: '0-1', CpusetMems: '0' })).linux.resources.cpu,
    { shares: 512, period: 200000, quota: 50000, cpus: '0-1', mems: '0' },
  );
  assert.equal(buildSpec(input()).linux.resources.cpu, undefined);
  assert.throws(() => buildSpec(input({ NanoCpus: 1e9, CpuQuota: 1000 })), /Nano CPUs and CPU Quota cannot both be set/);
  assert.throws(() => buildSpec(input({ NanoCpus: 1e9, CpuPeriod: 1000 })), /Nano CPUs and CPU Period cannot both be set/);
});

test('pids limit only when positive', () => {
  assert.deepEqual(buildSpec(input({ PidsLimit: 100 })).linux.resources.pids, { limit: 100 });
  assert.equal(buildSpec(input({ PidsLimit: 0 })).linux.resources.pids, undefined);
  assert.equal(buildSpec(input({ PidsLimit: -1 })).linux.resources.pids, undefined);
  assert.equal(buildSpec(input({ PidsLimit: null })).linux.resources.pids, undefined);
});

test('device rules: deny all, allow the standard set, deny fuse last', () => {
  const d = buildSpec(input()).linux.resources.devices;
  assert.deepEqual(d[0], { allow: false, access: 'rwm' });
  const allowed = d.filter((r) => r.allow).map((r) => `${r.type} ${r.major}:${r.minor ?? '*'}`);
  assert.deepEqual(allowed, ['c 1:3', 'c 1:5', 'c 1:7', 'c 1:8', 'c 1:9', 'c 5:0', 'c 5:1', 'c 5:2', 'c 136:*', 'c 10:200']);
  assert.deepEqual(d.at(-1), { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' });
});

test('default mounts in Docker order with Docker options', () => {
  const m = buildSpec(input()).mounts;
  assert.deepEqual(m.map((x) => x.destination), ['/proc', '/dev', '/dev/pts', '/sys', '/sys/fs/cgroup', '/dev/mqueue', '/dev/shm']);
  assert.deepEqual(mount(m, '/proc')?.options, ['nosuid', 'noexec', 'nodev']);
  assert.deepEqual(mount(m, '/dev')?.options, ['nosuid', 'strictatime', 'mode=755', 'size=65536k']);
  assert.deepEqual(mount(m, '/dev/pts')?.options, ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5']);
  assert.ok(mount(m, '/sys')?.options?.includes('ro'));
  assert.ok(mount(m, '/sys/fs/cgroup')?.options?.includes('ro'));
  assert.deepEqual(mount(m, '/dev/shm'), {
    destination: '/dev/shm',
    type: 'tmpfs',
    source: 'shm',
    options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=67108864'],
  });
  assert.ok(mount(buildSpec(input({ ShmSize: 1 << 20 })).mounts, '/dev/shm')?.options?.includes('size=1048576'));
});

test('tmpfs entries get nosuid,nodev,noexec unless overridden, then extra mounts follow', () => {
  const extra = [{ destination: '/etc/hosts', source: '/x/hosts', type: 'bind', options: ['rbind', 'ro'] }];
  const s = buildSpec(input({ Tmpfs: { '/run': 'rw,size=65536k', '/tmp/': 'exec,mode=1777' } }, {}, { mounts: extra }));
  const run = mount(s.mounts, '/run');
  assert.deepEqual(run, { destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['noexec', 'nosuid', 'nodev', 'rprivate', 'rw', 'size=65536k'] });
  assert.deepEqual(mount(s.mounts, '/tmp')?.options, ['nosuid', 'nodev', 'rprivate', 'exec', 'mode=1777']);
  const dests = s.mounts.map((x) => x.destination);
  assert.deepEqual(dests.slice(7), ['/run', '/tmp', '/etc/hosts']);
  assert.throws(() => buildSpec(input({ Tmpfs: { run: '' } })), (e: unknown) => isKind(e, 'InvalidParameter'));
});

test('mergeTmpfsOptions keeps the last option of each kind', () => {
  assert.deepEqual(mergeTmpfsOptions(['noexec', 'nosuid', 'size=1k', 'exec', 'size=2k', 'ro', 'rw', 'defaults']), ['nosuid', 'exec', 'size=2k', 'rw']);
});

test('a user mount replaces the default at the same destination', () => {
  const s = buildSpec(input({ Tmpfs: { '/dev/shm': 'size=1m' } }));
  const shm = s.mounts.filter((m) => m.destination === '/dev/shm');
  assert.equal(shm.length, 1);
  assert.equal(shm[0]!.source, 'tmpfs');
});

test('read-only rootfs keeps /dev, /dev/shm, /proc and tmpfs writable', () => {
  const s = buildSpec(input({ ReadonlyRootfs: true, Tmpfs: { '/run': '' } }));
  assert.equal(s.root.readonly, true);
  for (const d of ['/dev', '/dev/shm', '/dev/pts', '/dev/mqueue', '/proc', '/run']) {
    assert.ok(!mount(s.mounts, d)?.options?.includes('ro'), d);
  }
  assert.ok(mount(s.mounts, '/sys')?.options?.includes('ro'));
});

test('namespaces: joined netns, host network, private network', () => {
  const joined = buildSpec(input());
  assert.deepEqual(joined.linux.namespaces, [
    { type: 'pid' },
    { type: 'ipc' },
    { type: 'uts' },
    { type: 'mount' },
    { type: 'network', path: '/run/netns/c1' },
  ]);
  const host = buildSpec(withoutNetns(input({ NetworkMode: 'host' })));
  assert.ok(!host.linux.namespaces.some((n) => n.type === 'network'));
  const none = buildSpec(withoutNetns(input({ NetworkMode: 'none' })));
  assert.deepEqual(none.linux.namespaces.find((n) => n.type === 'network'), { type: 'network' });
  const hostPid = buildSpec(input({ PidMode: 'host', UTSMode: 'host' }));
  assert.ok(!hostPid.linux.namespaces.some((n) => n.type === 'pid' || n.type === 'uts'));
  assert.equal(hostPid.hostname, undefined);
  assert.throws(() => buildSpec(input({ PidMode: 'container:x' })), (e: unknown) => isKind(e, 'Internal'));
  assert.deepEqual(buildSpec({ ...input({ PidMode: 'container:x' }), pidnsPath: '/proc/42/ns/pid' }).linux.namespaces.find((n) => n.type === 'pid'), { type: 'pid', path: '/proc/42/ns/pid' });
  assert.throws(() => buildSpec(input({ IpcMode: 'container:x' })), (e: unknown) => isKind(e, 'Internal'));
  const ipcJoined = buildSpec({ ...input({ IpcMode: 'container:x' }), ipcnsPath: '/proc/42/ns/ipc', shmPath: '/var/lib/x/shm' });
  assert.deepEqual(ipcJoined.linux.namespaces.find((n) => n.type === 'ipc'), { type: 'ipc', path: '/proc/42/ns/ipc' });
  assert.equal(ipcJoined.mounts.find((m) => m.destination === '/dev/shm')?.source, '/var/lib/x/shm');
});

test("masked and read-only paths are Docker's", () => {
  const s = buildSpec(input());
  for (const p of ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/proc/sched_debug', '/proc/scsi', '/proc/acpi', '/proc/asound',
    '/proc/interrupts', '/proc/latency_stats', '/proc/timer_stats', '/sys/firmware', '/sys/devices/virtual/powercap']) {
    assert.ok(s.linux.maskedPaths.includes(p), p);
  }
  assert.deepEqual(s.linux.maskedPaths, defaultMaskedPaths());
  assert.deepEqual(s.linux.readonlyPaths, ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']);
  const custom = buildSpec(input({ MaskedPaths: ['/proc/x'], ReadonlyPaths: [] }));
  assert.deepEqual(custom.linux.maskedPaths, ['/proc/x']);
  assert.deepEqual(custom.linux.readonlyPaths, []);
});

test('seccomp follows the capability set and security options', () => {
  const s = buildSpec(input());
  assert.ok(s.linux.seccomp);
  assert.ok(!s.linux.seccomp.syscalls.some((r) => r.names.includes('mount')));
  const admin = buildSpec(input({ CapAdd: ['SYS_ADMIN'] }));
  assert.ok(admin.process.capabilities.bounding.includes('CAP_SYS_ADMIN'));
  assert.ok(admin.linux.seccomp?.syscalls.some((r) => r.names.includes('mount') && r.action === 'SCMP_ACT_ALLOW'));
  assert.equal(buildSpec(input({ SecurityOpt: ['seccomp=unconfined'] })).linux.seccomp, undefined);
  const nnp = buildSpec(input({ SecurityOpt: ['no-new-privileges'] }));
  assert.equal(nnp.process.noNewPrivileges, true);
});

test('privileged: all capabilities, no masks, no seccomp, rw /sys and cgroup, all devices', () => {
  const s = buildSpec(input({ Privileged: true, CapDrop: ['ALL'] }));
  assert.deepEqual(s.process.capabilities.bounding, allCapabilities());
  assert.deepEqual(s.process.capabilities.inheritable, []);
  assert.deepEqual(s.linux.maskedPaths, []);
  assert.deepEqual(s.linux.readonlyPaths, []);
  assert.equal(s.linux.seccomp, undefined);
  assert.ok(mount(s.mounts, '/sys')?.options?.includes('rw'));
  assert.ok(mount(s.mounts, '/sys/fs/cgroup')?.options?.includes('rw'));
  assert.deepEqual(s.linux.resources.devices, [{ allow: true, access: 'rwm' }]);
});

test('init binds the init binary read-only and prefixes the command', () => {
  const s = buildSpec(input({ Init: true }, {}, { initPath: '/usr/bin/tini-static' }));
  assert.deepEqual(s.process.args, ['/sbin/docker-init', '--', 'sh', '-c', 'true']);
  assert.deepEqual(mount(s.mounts, '/sbin/docker-init'), {
    destination: '/sbin/docker-init',
    type: 'bind',
    source: '/usr/bin/tini-static',
    options: ['bind', 'ro'],
  });
  assert.throws(() => buildSpec(input({ Init: true })), (e: unknown) => isKind(e, 'Internal'));
  assert.deepEqual(buildSpec(input({}, {}, { initPath: '/usr/bin/tini-static' })).process.args, ['sh', '-c', 'true']);
});

test('sysctls pass through', () => {
  assert.deepEqual(buildSpec(input({ Sysctls: { 'net.ipv4.ip_forward': '1' } })).linux.sysctl, { 'net.ipv4.ip_forward': '1' });
  assert.equal(buildSpec(input()).linux.sysctl, undefined);
});

test('security options parse as dockerd does', () => {
  assert.deepEqual(parseSecurityOpts(undefined), { noNewPrivileges: false, seccomp: 'default' });
  assert.deepEqual(parseSecurityOpts(['no-new-privileges']), { noNewPrivileges: true, seccomp: 'default' });
  assert.deepEqual(parseSecurityOpts(['no-new-privileges:true', 'seccomp:unconfined']), { noNewPrivileges: true, seccomp: 'unconfined' });
  assert.deepEqual(parseSecurityOpts(['no-new-privileges=true', 'no-new-privileges=false']), { noNewPrivileges: false, seccomp: 'default' });
  assert.deepEqual(parseSecurityOpts(['seccomp=unconfined', 'apparmor=unconfined', 'label=disable']), {
    noNewPrivileges: false,
    seccomp: 'unconfined',
    apparmor: 'unconfined',
    labelDisable: true,
  });
  assert.equal(parseSecurityOpts(['seccomp={"defaultAction":"SCMP_ACT_ALLOW"}']).seccomp, 'custom');
  assert.throws(() => parseSecurityOpts(['seccomp={"defaultAction":"nope"}']), (e: unknown) => isKind(e, 'InvalidParameter'));
  assert.deepEqual(buildSpec(input({ SecurityOpt: ['seccomp={"defaultAction":"SCMP_ACT_LOG","syscalls":[]}'] })).linux.seccomp?.defaultAction, 'SCMP_ACT_LOG');
  assert.throws(() => parseSecurityOpts(['bogus']), (e: unknown) => isKind(e, 'InvalidParameter') && /invalid --security-opt 1: "bogus"/.test((e as Error).message));
  assert.throws(() => parseSecurityOpts(['foo=bar']), /invalid --security-opt 2: "foo=bar"/);
  assert.throws(() => parseSecurityOpts(['no-new-privileges=maybe']), /invalid --security-opt 2/);
});

test('the spec survives a JSON round trip unchanged (no undefined fields)', () => {
  const s = buildSpec(input({ Memory: 1 << 26, Tmpfs: { '/run': '' }, Init: true }, { Tty: true }, { initPath: '/tini' }));
  assert.deepEqual(JSON.parse(JSON.stringify(s)), s);
});

test('IPv6 is turned off in a container\'s own network namespace, as Docker does; --sysctl wins; host and container: modes keep theirs', () => {
  const off = { 'net.ipv6.conf.all.disable_ipv6': '1', 'net.ipv6.conf.default.disable_ipv6': '1' };
  assert.deepEqual(buildSpec(input({}, {}, { hostIpv6: true })).linux.sysctl, off);
  assert.deepEqual(buildSpec(withoutNetns(input({ NetworkMode: 'none' }, {}, { hostIpv6: true }))).linux.sysctl, off);
  assert.deepEqual(buildSpec(input({ Sysctls: { 'net.ipv6.conf.all.disable_ipv6': '0' } }, {}, { hostIpv6: true })).linux.sysctl, { ...off, 'net.ipv6.conf.all.disable_ipv6': '0' });
  assert.equal(buildSpec(withoutNetns(input({ NetworkMode: 'host' }, {}, { hostIpv6: true }))).linux.sysctl, undefined);
  assert.equal(buildSpec(input({ NetworkMode: 'container:abc' }, {}, { hostIpv6: true })).linux.sysctl, undefined);
  // A kernel without IPv6 has no such sysctls to write.
  assert.equal(buildSpec(input()).linux.sysctl, undefined);
});

test('--domainname becomes the UTS domain name; not with the host\'s UTS namespace', () => {
  assert.deepEqual(buildSpec(input({}, { Domainname: 'ex.com' })).linux.sysctl, { 'kernel.domainname': 'ex.com' });
  assert.equal(buildSpec(input({})).linux.sysctl, undefined);
  assert.equal(buildSpec(input({ UTSMode: 'host' }, { Domainname: 'ex.com' })).linux.sysctl, undefined);
});

test('replaceOrAppendEnv: replace in place, append, and a bare name unsets', () => {
  assert.deepEqual(replaceOrAppendEnv(['PATH=/bin', 'A=1', 'B=2'], ['B=3', 'C=4', 'A', 'NOPE']), ['PATH=/bin', 'B=3', 'C=4']);
  assert.deepEqual(replaceOrAppendEnv([], ['X=a=b']), ['X=a=b']);
});
