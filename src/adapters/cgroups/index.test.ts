import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, writeFile, rm, access } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  detectCgroupVersion,
  readStats,
  listPids,
  readOomKillCount,
  removeCgroup,
  toDockerStats,
  parseProcStat,
  parseBlkioV1,
  favordynmodsRemount,
  type RawStats,
} from './index.ts';
import { isKind } from '../../core/errors.ts';

const PROC_STAT = 'cpu  100 0 50 1000 10 0 5 7 0 0\ncpu0 50 0 25 500 5 0 2 3 0 0\ncpu1 50 0 25 500 5 0 3 4 0 0\nintr 1 2\n';

test('parseProcStat sums the first seven fields of the cpu line in ns and counts cpus', () => {
  assert.deepEqual(parseProcStat(PROC_STAT), { systemCpu: (100 + 50 + 1000 + 10 + 5) * 1e7, onlineCpus: 2 });
});

test('parseBlkioV1 keeps device lines and drops the grand total', () => {
  assert.deepEqual(parseBlkioV1('8:0 Read 4096\n8:0 Write 0\n8:0 Total 4096\nTotal 4096\n'), [
    { major: 8, minor: 0, op: 'Read', value: 4096 },
    { major: 8, minor: 0, op: 'Write', value: 0 },
    { major: 8, minor: 0, op: 'Total', value: 4096 },
  ]);
});

test('cgroup paths that could escape the hierarchy are rejected', async () => {
  for (const p of ['berth/x', '/berth/../etc', '/', '/a/./b']) {
    await assert.rejects(readStats(p), (e) => isKind(e, 'InvalidParameter'), p);
  }
});

async function fakeTree(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'berth-cg-'));
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(join(root, rel, '..'), { recursive: true });
    await writeFile(join(root, rel), content);
  }
  return root;
}

test('v2: reads the unified hierarchy and maps it as dockerd does', async (t) => {
  const root = await fakeTree({
    'cgroup.controllers': 'cpu memory pids io\n',
    'berth/c1/memory.current': '10485760\n',
    'berth/c1/memory.max': 'max\n',
    'berth/c1/memory.stat': 'anon 4096\nfile 8192\ninactive_file 2097152\n',
    'berth/c1/memory.events': 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 2\n',
    'berth/c1/cpu.stat': 'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 4\nnr_throttled 1\nthrottled_usec 20\n',
    'berth/c1/pids.current': '3\n',
    'berth/c1/pids.max': '100\n',
    'berth/c1/io.stat': '8:0 rbytes=512 wbytes=1024 rios=1 wios=2 dbytes=0 dios=0\n',
    'berth/c1/cgroup.procs': '11\n12\n',
    'berth/c1/child/cgroup.procs': '',
    'proc-stat': PROC_STAT,
  });
  t.after(() => rm(root, { recursive: true, force: true }));
  assert.equal(detectCgroupVersion(root), 2);
  const opts = { root, procStat: join(root, 'proc-stat') };
  const raw = await readStats('/berth/c1', opts);
  assert.equal(raw.version, 2);
  assert.deepEqual(raw.memory, { usage: 10485760, limit: totalmem(), stats: { anon: 4096, file: 8192, inactive_file: 2097152 } });
  assert.deepEqual(raw.cpu, { total: 1500000, kernel: 500000, user: 1000000, throttling: { periods: 4, throttledPeriods: 1, throttledTime: 20000 } });
  assert.deepEqual(raw.pids, { current: 3, limit: 100 });
  assert.deepEqual(raw.blkio.serviceBytes, [
    { major: 8, minor: 0, op: 'read', value: 512 },
    { major: 8, minor: 0, op: 'write', value: 1024 },
  ]);
  assert.equal(raw.onlineCpus, 2);
  assert.deepEqual(await listPids('/berth/c1', opts), [11, 12]);
  assert.equal(await readOomKillCount('/berth/c1', opts), 2);
  assert.equal(await readOomKillCount('/berth/gone', opts), 0);
  assert.deepEqual(await listPids('/berth/gone', opts), []);
});

test('v1: cpu,cpuacct co-mounted and "no limit" memory report like dockerd', async (t) => {
  const rel = 'berth/c2';
  const root = await fakeTree({
    [`memory/${rel}/memory.usage_in_bytes`]: '2000000\n',
    [`memory/${rel}/memory.max_usage_in_bytes`]: '3000000\n',
    [`memory/${rel}/memory.failcnt`]: '0\n',
    [`memory/${rel}/memory.limit_in_bytes`]: '9223372036854771712\n',
    [`memory/${rel}/memory.stat`]: 'cache 100\nrss 200\ntotal_inactive_file 500000\n',
    [`memory/${rel}/memory.oom_control`]: 'oom_kill_disable 0\nunder_oom 0\noom_kill 1\n',
    [`cpu,cpuacct/${rel}/cpuacct.usage`]: '123456789\n',
    [`cpu,cpuacct/${rel}/cpuacct.usage_percpu`]: '100000000 23456789 \n',
    [`cpu,cpuacct/${rel}/cpuacct.stat`]: 'user 7\nsystem 3\n',
    [`cpu,cpuacct/${rel}/cpu.stat`]: 'nr_periods 0\nnr_throttled 0\nthrottled_time 0\n',
    [`pids/${rel}/pids.current`]: '1\n',
    [`pids/${rel}/pids.max`]: 'max\n',
    [`pids/${rel}/cgroup.procs`]: '77\n',
    [`blkio/${rel}/blkio.throttle.io_service_bytes_recursive`]: '8:0 Read 4096\n8:0 Write 8192\nTotal 12288\n',
    [`blkio/${rel}/blkio.throttle.io_serviced_recursive`]: '8:0 Read 1\n8:0 Write 2\nTotal 3\n',
    'proc-stat': PROC_STAT,
  });
  t.after(() => rm(root, { recursive: true, force: true }));
  assert.equal(detectCgroupVersion(root), 1);
  const opts = { root, procStat: join(root, 'proc-stat') };
  const raw = await readStats('/berth/c2', opts);
  assert.equal(raw.memory?.limit, totalmem());
  assert.equal(raw.memory?.maxUsage, 3000000);
  assert.deepEqual(raw.cpu, {
    total: 123456789,
    percpu: [100000000, 23456789],
    kernel: 3e7,
    user: 7e7,
    throttling: { periods: 0, throttledPeriods: 0, throttledTime: 0 },
  });
  assert.deepEqual(raw.pids, { current: 1 });
  assert.equal(raw.blkio.serviced.length, 2);
  assert.deepEqual(await listPids('/berth/c2', opts), [77]);
  assert.equal(await readOomKillCount('/berth/c2', opts), 1);
});

test('toDockerStats: the docker CLI formulas give the expected CPU % and memory', () => {
  const base: RawStats = {
    version: 1,
    memory: { usage: 10_000_000, maxUsage: 12_000_000, failcnt: 0, limit: 50_000_000, stats: { total_inactive_file: 1_000_000, cache: 5 } },
    cpu: { total: 1e9, percpu: [5e8, 5e8], kernel: 1e8, user: 9e8, throttling: { periods: 1, throttledPeriods: 0, throttledTime: 0 } },
    systemCpu: 100e9,
    onlineCpus: 2,
    pids: { current: 4, limit: 10 },
    blkio: { serviceBytes: [], serviced: [] },
  };
  const next: RawStats = { ...base, cpu: { ...base.cpu!, total: 1.5e9 }, systemCpu: 102e9 };
  const read = new Date('2026-01-02T03:04:05.678Z');
  const pre = new Date('2026-01-02T03:04:04.678Z');
  const first = toDockerStats(base, undefined, { id: 'abc', name: 'web', read });
  assert.equal(first.preread, '0001-01-01T00:00:00Z');
  assert.deepEqual(first.precpu_stats, {
    cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
    throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
  });
  const s = JSON.parse(JSON.stringify(toDockerStats(next, base, { id: 'abc', name: 'web', read, preread: pre })));
  assert.equal(s.name, '/web');
  assert.equal(s.id, 'abc');
  assert.equal(s.read, '2026-01-02T03:04:05.678Z');
  assert.equal(s.preread, '2026-01-02T03:04:04.678Z');
  assert.equal(s.num_procs, 0);
  assert.deepEqual(s.storage_stats, {});
  assert.deepEqual(s.pids_stats, { current: 4, limit: 10 });
  assert.equal(s.blkio_stats.io_service_bytes_recursive, null);
  // docker CLI: (Δcontainer / Δsystem) × online_cpus × 100
  const cpuDelta = s.cpu_stats.cpu_usage.total_usage - s.precpu_stats.cpu_usage.total_usage;
  const sysDelta = s.cpu_stats.system_cpu_usage - s.precpu_stats.system_cpu_usage;
  assert.equal((cpuDelta / sysDelta) * s.cpu_stats.online_cpus * 100, 50);
  assert.deepEqual(s.cpu_stats.cpu_usage.percpu_usage, [5e8, 5e8]);
  assert.equal(s.cpu_stats.cpu_usage.usage_in_usermode, 9e8);
  assert.equal(s.cpu_stats.throttling_data.periods, 1);
  // docker CLI v1: usage − total_inactive_file
  assert.equal(s.memory_stats.usage - s.memory_stats.stats.total_inactive_file, 9_000_000);
  assert.equal(s.memory_stats.limit, 50_000_000);
  assert.equal(s.memory_stats.max_usage, 12_000_000);
});

// Root-only: uses the host's real cgroup v1 hierarchies, as runc's cgroupfs driver lays them out.
const v1Host = detectCgroupVersion() === 1 && process.getuid?.() === 0 && existsSync('/sys/fs/cgroup/memory');
test('v1 host: stats, pids and removal of a real cgroup', { skip: !v1Host && 'needs root on a cgroup v1 host' }, async (t) => {
  const parent = `/berth-stats-test-${randomBytes(3).toString('hex')}`;
  const path = `${parent}/${randomBytes(4).toString('hex')}`;
  const controllers = ['memory', 'cpu', 'cpuacct', 'pids', 'blkio'];
  for (const c of controllers) await mkdir(join('/sys/fs/cgroup', c, path), { recursive: true });
  // Burns a little CPU and memory only after it has been moved into the cgroup.
  const child = spawn('sh', ['-c', 'read x; i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done; exec sleep 1000'], { stdio: ['pipe', 'ignore', 'ignore'] });
  t.after(async () => {
    child.kill('SIGKILL');
    await removeCgroup(parent);
  });
  await once(child, 'spawn');
  const pid = child.pid!;
  await writeFile(join('/sys/fs/cgroup/pids', path, 'pids.max'), '50');
  await writeFile(join('/sys/fs/cgroup/memory', path, 'memory.limit_in_bytes'), String(256 << 20));
  for (const c of controllers) await writeFile(join('/sys/fs/cgroup', c, path, 'cgroup.procs'), String(pid));
  child.stdin.write('go\n');

  let raw = await readStats(path);
  for (let i = 0; i < 100 && !((raw.cpu?.total ?? 0) > 0 && (raw.memory?.usage ?? 0) > 0); i++) {
    await sleep(30);
    raw = await readStats(path);
  }
  assert.equal(raw.version, 1);
  assert.ok((raw.pids?.current ?? 0) >= 1);
  assert.equal(raw.pids?.limit, 50);
  assert.ok((raw.memory?.usage ?? 0) > 0);
  assert.equal(raw.memory?.limit, 256 << 20);
  assert.ok('total_inactive_file' in (raw.memory?.stats ?? {}));
  assert.ok((raw.cpu?.total ?? 0) > 0);
  assert.ok((raw.cpu?.percpu?.length ?? 0) >= 1);
  assert.ok(raw.systemCpu > 0 && raw.onlineCpus >= 1);
  assert.deepEqual(await listPids(path), [pid]);
  assert.equal(await readOomKillCount(path), 0);

  child.kill('SIGKILL');
  await once(child, 'exit');
  await removeCgroup(path);
  for (const c of controllers) await assert.rejects(access(join('/sys/fs/cgroup', c, path)), { code: 'ENOENT' });
  await removeCgroup(path); // already gone: no error
});

test('favordynmods: the cgroup2 mount is remounted with its own flags and every option it has', () => {
  const hybrid = [
    '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/vda rw',
    '31 22 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755',
    '32 31 0:27 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot',
    '33 31 0:28 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,memory',
  ].join('\n');
  // MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RELATIME
  assert.deepEqual(favordynmodsRemount(hybrid), { target: '/sys/fs/cgroup/unified', flags: 32 | 2 | 4 | 8 | (1 << 21), data: 'nsdelegate,memory_recursiveprot,favordynmods' });
  const v2 = '30 22 0:25 / /sys/fs/cgroup rw,nosuid,nodev,noexec,noatime - cgroup2 cgroup2 rw\n';
  assert.deepEqual(favordynmodsRemount(v2), { target: '/sys/fs/cgroup', flags: 32 | 2 | 4 | 8 | 1024, data: 'favordynmods' });
  const escaped = '30 22 0:25 / /sys/fs/cgroup\\040x rw - cgroup2 none rw\n';
  assert.equal(favordynmodsRemount(escaped)?.target, '/sys/fs/cgroup x');
});

test('favordynmods: nothing to do when it is on already, the mount is read-only, only v1 is mounted, or only a subtree is', () => {
  assert.equal(favordynmodsRemount('30 22 0:25 / /sys/fs/cgroup rw,relatime - cgroup2 cgroup2 rw,favordynmods\n'), undefined);
  assert.equal(favordynmodsRemount('30 22 0:25 / /sys/fs/cgroup ro,relatime - cgroup2 cgroup2 rw\n'), undefined);
  assert.equal(favordynmodsRemount('33 31 0:28 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n'), undefined);
  // A container's view: its own cgroup bind-mounted from the host's hierarchy.
  assert.equal(favordynmodsRemount('40 30 0:25 /berth/abc /sys/fs/cgroup rw,relatime - cgroup2 cgroup2 rw\n'), undefined);
  assert.equal(favordynmodsRemount(''), undefined);
});
