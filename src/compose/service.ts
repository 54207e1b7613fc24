// One service: `prepareService` validates a service as written in one file and brings every field
// to one shape (lists vs mappings, short vs long syntax, paths made absolute) so files can be
// merged; `toService` turns the merged result into the `Service` model.

import { posix as posixPath } from 'node:path';
import { readFileSync } from 'node:fs';
import { invalidParameter } from '../core/errors.ts';
import { parseDotEnv } from './dotenv.ts';
import type { Lookup } from './interpolate.ts';
import { parsePort } from './ports.ts';
import { shellSplit } from './shlex.ts';
import { Override, Reset } from './tags.ts';
import type { DependsOn, Healthcheck, PortMapping, Service, ServiceNetwork, ServiceVolume } from './types.ts';
import { type PathBase, hostPath, parseServiceVolume } from './volumes.ts';
import {
  type At,
  type Raw,
  asBool,
  asBytes,
  asDuration,
  asInteger,
  asKeyValues,
  asList,
  asMap,
  asNumber,
  asString,
  asStringMap,
  asStrings,
  at,
  checkKeys,
  fail,
  isMap,
} from './values.ts';

export const SERVICE_KEYS: ReadonlySet<string> = new Set([
  'annotations', 'attach', 'build', 'blkio_config', 'cpu_count', 'cpu_percent', 'cpu_shares', 'cpu_quota',
  'cpu_period', 'cpu_rt_period', 'cpu_rt_runtime', 'cpus', 'cpuset', 'cap_add', 'cap_drop', 'cgroup',
  'cgroup_parent', 'command', 'configs', 'container_name', 'credential_spec', 'depends_on', 'deploy', 'develop',
  'device_cgroup_rules', 'devices', 'dns', 'dns_opt', 'dns_search', 'domainname', 'entrypoint', 'env_file',
  'label_file', 'environment', 'expose', 'extends', 'external_links', 'extra_hosts', 'gpus', 'group_add',
  'healthcheck', 'hostname', 'image', 'init', 'ipc', 'isolation', 'labels', 'links', 'logging', 'mac_address',
  'mem_limit', 'mem_reservation', 'mem_swappiness', 'memswap_limit', 'models', 'network_mode', 'networks',
  'oom_kill_disable', 'oom_score_adj', 'pid', 'pids_limit', 'platform', 'ports', 'post_start', 'pre_stop',
  'privileged', 'profiles', 'provider', 'pull_policy', 'pull_refresh_after', 'read_only', 'restart', 'runtime',
  'scale', 'secrets', 'security_opt', 'shm_size', 'stdin_open', 'stop_grace_period', 'stop_signal', 'storage_opt',
  'sysctls', 'tmpfs', 'tty', 'ulimits', 'use_api_socket', 'user', 'uts', 'userns_mode', 'volumes', 'volumes_from',
  'working_dir',
]);

const BUILD_KEYS = new Set([
  'context', 'dockerfile', 'dockerfile_inline', 'args', 'ssh', 'cache_from', 'cache_to', 'extra_hosts', 'isolation',
  'labels', 'network', 'no_cache', 'pull', 'shm_size', 'target', 'secrets', 'tags', 'platforms', 'privileged',
  'ulimits', 'additional_contexts', 'entitlements', 'provenance', 'sbom',
]);
const HEALTH_KEYS = new Set(['test', 'interval', 'timeout', 'start_period', 'start_interval', 'retries', 'disable']);
const DEPENDS_KEYS = new Set(['condition', 'restart', 'required']);
const CONDITIONS = new Set(['service_started', 'service_healthy', 'service_completed_successfully']);
const NETWORK_KEYS = new Set([
  'aliases', 'ipv4_address', 'ipv6_address', 'link_local_ips', 'mac_address', 'driver_opts', 'priority',
  'gw_priority', 'interface_name',
]);
const PULL_POLICIES = new Set(['always', 'never', 'missing', 'build', 'if_not_present']);

const posixJoin = (a: string, b: string): string => posixPath.join(a, b);

/** The file a service comes from; relative paths in it start at `dir`. */
export interface ServiceContext extends PathBase {
  file: string;
}

function command(v: unknown, where: At): string[] | null {
  if (v === null) return null;
  if (typeof v === 'string') return shellSplit(v);
  return asList(v, where).map((x, i) => asString(x, at(where, i)));
}

const isRemoteContext = (s: string): boolean => /^[a-z][a-z0-9+.-]*:\/\//iu.test(s) || s.startsWith('git@');

function prepareBuild(v: unknown, where: At, ctx: ServiceContext): Raw {
  if (typeof v === 'string') return { context: isRemoteContext(v) ? v : hostPath(v, ctx) };
  const b = asMap(v, where);
  checkKeys(b, BUILD_KEYS, where);
  const out: Raw = { ...b };
  const context = b['context'] === undefined ? '.' : asString(b['context'], at(where, 'context'));
  out['context'] = isRemoteContext(context) ? context : hostPath(context, ctx);
  if (b['dockerfile'] !== undefined) out['dockerfile'] = asString(b['dockerfile'], at(where, 'dockerfile'));
  if (b['target'] !== undefined) out['target'] = asString(b['target'], at(where, 'target'));
  if (b['args'] !== undefined) out['args'] = asKeyValues(b['args'], at(where, 'args'));
  if (b['labels'] !== undefined) out['labels'] = asStringMap(b['labels'], at(where, 'labels'));
  return out;
}

function prepareEnvFiles(v: unknown, where: At, ctx: ServiceContext): Raw[] {
  const list = typeof v === 'string' ? [v] : asList(v, where);
  return list.map((item, i) => {
    const w = at(where, i);
    if (typeof item === 'string') return { path: hostPath(item, ctx), required: true };
    const m = asMap(item, w);
    checkKeys(m, new Set(['path', 'required', 'format']), w);
    if (m['path'] === undefined) throw fail(w, 'path is required');
    return {
      path: hostPath(asString(m['path'], at(w, 'path')), ctx),
      required: m['required'] === undefined ? true : asBool(m['required'], at(w, 'required')),
    };
  });
}

function prepareNetworks(v: unknown, where: At): Record<string, Raw> {
  const out: Record<string, Raw> = {};
  if (Array.isArray(v)) {
    v.forEach((n, i) => {
      out[asString(n, at(where, i))] = {};
    });
    return out;
  }
  for (const [name, cfg] of Object.entries(asMap(v, where))) {
    const w = at(where, name);
    const m = asMap(cfg, w);
    checkKeys(m, NETWORK_KEYS, w);
    const n: Raw = { ...m };
    if (m['aliases'] !== undefined) n['aliases'] = asStrings(m['aliases'], at(w, 'aliases'));
    if (m['ipv4_address'] !== undefined) n['ipv4_address'] = asString(m['ipv4_address'], at(w, 'ipv4_address'));
    if (m['ipv6_address'] !== undefined) n['ipv6_address'] = asString(m['ipv6_address'], at(w, 'ipv6_address'));
    out[name] = n;
  }
  return out;
}

function prepareDependsOn(v: unknown, where: At): Record<string, DependsOn> {
  const out: Record<string, DependsOn> = {};
  if (Array.isArray(v)) {
    v.forEach((n, i) => {
      out[asString(n, at(where, i))] = { condition: 'service_started', restart: false, required: true };
    });
    return out;
  }
  for (const [name, cfg] of Object.entries(asMap(v, where))) {
    const w = at(where, name);
    const m = asMap(cfg, w);
    checkKeys(m, DEPENDS_KEYS, w);
    const condition = m['condition'] === undefined ? 'service_started' : asString(m['condition'], at(w, 'condition'));
    if (!CONDITIONS.has(condition)) {
      throw fail(at(w, 'condition'), 'must be one of the following: "service_started", "service_healthy", "service_completed_successfully"');
    }
    out[name] = {
      condition: condition as DependsOn['condition'],
      restart: m['restart'] === undefined ? false : asBool(m['restart'], at(w, 'restart')),
      required: m['required'] === undefined ? true : asBool(m['required'], at(w, 'required')),
    };
  }
  return out;
}

function prepareExtraHosts(v: unknown, where: At): string[] {
  if (isMap(v)) {
    const out: string[] = [];
    for (const [host, ip] of Object.entries(v)) {
      for (const one of asStrings(ip, at(where, host))) out.push(`${host}:${one}`);
    }
    return out;
  }
  return asStrings(v, where).map((s) => {
    const eq = s.indexOf('=');
    return eq === -1 ? s : `${s.slice(0, eq)}:${s.slice(eq + 1)}`;
  });
}

/** Validates one service of one file and brings its fields to a single, mergeable shape. */
export function prepareService(name: string, value: unknown, ctx: ServiceContext): Raw {
  const where: At = { file: ctx.file, key: `services.${name}` };
  if (value === null || value === undefined) return {};
  if (!isMap(value)) throw fail(where, 'must be a mapping');
  checkKeys(value, SERVICE_KEYS, where);
  const out: Raw = {};
  for (const [key, tagged] of Object.entries(value)) {
    if (key.startsWith('x-')) continue;
    if (tagged instanceof Reset) {
      out[key] = tagged;
      continue;
    }
    const v = tagged instanceof Override ? tagged.value : tagged;
    const w = at(where, key);
    switch (key) {
      case 'build':
        out[key] = prepareBuild(v, w, ctx);
        break;
      case 'command':
      case 'entrypoint':
        out[key] = command(v, w);
        break;
      case 'environment':
        out[key] = asKeyValues(v, w);
        break;
      case 'labels':
        out[key] = asStringMap(v, w);
        break;
      case 'env_file':
        out[key] = prepareEnvFiles(v, w, ctx);
        break;
      case 'ports':
        out[key] = asList(v, w).map((p, i) => parsePort(p, at(w, i)));
        break;
      case 'expose':
        out[key] = asList(v, w).map((p, i) => asString(p, at(w, i)));
        break;
      case 'volumes':
        out[key] = asList(v, w).map((p, i) => parseServiceVolume(p, at(w, i), ctx));
        break;
      case 'networks':
        out[key] = prepareNetworks(v, w);
        break;
      case 'depends_on':
        out[key] = prepareDependsOn(v, w);
        break;
      case 'extra_hosts':
        out[key] = prepareExtraHosts(v, w);
        break;
      case 'devices':
        out[key] = asList(v, w).map((d, i) => parseDevice(d, at(w, i)));
        break;
      case 'links':
        out[key] = asStrings(v, w);
        break;
      case 'dns':
      case 'dns_search':
      case 'dns_opt':
      case 'tmpfs':
      case 'cap_add':
      case 'cap_drop':
      case 'profiles':
      case 'security_opt':
      case 'group_add':
        out[key] = asStrings(v, w);
        break;
      case 'extends': {
        if (typeof v === 'string') out[key] = { service: v };
        else {
          const m = asMap(v, w);
          checkKeys(m, new Set(['service', 'file']), w);
          if (m['service'] === undefined) throw fail(w, 'service is required');
          const e: Raw = { service: asString(m['service'], at(w, 'service')) };
          if (m['file'] !== undefined) e['file'] = hostPath(asString(m['file'], at(w, 'file')), ctx);
          out[key] = e;
        }
        break;
      }
      case 'healthcheck': {
        const m = asMap(v, w);
        checkKeys(m, HEALTH_KEYS, w);
        const h: Raw = { ...m };
        if (m['test'] !== undefined) {
          h['test'] = typeof m['test'] === 'string' ? ['CMD-SHELL', m['test']] : asStrings(m['test'], at(w, 'test'));
        }
        out[key] = h;
        break;
      }
      default:
        out[key] = v;
    }
    if (tagged instanceof Override) out[key] = new Override(out[key]);
  }
  return out;
}

/** Drops what `!reset` left and unwraps `!override` once no file is left to merge. */
function untag(raw: Raw): Raw {
  const out: Raw = {};
  for (const [k, v] of Object.entries(raw)) {
    if (v instanceof Reset) continue;
    out[k] = v instanceof Override ? v.value : v;
  }
  return out;
}

/** The environment of a service: env_file entries in order (later wins), then `environment`. */
function environmentOf(raw: Raw, lookup: Lookup): Record<string, string | null> {
  const env: Record<string, string | null> = {};
  for (const f of (raw['env_file'] as Raw[] | undefined) ?? []) {
    const path = f['path'] as string;
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err: unknown) {
      if (f['required'] === false) continue;
      throw invalidParameter(`env file ${path} not found: ${err instanceof Error ? err.message : String(err)}`, err);
    }
    Object.assign(env, parseDotEnv(text, { lookup, file: path }));
  }
  Object.assign(env, (raw['environment'] as Record<string, string | null> | undefined) ?? {});
  return env;
}

function healthcheckOf(v: Raw, where: At): Healthcheck {
  const test = (v['test'] as string[] | undefined) ?? [];
  const h: Healthcheck = { test };
  if (v['disable'] !== undefined && asBool(v['disable'], at(where, 'disable'))) {
    h.test = ['NONE'];
    h.disable = true;
  } else if (test[0] === 'NONE') h.disable = true;
  if (v['interval'] !== undefined) h.interval = asDuration(v['interval'], at(where, 'interval'));
  if (v['timeout'] !== undefined) h.timeout = asDuration(v['timeout'], at(where, 'timeout'));
  if (v['start_period'] !== undefined) h.startPeriod = asDuration(v['start_period'], at(where, 'start_period'));
  if (v['start_interval'] !== undefined) h.startInterval = asDuration(v['start_interval'], at(where, 'start_interval'));
  if (v['retries'] !== undefined) h.retries = asInteger(v['retries'], at(where, 'retries'));
  return h;
}

function ulimitsOf(v: unknown, where: At): Service['ulimits'] {
  const out: Service['ulimits'] = {};
  for (const [name, l] of Object.entries(asMap(v, where))) {
    const w = at(where, name);
    if (isMap(l)) {
      checkKeys(l, new Set(['soft', 'hard']), w);
      if (l['soft'] === undefined || l['hard'] === undefined) throw fail(w, 'soft and hard are required');
      out[name] = { soft: asInteger(l['soft'], at(w, 'soft')), hard: asInteger(l['hard'], at(w, 'hard')) };
    } else {
      const n = asInteger(l, w);
      out[name] = { soft: n, hard: n };
    }
  }
  return out;
}

/** The `Service` model of a merged, prepared service. */
export function toService(name: string, tagged: Raw, ctx: { file: string; lookup: Lookup }): Service {
  const { file, lookup } = ctx;
  const raw = untag(tagged);
  const where: At = { file, key: `services.${name}` };
  const w = (k: string): At => at(where, k);
  const deploy = asMap(raw['deploy'], w('deploy'));
  const limits = asMap(asMap(deploy['resources'], w('deploy.resources'))['limits'], w('deploy.resources.limits'));
  const svc: Service = {
    name,
    environment: environmentOf(raw, lookup),
    ports: (raw['ports'] as PortMapping[] | undefined) ?? [],
    expose: (raw['expose'] as string[] | undefined) ?? [],
    volumes: (raw['volumes'] as ServiceVolume[] | undefined) ?? [],
    networks: {},
    dependsOn: (raw['depends_on'] as Record<string, DependsOn> | undefined) ?? {},
    labels: (raw['labels'] as Record<string, string> | undefined) ?? {},
    capAdd: (raw['cap_add'] as string[] | undefined) ?? [],
    capDrop: (raw['cap_drop'] as string[] | undefined) ?? [],
    ulimits: ulimitsOf(raw['ulimits'], w('ulimits')),
    replicas: 1,
    extraHosts: (raw['extra_hosts'] as string[] | undefined) ?? [],
    dns: (raw['dns'] as string[] | undefined) ?? [],
    tmpfs: (raw['tmpfs'] as string[] | undefined) ?? [],
    profiles: (raw['profiles'] as string[] | undefined) ?? [],
  };
  const str = (k: string): string | undefined => (raw[k] === undefined || raw[k] === null ? undefined : asString(raw[k], w(k)));
  const bool = (k: string): boolean | undefined => (raw[k] === undefined || raw[k] === null ? undefined : asBool(raw[k], w(k)));
  const image = str('image');
  if (image !== undefined) svc.image = image;
  const build = raw['build'] as Raw | undefined;
  if (build !== undefined) {
    svc.build = {
      context: build['context'] as string,
      dockerfile: build['dockerfile'] === undefined ? 'Dockerfile' : (build['dockerfile'] as string),
      args: {},
      labels: (build['labels'] as Record<string, string> | undefined) ?? {},
    };
    // A bare build arg takes its value from the environment, and is dropped when unset.
    for (const [k, v] of Object.entries((build['args'] as Record<string, string | null> | undefined) ?? {})) {
      const value = v ?? lookup(k);
      if (value !== undefined) svc.build.args[k] = value;
    }
    if (build['target'] !== undefined) svc.build.target = build['target'] as string;
  }
  if (raw['command'] !== undefined && raw['command'] !== null) svc.command = raw['command'] as string[];
  if (raw['entrypoint'] !== undefined && raw['entrypoint'] !== null) svc.entrypoint = raw['entrypoint'] as string[];
  const networkMode = str('network_mode');
  if (networkMode !== undefined) svc.networkMode = networkMode;
  const nets = raw['networks'] as Record<string, Raw> | undefined;
  if (nets !== undefined) {
    for (const [n, cfg] of Object.entries(nets)) {
      const sn: ServiceNetwork = { aliases: (cfg['aliases'] as string[] | undefined) ?? [] };
      if (cfg['ipv4_address'] !== undefined) sn.ipv4Address = cfg['ipv4_address'] as string;
      if (cfg['ipv6_address'] !== undefined) sn.ipv6Address = cfg['ipv6_address'] as string;
      svc.networks[n] = sn;
    }
  } else if (networkMode === undefined) svc.networks['default'] = { aliases: [] };
  if (networkMode !== undefined && nets !== undefined && Object.keys(nets).length > 0) {
    throw fail(where, "network_mode and networks cannot be combined");
  }
  if (raw['healthcheck'] !== undefined) svc.healthcheck = healthcheckOf(asMap(raw['healthcheck'], w('healthcheck')), w('healthcheck'));
  for (const [k, prop] of [
    ['restart', 'restart'],
    ['user', 'user'],
    ['working_dir', 'workingDir'],
    ['hostname', 'hostname'],
    ['stop_signal', 'stopSignal'],
    ['container_name', 'containerName'],
    ['platform', 'platform'],
  ] as const) {
    const v = str(k);
    if (v !== undefined) svc[prop] = v;
  }
  for (const [k, prop] of [
    ['init', 'init'],
    ['read_only', 'readOnly'],
    ['privileged', 'privileged'],
    ['tty', 'tty'],
    ['stdin_open', 'stdinOpen'],
  ] as const) {
    const v = bool(k);
    if (v !== undefined) svc[prop] = v;
  }
  const reservations = asMap(asMap(deploy['resources'], w('deploy.resources'))['reservations'], w('deploy.resources.reservations'));
  if (reservations['memory'] !== undefined) svc.memReservation = asBytes(reservations['memory'], w('deploy.resources.reservations.memory'));
  if (raw['mem_reservation'] !== undefined) svc.memReservation = asBytes(raw['mem_reservation'], w('mem_reservation'));
  if (raw['devices'] !== undefined) svc.devices = raw['devices'] as NonNullable<Service['devices']>;
  if (raw['links'] !== undefined) {
    svc.links = {};
    for (const l of raw['links'] as string[]) {
      const [target, alias] = l.split(':');
      svc.links[target!] = alias || target!;
      // A link is a dependency too.
      svc.dependsOn[target!] ??= { condition: 'service_started', restart: false, required: true };
    }
  }
  // deploy.restart_policy, as docker compose reads it when `restart` is not set.
  const rp = asMap(deploy['restart_policy'], w('deploy.restart_policy'));
  if (raw['restart'] === undefined && rp['condition'] !== undefined) {
    const cond = asString(rp['condition'], w('deploy.restart_policy.condition'));
    const max = rp['max_attempts'] !== undefined ? asInteger(rp['max_attempts'], w('deploy.restart_policy.max_attempts')) : 0;
    if (cond === 'any') svc.restart = 'always';
    else if (cond === 'on-failure') svc.restart = max > 0 ? `on-failure:${max}` : 'on-failure';
    else if (cond === 'none') svc.restart = 'no';
    else throw fail(w('deploy.restart_policy.condition'), `invalid restart condition ${JSON.stringify(cond)}: none, on-failure or any`);
  }
  if (limits['memory'] !== undefined) svc.memLimit = asBytes(limits['memory'], w('deploy.resources.limits.memory'));
  if (raw['mem_limit'] !== undefined) svc.memLimit = asBytes(raw['mem_limit'], w('mem_limit'));
  if (limits['cpus'] !== undefined) svc.cpus = asNumber(limits['cpus'], w('deploy.resources.limits.cpus'));
  if (raw['cpus'] !== undefined) svc.cpus = asNumber(raw['cpus'], w('cpus'));
  if (limits['pids'] !== undefined) svc.pidsLimit = asInteger(limits['pids'], w('deploy.resources.limits.pids'));
  if (raw['pids_limit'] !== undefined) svc.pidsLimit = asInteger(raw['pids_limit'], w('pids_limit'));
  if (deploy['replicas'] !== undefined) svc.replicas = asInteger(deploy['replicas'], w('deploy.replicas'));
  if (raw['scale'] !== undefined) {
    const scale = asInteger(raw['scale'], w('scale'));
    if (deploy['replicas'] !== undefined && scale !== svc.replicas) {
      throw fail(where, "can't set distinct values on 'scale' and 'deploy.replicas'");
    }
    svc.replicas = scale;
  }
  if (raw['stop_grace_period'] !== undefined) svc.stopGracePeriod = asDuration(raw['stop_grace_period'], w('stop_grace_period'));
  if (raw['security_opt'] !== undefined) svc.securityOpt = raw['security_opt'] as string[];
  if (raw['sysctls'] !== undefined && raw['sysctls'] !== null) {
    const sysctls: Record<string, string> = {};
    for (const [k, v] of Object.entries(asKeyValues(raw['sysctls'], w('sysctls')))) {
      if (v === null) throw fail(w('sysctls'), `${k} has no value`);
      sysctls[k] = v;
    }
    svc.sysctls = sysctls;
  }
  if (raw['shm_size'] !== undefined && raw['shm_size'] !== null) svc.shmSize = asBytes(raw['shm_size'], w('shm_size'));
  if (raw['volumes_from'] !== undefined && raw['volumes_from'] !== null) svc.volumesFrom = asStrings(raw['volumes_from'], w('volumes_from'));
  for (const [kind, base] of [
    ['secrets', '/run/secrets'],
    ['configs', '/'],
  ] as const) {
    if (raw[kind] === undefined || raw[kind] === null) continue;
    svc[kind] = asList(raw[kind], w(kind)).map((item, i) => {
      if (typeof item === 'string') return { source: item, target: posixJoin(base, item) };
      const m = asMap(item, w(`${kind}[${i}]`));
      checkKeys(m, new Set(['source', 'target', 'uid', 'gid', 'mode']), w(`${kind}[${i}]`));
      const source = asString(m['source'], w(`${kind}[${i}].source`));
      const target = m['target'] === undefined ? source : asString(m['target'], w(`${kind}[${i}].target`));
      return { source, target: target.startsWith('/') ? target : posixJoin(base, target) };
    });
  }
  if (raw['logging'] !== undefined) {
    const l = asMap(raw['logging'], w('logging'));
    checkKeys(l, new Set(['driver', 'options']), w('logging'));
    const logging: NonNullable<Service['logging']> = { options: asStringMap(l['options'], w('logging.options')) };
    if (l['driver'] !== undefined) logging.driver = asString(l['driver'], w('logging.driver'));
    svc.logging = logging;
  }
  const pull = str('pull_policy');
  if (pull !== undefined) {
    if (!PULL_POLICIES.has(pull)) throw fail(w('pull_policy'), 'must be one of always, never, missing, build');
    svc.pullPolicy = pull === 'if_not_present' ? 'missing' : (pull as NonNullable<Service['pullPolicy']>);
  }
  if (svc.image === undefined && svc.build === undefined) {
    throw invalidParameter(`service ${JSON.stringify(name)} has neither an image nor a build context specified: invalid compose project`);
  }
  return svc;
}

/** `devices:` entries: HOST[:CONTAINER[:PERMS]], or the long form {source, target, permissions}. */
function parseDevice(v: unknown, w: At): { host: string; container: string; permissions: string } {
  if (typeof v !== 'string') {
    const m = asMap(v, w);
    checkKeys(m, new Set(['source', 'target', 'permissions']), w);
    const host = asString(m['source'], at(w, 'source'));
    return { host, container: m['target'] === undefined ? host : asString(m['target'], at(w, 'target')), permissions: m['permissions'] === undefined ? 'rwm' : asString(m['permissions'], at(w, 'permissions')) };
  }
  const parts = v.split(':');
  const perms = (p: string | undefined): boolean => p !== undefined && /^[rwm]{1,3}$/.test(p);
  if (parts.length > 3 || parts[0] === '') throw fail(w, `invalid device ${JSON.stringify(v)}`);
  if (parts.length === 3 && !perms(parts[2])) throw fail(w, `invalid device mode ${JSON.stringify(parts[2])}`);
  const host = parts[0]!;
  if (parts.length === 2 && perms(parts[1])) return { host, container: host, permissions: parts[1]! };
  return { host, container: parts[1] ?? host, permissions: parts[2] ?? 'rwm' };
}
