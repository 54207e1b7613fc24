// Builds the OCI runtime config (config.json) for a container with Docker's defaults: capabilities,
// seccomp, masked and read-only paths, default mounts and devices, resources and rlimits.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { ContainerConfig, HostConfig } from '../../core/types.ts';
import { internal, invalidParameter, notImplemented } from '../../core/errors.ts';
import { allCapabilities, applyCapChanges, defaultCapabilities } from './capabilities.ts';
import { customSeccompProfile, defaultSeccompProfile, type OciSeccomp } from './seccomp.ts';
import { parseDeviceRule, type OciDevice, type ContainerDevice, type OciBlockIO } from './devices.ts';

export type { OciDevice, ContainerDevice } from './devices.ts';
export { resolveDevice, resolveBlockIo, hostDevices, checkDeviceMapping, parseDeviceRule } from './devices.ts';

export { applyCapChanges, defaultCapabilities, allCapabilities, hostCapabilities, capabilityMask } from './capabilities.ts';
export { defaultSeccompProfile } from './seccomp.ts';
export type { OciSeccomp } from './seccomp.ts';
export { parseUserSpec, resolveUser } from './user.ts';
export type { ResolvedUser } from './user.ts';

export interface OciMount {
  destination: string;
  type: string;
  source: string;
  options?: string[];
}

export interface OciRlimit {
  type: string;
  hard: number;
  soft: number;
}

export interface OciProcess {
  terminal: boolean;
  user: { uid: number; gid: number; additionalGids?: number[] };
  args: string[];
  env: string[];
  cwd: string;
  capabilities: { bounding: string[]; effective: string[]; inheritable: string[]; permitted: string[]; ambient: string[] };
  rlimits: OciRlimit[];
  noNewPrivileges: boolean;
  oomScoreAdj: number;
  apparmorProfile?: string;
}

export interface OciDeviceRule {
  allow: boolean;
  type?: 'a' | 'c' | 'b';
  major?: number;
  minor?: number;
  access: string;
}

export interface OciResources {
  devices: OciDeviceRule[];
  memory?: { limit?: number; swap?: number; reservation?: number; disableOOMKiller?: boolean; swappiness?: number };
  cpu?: { shares?: number; quota?: number; period?: number; cpus?: string; mems?: string; realtimePeriod?: number; realtimeRuntime?: number };
  pids?: { limit: number };
  blockIO?: OciBlockIO;
}

export interface OciLinux {
  namespaces: Array<{ type: 'pid' | 'ipc' | 'uts' | 'mount' | 'network' | 'cgroup'; path?: string }>;
  cgroupsPath: string;
  resources: OciResources;
  maskedPaths: string[];
  readonlyPaths: string[];
  devices: OciDevice[];
  seccomp?: OciSeccomp;
  sysctl?: Record<string, string>;
  rootfsPropagation?: 'shared' | 'rslave';
}

/** The subset of the OCI runtime spec berth emits. */
export interface OciSpec {
  ociVersion: string;
  process: OciProcess;
  root: { path: string; readonly: boolean };
  hostname?: string;
  mounts: OciMount[];
  linux: OciLinux;
}

export interface SpecInput {
  id: string;
  /** Absolute path of the mounted overlay. */
  rootfs: string;
  /** Already merged with the image config. */
  config: ContainerConfig;
  hostConfig: HostConfig;
  /** Final argv (entrypoint + cmd), non-empty. */
  args: string[];
  user: { uid: number; gid: number; additionalGids: number[] };
  hostname: string;
  /** Join this netns; undefined with NetworkMode 'host' = the host's; otherwise a new private one. */
  netnsPath?: string;
  cgroupsPath: string;
  /** Extra mounts (resolv.conf, hosts, hostname, volumes) placed after the defaults. */
  mounts: Array<{ destination: string; source: string; type: string; options: string[] }>;
  /** Every RLIMIT_NOFILE value is capped at `hard`: the runtime cannot raise it past the host's. */
  hostRlimitNofile: { soft: number; hard: number };
  /** The host kernel has IPv6: a container's own network namespace gets it turned off (berth's networks are IPv4). */
  hostIpv6?: boolean;
  /** False when the kernel runs no x32-ABI programs: the default seccomp profile then leaves x32 out. */
  x32Abi?: boolean;
  /** tini-static; bound read-only at /sbin/docker-init when HostConfig.Init. */
  initPath?: string;
  /** Host devices made in the container's /dev (`--device`, or every one for privileged). */
  devices?: ContainerDevice[];
  /** The container's blkio settings with their devices looked up (resolveBlockIo). */
  blockIO?: OciBlockIO;
  /** `--pid container:X`: X's pid namespace. */
  pidnsPath?: string;
  /** `--ipc container:X`: X's ipc namespace. */
  ipcnsPath?: string;
  /** A host tmpfs to bind at /dev/shm (`--ipc shareable`, or the one of the container joined). */
  shmPath?: string;
}

const OCI_VERSION = '1.0.2-dev';
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;
const CPU_PERIOD = 100_000;
const MIN_MEMORY = 6 * 1024 * 1024;
const INIT_PATH = '/sbin/docker-init';

const MASKED_PATHS = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/interrupts',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];

const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

let thermalPaths: string[] | undefined;
/** Per-CPU thermal_throttle directories leak host activity; they exist only on some hosts. */
function thermalThrottlePaths(): string[] {
  if (thermalPaths === undefined) {
    const base = '/sys/devices/system/cpu';
    try {
      thermalPaths = readdirSync(base)
        .filter((n) => /^cpu[0-9]+$/.test(n))
        .map((n) => `${base}/${n}/thermal_throttle`)
        .filter((p) => existsSync(p));
    } catch {
      thermalPaths = [];
    }
  }
  return thermalPaths;
}

/** Docker's masked paths for this host. */
export function defaultMaskedPaths(): string[] {
  return [...MASKED_PATHS, ...thermalThrottlePaths()];
}

export function defaultReadonlyPaths(): string[] {
  return [...READONLY_PATHS];
}

const dev = (type: 'c' | 'b', major: number, minor: number | undefined): OciDeviceRule =>
  minor === undefined ? { allow: true, type, major, access: 'rwm' } : { allow: true, type, major, minor, access: 'rwm' };

/** Deny everything, allow the standard character devices, and keep /dev/fuse out. */
function defaultDeviceRules(): OciDeviceRule[] {
  return [
    { allow: false, access: 'rwm' },
    dev('c', 1, 3), // null
    dev('c', 1, 5), // zero
    dev('c', 1, 7), // full
    dev('c', 1, 8), // random
    dev('c', 1, 9), // urandom
    dev('c', 5, 0), // tty
    dev('c', 5, 1), // console
    dev('c', 5, 2), // ptmx
    dev('c', 136, undefined), // pts/*
    dev('c', 10, 200), // net/tun
    { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' }, // fuse
  ];
}


export interface SecurityOpts {
  noNewPrivileges: boolean;
  seccomp: 'default' | 'unconfined' | 'custom';
  /** The profile's JSON, Docker's format (seccomp: custom). */
  seccompProfile?: string;
  apparmor?: string;
  labelDisable?: boolean;
}

/** Parses HostConfig.SecurityOpt as dockerd does ("k=v"; the old "k:v" form is still accepted). */
export function parseSecurityOpts(opts: string[] | null | undefined): SecurityOpts {
  const out: SecurityOpts = { noNewPrivileges: false, seccomp: 'default' };
  for (const opt of opts ?? []) {
    if (opt === 'no-new-privileges') {
      out.noNewPrivileges = true;
      continue;
    }
    if (opt === 'disable') {
      out.labelDisable = true;
      continue;
    }
    const eq = opt.indexOf('=');
    const colon = opt.indexOf(':');
    const sep = eq >= 0 ? eq : colon;
    if (sep < 0) throw invalidParameter(`invalid --security-opt 1: "${opt}"`);
    const key = opt.slice(0, sep);
    const value = opt.slice(sep + 1);
    switch (key) {
      case 'no-new-privileges':
        if (/^(1|t|true|TRUE|True)$/.test(value)) out.noNewPrivileges = true;
        else if (/^(0|f|false|FALSE|False)$/.test(value)) out.noNewPrivileges = false;
        else throw invalidParameter(`invalid --security-opt 2: "${opt}"`);
        break;
      case 'seccomp':
        if (value === 'unconfined') out.seccomp = 'unconfined';
        else if (value === '' || value === 'builtin') out.seccomp = 'default';
        else {
          // The docker CLI sends a profile file's JSON content inline; checked here, at create.
          try {
            customSeccompProfile(value);
          } catch (err) {
            throw invalidParameter((err as Error).message);
          }
          out.seccomp = 'custom';
          out.seccompProfile = value;
        }
        break;
      case 'apparmor':
        out.apparmor = value;
        break;
      case 'label':
        // SELinux labels do not apply on this host; only "disable" is recorded.
        if (value === 'disable') out.labelDisable = true;
        break;
      default:
        throw invalidParameter(`invalid --security-opt 2: "${opt}"`);
    }
  }
  return out;
}


/** PATH, HOSTNAME and TERM (with a TTY) first, then the container's own variables replacing or appending. */
function buildEnv(config: ContainerConfig, hostname: string): string[] {
  const base = [`PATH=${DEFAULT_PATH}`, `HOSTNAME=${hostname}`, ...(config.Tty ? ['TERM=xterm'] : [])];
  return replaceOrAppendEnv(base, config.Env ?? []);
}

/**
 * Docker's rule for variables over others: `K=v` replaces K in place or is appended; a bare
 * name unsets the variable.
 */
export function replaceOrAppendEnv(base: readonly string[], overrides: readonly string[]): string[] {
  const env = new Map<string, string>();
  for (const kv of base) {
    const i = kv.indexOf('=');
    if (i > 0) env.set(kv.slice(0, i), kv);
  }
  for (const kv of overrides) {
    const i = kv.indexOf('=');
    if (i < 0) env.delete(kv);
    else env.set(kv.slice(0, i), kv);
  }
  return [...env.values()];
}


const RLIMITS = new Set([
  'core',
  'cpu',
  'data',
  'fsize',
  'locks',
  'memlock',
  'msgqueue',
  'nice',
  'nofile',
  'nproc',
  'rss',
  'rtprio',
  'rttime',
  'sigpending',
  'stack',
]);

function buildRlimits(hc: HostConfig, host: { soft: number; hard: number }): OciRlimit[] {
  const byType = new Map<string, OciRlimit>();
  for (const u of hc.Ulimits ?? []) {
    const name = u.Name.toLowerCase();
    if (!RLIMITS.has(name)) throw invalidParameter(`invalid ulimit type: ${u.Name}`);
    if (u.Soft > u.Hard && u.Hard >= 0) {
      throw invalidParameter(`ulimit soft limit must be less than or equal to hard limit: ${u.Soft} > ${u.Hard}`);
    }
    byType.set(name, { type: `RLIMIT_${name.toUpperCase()}`, hard: u.Hard, soft: u.Soft });
  }
  const nofile = byType.get('nofile') ?? { type: 'RLIMIT_NOFILE', hard: host.hard, soft: host.soft };
  // -1 means unlimited, which the host's hard limit also caps.
  const cap = (v: number): number => (v < 0 || v > host.hard ? host.hard : v);
  nofile.hard = cap(nofile.hard);
  nofile.soft = Math.min(cap(nofile.soft), nofile.hard);
  byType.set('nofile', nofile);
  return [...byType.values()];
}


/** The cgroup limits `update` changes on a running container (devices stay as they were). */
export function updatableResources(hc: HostConfig): Omit<OciResources, 'devices'> {
  const { devices: _d, ...rest } = buildResources(hc, false);
  if ((hc.BlkioWeight ?? 0) > 0) rest.blockIO = { weight: hc.BlkioWeight! };
  // As Docker's update: real-time CPU settings are kept for the next start, not applied live.
  if (rest.cpu) {
    delete rest.cpu.realtimePeriod;
    delete rest.cpu.realtimeRuntime;
  }
  return rest;
}

function buildResources(hc: HostConfig, privileged: boolean): OciResources {
  const res: OciResources = {
    devices: privileged ? [{ allow: true, access: 'rwm' }] : defaultDeviceRules(),
  };

  const memory = hc.Memory ?? 0;
  const swap = hc.MemorySwap ?? 0;
  const reservation = hc.MemoryReservation ?? 0;
  if (memory < 0 || reservation < 0) throw invalidParameter('memory limits must not be negative');
  if (memory > 0 && memory < MIN_MEMORY) throw invalidParameter('Minimum memory limit allowed is 6MB');
  if (memory > 0 && swap > 0 && swap < memory) {
    throw invalidParameter('Minimum memoryswap limit should be larger than memory limit, see usage');
  }
  if (memory === 0 && swap > 0) {
    throw invalidParameter('You should always set the Memory limit when using Memoryswap limit, see usage');
  }
  const mem: NonNullable<OciResources['memory']> = {};
  if (memory > 0) {
    mem.limit = memory;
    // As dockerd: no explicit swap means as much swap as memory (memory+swap = 2 x memory).
    mem.swap = swap === 0 ? memory * 2 : swap;
  } else if (swap === -1) {
    mem.swap = -1;
  }
  if (reservation > 0) mem.reservation = reservation;
  if (hc.OomKillDisable === true) mem.disableOOMKiller = true;
  if (hc.MemorySwappiness !== undefined && hc.MemorySwappiness !== null && hc.MemorySwappiness >= 0) mem.swappiness = hc.MemorySwappiness;
  if (Object.keys(mem).length > 0) res.memory = mem;

  const cpu: NonNullable<OciResources['cpu']> = {};
  const nano = hc.NanoCpus ?? 0;
  if (nano < 0) throw invalidParameter('Range of CPUs is from 0.01 to the number of CPUs available on the system');
  if (nano > 0 && (hc.CpuPeriod ?? 0) > 0) throw invalidParameter('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (nano > 0 && (hc.CpuQuota ?? 0) > 0) throw invalidParameter('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  if ((hc.CpuShares ?? 0) > 0) cpu.shares = hc.CpuShares;
  if (nano > 0) {
    cpu.period = CPU_PERIOD;
    cpu.quota = Math.trunc((nano * CPU_PERIOD) / 1e9);
  } else {
    if ((hc.CpuPeriod ?? 0) > 0) cpu.period = hc.CpuPeriod;
    if ((hc.CpuQuota ?? 0) > 0) cpu.quota = hc.CpuQuota;
  }
  if (hc.CpusetCpus) cpu.cpus = hc.CpusetCpus;
  if (hc.CpusetMems) cpu.mems = hc.CpusetMems;
  if ((hc.CpuRealtimePeriod ?? 0) > 0) cpu.realtimePeriod = hc.CpuRealtimePeriod!;
  if ((hc.CpuRealtimeRuntime ?? 0) > 0) cpu.realtimeRuntime = hc.CpuRealtimeRuntime!;
  if (Object.keys(cpu).length > 0) res.cpu = cpu;

  if (hc.PidsLimit !== undefined && hc.PidsLimit !== null && hc.PidsLimit > 0) res.pids = { limit: hc.PidsLimit };
  return res;
}


const FLAG_PAIRS: Record<string, string> = {
  ro: 'rw',
  rw: 'rw',
  exec: 'exec',
  noexec: 'exec',
  suid: 'suid',
  nosuid: 'suid',
  dev: 'dev',
  nodev: 'dev',
  atime: 'atime',
  noatime: 'atime',
  relatime: 'atime',
  strictatime: 'atime',
  diratime: 'diratime',
  nodiratime: 'diratime',
  sync: 'sync',
  async: 'sync',
  private: 'propagation',
  rprivate: 'propagation',
  shared: 'propagation',
  rshared: 'propagation',
  slave: 'propagation',
  rslave: 'propagation',
  unbindable: 'propagation',
  runbindable: 'propagation',
};

/** Merges tmpfs options left to right: a later flag or key=value replaces an earlier one of its kind. */
export function mergeTmpfsOptions(options: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (let i = options.length - 1; i >= 0; i--) {
    const opt = options[i]!.trim();
    if (opt === '' || opt === 'defaults') continue;
    const eq = opt.indexOf('=');
    const key = eq >= 0 ? `=${opt.slice(0, eq)}` : (FLAG_PAIRS[opt] ?? opt);
    if (seen.has(key)) continue;
    seen.add(key);
    out.unshift(opt);
  }
  return out;
}

function cleanDestination(dest: string, what: string): string {
  if (!dest.startsWith('/')) throw invalidParameter(`invalid mount config: ${what} destination must be absolute: ${dest}`);
  const clean = path.posix.normalize(dest);
  if (clean !== '/' && clean.endsWith('/')) return clean.slice(0, -1);
  return clean;
}

function defaultMounts(hc: HostConfig, privileged: boolean, ipcMode: string, shmPath: string | undefined): OciMount[] {
  const shm = hc.ShmSize !== undefined && hc.ShmSize > 0 ? hc.ShmSize : DEFAULT_SHM_SIZE;
  const mounts: OciMount[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', privileged ? 'rw' : 'ro'] },
    {
      destination: '/sys/fs/cgroup',
      type: 'cgroup',
      source: 'cgroup',
      options: ['nosuid', 'noexec', 'nodev', privileged ? 'rw' : 'ro'],
    },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
  ];
  if (ipcMode === 'host') {
    mounts.push({ destination: '/dev/shm', type: 'bind', source: '/dev/shm', options: ['rbind', 'nosuid', 'noexec', 'nodev'] });
  } else if (shmPath !== undefined) {
    mounts.push({ destination: '/dev/shm', type: 'bind', source: shmPath, options: ['rbind', 'nosuid', 'noexec', 'nodev'] });
  } else if (ipcMode === 'container') {
    throw internal('ipc mode container: without the shared /dev/shm');
  } else if (ipcMode !== 'none') {
    mounts.push({
      destination: '/dev/shm',
      type: 'tmpfs',
      source: 'shm',
      options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${shm}`],
    });
  }
  return mounts;
}

function tmpfsMounts(hc: HostConfig): OciMount[] {
  const out: OciMount[] = [];
  for (const [dest, data] of Object.entries(hc.Tmpfs ?? {})) {
    const destination = cleanDestination(dest, 'tmpfs');
    if (destination === '/') throw invalidParameter('invalid mount config: tmpfs destination cannot be /');
    const options = mergeTmpfsOptions(['noexec', 'nosuid', 'nodev', 'rprivate', ...data.split(',')]);
    out.push({ destination, type: 'tmpfs', source: 'tmpfs', options });
  }
  return out;
}

const depth = (p: string): number => (p === '/' ? 0 : p.split('/').length - 1);

function buildMounts(input: SpecInput, privileged: boolean, ipcMode: string): OciMount[] {
  const hc = input.hostConfig;
  const user = [
    ...tmpfsMounts(hc),
    ...input.mounts.map((m) => ({ ...m, destination: cleanDestination(m.destination, 'mount'), options: [...m.options] })),
  ];
  if (hc.Init === true) {
    if (input.initPath === undefined) throw internal('init requested but no init binary is configured');
    user.push({ destination: INIT_PATH, type: 'bind', source: input.initPath, options: ['bind', 'ro'] });
  }
  // Parents before children, keeping the given order among equals (Array.prototype.sort is stable).
  user.sort((a, b) => depth(a.destination) - depth(b.destination));

  const userDest = new Set(user.map((m) => m.destination));
  const overDev = userDest.has('/dev');
  const defaults = defaultMounts(hc, privileged, ipcMode, input.shmPath).filter(
    (m) => !userDest.has(m.destination) && !(overDev && m.destination.startsWith('/dev/')),
  );
  if (hc.ReadonlyRootfs) {
    // A read-only root makes the other default mounts read-only too; /dev, /proc and the IPC mounts stay writable.
    const writable = new Set(['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue']);
    for (const m of defaults) {
      if (writable.has(m.destination)) continue;
      const opts = (m.options ?? []).filter((o) => o !== 'rw');
      if (!opts.includes('ro')) opts.push('ro');
      m.options = opts;
    }
  }
  return [...defaults, ...user];
}


function nsMode(value: string | undefined, what: string): 'private' | 'host' | 'none' | 'container' {
  const v = value ?? '';
  if (v === '' || v === 'private' || v === 'shareable') return 'private';
  if (v === 'host') return 'host';
  if (v === 'none' && what === 'ipc') return 'none';
  // Another container's pid namespace (its path is given to buildSpec by the engine).
  if ((what === 'pid' || what === 'ipc') && v.startsWith('container:') && v.length > 'container:'.length) return 'container';
  throw notImplemented(`${what} mode "${v}" is not supported`);
}


/** The OCI runtime config for one container start. Pure apart from a once-cached look at host sysfs. */
export function buildSpec(input: SpecInput): OciSpec {
  const { config, hostConfig: hc } = input;
  if (input.args.length === 0) throw invalidParameter('no command specified');
  if (!path.isAbsolute(input.rootfs)) throw internal(`rootfs must be an absolute path: ${input.rootfs}`);
  const privileged = hc.Privileged === true;
  const sec = parseSecurityOpts(hc.SecurityOpt);

  const caps = privileged ? allCapabilities() : applyCapChanges(defaultCapabilities(), hc.CapAdd, hc.CapDrop);
  const pidMode = nsMode(hc.PidMode, 'pid');
  const ipcMode = nsMode(hc.IpcMode, 'ipc');
  const utsMode = nsMode(hc.UTSMode, 'uts');

  let args = [...input.args];
  if (hc.Init === true) args = [INIT_PATH, '--', ...args];

  const proc: OciProcess = {
    terminal: config.Tty === true,
    user: { uid: input.user.uid, gid: input.user.gid, additionalGids: [...input.user.additionalGids] },
    args,
    env: buildEnv(config, input.hostname),
    cwd: config.WorkingDir || '/',
    // Inheritable stays empty (CVE-2022-24769): exec'd programs must not regain capabilities through file caps.
    capabilities: { bounding: [...caps], effective: [...caps], inheritable: [], permitted: [...caps], ambient: [] },
    rlimits: buildRlimits(hc, input.hostRlimitNofile),
    noNewPrivileges: sec.noNewPrivileges,
    oomScoreAdj: hc.OomScoreAdj ?? 0,
  };
  if (!proc.cwd.startsWith('/')) throw invalidParameter(`the working directory '${proc.cwd}' is invalid, it needs to be an absolute path`);
  if (sec.apparmor !== undefined && sec.apparmor !== '' && sec.apparmor !== 'unconfined') proc.apparmorProfile = sec.apparmor;

  const namespaces: OciLinux['namespaces'] = [];
  if (pidMode === 'private') namespaces.push({ type: 'pid' });
  else if (pidMode === 'container') {
    if (!input.pidnsPath) throw internal('pid mode container: without the other container\'s namespace');
    namespaces.push({ type: 'pid', path: input.pidnsPath });
  }
  if (ipcMode === 'container') {
    if (!input.ipcnsPath) throw internal('ipc mode container: without the other container\'s namespace');
    namespaces.push({ type: 'ipc', path: input.ipcnsPath });
  } else if (ipcMode !== 'host') namespaces.push({ type: 'ipc' });
  if (utsMode === 'private') namespaces.push({ type: 'uts' });
  namespaces.push({ type: 'mount' });
  if (input.netnsPath !== undefined) namespaces.push({ type: 'network', path: input.netnsPath });
  else if (hc.NetworkMode !== 'host') namespaces.push({ type: 'network' });

  const linux: OciLinux = {
    namespaces,
    cgroupsPath: input.cgroupsPath,
    resources: { ...buildResources(hc, privileged), ...(input.blockIO ? { blockIO: input.blockIO } : {}) },
    maskedPaths: privileged ? [] : hc.MaskedPaths ? [...hc.MaskedPaths] : defaultMaskedPaths(),
    readonlyPaths: privileged ? [] : hc.ReadonlyPaths ? [...hc.ReadonlyPaths] : defaultReadonlyPaths(),
    devices: (input.devices ?? []).map((d) => d.device),
  };
  if (!privileged) {
    // Each mapped device is allowed in the device cgroup with the permissions it was given.
    for (const d of input.devices ?? []) linux.resources.devices.push({ allow: true, type: d.device.type, major: d.device.major, minor: d.device.minor, access: d.access });
    for (const r of hc.DeviceCgroupRules ?? []) linux.resources.devices.push(parseDeviceRule(r));
  }
  if (hc.CgroupnsMode === 'private') namespaces.push({ type: 'cgroup' });
  if (!privileged && sec.seccomp === 'default') linux.seccomp = defaultSeccompProfile({ capabilities: caps, ...(input.x32Abi === false ? { x32: false } : {}) });
  if (!privileged && sec.seccomp === 'custom') linux.seccomp = customSeccompProfile(sec.seccompProfile!, { capabilities: caps });
  // As Docker does for networks without IPv6: the container's own namespace has IPv6 turned off,
  // so it has no link-local address and takes no router advertisement from a neighbour
  // (CVE-2020-13401). The container's own --sysctl settings win.
  const ownNetns = hc.NetworkMode !== 'host' && !hc.NetworkMode.startsWith('container:');
  const netSysctls: Record<string, string> = input.hostIpv6 && ownNetns ? { 'net.ipv6.conf.all.disable_ipv6': '1', 'net.ipv6.conf.default.disable_ipv6': '1' } : {};
  // --domainname is the UTS namespace's domain, set as Docker sets it: runc 1.1 ignores the spec's
  // `domainname` field, and writes kernel.domainname only in a UTS namespace of the container's own.
  const utsSysctls: Record<string, string> = utsMode === 'private' && input.config.Domainname ? { 'kernel.domainname': input.config.Domainname } : {};
  const sysctl = { ...netSysctls, ...utsSysctls, ...(hc.Sysctls ?? {}) };
  if (Object.keys(sysctl).length > 0) linux.sysctl = sysctl;
  // As Docker: a shared bind needs the container's root shared too (a slave one, slave), or
  // mounts would not propagate past it.
  const propagations = new Set(input.mounts.flatMap((m) => m.options));
  if (propagations.has('shared') || propagations.has('rshared')) linux.rootfsPropagation = 'shared';
  else if (propagations.has('slave') || propagations.has('rslave')) linux.rootfsPropagation = 'rslave';

  const spec: OciSpec = {
    ociVersion: OCI_VERSION,
    process: proc,
    root: { path: input.rootfs, readonly: hc.ReadonlyRootfs === true },
    mounts: buildMounts(input, privileged, ipcMode),
    linux,
  };
  // The runtime refuses a hostname without a UTS namespace of the container's own.
  if (utsMode === 'private') spec.hostname = input.hostname;
  return spec;
}
