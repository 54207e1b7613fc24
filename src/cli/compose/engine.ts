// berth compose's engine side: turns a loaded project into networks, volumes, images and containers
// through the Engine API, labelled as docker compose labels them, so `docker compose` and
// `berth compose` see the same project.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { BERTH_VERSION } from '../commands/version.ts';
import { securityOpt } from '../run-options.ts';
import { ApiError, FrameDecoder, type Client } from '../../client/index.ts';
import { configHash, serviceOrder } from '../../compose/index.ts';
import type { Project, Service } from '../../compose/types.ts';

export const L = {
  project: 'com.docker.compose.project',
  service: 'com.docker.compose.service',
  number: 'com.docker.compose.container-number',
  oneoff: 'com.docker.compose.oneoff',
  hash: 'com.docker.compose.config-hash',
  workingDir: 'com.docker.compose.project.working_dir',
  configFiles: 'com.docker.compose.project.config_files',
  version: 'com.docker.compose.version',
  network: 'com.docker.compose.network',
  volume: 'com.docker.compose.volume',
  image: 'com.docker.compose.image',
  dependsOn: 'com.docker.compose.depends_on',
} as const;

export interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  Command: string;
  Created: number;
  State: string;
  Status: string;
  Ports: Array<{ IP?: string; PrivatePort: number; PublicPort?: number; Type: string }>;
  Labels: Record<string, string>;
}

export type Say = (line: string) => void;

const COMPOSE_VERSION = `2.x-berth-${BERTH_VERSION}`;

export function containerName(project: Project, svc: Service, n: number): string {
  return svc.containerName ?? `${project.name}-${svc.name}-${n}`;
}

export function imageName(project: Project, svc: Service): string {
  return svc.image ?? `${project.name}-${svc.name}`;
}

function filters(obj: Record<string, string[]>): string {
  return JSON.stringify(obj);
}

export async function projectContainers(client: Client, project: string, opts: { all?: boolean; oneoff?: boolean } = {}): Promise<ContainerSummary[]> {
  const labels = [`${L.project}=${project}`];
  if (opts.oneoff !== undefined) labels.push(`${L.oneoff}=${opts.oneoff ? 'True' : 'False'}`);
  const list = await client.json<ContainerSummary[]>('GET', '/containers/json', { query: { all: opts.all === false ? undefined : '1', filters: filters({ label: labels }) } });
  return list.sort((a, b) => (a.Names[0] ?? '').localeCompare(b.Names[0] ?? ''));
}

function envList(svc: Service, env: Record<string, string | undefined>): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(svc.environment)) {
    if (v !== null) out.push(`${k}=${v}`);
    else if (env[k] !== undefined) out.push(`${k}=${env[k]}`);
  }
  return out;
}

/** The create body for a service's container number n (networks beyond the first are connected later). */
export function createBody(project: Project, svc: Service, n: number, env: Record<string, string | undefined>, oneoff = false): { name: string; body: Record<string, unknown>; extraNetworks: Array<{ network: string; aliases: string[]; ip?: string; ip6?: string }>; injected: Array<{ target: string; content: string }> } {
  const name = containerName(project, svc, n);
  const labels: Record<string, string> = {
    ...svc.labels,
    [L.project]: project.name,
    [L.service]: svc.name,
    [L.number]: String(n),
    [L.oneoff]: oneoff ? 'True' : 'False',
    [L.hash]: configHash(svc),
    [L.workingDir]: project.workingDir,
    [L.configFiles]: project.files.join(','),
    [L.version]: COMPOSE_VERSION,
    [L.image]: imageName(project, svc),
    [L.dependsOn]: Object.entries(svc.dependsOn)
      .map(([d, c]) => `${d}:${c.condition}:${c.restart}`)
      .join(','),
  };
  const exposed: Record<string, object> = {};
  const bindings: Record<string, Array<{ HostIp?: string; HostPort?: string }>> = {};
  for (const p of svc.ports) {
    const last = p.targetEnd ?? p.target;
    for (let t = p.target; t <= last; t++) {
      const key = `${t}/${p.protocol}`;
      exposed[key] = {};
      const published = p.published !== undefined ? p.published + (t - p.target) : undefined;
      (bindings[key] ??= []).push({ ...(p.hostIp ? { HostIp: p.hostIp } : {}), HostPort: published !== undefined ? String(published) : '' });
    }
  }
  for (const e of svc.expose) exposed[e.includes('/') ? e : `${e}/tcp`] = {};
  const binds: string[] = [];
  const mounts: unknown[] = [];
  const volumes: Record<string, object> = {};
  for (const v of svc.volumes) {
    if (v.type === 'tmpfs') {
      mounts.push({ Type: 'tmpfs', Target: v.target, ...(v.tmpfsSize ? { TmpfsOptions: { SizeBytes: v.tmpfsSize } } : {}) });
    } else if (v.type === 'bind') {
      // The short syntax creates a missing host directory (as -v does); create_host_path: false does not.
      if (v.createHostPath === false) mounts.push({ Type: 'bind', Source: v.source, Target: v.target, ReadOnly: v.readOnly });
      else binds.push(`${v.source}:${v.target}${v.readOnly ? ':ro' : ''}`);
    } else if (v.source) {
      const spec = project.volumes[v.source];
      mounts.push({ Type: 'volume', Source: spec?.name ?? v.source, Target: v.target, ReadOnly: v.readOnly, ...(v.noCopy ? { VolumeOptions: { NoCopy: true } } : {}) });
    } else {
      volumes[v.target] = {};
    }
  }
  // Secrets and configs: a file is bind-mounted read-only; content from the environment or the
  // file itself is copied in after create (injected).
  const injected: Array<{ target: string; content: string }> = [];
  for (const kind of ['secrets', 'configs'] as const) {
    for (const m of svc[kind] ?? []) {
      const spec = project[kind]?.[m.source];
      if (spec?.file) binds.push(`${spec.file}:${m.target}:ro`);
      else if (spec?.environment !== undefined) injected.push({ target: m.target, content: env[spec.environment] ?? '' });
      else if (spec?.content !== undefined) injected.push({ target: m.target, content: spec.content });
    }
  }
  const volumesFrom = (svc.volumesFrom ?? []).map((v) => {
    if (v.startsWith('container:')) return v.slice('container:'.length);
    const [from, mode] = v.split(':');
    const other = project.services[from!];
    const name = other ? containerName(project, other, 1) : from!;
    return mode ? `${name}:${mode}` : name;
  });
  const netNames = Object.keys(svc.networks);
  const primary = netNames[0];
  const endpoint = (key: string): Record<string, unknown> => {
    const s = svc.networks[key]!;
    return { Aliases: [svc.name, ...s.aliases], ...(s.ipv4Address || s.ipv6Address ? { IPAMConfig: { ...(s.ipv4Address ? { IPv4Address: s.ipv4Address } : {}), ...(s.ipv6Address ? { IPv6Address: s.ipv6Address } : {}) } } : {}) };
  };
  const networkMode = svc.networkMode ?? (primary !== undefined ? project.networks[primary]?.name ?? primary : 'default');
  const body: Record<string, unknown> = {
    Image: imageName(project, svc),
    Hostname: svc.hostname ?? '',
    User: svc.user ?? '',
    Env: envList(svc, env),
    Labels: labels,
    ExposedPorts: exposed,
    Volumes: volumes,
    Tty: svc.tty ?? false,
    OpenStdin: svc.stdinOpen ?? false,
    WorkingDir: svc.workingDir ?? '',
    HostConfig: {
      Binds: binds,
      Mounts: mounts,
      PortBindings: bindings,
      NetworkMode: networkMode,
      RestartPolicy: { Name: svc.restart === 'unless-stopped' || svc.restart === 'always' || svc.restart?.startsWith('on-failure') ? svc.restart.split(':')[0] : '', MaximumRetryCount: svc.restart?.startsWith('on-failure:') ? Number(svc.restart.split(':')[1]) : 0 },
      Init: svc.init ?? null,
      ReadonlyRootfs: svc.readOnly ?? false,
      Privileged: svc.privileged ?? false,
      CapAdd: svc.capAdd,
      CapDrop: svc.capDrop,
      Ulimits: Object.entries(svc.ulimits).map(([Name, u]) => ({ Name, Soft: u.soft, Hard: u.hard })),
      ...(svc.memLimit ? { Memory: svc.memLimit } : {}),
      ...(svc.cpus ? { NanoCpus: Math.round(svc.cpus * 1e9) } : {}),
      ...(svc.pidsLimit ? { PidsLimit: svc.pidsLimit } : {}),
      ExtraHosts: svc.extraHosts,
      Dns: svc.dns,
      Tmpfs: Object.fromEntries(svc.tmpfs.map((t) => [t.split(':')[0]!, t.split(':').slice(1).join(':')])),
      ...(svc.logging?.driver ? { LogConfig: { Type: svc.logging.driver, Config: svc.logging.options } } : {}),
      // A seccomp profile file (relative to the project) is sent as its JSON, as the docker CLI does.
      ...(svc.securityOpt ? { SecurityOpt: svc.securityOpt.map((o) => securityOpt(o.replace(/^seccomp:/, 'seccomp='), (p) => readFileSync(resolve(project.workingDir, p), 'utf8'))) } : {}),
      ...(svc.sysctls ? { Sysctls: svc.sysctls } : {}),
      ...(svc.shmSize ? { ShmSize: svc.shmSize } : {}),
      ...(volumesFrom.length > 0 ? { VolumesFrom: volumesFrom } : {}),
      ...(svc.memReservation ? { MemoryReservation: svc.memReservation } : {}),
      ...(svc.devices ? { Devices: svc.devices.map((x) => ({ PathOnHost: x.host, PathInContainer: x.container, CgroupPermissions: x.permissions })) } : {}),
      ...(svc.links ? { Links: Object.entries(svc.links).map(([target, alias]) => `${project.services[target] ? containerName(project, project.services[target], 1) : target}:${alias}`) } : {}),
    },
    NetworkingConfig: primary !== undefined && !svc.networkMode ? { EndpointsConfig: { [project.networks[primary]?.name ?? primary]: endpoint(primary) } } : {},
  };
  if (svc.command) body.Cmd = svc.command;
  if (svc.entrypoint) body.Entrypoint = svc.entrypoint;
  if (svc.stopSignal) body.StopSignal = svc.stopSignal;
  if (svc.stopGracePeriod !== undefined) body.StopTimeout = Math.round(svc.stopGracePeriod / 1e9);
  if (svc.healthcheck) {
    const h = svc.healthcheck;
    body.Healthcheck = h.disable ? { Test: ['NONE'] } : { Test: h.test, ...(h.interval ? { Interval: h.interval } : {}), ...(h.timeout ? { Timeout: h.timeout } : {}), ...(h.startPeriod ? { StartPeriod: h.startPeriod } : {}), ...(h.retries ? { Retries: h.retries } : {}) };
  }
  const extraNetworks = svc.networkMode
    ? []
    : netNames.slice(1).map((k) => {
        const sn = svc.networks[k]!;
        return { network: project.networks[k]?.name ?? k, aliases: [svc.name, ...sn.aliases], ...(sn.ipv4Address ? { ip: sn.ipv4Address } : {}), ...(sn.ipv6Address ? { ip6: sn.ipv6Address } : {}) };
      });
  return { name, body, extraNetworks, injected };
}

export async function ensureNetworks(client: Client, project: Project, say: Say): Promise<void> {
  const used = new Set(Object.values(project.services).flatMap((s) => (s.networkMode ? [] : Object.keys(s.networks))));
  for (const [key, n] of Object.entries(project.networks)) {
    if (!used.has(key)) continue;
    const exists = await client.request('GET', `/networks/${encodeURIComponent(n.name)}`).then(
      () => true,
      (err: unknown) => {
        if (err instanceof ApiError && err.status === 404) return false;
        throw err;
      },
    );
    if (exists) continue;
    if (n.external) throw new ApiError(404, `network ${n.name} declared as external, but could not be found`);
    const configs = (n.ipam ?? []).map((e) => ({ ...(e.subnet ? { Subnet: e.subnet } : {}), ...(e.gateway ? { Gateway: e.gateway } : {}), ...(e.ipRange ? { IPRange: e.ipRange } : {}) })).filter((c) => Object.keys(c).length > 0);
    const ipam = configs.length > 0 ? { Config: configs } : undefined;
    await client.json('POST', '/networks/create', {
      body: { Name: n.name, Driver: n.driver || 'bridge', Internal: n.internal, ...(n.enableIpv6 ? { EnableIPv6: true } : {}), Labels: { ...n.labels, [L.project]: project.name, [L.network]: key, [L.version]: COMPOSE_VERSION }, ...(ipam ? { IPAM: ipam } : {}) },
    });
    say(` Network ${n.name}  Created`);
  }
}

export async function ensureVolumes(client: Client, project: Project, say: Say): Promise<void> {
  const used = new Set(Object.values(project.services).flatMap((s) => s.volumes.filter((v) => v.type === 'volume' && v.source).map((v) => v.source!)));
  for (const [key, v] of Object.entries(project.volumes)) {
    if (!used.has(key)) continue;
    const exists = await client.request('GET', `/volumes/${encodeURIComponent(v.name)}`).then(
      () => true,
      (err: unknown) => {
        if (err instanceof ApiError && err.status === 404) return false;
        throw err;
      },
    );
    if (exists) continue;
    if (v.external) throw new ApiError(404, `external volume "${v.name}" not found`);
    await client.json('POST', '/volumes/create', { body: { Name: v.name, Driver: v.driver || 'local', DriverOpts: v.driverOpts, Labels: { ...v.labels, [L.project]: project.name, [L.volume]: key, [L.version]: COMPOSE_VERSION } } });
    say(` Volume ${v.name}  Created`);
  }
}

/** Waits for a dependency's condition: started, healthy, or exited 0. */
export async function waitForCondition(client: Client, id: string, condition: string, name: string): Promise<void> {
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    const info = await client.json<{ State: { Status: string; ExitCode: number; Health?: { Status: string } } }>('GET', `/containers/${id}/json`);
    const st = info.State;
    if (condition === 'service_started') return;
    if (condition === 'service_healthy') {
      if (st.Health?.Status === 'healthy') return;
      if (st.Health === undefined) throw new ApiError(400, `container ${name} has no healthcheck configured`);
      if (st.Status === 'exited' || st.Health.Status === 'unhealthy') throw new ApiError(500, `dependency failed to start: container ${name} is unhealthy`);
    }
    if (condition === 'service_completed_successfully' && st.Status === 'exited') {
      if (st.ExitCode === 0) return;
      throw new ApiError(500, `service "${name}" didn't complete successfully: exit ${st.ExitCode}`);
    }
    if (Date.now() > deadline) throw new ApiError(500, `timed out waiting for ${name}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Streams a container's logs with a prefix per line, until it ends (follow) or the logs end. */
export async function streamLogs(client: Client, id: string, prefix: string, write: (s: string) => void, opts: { follow: boolean; tail?: string; timestamps?: boolean; tty: boolean; signal?: AbortSignal }): Promise<void> {
  const res = await client.request('GET', `/containers/${id}/logs`, {
    query: { stdout: '1', stderr: '1', follow: opts.follow ? '1' : undefined, tail: opts.tail, timestamps: opts.timestamps ? '1' : undefined },
    longLived: opts.follow,
  });
  opts.signal?.addEventListener('abort', () => res.stream.destroy(), { once: true });
  let pending = '';
  const emit = (text: string): void => {
    pending += text;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      write(`${prefix}${pending.slice(0, nl)}\n`);
      pending = pending.slice(nl + 1);
    }
  };
  const decoder = new FrameDecoder();
  try {
    for await (const chunk of res.stream as AsyncIterable<Buffer>) {
      if (opts.tty) emit(chunk.toString());
      else for (const f of decoder.push(chunk)) emit(f.data.toString());
    }
  } catch {
    // The stream was cut (Ctrl-C, or the daemon went away).
  }
  if (pending !== '') write(`${prefix}${pending}\n`);
}

export { serviceOrder };
