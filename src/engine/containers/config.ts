// Decoding a create request body into typed config and merging it with the image's config.
// Pure: no I/O, unit-tested.
import { invalidParameter } from '../../core/errors.ts';
import type { ContainerConfig, HostConfig, ImageRuntimeConfig, RestartPolicy } from '../../core/types.ts';
import type { CgroupFeatures } from '../../core/ports.ts';
import { checkDeviceMapping, parseDeviceRule } from '../spec/devices.ts';

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function bad(field: string, want: string, v: unknown): never {
  throw invalidParameter(`invalid JSON: field ${field} must be ${want}, not ${typeName(v)}`);
}

function str(o: Obj, field: string, path: string, dflt = ''): string {
  const v = o[field];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'string') bad(`${path}.${field}`, 'a string', v);
  return v;
}

function bool(o: Obj, field: string, path: string, dflt = false): boolean {
  const v = o[field];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'boolean') bad(`${path}.${field}`, 'a boolean', v);
  return v;
}

function num(o: Obj, field: string, path: string, dflt = 0): number {
  const v = o[field];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v)) bad(`${path}.${field}`, 'a number', v);
  return v;
}

function strArray(o: Obj, field: string, path: string): string[] | null {
  const v = o[field];
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return [v];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) bad(`${path}.${field}`, 'an array of strings', v);
  return v as string[];
}

function strMap(o: Obj, field: string, path: string): Record<string, string> {
  const v = o[field];
  if (v === undefined || v === null) return {};
  if (!isObj(v) || Object.values(v).some((x) => typeof x !== 'string')) bad(`${path}.${field}`, 'an object of strings', v);
  return { ...(v as Record<string, string>) };
}

function objMap(o: Obj, field: string, path: string): Record<string, object> | undefined {
  const v = o[field];
  if (v === undefined || v === null) return undefined;
  if (!isObj(v)) bad(`${path}.${field}`, 'an object', v);
  return v as Record<string, object>;
}

export interface EndpointRequest {
  ip?: string;
  ip6?: string;
  mac?: string;
  aliases: string[];
}

export interface CreateRequest {
  config: ContainerConfig;
  hostConfig: HostConfig;
  networkingConfig: Obj;
  /** The endpoint settings for the network in NetworkMode (--ip, --network-alias). */
  endpoint: EndpointRequest;
  /** Mounts given in HostConfig.Mounts, not yet supported beyond validation. */
  mounts: unknown[];
}

const RESTART = new Set(['', 'no', 'always', 'unless-stopped', 'on-failure']);

export function decodeCreateBody(body: Obj): CreateRequest {
  const p = 'ContainerConfig';
  const image = str(body, 'Image', p);
  if (image === '') throw invalidParameter('config.Image: image name must not be empty');
  const env = strArray(body, 'Env', p) ?? [];
  for (const e of env) {
    if (e === '' || e.startsWith('=')) throw invalidParameter(`invalid environment variable: ${e}`);
  }
  const config: ContainerConfig = {
    Hostname: str(body, 'Hostname', p),
    Domainname: str(body, 'Domainname', p),
    User: str(body, 'User', p),
    AttachStdin: bool(body, 'AttachStdin', p),
    AttachStdout: bool(body, 'AttachStdout', p),
    AttachStderr: bool(body, 'AttachStderr', p),
    Tty: bool(body, 'Tty', p),
    OpenStdin: bool(body, 'OpenStdin', p),
    StdinOnce: bool(body, 'StdinOnce', p),
    Env: env,
    Cmd: strArray(body, 'Cmd', p),
    Image: image,
    WorkingDir: str(body, 'WorkingDir', p),
    Entrypoint: strArray(body, 'Entrypoint', p),
    Labels: strMap(body, 'Labels', p),
  };
  const exposed = objMap(body, 'ExposedPorts', p);
  if (exposed) config.ExposedPorts = exposed;
  const volumes = objMap(body, 'Volumes', p);
  if (volumes) config.Volumes = volumes;
  if (body.StopSignal !== undefined && body.StopSignal !== null) config.StopSignal = str(body, 'StopSignal', p);
  if (body.StopTimeout !== undefined && body.StopTimeout !== null) config.StopTimeout = num(body, 'StopTimeout', p);
  if (body.NetworkDisabled !== undefined) config.NetworkDisabled = bool(body, 'NetworkDisabled', p);
  if (isObj(body.Healthcheck)) config.Healthcheck = body.Healthcheck as ContainerConfig['Healthcheck'] & object;
  if (config.WorkingDir !== '' && !config.WorkingDir.startsWith('/')) {
    throw invalidParameter(`the working directory '${config.WorkingDir}' is invalid, it needs to be an absolute path`);
  }

  const hcRaw = body.HostConfig ?? {};
  if (!isObj(hcRaw)) bad('HostConfig', 'an object', hcRaw);
  const hp = 'HostConfig';
  const rp = hcRaw.RestartPolicy ?? {};
  if (!isObj(rp)) bad('HostConfig.RestartPolicy', 'an object', rp);
  const rpName = str(rp, 'Name', 'HostConfig.RestartPolicy');
  if (!RESTART.has(rpName)) throw invalidParameter(`invalid restart policy '${rpName}'`);
  const restartPolicy: RestartPolicy = { Name: rpName as RestartPolicy['Name'], MaximumRetryCount: num(rp, 'MaximumRetryCount', 'HostConfig.RestartPolicy') };
  if (restartPolicy.MaximumRetryCount! < 0) throw invalidParameter('invalid restart policy: maximum retry count cannot be negative');
  if (restartPolicy.MaximumRetryCount! > 0 && rpName !== 'on-failure') {
    throw invalidParameter(`invalid restart policy: maximum retry count can only be used with 'on-failure'`);
  }
  const lc = hcRaw.LogConfig ?? {};
  if (!isObj(lc)) bad('HostConfig.LogConfig', 'an object', lc);
  const logType = str(lc, 'Type', 'HostConfig.LogConfig');
  if (logType !== '' && !['json-file', 'k8s-file', 'local', 'none'].includes(logType)) {
    throw invalidParameter(`logging driver "${logType}" is not supported; berth supports json-file, local and none`);
  }
  const ulimitsRaw = hcRaw.Ulimits;
  let ulimits: HostConfig['Ulimits'] = null;
  if (ulimitsRaw !== undefined && ulimitsRaw !== null) {
    if (!Array.isArray(ulimitsRaw)) bad('HostConfig.Ulimits', 'an array', ulimitsRaw);
    ulimits = ulimitsRaw.map((u, i) => {
      if (!isObj(u)) bad(`HostConfig.Ulimits[${i}]`, 'an object', u);
      return { Name: str(u, 'Name', 'Ulimit'), Soft: num(u, 'Soft', 'Ulimit'), Hard: num(u, 'Hard', 'Ulimit') };
    });
  }
  const hostConfig: HostConfig = {
    Binds: strArray(hcRaw, 'Binds', hp),
    VolumesFrom: strArray(hcRaw, 'VolumesFrom', hp),
    Links: strArray(hcRaw, 'Links', hp),
    NetworkMode: str(hcRaw, 'NetworkMode', hp) || 'default',
    RestartPolicy: restartPolicy,
    AutoRemove: bool(hcRaw, 'AutoRemove', hp),
    LogConfig: { Type: logType || 'json-file', Config: strMap(lc, 'Config', 'HostConfig.LogConfig') },
    CapAdd: strArray(hcRaw, 'CapAdd', hp),
    CapDrop: strArray(hcRaw, 'CapDrop', hp),
    Dns: strArray(hcRaw, 'Dns', hp) ?? [],
    DnsOptions: strArray(hcRaw, 'DnsOptions', hp) ?? [],
    DnsSearch: strArray(hcRaw, 'DnsSearch', hp) ?? [],
    ExtraHosts: strArray(hcRaw, 'ExtraHosts', hp),
    Privileged: bool(hcRaw, 'Privileged', hp),
    ReadonlyRootfs: bool(hcRaw, 'ReadonlyRootfs', hp),
    SecurityOpt: strArray(hcRaw, 'SecurityOpt', hp),
    Tmpfs: strMap(hcRaw, 'Tmpfs', hp),
    ShmSize: num(hcRaw, 'ShmSize', hp),
    Init: hcRaw.Init === null || hcRaw.Init === undefined ? null : bool(hcRaw, 'Init', hp),
    Memory: num(hcRaw, 'Memory', hp),
    MemorySwap: num(hcRaw, 'MemorySwap', hp),
    MemoryReservation: num(hcRaw, 'MemoryReservation', hp),
    NanoCpus: num(hcRaw, 'NanoCpus', hp),
    CpuShares: num(hcRaw, 'CpuShares', hp),
    CpuPeriod: num(hcRaw, 'CpuPeriod', hp),
    CpuQuota: num(hcRaw, 'CpuQuota', hp),
    CpusetCpus: str(hcRaw, 'CpusetCpus', hp),
    CpusetMems: str(hcRaw, 'CpusetMems', hp),
    PidsLimit: hcRaw.PidsLimit === null || hcRaw.PidsLimit === undefined ? null : num(hcRaw, 'PidsLimit', hp),
    Ulimits: ulimits,
    GroupAdd: strArray(hcRaw, 'GroupAdd', hp),
    Sysctls: strMap(hcRaw, 'Sysctls', hp),
    IpcMode: str(hcRaw, 'IpcMode', hp),
    PidMode: str(hcRaw, 'PidMode', hp),
    CgroupParent: str(hcRaw, 'CgroupParent', hp),
  };
  if (hcRaw.PublishAllPorts !== undefined && hcRaw.PublishAllPorts !== null) hostConfig.PublishAllPorts = bool(hcRaw, 'PublishAllPorts', hp);
  const devicesRaw = hcRaw.Devices;
  if (devicesRaw !== undefined && devicesRaw !== null) {
    if (!Array.isArray(devicesRaw)) bad('HostConfig.Devices', 'an array', devicesRaw);
    hostConfig.Devices = devicesRaw.map((dv, i) => {
      if (!isObj(dv)) bad(`HostConfig.Devices[${i}]`, 'an object', dv);
      const m = { PathOnHost: str(dv, 'PathOnHost', 'Device'), PathInContainer: str(dv, 'PathInContainer', 'Device'), CgroupPermissions: str(dv, 'CgroupPermissions', 'Device') || 'rwm' };
      checkDeviceMapping(m);
      return m;
    });
  }
  const runtime = str(hcRaw, 'Runtime', hp);
  if (runtime !== '') hostConfig.Runtime = runtime;
  const uts = str(hcRaw, 'UTSMode', hp);
  if (uts !== '') hostConfig.UTSMode = uts;
  if (hcRaw.OomKillDisable !== undefined && hcRaw.OomKillDisable !== null) hostConfig.OomKillDisable = bool(hcRaw, 'OomKillDisable', hp);
  decodeBlockIo(hcRaw, hostConfig, hp);
  for (const k of ['KernelMemory', 'CpuRealtimePeriod', 'CpuRealtimeRuntime'] as const) {
    if (hcRaw[k] === undefined || hcRaw[k] === null) continue;
    const v = num(hcRaw, k, hp);
    if (v !== 0) hostConfig[k] = v;
  }
  const requests = hcRaw.DeviceRequests;
  if (requests !== undefined && requests !== null) {
    if (!Array.isArray(requests)) bad('HostConfig.DeviceRequests', 'an array', requests);
    hostConfig.DeviceRequests = requests.map((r, i) => {
      const at = `HostConfig.DeviceRequests[${i}]`;
      if (!isObj(r)) bad(at, 'an object', r);
      const caps = r.Capabilities;
      if (caps !== undefined && caps !== null && (!Array.isArray(caps) || caps.some((c) => !Array.isArray(c) || c.some((x) => typeof x !== 'string')))) bad(`${at}.Capabilities`, 'a list of lists of strings', caps);
      return { Driver: str(r, 'Driver', at), Count: num(r, 'Count', at), DeviceIDs: strArray(r, 'DeviceIDs', at) ?? null, Capabilities: (caps as string[][] | null | undefined) ?? null, Options: strMap(r, 'Options', at) ?? null };
    });
  }
  if (hcRaw.OomScoreAdj !== undefined && hcRaw.OomScoreAdj !== null) {
    const v = num(hcRaw, 'OomScoreAdj', hp);
    if (!Number.isInteger(v) || v < -1000 || v > 1000) throw invalidParameter(`Invalid value ${v}, range for oom score adj is [-1000, 1000]`);
    hostConfig.OomScoreAdj = v;
  }
  if (hcRaw.MemorySwappiness !== undefined && hcRaw.MemorySwappiness !== null) {
    const v = num(hcRaw, 'MemorySwappiness', hp);
    if (v !== -1 && (!Number.isInteger(v) || v < 0 || v > 100)) throw invalidParameter(`invalid value: ${v}, valid memory swappiness range is 0-100`);
    hostConfig.MemorySwappiness = v;
  }
  // As Docker on Linux: only the default isolation; and no per-container storage quota (overlay
  // on xfs with pquota is what Docker needs for one; berth has none), so the option is refused
  // rather than ignored.
  const isolation = str(hcRaw, 'Isolation', hp);
  if (isolation !== '' && isolation !== 'default') throw invalidParameter(`Invalid isolation: ${JSON.stringify(isolation)} - linux only supports 'default'`);
  const storageOpt = hcRaw.StorageOpt;
  if (storageOpt !== undefined && storageOpt !== null && (typeof storageOpt !== 'object' || Object.keys(storageOpt).length > 0)) {
    throw invalidParameter("--storage-opt is supported only for overlay over xfs with 'pquota' mount option");
  }
  const cgroupns = str(hcRaw, 'CgroupnsMode', hp);
  if (cgroupns !== '') {
    if (cgroupns !== 'private' && cgroupns !== 'host') throw invalidParameter(`invalid cgroup namespace mode: ${cgroupns}`);
    hostConfig.CgroupnsMode = cgroupns;
  }
  const rules = strArray(hcRaw, 'DeviceCgroupRules', hp);
  if (rules !== null && rules.length > 0) {
    for (const r of rules) parseDeviceRule(r);
    hostConfig.DeviceCgroupRules = rules;
  }
  // Absent means Docker's defaults; an explicit list (even empty) replaces them.
  const masked = strArray(hcRaw, 'MaskedPaths', hp);
  if (masked !== null) hostConfig.MaskedPaths = masked;
  const ro = strArray(hcRaw, 'ReadonlyPaths', hp);
  if (ro !== null) hostConfig.ReadonlyPaths = ro;
  const pb = hcRaw.PortBindings;
  if (pb !== undefined && pb !== null) {
    if (!isObj(pb)) bad('HostConfig.PortBindings', 'an object', pb);
    hostConfig.PortBindings = pb as HostConfig['PortBindings'] & object;
  }
  if (Array.isArray(hcRaw.ConsoleSize) && hcRaw.ConsoleSize.length === 2) {
    const [h, w] = hcRaw.ConsoleSize as unknown[];
    if (typeof h === 'number' && typeof w === 'number') hostConfig.ConsoleSize = [h, w];
  }
  if (hostConfig.Memory < 0) throw invalidParameter('invalid memory limit: must be non-negative');
  if (hostConfig.Memory > 0 && hostConfig.Memory < 6 * 1024 * 1024) throw invalidParameter('Minimum memory limit allowed is 6MB');
  if (hostConfig.MemorySwap > 0 && hostConfig.Memory > 0 && hostConfig.MemorySwap < hostConfig.Memory) {
    throw invalidParameter('Minimum memoryswap limit should be larger than memory limit, see usage');
  }
  if (hostConfig.MemorySwap > 0 && hostConfig.Memory === 0) {
    throw invalidParameter('You should always set the Memory limit when using Memoryswap limit, see usage');
  }
  // As dockerd records it: a memory limit without a swap limit allows as much swap again.
  if (hostConfig.Memory > 0 && hostConfig.MemorySwap === 0) hostConfig.MemorySwap = 2 * hostConfig.Memory;
  if (hostConfig.NanoCpus < 0) throw invalidParameter('invalid value for NanoCpus: must be non-negative');
  if (hostConfig.NanoCpus > 0 && (hostConfig.CpuQuota > 0 || hostConfig.CpuPeriod > 0)) {
    throw invalidParameter('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  }
  if (hostConfig.AutoRemove && rpName !== '' && rpName !== 'no') {
    throw invalidParameter(`conflicting options: cannot specify both --restart and --rm`);
  }
  const mounts = Array.isArray(hcRaw.Mounts) ? (hcRaw.Mounts as unknown[]) : [];
  const nc = isObj(body.NetworkingConfig) ? body.NetworkingConfig : {};
  const endpoint: EndpointRequest = { aliases: [] };
  const eps = isObj(nc.EndpointsConfig) ? nc.EndpointsConfig : {};
  const ep = eps[hostConfig.NetworkMode] ?? (hostConfig.NetworkMode === 'default' ? eps.bridge : undefined);
  if (isObj(ep)) {
    const ipam = isObj(ep.IPAMConfig) ? ep.IPAMConfig : {};
    const ip = str(ipam, 'IPv4Address', 'EndpointSettings.IPAMConfig');
    if (ip !== '') endpoint.ip = ip;
    const ip6 = str(ipam, 'IPv6Address', 'EndpointSettings.IPAMConfig');
    if (ip6 !== '') endpoint.ip6 = ip6;
    endpoint.aliases = strArray(ep, 'Aliases', 'EndpointSettings') ?? [];
    const mac = str(ep, 'MacAddress', 'EndpointSettings');
    if (mac !== '') endpoint.mac = mac;
  }
  // Before API 1.44 the MAC address was a container setting.
  const legacyMac = str(body, 'MacAddress', p);
  if (legacyMac !== '' && endpoint.mac === undefined) endpoint.mac = legacyMac;
  if (endpoint.mac !== undefined && !/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(endpoint.mac)) throw invalidParameter(`invalid MAC address: ${endpoint.mac}`);
  return { config, hostConfig, networkingConfig: nc, endpoint, mounts };
}

/** Docker's blkio settings: a weight, per-device weights, and per-device rate limits. */
function decodeBlockIo(raw: Record<string, unknown>, hc: HostConfig, hp: string): void {
  if (raw.BlkioWeight !== undefined && raw.BlkioWeight !== null) {
    const w = num(raw, 'BlkioWeight', hp);
    if (w !== 0) hc.BlkioWeight = w;
  }
  const list = (key: 'BlkioWeightDevice' | 'BlkioDeviceReadBps' | 'BlkioDeviceWriteBps' | 'BlkioDeviceReadIOps' | 'BlkioDeviceWriteIOps', value: 'Weight' | 'Rate'): Array<{ Path: string } & Record<string, number>> | undefined => {
    const v = raw[key];
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v)) bad(`${hp}.${key}`, 'an array', v);
    return v.map((e, i) => {
      const at = `${hp}.${key}[${i}]`;
      if (!isObj(e)) bad(at, 'an object', e);
      const n = num(e, value, at);
      if (!Number.isInteger(n) || n < 0) throw invalidParameter(`invalid ${value.toLowerCase()} ${n} for ${key}: must be a non-negative integer`);
      return { Path: str(e, 'Path', at), [value]: n } as { Path: string } & Record<string, number>;
    });
  };
  const wd = list('BlkioWeightDevice', 'Weight');
  if (wd?.length) hc.BlkioWeightDevice = wd.map((e) => ({ Path: e.Path, Weight: e.Weight! }));
  for (const k of ['BlkioDeviceReadBps', 'BlkioDeviceWriteBps', 'BlkioDeviceReadIOps', 'BlkioDeviceWriteIOps'] as const) {
    const l = list(k, 'Rate');
    if (l?.length) hc[k] = l.map((e) => ({ Path: e.Path, Rate: e.Rate! }));
  }
}

function envKey(e: string): string {
  const i = e.indexOf('=');
  return i < 0 ? e : e.slice(0, i);
}

/** Docker's merge: container settings win; an explicit Entrypoint drops the image's Cmd. */
export function mergeImageConfig(config: ContainerConfig, image: ImageRuntimeConfig | undefined): ContainerConfig {
  const img = image ?? {};
  const merged: ContainerConfig = { ...config, Labels: { ...(img.Labels ?? {}), ...config.Labels } };
  const keys = new Set(config.Env.map(envKey));
  merged.Env = [...(img.Env ?? []).filter((e) => !keys.has(envKey(e))), ...config.Env];
  if (config.Entrypoint === null) {
    merged.Entrypoint = img.Entrypoint ?? null;
    if (config.Cmd === null) merged.Cmd = img.Cmd ?? null;
  } else if (config.Entrypoint.length === 1 && config.Entrypoint[0] === '') {
    merged.Entrypoint = null;
  }
  if (merged.WorkingDir === '') merged.WorkingDir = img.WorkingDir ?? '';
  if (merged.User === '') merged.User = img.User ?? '';
  if (img.ExposedPorts) merged.ExposedPorts = { ...img.ExposedPorts, ...(config.ExposedPorts ?? {}) };
  if (img.Volumes) merged.Volumes = { ...img.Volumes, ...(config.Volumes ?? {}) };
  if (merged.StopSignal === undefined && img.StopSignal) merged.StopSignal = img.StopSignal;
  if (merged.Healthcheck === undefined && img.Healthcheck) merged.Healthcheck = img.Healthcheck;
  return merged;
}

/** The process argv: entrypoint + cmd; empty means the create must fail. */
export function processArgs(config: ContainerConfig): string[] {
  return [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])];
}

/** Refuses working directories that reach through file descriptors (CVE-2024-21626). */
export function checkWorkingDir(dir: string): void {
  if (/^\/proc\/(self|thread-self|\d+)\/(fd|task)/.test(dir.replace(/\/+/g, '/'))) {
    throw invalidParameter(`the working directory '${dir}' is invalid: it may not point into /proc/*/fd`);
  }
}

/** What the host offers, for the checks Docker makes against it at create and update. */
export interface HostResources {
  cpus: number;
  /** Online CPUs and memory nodes in the kernel's list form (`0-3,6`). */
  onlineCpus: string;
  onlineMems: string;
}

/** Parses a kernel CPU/node list (`0-3,6`); undefined when it is malformed. */
export function parseIdList(text: string): Set<number> | undefined {
  const out = new Set<number>();
  if (text.trim() === '') return out;
  for (const part of text.trim().split(',')) {
    const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(part);
    if (!m) return undefined;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) return undefined;
    for (let i = lo; i <= hi; i++) out.add(i);
  }
  return out;
}

/**
 * Docker's checks of limits against what the host's cgroups can do: a limit they cannot apply is
 * discarded with Docker's warning (the returned texts), a value out of range is refused.
 */
export function checkCgroupLimits(hc: HostConfig, f: CgroupFeatures): string[] {
  const warnings: string[] = [];
  if ((hc.KernelMemory ?? 0) !== 0) warnings.push('Specifying a kernel memory limit is deprecated and will be removed in a future release.');
  if (hc.OomKillDisable === true && !f.oomKillDisable) {
    warnings.push('Your kernel does not support OomKillDisable. OomKillDisable discarded.');
    hc.OomKillDisable = false;
  } else if (hc.OomKillDisable === true && !(hc.Memory > 0)) {
    warnings.push('OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.');
  }
  if ((hc.BlkioWeight ?? 0) > 0 && !f.blkioWeight) {
    warnings.push('Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.');
    hc.BlkioWeight = 0;
  }
  if ((hc.BlkioWeight ?? 0) > 0 && (hc.BlkioWeight! < 10 || hc.BlkioWeight! > 1000)) throw invalidParameter('Range of blkio weight is from 10 to 1000');
  const discard = (key: 'BlkioWeightDevice' | 'BlkioDeviceReadBps' | 'BlkioDeviceWriteBps' | 'BlkioDeviceReadIOps' | 'BlkioDeviceWriteIOps', supported: boolean, text: string): void => {
    if (!hc[key]?.length || supported) return;
    warnings.push(text);
    hc[key] = [];
  };
  discard('BlkioWeightDevice', f.blkioWeightDevice, 'Your kernel does not support Block I/O weight_device or the cgroup is not mounted. Weight-device discarded.');
  discard('BlkioDeviceReadBps', f.blkioReadBps, 'Your kernel does not support BPS Block I/O read limit or the cgroup is not mounted. Block I/O BPS read limit discarded.');
  discard('BlkioDeviceWriteBps', f.blkioWriteBps, 'Your kernel does not support BPS Block I/O write limit or the cgroup is not mounted. Block I/O BPS write limit discarded.');
  discard('BlkioDeviceReadIOps', f.blkioReadIops, 'Your kernel does not support IOPS Block read limit or the cgroup is not mounted. Block I/O IOPS read limit discarded.');
  discard('BlkioDeviceWriteIOps', f.blkioWriteIops, 'Your kernel does not support IOPS Block write limit or the cgroup is not mounted. Block I/O IOPS write limit discarded.');
  for (const w of hc.BlkioWeightDevice ?? []) {
    if (w.Weight < 10 || w.Weight > 1000) throw invalidParameter(`invalid weight for device ${w.Path}: ${w.Weight} (range is 10 to 1000)`);
  }
  const period = hc.CpuRealtimePeriod ?? 0;
  const runtime = hc.CpuRealtimeRuntime ?? 0;
  if (period !== 0 && !f.cpuRealtime) throw invalidParameter('Your kernel does not support cgroup cpu real-time period');
  if (runtime !== 0 && !f.cpuRealtime) throw invalidParameter('Your kernel does not support cgroup cpu real-time runtime');
  if (period !== 0 && runtime !== 0 && runtime > period) throw invalidParameter('cpu real-time runtime cannot be higher than cpu real-time period');
  return warnings;
}

/** Refuses CPU limits and cpusets the host cannot give, with Docker's messages. */
export function checkHostResources(hc: Pick<HostConfig, 'NanoCpus' | 'CpusetCpus' | 'CpusetMems'>, host: HostResources): void {
  if (hc.NanoCpus > 0 && (hc.NanoCpus < 1e7 || hc.NanoCpus > host.cpus * 1e9)) {
    throw invalidParameter(`Range of CPUs is from 0.01 to ${host.cpus.toFixed(2)}, as there are only ${host.cpus} CPUs available`);
  }
  for (const [value, online, what, label] of [
    [hc.CpusetCpus, host.onlineCpus, 'cpus', 'CPUs'],
    [hc.CpusetMems, host.onlineMems, 'mems', 'memory nodes'],
  ] as const) {
    if (!value) continue;
    const want = parseIdList(value);
    if (want === undefined) throw invalidParameter(`Invalid value ${value} for cpuset ${what}`);
    const have = parseIdList(online);
    if (have !== undefined && [...want].some((n) => !have.has(n))) {
      throw invalidParameter(`Requested ${label} are not available - requested ${value}, available: ${online}`);
    }
  }
}
