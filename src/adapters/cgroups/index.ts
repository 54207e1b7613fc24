// Reads container cgroups (v1 per-controller hierarchies or the v2 unified one) for stats, top and
// OOM detection, and removes them. Writes only rmdir; runc creates and configures the cgroups. Once,
// at the daemon's start, it may remount the host's cgroup file system with `favordynmods`.
import { readFile, readdir, rmdir } from 'node:fs/promises';
import { existsSync, readFileSync, readdirSync, rmdirSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { invalidParameter } from '../../core/errors.ts';
import type { CgroupFeatures, Cgroups } from '../../core/ports.ts';
import { syscallsAvailable, sysMount, MS_NOSUID, MS_NODEV, MS_NOEXEC } from '../syscalls/index.ts';

export type CgroupVersion = 1 | 2;

const CGROUP_ROOT = '/sys/fs/cgroup';
// USER_HZ: cpuacct.stat and /proc/stat count in these ticks; it is 100 on every Linux ABI Node runs on.
const CLOCK_TICKS = 100;
const NS_PER_TICK = 1e9 / CLOCK_TICKS;

export interface CgroupOptions {
  /** Mount point of the cgroup file systems; tests point it at a fake tree. */
  root?: string;
  version?: CgroupVersion;
  /** /proc/stat, for the host's total CPU time. */
  procStat?: string;
}

export interface BlkioEntry {
  major: number;
  minor: number;
  op: string;
  value: number;
}

export interface RawStats {
  version: CgroupVersion;
  memory?: { usage: number; maxUsage?: number; failcnt?: number; limit: number; stats: Record<string, number> };
  cpu?: {
    /** Nanoseconds. */
    total: number;
    percpu?: number[];
    kernel: number;
    user: number;
    throttling: { periods: number; throttledPeriods: number; throttledTime: number };
  };
  /** Host CPU time in nanoseconds, summed over all CPUs (Docker's system_cpu_usage). */
  systemCpu: number;
  onlineCpus: number;
  pids?: { current: number; limit?: number };
  blkio: { serviceBytes: BlkioEntry[]; serviced: BlkioEntry[] };
}

export function detectCgroupVersion(root = CGROUP_ROOT): CgroupVersion {
  return existsSync(join(root, 'cgroup.controllers')) ? 2 : 1;
}

/** Accepts only absolute cgroup paths without `.`/`..` segments, so nothing escapes the cgroup mounts. */
function checkPath(cgroupsPath: string): string {
  const segs = cgroupsPath.split('/').filter((s) => s.length > 0);
  if (!cgroupsPath.startsWith('/') || segs.length === 0 || segs.some((s) => s === '.' || s === '..')) {
    throw invalidParameter(`invalid cgroups path: ${cgroupsPath}`);
  }
  return segs.join('/');
}

interface Ctx {
  root: string;
  version: CgroupVersion;
  rel: string;
}

function ctx(cgroupsPath: string, opts: CgroupOptions): Ctx {
  const root = opts.root ?? CGROUP_ROOT;
  return { root, version: opts.version ?? detectCgroupVersion(root), rel: checkPath(cgroupsPath) };
}

/** The directory of one v1 controller (`cpuacct` may be mounted as `cpu,cpuacct`), or the v2 unified dir. */
function dir(c: Ctx, controller: string): string {
  if (c.version === 2) return join(c.root, c.rel);
  if ((controller === 'cpu' || controller === 'cpuacct') && !existsSync(join(c.root, controller))) {
    return join(c.root, 'cpu,cpuacct', c.rel);
  }
  return join(c.root, controller, c.rel);
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENODEV' || code === 'EOPNOTSUPP' || code === 'EINVAL') return undefined;
    throw err;
  }
}

function toNum(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const t = s.trim();
  if (!/^\d+$/.test(t)) return undefined;
  return Number(t);
}

async function readNum(path: string): Promise<number | undefined> {
  return toNum(await readText(path));
}

/** "key value" lines (memory.stat, cpu.stat, memory.events, memory.oom_control). */
function parseKeyValues(text: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    const n = toNum(v);
    if (k && n !== undefined) out[k] = n;
  }
  return out;
}

/** v1 blkio files: "8:0 Read 4096" lines; the device-less "Total N" line is dropped. */
export function parseBlkioV1(text: string | undefined): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const m = /^(\d+):(\d+)\s+(\S+)\s+(\d+)$/.exec(line.trim());
    if (m) out.push({ major: Number(m[1]), minor: Number(m[2]), op: m[3]!, value: Number(m[4]) });
  }
  return out;
}

/** v2 io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 ...", reported as Docker does (lower-case read/write). */
export function parseIoStatV2(text: string | undefined): RawStats['blkio'] {
  const serviceBytes: BlkioEntry[] = [];
  const serviced: BlkioEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const [dev, ...kvs] = line.trim().split(/\s+/);
    const m = /^(\d+):(\d+)$/.exec(dev ?? '');
    if (!m) continue;
    const major = Number(m[1]);
    const minor = Number(m[2]);
    const kv: Record<string, number> = {};
    for (const p of kvs) {
      const [k, v] = p.split('=');
      const n = toNum(v);
      if (k && n !== undefined) kv[k] = n;
    }
    serviceBytes.push({ major, minor, op: 'read', value: kv.rbytes ?? 0 }, { major, minor, op: 'write', value: kv.wbytes ?? 0 });
    serviced.push({ major, minor, op: 'read', value: kv.rios ?? 0 }, { major, minor, op: 'write', value: kv.wios ?? 0 });
  }
  return { serviceBytes, serviced };
}

let hostResources: { cpus: number; onlineCpus: string; onlineMems: string } | undefined;

/** The host's CPU count and its online CPUs and memory nodes (kernel list form), read once. */
export function readHostResources(): { cpus: number; onlineCpus: string; onlineMems: string } {
  const read = (path: string, dflt: string): string => {
    try {
      return readFileSync(path, 'utf8').trim();
    } catch {
      return dflt;
    }
  };
  hostResources ??= {
    cpus: availableParallelism(),
    onlineCpus: read('/sys/devices/system/cpu/online', `0-${availableParallelism() - 1}`),
    onlineMems: read('/sys/devices/system/node/online', '0'),
  };
  return hostResources;
}

/** The host's CPU time (ns) as Docker computes it, from the aggregate `cpu` line, and the online CPU count. */
export function parseProcStat(text: string): { systemCpu: number; onlineCpus: number } {
  let systemCpu = 0;
  let onlineCpus = 0;
  for (const line of text.split('\n')) {
    const parts = line.trim().split(/\s+/);
    if (parts[0] === 'cpu') {
      // user nice system idle iowait irq softirq, as Docker sums them
      for (const p of parts.slice(1, 8)) systemCpu += Number(p) || 0;
    } else if (/^cpu\d+$/.test(parts[0] ?? '')) {
      onlineCpus++;
    }
  }
  return { systemCpu: systemCpu * NS_PER_TICK, onlineCpus };
}

/** A v1 limit of "no limit" is a huge page-aligned number; v2 says "max". Both report the host's memory, as Docker does. */
function memoryLimit(raw: string | undefined): number {
  const machine = totalmem();
  const n = toNum(raw);
  if (n === undefined || n > machine) return machine;
  return n;
}

async function readStatsV1(c: Ctx): Promise<Omit<RawStats, 'systemCpu' | 'onlineCpus'>> {
  const mem = dir(c, 'memory');
  const cpuacct = dir(c, 'cpuacct');
  const cpu = dir(c, 'cpu');
  const pids = dir(c, 'pids');
  const blkio = dir(c, 'blkio');
  const [usage, maxUsage, failcnt, limit, memStat, total, percpu, acctStat, cpuStat, pidsCur, pidsMax] = await Promise.all([
    readNum(join(mem, 'memory.usage_in_bytes')),
    readNum(join(mem, 'memory.max_usage_in_bytes')),
    readNum(join(mem, 'memory.failcnt')),
    readText(join(mem, 'memory.limit_in_bytes')),
    readText(join(mem, 'memory.stat')),
    readNum(join(cpuacct, 'cpuacct.usage')),
    readText(join(cpuacct, 'cpuacct.usage_percpu')),
    readText(join(cpuacct, 'cpuacct.stat')),
    readText(join(cpu, 'cpu.stat')),
    readNum(join(pids, 'pids.current')),
    readText(join(pids, 'pids.max')),
  ]);
  const stats: RawStats = { version: 1, systemCpu: 0, onlineCpus: 0, blkio: { serviceBytes: [], serviced: [] } };
  if (usage !== undefined) {
    stats.memory = { usage, limit: memoryLimit(limit), stats: parseKeyValues(memStat) };
    if (maxUsage !== undefined) stats.memory.maxUsage = maxUsage;
    if (failcnt !== undefined) stats.memory.failcnt = failcnt;
  }
  if (total !== undefined) {
    const acct = parseKeyValues(acctStat);
    const thr = parseKeyValues(cpuStat);
    stats.cpu = {
      total,
      kernel: (acct.system ?? 0) * NS_PER_TICK,
      user: (acct.user ?? 0) * NS_PER_TICK,
      throttling: { periods: thr.nr_periods ?? 0, throttledPeriods: thr.nr_throttled ?? 0, throttledTime: thr.throttled_time ?? 0 },
    };
    const per = (percpu ?? '').trim().split(/\s+/).map(toNum);
    if (per.length > 0 && per.every((n) => n !== undefined)) stats.cpu.percpu = per as number[];
  }
  if (pidsCur !== undefined) {
    stats.pids = { current: pidsCur };
    const lim = toNum(pidsMax);
    if (lim !== undefined) stats.pids.limit = lim;
  }
  // Whichever I/O scheduler accounts for the device: CFQ, BFQ, else the throttle layer (always present).
  for (const prefix of ['blkio.', 'blkio.bfq.', 'blkio.throttle.']) {
    const serviceBytes = parseBlkioV1(await readText(join(blkio, `${prefix}io_service_bytes_recursive`)));
    if (serviceBytes.length === 0) continue;
    const serviced = parseBlkioV1(await readText(join(blkio, `${prefix}io_serviced_recursive`)));
    stats.blkio = { serviceBytes, serviced };
    break;
  }
  return stats;
}

async function readStatsV2(c: Ctx): Promise<Omit<RawStats, 'systemCpu' | 'onlineCpus'>> {
  const d = dir(c, '');
  const [current, max, memStat, cpuStat, pidsCur, pidsMax, ioStat] = await Promise.all([
    readNum(join(d, 'memory.current')),
    readText(join(d, 'memory.max')),
    readText(join(d, 'memory.stat')),
    readText(join(d, 'cpu.stat')),
    readNum(join(d, 'pids.current')),
    readText(join(d, 'pids.max')),
    readText(join(d, 'io.stat')),
  ]);
  const stats: RawStats = { version: 2, systemCpu: 0, onlineCpus: 0, blkio: parseIoStatV2(ioStat) };
  if (current !== undefined) stats.memory = { usage: current, limit: memoryLimit(max), stats: parseKeyValues(memStat) };
  if (cpuStat !== undefined) {
    const s = parseKeyValues(cpuStat);
    stats.cpu = {
      total: (s.usage_usec ?? 0) * 1000,
      kernel: (s.system_usec ?? 0) * 1000,
      user: (s.user_usec ?? 0) * 1000,
      throttling: { periods: s.nr_periods ?? 0, throttledPeriods: s.nr_throttled ?? 0, throttledTime: (s.throttled_usec ?? 0) * 1000 },
    };
  }
  if (pidsCur !== undefined) {
    stats.pids = { current: pidsCur };
    const lim = toNum(pidsMax);
    if (lim !== undefined) stats.pids.limit = lim;
  }
  return stats;
}

export async function readStats(cgroupsPath: string, opts: CgroupOptions = {}): Promise<RawStats> {
  const c = ctx(cgroupsPath, opts);
  const [base, procStat] = await Promise.all([
    c.version === 2 ? readStatsV2(c) : readStatsV1(c),
    readFile(opts.procStat ?? '/proc/stat', 'utf8'),
  ]);
  const host = parseProcStat(procStat);
  const onlineCpus = host.onlineCpus > 0 ? host.onlineCpus : (base.cpu?.percpu?.length ?? 0);
  return { ...base, systemCpu: host.systemCpu, onlineCpus };
}

function parsePids(text: string | undefined): number[] {
  return (text ?? '')
    .split('\n')
    .map(toNum)
    .filter((n): n is number => n !== undefined);
}

/** Processes in the container's cgroup; empty when the cgroup is gone. */
export async function listPids(cgroupsPath: string, opts: CgroupOptions = {}): Promise<number[]> {
  const c = ctx(cgroupsPath, opts);
  if (c.version === 2) return parsePids(await readText(join(dir(c, ''), 'cgroup.procs')));
  for (const controller of ['pids', 'memory', 'cpu']) {
    const text = await readText(join(dir(c, controller), 'cgroup.procs'));
    if (text !== undefined) return parsePids(text);
  }
  return [];
}

/** OOM kills recorded by the kernel for this cgroup; 0 when the cgroup is gone. Read before `runc delete`. */
export async function readOomKillCount(cgroupsPath: string, opts: CgroupOptions = {}): Promise<number> {
  const c = ctx(cgroupsPath, opts);
  const file = c.version === 2 ? join(dir(c, ''), 'memory.events') : join(dir(c, 'memory'), 'memory.oom_control');
  return parseKeyValues(await readText(file)).oom_kill ?? 0;
}

async function rmdirTree(path: string, retries: number): Promise<void> {
  let entries;
  try {
    entries = await readdir(path, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  // Child cgroups must go first: a cgroup with children cannot be removed.
  for (const e of entries) if (e.isDirectory()) await rmdirTree(join(path, e.name), retries);
  for (let attempt = 0; ; attempt++) {
    try {
      await rmdir(path);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      // EBUSY: the last tasks are still exiting; give them a moment, then leave the directory.
      if (code === 'EBUSY' || code === 'ENOTEMPTY') {
        if (attempt >= retries) return;
        await sleep(20 * (attempt + 1));
        continue;
      }
      throw err;
    }
  }
}

/**
 * One attempt on the calling thread: cgroupfs answers at once, and a dozen thread-pool trips
 * (one per hierarchy and step) cost a small machine more than the system calls. False when a
 * cgroup is still busy (its last tasks exiting): the caller retries with waits.
 */
function rmdirTreeSync(path: string): boolean {
  let entries;
  try {
    entries = readdirSync(path, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw err;
  }
  for (const e of entries) if (e.isDirectory() && !rmdirTreeSync(join(path, e.name))) return false;
  try {
    rmdirSync(path);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return true;
    if (code === 'EBUSY' || code === 'ENOTEMPTY') return false;
    throw err;
  }
}

/** Removes the cgroup from every v1 hierarchy (runc creates it in all of them) or from the unified tree. */
export async function removeCgroup(cgroupsPath: string, opts: CgroupOptions & { retries?: number } = {}): Promise<void> {
  const c = ctx(cgroupsPath, opts);
  const retries = opts.retries ?? 5;
  const remove = async (path: string): Promise<void> => {
    if (!rmdirTreeSync(path)) await rmdirTree(path, retries);
  };
  if (c.version === 2) {
    await remove(join(c.root, c.rel));
    return;
  }
  // Symlinked aliases (`cpu -> cpu,cpuacct`) are not directories here; the real mount is visited by its own name.
  const hierarchies = readdirSync(c.root, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  await Promise.all(hierarchies.map((h) => remove(join(c.root, h, c.rel))));
}

/** A JSON object as sent on the wire. */
export type StatsJson = Record<string, unknown>;

function blkioJson(entries: BlkioEntry[]): BlkioEntry[] | null {
  return entries.length > 0 ? entries : null;
}

function cpuJson(raw: RawStats | undefined): StatsJson {
  const cpu = raw?.cpu;
  const usage: StatsJson = {
    total_usage: cpu?.total ?? 0,
    usage_in_kernelmode: cpu?.kernel ?? 0,
    usage_in_usermode: cpu?.user ?? 0,
  };
  if (cpu?.percpu !== undefined && cpu.percpu.length > 0) usage.percpu_usage = cpu.percpu;
  const out: StatsJson = { cpu_usage: usage };
  // Go's omitempty: zero values are left out, as dockerd does for the first sample's precpu_stats.
  if (raw !== undefined && raw.systemCpu > 0) out.system_cpu_usage = raw.systemCpu;
  if (raw !== undefined && raw.onlineCpus > 0) out.online_cpus = raw.onlineCpus;
  out.throttling_data = {
    periods: cpu?.throttling.periods ?? 0,
    throttled_periods: cpu?.throttling.throttledPeriods ?? 0,
    throttled_time: cpu?.throttling.throttledTime ?? 0,
  };
  return out;
}

const ZERO_TIME = '0001-01-01T00:00:00Z';

/**
 * The Engine API's ContainerStatsResponse. The docker CLI derives CPU % from cpu_stats − precpu_stats
 * (total_usage over system_cpu_usage × online_cpus) and memory from usage minus `total_inactive_file`
 * (v1) or `inactive_file` (v2), so those names are exactly moby's.
 */
export function toDockerStats(raw: RawStats, prev: RawStats | undefined, meta: { id: string; name: string; read: Date; preread?: Date; networks?: Record<string, object> }): StatsJson {
  const memory: StatsJson = {};
  if (raw.memory !== undefined) {
    memory.usage = raw.memory.usage;
    if (raw.memory.maxUsage !== undefined) memory.max_usage = raw.memory.maxUsage;
    memory.stats = raw.memory.stats;
    if (raw.memory.failcnt !== undefined) memory.failcnt = raw.memory.failcnt;
    memory.limit = raw.memory.limit;
  }
  const pids: StatsJson = {};
  if (raw.pids !== undefined) {
    pids.current = raw.pids.current;
    if (raw.pids.limit !== undefined && raw.pids.limit > 0) pids.limit = raw.pids.limit;
  }
  return {
    read: meta.read.toISOString(),
    preread: prev !== undefined && meta.preread !== undefined ? meta.preread.toISOString() : ZERO_TIME,
    pids_stats: pids,
    blkio_stats: {
      io_service_bytes_recursive: blkioJson(raw.blkio.serviceBytes),
      io_serviced_recursive: blkioJson(raw.blkio.serviced),
      // What only CFQ kept: empty lists on v1, absent (null) on v2, as Docker reports them.
      io_queue_recursive: raw.version === 1 ? [] : null,
      io_service_time_recursive: raw.version === 1 ? [] : null,
      io_wait_time_recursive: raw.version === 1 ? [] : null,
      io_merged_recursive: raw.version === 1 ? [] : null,
      io_time_recursive: raw.version === 1 ? [] : null,
      sectors_recursive: raw.version === 1 ? [] : null,
    },
    num_procs: 0,
    storage_stats: {},
    cpu_stats: cpuJson(raw),
    precpu_stats: cpuJson(prev),
    memory_stats: memory,
    ...(meta.networks ? { networks: meta.networks } : {}),
    name: meta.name.startsWith('/') ? meta.name : `/${meta.name}`,
    id: meta.id,
  };
}

/** The Cgroups port on the host's cgroup file systems (v1 or v2). */
let features: CgroupFeatures | undefined;

/**
 * What the host's cgroups can limit, from the interface files they offer (as Docker's sysinfo
 * finds it): on v1 the blkio files (a weight needs the CFQ or BFQ scheduler), `cpu.rt_runtime_us`
 * and the memory cgroup's OOM control; on v2 the io controller. Read once.
 */
export function readCgroupFeatures(root = CGROUP_ROOT): CgroupFeatures {
  if (features && root === CGROUP_ROOT) return features;
  let out: CgroupFeatures;
  if (detectCgroupVersion(root) === 2) {
    let controllers: string[] = [];
    try {
      controllers = readFileSync(join(root, 'cgroup.controllers'), 'utf8').trim().split(/\s+/);
    } catch {}
    const io = controllers.includes('io');
    out = { version: 2, blkioWeight: io, blkioWeightDevice: io, blkioReadBps: io, blkioWriteBps: io, blkioReadIops: io, blkioWriteIops: io, cpuRealtime: false, oomKillDisable: false };
  } else {
    const has = (controller: string, file: string): boolean => existsSync(join(root, controller, file));
    out = {
      version: 1,
      blkioWeight: has('blkio', 'blkio.weight') || has('blkio', 'blkio.bfq.weight'),
      blkioWeightDevice: has('blkio', 'blkio.weight_device') || has('blkio', 'blkio.bfq.weight_device'),
      blkioReadBps: has('blkio', 'blkio.throttle.read_bps_device'),
      blkioWriteBps: has('blkio', 'blkio.throttle.write_bps_device'),
      blkioReadIops: has('blkio', 'blkio.throttle.read_iops_device'),
      blkioWriteIops: has('blkio', 'blkio.throttle.write_iops_device'),
      cpuRealtime: has('cpu', 'cpu.rt_runtime_us'),
      oomKillDisable: has('memory', 'memory.oom_control'),
    };
  }
  if (root === CGROUP_ROOT) features = out;
  return out;
}

const MS_REMOUNT = 32;
const MS_NOATIME = 1024;
const MS_NODIRATIME = 2048;
const MS_RELATIME = 1 << 21;
const MS_STRICTATIME = 1 << 24;

/** A remount of the host's cgroup file system: the system call's target, flags and data. */
export interface Remount {
  target: string;
  flags: number;
  data: string;
}

/**
 * The remount that turns on `favordynmods` (Linux 6.0+), found in /proc/self/mountinfo: the v2
 * mount (at /sys/fs/cgroup or, on a hybrid host, /sys/fs/cgroup/unified). Moving a process into a
 * cgroup takes a lock that every fork and exit on the host also takes; without the option, each
 * first move after a quiet spell waits a whole RCU grace period for it (5 ms and more measured
 * here), and runc moves every container's first process, and every exec'd one. The option is one switch for the whole kernel (any hierarchy
 * turns it on; Linux 6.17+ cannot turn it off again before a reboot). The mount keeps its own
 * flags and every option it has: a remount of cgroup2 drops what it is not given (nsdelegate, …).
 * A v1 hierarchy is left alone (its remount refuses options a hybrid host's hierarchies show).
 * Undefined when the option is on already, or when there is no writable cgroup2 mount.
 */
export function favordynmodsRemount(mountinfo: string): Remount | undefined {
  interface Entry { target: string; mountOpts: string[]; fstype: string; superOpts: string[] }
  const entries: Entry[] = [];
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const head = line.slice(0, sep).split(' ');
    const tail = line.slice(sep + 3).split(' ');
    if (head.length < 6 || tail.length < 3) continue;
    const fstype = tail[0]!;
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    if (head[3] !== '/') continue; // a bind mount of a subtree, as in a container
    const target = head[4]!.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    entries.push({ target, mountOpts: head[5]!.split(','), fstype, superOpts: tail[2]!.split(',') });
  }
  if (entries.some((e) => e.superOpts.includes('favordynmods'))) return undefined;
  const chosen = entries.find((e) => e.fstype === 'cgroup2');
  if (!chosen || chosen.mountOpts.includes('ro') || chosen.superOpts.includes('ro')) return undefined;
  const FLAGS: Record<string, number> = { nosuid: MS_NOSUID, nodev: MS_NODEV, noexec: MS_NOEXEC, noatime: MS_NOATIME, nodiratime: MS_NODIRATIME, relatime: MS_RELATIME, strictatime: MS_STRICTATIME };
  let flags = MS_REMOUNT;
  for (const o of chosen.mountOpts) flags |= FLAGS[o] ?? 0;
  const data = [...chosen.superOpts.filter((o) => o !== 'rw'), 'favordynmods'].join(',');
  return { target: chosen.target, flags, data };
}

/**
 * Turns on `favordynmods` on the host's cgroup file system (see favordynmodsRemount). Answers the
 * mount point it remounted, undefined when nothing was to do; throws when the kernel refused
 * (older than 6.0, or no right to remount here).
 */
export function favorDynamicModifications(mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): string | undefined {
  const remount = favordynmodsRemount(mountinfo);
  if (!remount || !syscallsAvailable()) return undefined;
  sysMount('cgroup', remount.target, '', remount.flags, remount.data);
  return remount.target;
}

export const hostCgroups: Cgroups = {
  remove: (path) => removeCgroup(path),
  oomKillCount: (path) => readOomKillCount(path),
  hostResources: readHostResources,
  features: () => readCgroupFeatures(),
};
