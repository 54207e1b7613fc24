import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCreateBody, mergeImageConfig, processArgs, checkWorkingDir, checkHostResources, checkCgroupLimits, parseIdList } from './config.ts';

test('decodeCreateBody: defaults and Docker validation messages', () => {
  const r = decodeCreateBody({ Image: 'busybox' });
  assert.equal(r.hostConfig.NetworkMode, 'default');
  assert.equal(r.hostConfig.LogConfig.Type, 'json-file');
  assert.deepEqual(r.config.Env, []);
  assert.equal(r.config.Cmd, null);
  assert.throws(() => decodeCreateBody({}), /image name must not be empty/);
  assert.throws(() => decodeCreateBody({ Image: 'x', Cmd: 5 }), /field ContainerConfig.Cmd must be an array of strings, not number/);
  assert.throws(() => decodeCreateBody({ Image: 'x', Env: ['=x'] }), /invalid environment variable/);
  assert.throws(() => decodeCreateBody({ Image: 'x', WorkingDir: 'rel' }), /needs to be an absolute path/);
  assert.throws(() => decodeCreateBody({ Image: 'x', HostConfig: { Memory: 1024 } }), /Minimum memory limit allowed is 6MB/);
  assert.throws(() => decodeCreateBody({ Image: 'x', HostConfig: { Memory: 8e6, MemorySwap: 7e6 } }), /memoryswap limit should be larger/);
  assert.throws(() => decodeCreateBody({ Image: 'x', HostConfig: { NanoCpus: 1e9, CpuQuota: 5 } }), /Nano CPUs and CPU Period/);
  assert.throws(() => decodeCreateBody({ Image: 'x', HostConfig: { AutoRemove: true, RestartPolicy: { Name: 'always' } } }), /both --restart and --rm/);
  assert.throws(() => decodeCreateBody({ Image: 'x', HostConfig: { RestartPolicy: { Name: 'sometimes' } } }), /invalid restart policy/);
  assert.throws(() => decodeCreateBody({ Image: 'x', HostConfig: { RestartPolicy: { Name: 'always', MaximumRetryCount: 2 } } }), /only be used with 'on-failure'/);
  assert.throws(() => decodeCreateBody({ Image: 'x', HostConfig: { LogConfig: { Type: 'syslog' } } }), /not supported/);
  assert.throws(() => decodeCreateBody({ Image: 'x', HostConfig: 'no' }), /HostConfig must be an object/);
});

test('decodeCreateBody: endpoint settings for the chosen network and the legacy MAC field', () => {
  const r = decodeCreateBody({ Image: 'x', HostConfig: { NetworkMode: 'n1' }, NetworkingConfig: { EndpointsConfig: { n1: { IPAMConfig: { IPv4Address: '10.0.0.5' }, Aliases: ['a'] } } } });
  assert.deepEqual(r.endpoint, { ip: '10.0.0.5', aliases: ['a'] });
  assert.equal(decodeCreateBody({ Image: 'x', MacAddress: '02:00:00:00:00:01' }).endpoint.mac, '02:00:00:00:00:01');
  assert.throws(() => decodeCreateBody({ Image: 'x', MacAddress: 'zz' }), /invalid MAC address/);
});

test('mergeImageConfig: container settings win; an explicit entrypoint drops the image Cmd', () => {
  const base = decodeCreateBody({ Image: 'x', Env: ['A=2'], Labels: { l: 'c' } }).config;
  const img = { Env: ['A=1', 'B=1'], Cmd: ['sh'], Entrypoint: ['/init'], WorkingDir: '/w', User: 'u', Labels: { l: 'i', k: 'i' }, StopSignal: 'SIGQUIT' };
  const m = mergeImageConfig(base, img);
  assert.deepEqual(m.Env, ['B=1', 'A=2']);
  assert.deepEqual(processArgs(m), ['/init', 'sh']);
  assert.equal(m.WorkingDir, '/w');
  assert.equal(m.User, 'u');
  assert.deepEqual(m.Labels, { l: 'c', k: 'i' });
  assert.equal(m.StopSignal, 'SIGQUIT');
  const withEp = mergeImageConfig(decodeCreateBody({ Image: 'x', Entrypoint: ['echo'] }).config, img);
  assert.deepEqual(processArgs(withEp), ['echo']);
  const cleared = mergeImageConfig(decodeCreateBody({ Image: 'x', Entrypoint: [''], Cmd: ['ls'] }).config, img);
  assert.deepEqual(processArgs(cleared), ['ls']);
});

test('checkWorkingDir refuses paths through /proc/*/fd', () => {
  assert.throws(() => checkWorkingDir('/proc/self/fd/7'), /may not point into/);
  assert.throws(() => checkWorkingDir('//proc/1/fd/3'), /may not point into/);
  checkWorkingDir('/proc');
  checkWorkingDir('/app');
});

test('CPU limits and cpusets are checked against the host as Docker does', () => {
  const host = { cpus: 2, onlineCpus: '0-1', onlineMems: '0' };
  const hc = (over: Partial<{ NanoCpus: number; CpusetCpus: string; CpusetMems: string }>) => ({ NanoCpus: 0, CpusetCpus: '', CpusetMems: '', ...over });
  checkHostResources(hc({ NanoCpus: 2e9, CpusetCpus: '0-1', CpusetMems: '0' }), host);
  assert.throws(() => checkHostResources(hc({ NanoCpus: 3e9 }), host), /InvalidParameter.: Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available$/);
  assert.throws(() => checkHostResources(hc({ NanoCpus: 1e6 }), host), /Range of CPUs/);
  assert.throws(() => checkHostResources(hc({ CpusetCpus: '7' }), host), /InvalidParameter.: Requested CPUs are not available - requested 7, available: 0-1$/);
  assert.throws(() => checkHostResources(hc({ CpusetMems: '1' }), host), /Requested memory nodes are not available - requested 1, available: 0/);
  assert.throws(() => checkHostResources(hc({ CpusetCpus: '1-0' }), host), /Invalid value 1-0 for cpuset cpus/);
  assert.throws(() => checkHostResources(hc({ CpusetCpus: 'a' }), host), /Invalid value a for cpuset cpus/);
  assert.deepEqual([...parseIdList('0-2,5')!], [0, 1, 2, 5]);
  assert.equal(parseIdList('0-2,,5'), undefined);
});

test('isolation other than default and storage options are refused as Docker on Linux does', () => {
  assert.throws(() => decodeCreateBody({ Image: 'x', HostConfig: { Isolation: 'hyperv' } }), /Invalid isolation: "hyperv" - linux only supports 'default'/);
  assert.doesNotThrow(() => decodeCreateBody({ Image: 'x', HostConfig: { Isolation: 'default', StorageOpt: {} } }));
  assert.throws(() => decodeCreateBody({ Image: 'x', HostConfig: { StorageOpt: { size: '1G' } } }), /--storage-opt is supported only for overlay over xfs/);
});

test('limits the host cannot apply are discarded with Docker\'s warnings; out-of-range values are refused', () => {
  const none = { version: 1 as const, blkioWeight: false, blkioWeightDevice: false, blkioReadBps: false, blkioWriteBps: false, blkioReadIops: false, blkioWriteIops: false, cpuRealtime: false, oomKillDisable: true };
  const all = { version: 1 as const, blkioWeight: true, blkioWeightDevice: true, blkioReadBps: true, blkioWriteBps: true, blkioReadIops: true, blkioWriteIops: true, cpuRealtime: true, oomKillDisable: true };
  const body = { Image: 'x', HostConfig: { BlkioWeight: 300, BlkioDeviceReadBps: [{ Path: '/dev/vda', Rate: 1024 }], KernelMemory: 1 << 20, OomKillDisable: true } };
  const a = decodeCreateBody(body).hostConfig;
  assert.deepEqual(checkCgroupLimits(a, none), [
    'Specifying a kernel memory limit is deprecated and will be removed in a future release.',
    'OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.',
    'Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.',
    'Your kernel does not support BPS Block I/O read limit or the cgroup is not mounted. Block I/O BPS read limit discarded.',
  ]);
  assert.equal(a.BlkioWeight, 0);
  assert.deepEqual(a.BlkioDeviceReadBps, []);
  const b = decodeCreateBody(body).hostConfig;
  assert.equal(checkCgroupLimits(b, all).length, 2);
  assert.equal(b.BlkioWeight, 300);
  assert.deepEqual(checkCgroupLimits(decodeCreateBody({ Image: 'x', HostConfig: { OomKillDisable: true, Memory: 1 << 26 } }).hostConfig, all), []);
  assert.deepEqual(checkCgroupLimits(decodeCreateBody({ Image: 'x', HostConfig: { OomKillDisable: true } }).hostConfig, { ...all, oomKillDisable: false }), ['Your kernel does not support OomKillDisable. OomKillDisable discarded.']);
  assert.throws(() => checkCgroupLimits(decodeCreateBody({ Image: 'x', HostConfig: { BlkioWeight: 5 } }).hostConfig, all), /Range of blkio weight is from 10 to 1000/);
  assert.throws(() => checkCgroupLimits(decodeCreateBody({ Image: 'x', HostConfig: { CpuRealtimeRuntime: 100 } }).hostConfig, none), /does not support cgroup cpu real-time runtime/);
  assert.throws(() => checkCgroupLimits(decodeCreateBody({ Image: 'x', HostConfig: { CpuRealtimePeriod: 100, CpuRealtimeRuntime: 200 } }).hostConfig, all), /runtime cannot be higher than cpu real-time period/);
  assert.throws(() => decodeCreateBody({ Image: 'x', HostConfig: { BlkioDeviceReadBps: [{ Path: '/dev/vda', Rate: -1 }] } }), /invalid rate -1 for BlkioDeviceReadBps/);
  assert.throws(() => decodeCreateBody({ Image: 'x', HostConfig: { DeviceRequests: [{ Capabilities: 'gpu' }] } }), /Capabilities must be a list of lists of strings/);
});
