// `berth run`/`berth create` arguments → the Engine API create body, as the docker CLI builds it.
// Pure: the environment and file reads are passed in, so every translation is unit-tested.
import type { ContainerConfig, HostConfig, RestartPolicy, Ulimit } from '../core/types.ts';
import { FlagError, parseArgs, type FlagSpec, type Flags } from './flags.ts';

/** An invalid option value or combination (docker exits 125 with "docker: <message>"). */
export class RunOptionsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunOptionsError';
  }
}

export interface MountSpec {
  Type: string;
  Source?: string;
  Target: string;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean; CreateMountpoint?: boolean };
  VolumeOptions?: {
    NoCopy?: boolean;
    Labels?: Record<string, string>;
    Subpath?: string;
    DriverConfig?: { Name?: string; Options?: Record<string, string> };
  };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number };
}

export type CreateHostConfig = HostConfig & { Mounts?: MountSpec[] };

export interface NetworkingConfig {
  EndpointsConfig: Record<string, Record<string, unknown>>;
}

export type PullPolicy = 'missing' | 'never' | 'always';

export interface RunOptions {
  name?: string;
  image: string;
  detach: boolean;
  rm: boolean;
  interactive: boolean;
  tty: boolean;
  attach: { stdin: boolean; stdout: boolean; stderr: boolean };
  sigProxy: boolean;
  detachKeys?: string;
  /** `--cidfile`: where the new container's ID is written. */
  cidfile?: string;
  /** `-q`: no pull output. */
  quiet?: boolean;
  pull: PullPolicy;
  platform?: string;
  config: ContainerConfig;
  hostConfig: CreateHostConfig;
  networkingConfig: NetworkingConfig;
}

/** The body of POST /containers/create. */
export type CreateBody = ContainerConfig & { HostConfig: CreateHostConfig; NetworkingConfig: NetworkingConfig };

export function createBody(o: RunOptions): CreateBody {
  return { ...o.config, HostConfig: o.hostConfig, NetworkingConfig: o.networkingConfig };
}

const CREATE_FLAGS: FlagSpec[] = [
  { long: 'add-host', type: 'list', help: 'Add a custom host-to-IP mapping (host:ip)' },
  { long: 'attach', short: 'a', type: 'list', help: 'Attach to STDIN, STDOUT or STDERR' },
  { long: 'cap-add', type: 'list', help: 'Add Linux capabilities' },
  { long: 'cap-drop', type: 'list', help: 'Drop Linux capabilities' },
  { long: 'cgroup-parent', type: 'string', help: 'Optional parent cgroup for the container' },
  { long: 'cpu-period', type: 'int', help: 'Limit CPU CFS (Completely Fair Scheduler) period' },
  { long: 'cpu-quota', type: 'int', help: 'Limit CPU CFS (Completely Fair Scheduler) quota' },
  { long: 'cpu-shares', short: 'c', type: 'int', help: 'CPU shares (relative weight)' },
  { long: 'cpus', type: 'string', help: 'Number of CPUs' },
  { long: 'cpuset-cpus', type: 'string', help: 'CPUs in which to allow execution (0-3, 0,1)' },
  { long: 'cpuset-mems', type: 'string', help: 'MEMs in which to allow execution (0-3, 0,1)' },
  { long: 'dns', type: 'list', help: 'Set custom DNS servers' },
  { long: 'dns-option', type: 'list', help: 'Set DNS options' },
  { long: 'dns-search', type: 'list', help: 'Set custom DNS search domains' },
  { long: 'domainname', type: 'string', help: 'Container NIS domain name' },
  { long: 'entrypoint', type: 'string', help: 'Overwrite the default ENTRYPOINT of the image' },
  { long: 'env', short: 'e', type: 'list', help: 'Set environment variables' },
  { long: 'env-file', type: 'list', help: 'Read in a file of environment variables' },
  { long: 'expose', type: 'list', help: 'Expose a port or a range of ports' },
  { long: 'group-add', type: 'list', help: 'Add additional groups to join' },
  { long: 'hostname', short: 'h', type: 'string', help: 'Container host name' },
  { long: 'init', type: 'bool', help: 'Run an init inside the container that forwards signals and reaps processes' },
  { long: 'link', type: 'list', help: 'Add link to another container (NAME[:ALIAS])' },
  { long: 'device', type: 'list', help: 'Add a host device to the container (HOST[:CONTAINER][:PERMISSIONS])' },
  { long: 'runtime', type: 'string', help: 'Runtime to use for this container (runc, crun, …: see `berth info`)' },
  { long: 'interactive', short: 'i', type: 'bool', help: 'Keep STDIN open even if not attached' },
  { long: 'ipc', type: 'string', help: 'IPC mode to use' },
  { long: 'label', short: 'l', type: 'list', help: 'Set meta data on a container' },
  { long: 'label-file', type: 'list', help: 'Read in a line delimited file of labels' },
  { long: 'log-driver', type: 'string', help: 'Logging driver for the container' },
  { long: 'log-opt', type: 'list', help: 'Log driver options' },
  { long: 'memory', short: 'm', type: 'string', help: 'Memory limit' },
  { long: 'memory-reservation', type: 'string', help: 'Memory soft limit' },
  { long: 'memory-swap', type: 'string', help: "Swap limit equal to memory plus swap: '-1' to enable unlimited swap" },
  { long: 'mount', type: 'list', help: 'Attach a filesystem mount to the container' },
  { long: 'name', type: 'string', help: 'Assign a name to the container' },
  { long: 'network', type: 'string', aliases: ['net'], help: 'Connect a container to a network' },
  { long: 'oom-kill-disable', type: 'bool', help: 'Disable OOM Killer' },
  { long: 'oom-score-adj', type: 'int', help: "Tune host's OOM preferences (-1000 to 1000)" },
  { long: 'memory-swappiness', type: 'int', default: -1, help: 'Tune container memory swappiness (0 to 100)' },
  { long: 'cgroupns', type: 'string', help: 'Cgroup namespace to use (host|private)' },
  { long: 'device-cgroup-rule', type: 'list', help: 'Add a rule to the cgroup allowed devices list' },
  { long: 'blkio-weight', type: 'int', help: 'Block IO (relative weight), between 10 and 1000, or 0 to disable' },
  { long: 'blkio-weight-device', type: 'list', help: 'Block IO weight (relative device weight)' },
  { long: 'device-read-bps', type: 'list', help: 'Limit read rate (bytes per second) from a device' },
  { long: 'device-write-bps', type: 'list', help: 'Limit write rate (bytes per second) to a device' },
  { long: 'device-read-iops', type: 'list', help: 'Limit read rate (IO per second) from a device' },
  { long: 'device-write-iops', type: 'list', help: 'Limit write rate (IO per second) to a device' },
  { long: 'kernel-memory', type: 'string', help: 'Kernel memory limit (deprecated)' },
  { long: 'cpu-rt-period', type: 'int', help: 'Limit CPU real-time period in microseconds' },
  { long: 'cpu-rt-runtime', type: 'int', help: 'Limit CPU real-time runtime in microseconds' },
  { long: 'gpus', type: 'string', help: "GPU devices to add to the container ('all' to pass all GPUs)" },
  { long: 'cidfile', type: 'string', help: 'Write the container ID to the file' },
  { long: 'quiet', short: 'q', type: 'bool', help: 'Suppress the pull output' },
  { long: 'pid', type: 'string', help: 'PID namespace to use' },
  { long: 'pids-limit', type: 'int', help: 'Tune container pids limit (set -1 for unlimited)' },
  { long: 'platform', type: 'string', help: 'Set platform if server is multi-platform capable' },
  { long: 'privileged', type: 'bool', help: 'Give extended privileges to this container' },
  { long: 'publish', short: 'p', type: 'list', help: "Publish a container's port(s) to the host" },
  { long: 'publish-all', short: 'P', type: 'bool', help: 'Publish all exposed ports to random ports' },
  { long: 'ip', type: 'string', help: 'IPv4 address (e.g., 172.30.100.104)' },
  { long: 'ip6', type: 'string', help: 'IPv6 address (e.g., 2001:db8::33)' },
  { long: 'mac-address', type: 'string', help: 'Container MAC address (e.g., 92:d0:c6:0a:29:33)' },
  { long: 'network-alias', type: 'list', help: 'Add network-scoped alias for the container' },
  { long: 'pull', type: 'string', default: 'missing', help: 'Pull image before creating ("always", "missing", "never")' },
  { long: 'read-only', type: 'bool', help: "Mount the container's root filesystem as read only" },
  { long: 'restart', type: 'string', default: 'no', help: 'Restart policy to apply when a container exits' },
  { long: 'rm', type: 'bool', help: 'Automatically remove the container and its associated anonymous volumes when it exits' },
  { long: 'security-opt', type: 'list', help: 'Security Options' },
  { long: 'shm-size', type: 'string', help: 'Size of /dev/shm' },
  { long: 'stop-signal', type: 'string', help: 'Signal to stop the container' },
  { long: 'stop-timeout', type: 'int', help: 'Timeout (in seconds) to stop a container' },
  { long: 'health-cmd', type: 'string', help: 'Command to run to check health' },
  { long: 'health-interval', type: 'string', help: 'Time between running the check (ms|s|m|h) (default 0s)' },
  { long: 'health-timeout', type: 'string', help: 'Maximum time to allow one check to run (ms|s|m|h) (default 0s)' },
  { long: 'health-retries', type: 'int', help: 'Consecutive failures needed to report unhealthy' },
  { long: 'health-start-period', type: 'string', help: 'Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)' },
  { long: 'no-healthcheck', type: 'bool', help: 'Disable any container-specified HEALTHCHECK' },
  { long: 'sysctl', type: 'list', help: 'Sysctl options' },
  { long: 'tmpfs', type: 'list', help: 'Mount a tmpfs directory' },
  { long: 'tty', short: 't', type: 'bool', help: 'Allocate a pseudo-TTY' },
  { long: 'ulimit', type: 'list', help: 'Ulimit options' },
  { long: 'user', short: 'u', type: 'string', help: 'Username or UID (format: <name|uid>[:<group|gid>])' },
  { long: 'uts', type: 'string', help: 'UTS namespace to use' },
  { long: 'volume', short: 'v', type: 'list', help: 'Bind mount a volume' },
  { long: 'volumes-from', type: 'list', help: 'Mount volumes from the specified container(s)' },
  { long: 'workdir', short: 'w', type: 'string', help: 'Working directory inside the container' },
];

export const RUN_ONLY_FLAGS: FlagSpec[] = [
  { long: 'detach', short: 'd', type: 'bool', help: 'Run container in background and print container ID' },
  { long: 'detach-keys', type: 'string', help: 'Override the key sequence for detaching a container' },
  { long: 'sig-proxy', type: 'bool', default: true, help: 'Proxy received signals to the process' },
];

export function runFlags(command: 'run' | 'create'): FlagSpec[] {
  return command === 'run' ? [...CREATE_FLAGS, ...RUN_ONLY_FLAGS] : CREATE_FLAGS;
}

export interface ParseRunOptions {
  command: 'run' | 'create';
  /** The CLI's environment, for `-e VAR` and env-file lines without a value. */
  env: Record<string, string | undefined>;
  /** Reads an env/label file (injected so the translation stays pure). */
  readFile: (path: string) => string;
}

export type RunParse = { help: true } | ({ help: false } & RunOptions);

const SIZE_RE = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/;
const BINARY: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** go-units RAMInBytes: `512m`, `1.5g`, `100kb`, `2GiB`; binary units; `b` or none means bytes. */
export function ramInBytes(value: string): number {
  const m = SIZE_RE.exec(value);
  if (!m) throw new RunOptionsError(`invalid size: '${value}'`);
  const n = Number.parseFloat(m[1] as string);
  if (Number.isNaN(n)) throw new RunOptionsError(`invalid size: '${value}'`);
  const unit = m[2]?.toLowerCase();
  return Math.trunc(n * (unit ? (BINARY[unit] as number) : 1));
}

function sizeFlag(flags: Flags, name: string, title: string): number {
  const raw = flags.string(name);
  try {
    return ramInBytes(raw);
  } catch (err) {
    throw new RunOptionsError(`invalid argument "${raw}" for "${title}" flag: ${(err as Error).message}`);
  }
}

/** `PATH:VALUE` of a device flag, the path under /dev as the docker CLI wants it; `bad` reports in its words. */
function devicePair(v: string, flag: string): { path: string; raw: string; bad: (why: string) => never } {
  const bad = (why: string): never => {
    throw new RunOptionsError(`invalid argument "${v}" for "${flag}" flag: ${why}`);
  };
  const i = v.indexOf(':');
  if (i < 0) bad(`bad format: ${v}`);
  const path = v.slice(0, i);
  if (!path.startsWith('/dev/')) bad(`bad format for device path: ${v}`);
  return { path, raw: v.slice(i + 1), bad };
}

/** `PATH:WEIGHT` for --blkio-weight-device, checked as the docker CLI checks it. */
export function weightDevice(v: string): { Path: string; Weight: number } {
  const { path, raw, bad } = devicePair(v, '--blkio-weight-device');
  const w = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(w) || w > 65535 || (w > 0 && (w < 10 || w > 1000))) bad(`invalid weight for device: ${v}`);
  return { Path: path, Weight: w };
}

/** `PATH:RATE` for --device-{read,write}-{bps,iops}: a size (`1mb`) for bytes, a count for IO. */
export function throttleDevice(v: string, flag: string, kind: 'bps' | 'iops'): { Path: string; Rate: number } {
  const { path, raw, bad } = devicePair(v, flag);
  let rate = NaN;
  if (kind === 'iops') rate = /^\d+$/.test(raw) ? Number(raw) : NaN;
  else {
    try {
      rate = ramInBytes(raw);
    } catch {
      rate = NaN;
    }
  }
  if (!Number.isSafeInteger(rate) || rate < 0) {
    bad(kind === 'bps' ? `invalid rate for device: ${v}. The correct format is <device-path>:<number>[<unit>]. Number must be a positive integer. Unit is optional and can be kb, mb, or gb` : `invalid rate for device: ${v}. The correct format is <device-path>:<number>. Number must be a positive integer`);
  }
  return { Path: path, Rate: rate };
}

/**
 * `--gpus`: `all`, a count, or `key=value` pairs (`count`, `device`, `driver`, `capabilities`,
 * `options`), as the docker CLI turns it into a device request.
 */
export function parseGpus(v: string): { Driver: string; Count: number; DeviceIDs: string[] | null; Capabilities: string[][]; Options: Record<string, string> | null } {
  const req = { Driver: '', Count: 0, DeviceIDs: null as string[] | null, Capabilities: [['gpu']], Options: null as Record<string, string> | null };
  const bad = (why: string): never => {
    throw new RunOptionsError(`invalid argument "${v}" for "--gpus" flag: ${why}`);
  };
  for (const field of v.match(/(?:[^,"]+|"[^"]*")+/g) ?? []) {
    const f = field.replace(/"/g, '');
    const eq = f.indexOf('=');
    if (eq < 0) {
      if (f === 'all') req.Count = -1;
      else if (/^\d+$/.test(f)) req.Count = Number(f);
      else bad(`unexpected key '${f}' in '${v}'`);
      continue;
    }
    const key = f.slice(0, eq).toLowerCase();
    const val = f.slice(eq + 1);
    if (key === 'driver') req.Driver = val;
    else if (key === 'count') req.Count = val === 'all' ? -1 : /^\d+$/.test(val) ? Number(val) : bad(`invalid count '${val}'`);
    else if (key === 'device') req.DeviceIDs = val.split(',').filter(Boolean);
    else if (key === 'capabilities') req.Capabilities = [['gpu', ...val.split(',').filter((c) => c && c !== 'gpu')]];
    else if (key === 'options') req.Options = Object.fromEntries(val.split(',').filter(Boolean).map((o) => [o.split('=')[0]!, o.split('=').slice(1).join('=')]));
    else bad(`unexpected key '${key}' in '${v}'`);
  }
  if (req.Count !== 0 && req.DeviceIDs?.length) bad('cannot set both Count and DeviceIDs on device request');
  return req;
}

export function parseCpus(value: string): number {
  if (!/^\d*\.?\d+$/.test(value.trim())) throw new RunOptionsError(`invalid argument "${value}" for "--cpus" flag: failed to parse ${value} as a rational number`);
  const nano = Math.round(Number(value) * 1e9);
  return nano;
}

const ULIMIT_NAMES = new Set(['core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack']);

export function parseUlimit(spec: string): Ulimit {
  const eq = spec.indexOf('=');
  if (eq < 0) throw new RunOptionsError(`invalid argument "${spec}" for "--ulimit" flag: invalid ulimit argument: ${spec}`);
  const name = spec.slice(0, eq);
  if (!ULIMIT_NAMES.has(name)) throw new RunOptionsError(`invalid argument "${spec}" for "--ulimit" flag: invalid ulimit type: ${name}`);
  const parts = spec.slice(eq + 1).split(':');
  if (parts.length > 2) throw new RunOptionsError(`invalid argument "${spec}" for "--ulimit" flag: too many limit value arguments - ${spec.slice(eq + 1)}, can only have up to two, \`soft[:hard]\``);
  const nums = parts.map((p) => {
    if (!/^-?\d+$/.test(p)) throw new RunOptionsError(`invalid argument "${spec}" for "--ulimit" flag: invalid ulimit value: ${p}`);
    return Number(p);
  });
  const soft = nums[0] as number;
  const hard = nums[1] ?? soft;
  if (soft > hard) throw new RunOptionsError(`invalid argument "${spec}" for "--ulimit" flag: ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
  // Key order as docker sends it.
  return { Name: name, Hard: hard, Soft: soft } as Ulimit;
}

export function parseRestartPolicy(value: string): RestartPolicy {
  if (value === '') return { Name: 'no', MaximumRetryCount: 0 };
  const [name, count, ...extra] = value.split(':') as [string, ...string[]];
  if (extra.length > 0) throw new RunOptionsError(`invalid restart policy format: maximum retry count must be an integer`);
  switch (name) {
    case 'no':
    case 'always':
    case 'unless-stopped':
      if (count !== undefined) throw new RunOptionsError(`invalid restart policy format: maximum retry count cannot be used with restart policy '${name}'`);
      return { Name: name, MaximumRetryCount: 0 };
    case 'on-failure': {
      if (count === undefined) return { Name: 'on-failure', MaximumRetryCount: 0 };
      if (!/^\d+$/.test(count)) throw new RunOptionsError(`invalid restart policy format: maximum retry count must be an integer`);
      return { Name: 'on-failure', MaximumRetryCount: Number(count) };
    }
    default:
      throw new RunOptionsError(`invalid restart policy format: unknown policy '${name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`);
  }
}

/** Lines of an env or label file: blank and `#` lines skipped, leading spaces trimmed. */
export function parseKeyValueFile(content: string, path: string, lookup?: (key: string) => string | undefined): string[] {
  const out: string[] = [];
  content.split(/\r?\n/).forEach((raw, idx) => {
    const line = raw.replace(/^\s+/, '');
    if (line === '' || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    const key = eq >= 0 ? line.slice(0, eq) : line;
    if (key === '') throw new RunOptionsError(`${path}: no variable name on line '${line}'`);
    if (/\s/.test(key)) throw new RunOptionsError(`${path}: variable '${key.trimEnd()}' contains whitespaces (line ${idx + 1})`);
    if (eq >= 0) out.push(line);
    else if (!lookup) out.push(line);
    else {
      const value = lookup(key);
      if (value !== undefined) out.push(`${key}=${value}`);
    }
  });
  return out;
}

function envValue(spec: string, env: Record<string, string | undefined>): string {
  const eq = spec.indexOf('=');
  if (eq === 0 || spec === '') throw new RunOptionsError(`invalid argument "${spec}" for "-e, --env" flag: invalid environment variable: ${spec}`);
  if (eq > 0) return spec;
  const value = env[spec];
  return value !== undefined ? `${spec}=${value}` : spec;
}

export interface PortMapping {
  exposed: string[];
  bindings: Record<string, Array<{ HostIp: string; HostPort: string }>>;
}

function parseRange(s: string, spec: string): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) throw new RunOptionsError(`invalid ${spec}: ${s}`);
  const start = Number(m[1]);
  const end = m[2] !== undefined ? Number(m[2]) : start;
  if (start < 0 || end > 65535 || end < start) throw new RunOptionsError(`invalid range specified for port: ${s}`);
  return [start, end];
}

/** `-p [ip:][hostPort:]containerPort[/proto]`, with ranges, as docker's nat.ParsePortSpec. */
export function parsePortSpec(spec: string): PortMapping {
  let rest = spec;
  let proto = 'tcp';
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    proto = rest.slice(slash + 1).toLowerCase();
    rest = rest.slice(0, slash);
    if (!['tcp', 'udp', 'sctp'].includes(proto)) throw new RunOptionsError(`invalid proto: ${proto}`);
  }
  let ip = '';
  let hostPart = '';
  let containerPart: string;
  const lastColon = rest.lastIndexOf(':');
  if (lastColon < 0) {
    containerPart = rest;
  } else {
    containerPart = rest.slice(lastColon + 1);
    const before = rest.slice(0, lastColon);
    const bracket = /^\[([^\]]+)\](?::(.*))?$/.exec(before);
    if (bracket) {
      ip = bracket[1] as string;
      hostPart = bracket[2] ?? '';
    } else {
      const c = before.lastIndexOf(':');
      if (c < 0) hostPart = before;
      else {
        ip = before.slice(0, c);
        hostPart = before.slice(c + 1);
      }
    }
  }
  if (containerPart === '') throw new RunOptionsError(`no port specified: ${spec}<empty>`);
  const [start, end] = parseRange(containerPart, 'containerPort');
  let hostStart = 0;
  let hostEnd = 0;
  if (hostPart !== '') {
    const m = /^(\d+)(?:-(\d+))?$/.exec(hostPart);
    if (!m) throw new RunOptionsError(`invalid hostPort: ${hostPart}`);
    hostStart = Number(m[1]);
    hostEnd = m[2] !== undefined ? Number(m[2]) : hostStart;
    if (end - start !== hostEnd - hostStart && end !== start) {
      throw new RunOptionsError(`invalid ranges specified for container and host Ports: ${containerPart} and ${hostPart}`);
    }
  }
  const out: PortMapping = { exposed: [], bindings: {} };
  for (let i = 0; i <= end - start; i++) {
    const key = `${start + i}/${proto}`;
    let hostPort = '';
    if (hostPart !== '') hostPort = end - start === hostEnd - hostStart ? String(hostStart + i) : hostPart;
    out.exposed.push(key);
    (out.bindings[key] ??= []).push({ HostIp: ip, HostPort: hostPort });
  }
  return out;
}

function parseBoolWord(value: string, what: string): boolean {
  const v = value.toLowerCase();
  if (['1', 'true', 't'].includes(v)) return true;
  if (['0', 'false', 'f'].includes(v)) return false;
  throw new RunOptionsError(`invalid value for ${what}: ${value}`);
}

/** Splits a CSV record, honouring double quotes (docker parses --mount with encoding/csv). */
function splitCsv(s: string): string[] {
  const fields: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (quoted) {
      if (c === '"' && s[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      fields.push(cur);
      cur = '';
    } else cur += c;
  }
  fields.push(cur);
  return fields;
}

/** `--mount type=bind,source=/a,target=/b,readonly` → an Engine API Mount. */
export function parseMount(spec: string): MountSpec {
  const mount: MountSpec = { Type: 'volume', Target: '' };
  const fields = splitCsv(spec);
  const typeField = fields.find((f) => f.toLowerCase().startsWith('type='));
  if (typeField) mount.Type = typeField.slice(5).toLowerCase();
  const volumeOptions = (): NonNullable<MountSpec['VolumeOptions']> => (mount.VolumeOptions ??= {});
  const bindOptions = (): NonNullable<MountSpec['BindOptions']> => (mount.BindOptions ??= {});
  const tmpfsOptions = (): NonNullable<MountSpec['TmpfsOptions']> => (mount.TmpfsOptions ??= {});
  for (const field of fields) {
    const eq = field.indexOf('=');
    const key = (eq >= 0 ? field.slice(0, eq) : field).toLowerCase();
    const value = eq >= 0 ? field.slice(eq + 1) : undefined;
    const need = (): string => {
      if (value === undefined) throw new RunOptionsError(`invalid field '${field}' must be a key=value pair`);
      return value;
    };
    switch (key) {
      case 'type':
        break;
      case 'source':
      case 'src':
        mount.Source = need();
        break;
      case 'target':
      case 'dst':
      case 'destination':
        mount.Target = need();
        break;
      case 'readonly':
      case 'ro':
        mount.ReadOnly = value === undefined ? true : parseBoolWord(value, `'${key}'`);
        break;
      case 'consistency':
        mount.Consistency = need();
        break;
      case 'bind-propagation':
        bindOptions().Propagation = need();
        break;
      case 'bind-nonrecursive':
        bindOptions().NonRecursive = value === undefined ? true : parseBoolWord(value, `'${key}'`);
        break;
      case 'bind-create-mountpoint':
        bindOptions().CreateMountpoint = value === undefined ? true : parseBoolWord(value, `'${key}'`);
        break;
      case 'volume-nocopy':
        volumeOptions().NoCopy = value === undefined ? true : parseBoolWord(value, `'${key}'`);
        break;
      case 'volume-subpath':
        volumeOptions().Subpath = need();
        break;
      case 'volume-label': {
        const [k, ...v] = need().split('=');
        (volumeOptions().Labels ??= {})[k as string] = v.join('=');
        break;
      }
      case 'volume-driver':
        (volumeOptions().DriverConfig ??= {}).Name = need();
        break;
      case 'volume-opt': {
        const [k, ...v] = need().split('=');
        ((volumeOptions().DriverConfig ??= {}).Options ??= {})[k as string] = v.join('=');
        break;
      }
      case 'tmpfs-size':
        tmpfsOptions().SizeBytes = ramInBytes(need());
        break;
      case 'tmpfs-mode': {
        const mode = Number.parseInt(need(), 8);
        if (Number.isNaN(mode)) throw new RunOptionsError(`invalid value for ${key}: ${value}`);
        tmpfsOptions().Mode = mode;
        break;
      }
      default:
        throw new RunOptionsError(`unexpected key '${key}' in '${field}'`);
    }
  }
  if (mount.Target === '') throw new RunOptionsError('target is required');
  if (mount.BindOptions && mount.Type !== 'bind') throw new RunOptionsError(`cannot mix 'bind-*' options with mount type '${mount.Type}'`);
  if (mount.VolumeOptions && mount.Type !== 'volume') throw new RunOptionsError(`cannot mix 'volume-*' options with mount type '${mount.Type}'`);
  if (mount.TmpfsOptions && mount.Type !== 'tmpfs') throw new RunOptionsError(`cannot mix 'tmpfs-*' options with mount type '${mount.Type}'`);
  return mount;
}

export function keyValueMap(items: readonly string[], flag: string, requireValue: boolean): Record<string, string> {
  const map: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq < 0) {
      if (requireValue) throw new RunOptionsError(`invalid argument "${item}" for "--${flag}" flag: invalid key/value pair format: ${item}`);
      map[item] = '';
    } else {
      map[item.slice(0, eq)] = item.slice(eq + 1);
    }
  }
  return map;
}

function normalizeCapability(cap: string): string {
  const upper = cap.trim().toUpperCase();
  if (upper === 'ALL' || upper.startsWith('CAP_')) return upper;
  return `CAP_${upper}`;
}

function extraHost(spec: string): string {
  // docker accepts host=ip as well as host:ip and sends host:ip.
  const eq = spec.indexOf('=');
  const sep = eq >= 0 ? eq : spec.indexOf(':');
  if (sep <= 0 || sep === spec.length - 1) throw new RunOptionsError(`invalid argument "${spec}" for "--add-host" flag: bad format for add-host: "${spec}"`);
  return `${spec.slice(0, sep)}:${spec.slice(sep + 1)}`;
}

export function parseRunOptions(argv: readonly string[], opts: ParseRunOptions): RunParse {
  const { flags, args, help } = parseArgs(argv, runFlags(opts.command), { interspersed: false });
  if (help) return { help: true };
  const [image, ...cmd] = args;
  if (image === undefined) throw new FlagError(`'berth ${opts.command}' requires at least 1 argument`, 1);
  const detach = opts.command === 'run' ? flags.bool('detach') : false;
  const interactive = flags.bool('interactive');
  const tty = flags.bool('tty');
  const rm = flags.bool('rm');

  const attachList = flags.list('attach').map((s) => s.toLowerCase());
  for (const a of attachList) {
    if (!['stdin', 'stdout', 'stderr'].includes(a)) throw new RunOptionsError(`invalid argument "${a}" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR`);
  }
  if (detach && attachList.length > 0) throw new RunOptionsError('conflicting options: cannot specify both --attach and --detach');
  const attach = {
    stdin: attachList.includes('stdin') || interactive,
    stdout: attachList.length === 0 || attachList.includes('stdout'),
    stderr: attachList.length === 0 || attachList.includes('stderr'),
  };
  if (detach) {
    attach.stdin = false;
    attach.stdout = false;
    attach.stderr = false;
  }

  const restart = parseRestartPolicy(flags.string('restart'));
  if (rm && restart.Name !== 'no' && restart.Name !== '') throw new RunOptionsError('conflicting options: cannot specify both --restart and --rm');

  const pull = flags.string('pull');
  if (pull !== 'missing' && pull !== 'never' && pull !== 'always') {
    throw new RunOptionsError(`invalid pull option: '${pull}': must be one of "always", "missing" or "never"`);
  }

  const env: string[] = [];
  for (const file of flags.list('env-file')) env.push(...parseKeyValueFile(opts.readFile(file), file, (k) => opts.env[k]));
  for (const e of flags.list('env')) env.push(envValue(e, opts.env));

  const labelLines: string[] = [];
  for (const file of flags.list('label-file')) labelLines.push(...parseKeyValueFile(opts.readFile(file), file));
  labelLines.push(...flags.list('label'));
  const labels = keyValueMap(labelLines, 'label', false);

  const exposed = new Set<string>();
  const bindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  for (const p of flags.list('publish')) {
    const m = parsePortSpec(p);
    for (const e of m.exposed) exposed.add(e);
    for (const [k, v] of Object.entries(m.bindings)) (bindings[k] ??= []).push(...v);
  }
  for (const e of flags.list('expose')) {
    const m = parsePortSpec(e.includes('/') ? e : `${e}/tcp`);
    for (const k of m.exposed) exposed.add(k);
  }

  const binds: string[] = [];
  const volumes: Record<string, object> = {};
  for (const v of flags.list('volume')) {
    if (v.trim() === '') throw new RunOptionsError(`invalid empty volume spec`);
    if (v.includes(':')) binds.push(v);
    else volumes[v] = {};
  }

  let entrypoint: string[] | null = null;
  if (flags.changed('entrypoint')) entrypoint = [flags.string('entrypoint')];

  const ulimits = flags.list('ulimit').map(parseUlimit);
  const networkMode = flags.string('network') || 'default';
  const endpoints: Record<string, Record<string, unknown>> = {};
  if (!['host', 'none'].includes(networkMode) && !networkMode.startsWith('container:')) {
    const ep: Record<string, unknown> = {};
    if (flags.string('ip') || flags.string('ip6')) ep.IPAMConfig = { ...(flags.string('ip') ? { IPv4Address: flags.string('ip') } : {}), ...(flags.string('ip6') ? { IPv6Address: flags.string('ip6') } : {}) };
    if (flags.list('network-alias').length > 0) ep.Aliases = flags.list('network-alias');
    if (flags.string('mac-address')) ep.MacAddress = flags.string('mac-address');
    endpoints[networkMode] = ep;
  }

  const config: ContainerConfig = {
    Hostname: flags.string('hostname'),
    Domainname: flags.string('domainname'),
    User: flags.string('user'),
    AttachStdin: attach.stdin,
    AttachStdout: attach.stdout,
    AttachStderr: attach.stderr,
    Tty: tty,
    OpenStdin: interactive,
    StdinOnce: interactive && attach.stdin && !detach,
    Env: env,
    Cmd: cmd.length > 0 ? cmd : null,
    Image: image,
    Volumes: volumes,
    WorkingDir: flags.string('workdir'),
    Entrypoint: entrypoint,
    Labels: labels,
  };
  if (exposed.size > 0) config.ExposedPorts = Object.fromEntries([...exposed].map((k) => [k, {}]));
  if (flags.changed('stop-signal')) config.StopSignal = flags.string('stop-signal');
  if (flags.changed('stop-timeout')) config.StopTimeout = flags.int('stop-timeout');
  if (flags.bool('no-healthcheck')) {
    config.Healthcheck = { Test: ['NONE'] };
  } else if (['health-cmd', 'health-interval', 'health-timeout', 'health-retries', 'health-start-period'].some((f) => flags.changed(f))) {
    const hc: NonNullable<ContainerConfig['Healthcheck']> = {};
    if (flags.changed('health-cmd')) hc.Test = ['CMD-SHELL', flags.string('health-cmd')];
    if (flags.changed('health-interval')) hc.Interval = parseGoDuration(flags.string('health-interval'), 'health-interval');
    if (flags.changed('health-timeout')) hc.Timeout = parseGoDuration(flags.string('health-timeout'), 'health-timeout');
    if (flags.changed('health-start-period')) hc.StartPeriod = parseGoDuration(flags.string('health-start-period'), 'health-start-period');
    if (flags.changed('health-retries')) hc.Retries = flags.int('health-retries');
    config.Healthcheck = hc;
  }

  const logOpts = keyValueMap(flags.list('log-opt'), 'log-opt', true);
  const hostConfig: CreateHostConfig = {
    Binds: binds.length > 0 ? binds : null,
    VolumesFrom: flags.changed('volumes-from') ? flags.list('volumes-from') : null,
    NetworkMode: networkMode,
    PortBindings: bindings,
    RestartPolicy: restart,
    AutoRemove: rm,
    LogConfig: { Type: flags.string('log-driver'), Config: logOpts },
    CapAdd: flags.changed('cap-add') ? flags.list('cap-add').map(normalizeCapability) : null,
    CapDrop: flags.changed('cap-drop') ? flags.list('cap-drop').map(normalizeCapability) : null,
    Dns: flags.list('dns'),
    DnsOptions: flags.list('dns-option'),
    DnsSearch: flags.list('dns-search'),
    ExtraHosts: flags.changed('add-host') ? flags.list('add-host').map(extraHost) : null,
    GroupAdd: flags.changed('group-add') ? flags.list('group-add') : null,
    Privileged: flags.bool('privileged'),
    ReadonlyRootfs: flags.bool('read-only'),
    SecurityOpt: flags.changed('security-opt') ? flags.list('security-opt').map((o) => securityOpt(o, opts.readFile)) : null,
    Memory: flags.changed('memory') ? sizeFlag(flags, 'memory', '-m, --memory') : 0,
    MemorySwap: 0,
    MemoryReservation: flags.changed('memory-reservation') ? sizeFlag(flags, 'memory-reservation', '--memory-reservation') : 0,
    NanoCpus: flags.changed('cpus') ? parseCpus(flags.string('cpus')) : 0,
    CpuShares: flags.int('cpu-shares'),
    CpuPeriod: flags.int('cpu-period'),
    CpuQuota: flags.int('cpu-quota'),
    CpusetCpus: flags.string('cpuset-cpus'),
    CpusetMems: flags.string('cpuset-mems'),
    Ulimits: ulimits,
    IpcMode: flags.string('ipc'),
    PidMode: flags.string('pid'),
    UTSMode: flags.string('uts'),
    CgroupParent: flags.string('cgroup-parent'),
    ShmSize: flags.changed('shm-size') ? sizeFlag(flags, 'shm-size', '--shm-size') : 0,
  };
  if (flags.changed('memory-swap')) {
    const raw = flags.string('memory-swap');
    hostConfig.MemorySwap = raw === '-1' ? -1 : sizeFlag(flags, 'memory-swap', '--memory-swap');
  }
  if (flags.changed('pids-limit')) hostConfig.PidsLimit = flags.int('pids-limit');
  if (flags.changed('init')) hostConfig.Init = flags.bool('init');
  if (flags.string('runtime')) hostConfig.Runtime = flags.string('runtime');
  if (flags.list('device').length > 0) hostConfig.Devices = flags.list('device').map(parseDevice);
  if (flags.list('link').length > 0) hostConfig.Links = flags.list('link').map((l) => (l.includes(':') ? l : `${l}:${l}`));
  if (flags.changed('oom-kill-disable')) hostConfig.OomKillDisable = flags.bool('oom-kill-disable');
  if (flags.changed('oom-score-adj')) hostConfig.OomScoreAdj = flags.int('oom-score-adj');
  if (flags.changed('memory-swappiness')) hostConfig.MemorySwappiness = flags.int('memory-swappiness');
  if (flags.changed('cgroupns')) hostConfig.CgroupnsMode = flags.string('cgroupns');
  if (flags.list('device-cgroup-rule').length > 0) hostConfig.DeviceCgroupRules = flags.list('device-cgroup-rule');
  if (flags.changed('blkio-weight')) {
    const w = flags.int('blkio-weight');
    if (!Number.isInteger(w) || w < 0 || w > 65535) throw new RunOptionsError(`invalid argument "${w}" for "--blkio-weight" flag: value out of range`);
    hostConfig.BlkioWeight = w;
  }
  if (flags.list('blkio-weight-device').length > 0) hostConfig.BlkioWeightDevice = flags.list('blkio-weight-device').map(weightDevice);
  if (flags.list('device-read-bps').length > 0) hostConfig.BlkioDeviceReadBps = flags.list('device-read-bps').map((v) => throttleDevice(v, '--device-read-bps', 'bps'));
  if (flags.list('device-write-bps').length > 0) hostConfig.BlkioDeviceWriteBps = flags.list('device-write-bps').map((v) => throttleDevice(v, '--device-write-bps', 'bps'));
  if (flags.list('device-read-iops').length > 0) hostConfig.BlkioDeviceReadIOps = flags.list('device-read-iops').map((v) => throttleDevice(v, '--device-read-iops', 'iops'));
  if (flags.list('device-write-iops').length > 0) hostConfig.BlkioDeviceWriteIOps = flags.list('device-write-iops').map((v) => throttleDevice(v, '--device-write-iops', 'iops'));
  if (flags.changed('kernel-memory')) hostConfig.KernelMemory = sizeFlag(flags, 'kernel-memory', '--kernel-memory');
  if (flags.changed('cpu-rt-period')) hostConfig.CpuRealtimePeriod = flags.int('cpu-rt-period');
  if (flags.changed('cpu-rt-runtime')) hostConfig.CpuRealtimeRuntime = flags.int('cpu-rt-runtime');
  if (flags.changed('gpus')) hostConfig.DeviceRequests = [parseGpus(flags.string('gpus'))];
  if (flags.changed('tmpfs')) {
    hostConfig.Tmpfs = {};
    for (const t of flags.list('tmpfs')) {
      const colon = t.indexOf(':');
      hostConfig.Tmpfs[colon >= 0 ? t.slice(0, colon) : t] = colon >= 0 ? t.slice(colon + 1) : '';
    }
  }
  if (flags.changed('sysctl')) hostConfig.Sysctls = keyValueMap(flags.list('sysctl'), 'sysctl', true);
  if (flags.changed('mount')) hostConfig.Mounts = flags.list('mount').map(parseMount);
  if (flags.bool('publish-all')) (hostConfig as HostConfig & { PublishAllPorts?: boolean }).PublishAllPorts = true;

  const result: RunOptions = {
    image,
    detach,
    rm,
    interactive,
    tty,
    attach,
    sigProxy: opts.command === 'run' ? flags.bool('sig-proxy') : true,
    pull,
    config,
    hostConfig,
    networkingConfig: { EndpointsConfig: endpoints },
  };
  if (flags.changed('name')) result.name = flags.string('name');
  if (opts.command === 'run' && flags.changed('detach-keys')) result.detachKeys = flags.string('detach-keys');
  if (flags.changed('platform')) result.platform = flags.string('platform');
  if (flags.changed('cidfile')) result.cidfile = flags.string('cidfile');
  if (flags.bool('quiet')) result.quiet = true;
  return { help: false, ...result };
}

/** Go duration text ("1m30s", "500ms", "2h") to nanoseconds, as the API wants durations. */
export function parseGoDuration(text: string, flag: string): number {
  const units: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  if (text === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  while (pos < text.length) {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) throw new RunOptionsError(`invalid argument "${text}" for "--${flag}" flag: time: invalid duration "${text}"`);
    total += Number(m[1]) * units[m[2]!]!;
    pos = re.lastIndex;
  }
  if (text.length === 0) throw new RunOptionsError(`invalid argument "" for "--${flag}" flag: time: invalid duration ""`);
  return Math.round(total);
}

/** docker's `--device` forms: HOST, HOST:PERMS, HOST:CONTAINER, HOST:CONTAINER:PERMS. */
export function parseDevice(spec: string): { PathOnHost: string; PathInContainer: string; CgroupPermissions: string } {
  const parts = spec.split(':');
  const perms = (p: string | undefined): boolean => p !== undefined && p !== '' && /^[rwm]{1,3}$/.test(p);
  let host = parts[0] ?? '';
  let inside = host;
  let mode = 'rwm';
  if (parts.length === 2) {
    if (perms(parts[1])) mode = parts[1]!;
    else inside = parts[1]!;
  } else if (parts.length === 3) {
    inside = parts[1]!;
    if (!perms(parts[2])) throw new RunOptionsError(`invalid device mode: ${parts[2]}`);
    mode = parts[2]!;
  } else if (parts.length > 3) {
    throw new RunOptionsError(`invalid device specification: ${spec}`);
  }
  if (!host.startsWith('/')) throw new RunOptionsError(`${spec} is not an absolute path`);
  if (!inside.startsWith('/')) throw new RunOptionsError(`bad format for path: ${inside}`);
  host = host.replace(/\/+$/, '') || '/';
  return { PathOnHost: host, PathInContainer: inside, CgroupPermissions: mode };
}

/** `seccomp=FILE` becomes `seccomp=<the file's JSON>`, as the docker CLI sends a profile. */
export function securityOpt(opt: string, readFile: (path: string) => string): string {
  const m = /^seccomp[=:](.*)$/s.exec(opt);
  if (!m || m[1] === 'unconfined' || m[1] === 'builtin' || m[1] === '' || m[1]!.trimStart().startsWith('{')) return opt;
  let text: string;
  try {
    text = readFile(m[1]!);
  } catch (err) {
    throw new RunOptionsError(`opening seccomp profile (${m[1]}) failed: ${(err as Error).message}`);
  }
  return `seccomp=${text}`;
}
