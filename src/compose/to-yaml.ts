// The normalized project as compose's long-form YAML, for `berth compose config`.

import { stringify } from 'yaml';
import type { Healthcheck, PortMapping, Project, Service, ServiceVolume } from './types.ts';
import { formatDuration } from '../dockerfile/duration.ts';

export { formatDuration };

function port(p: PortMapping): Record<string, unknown> {
  const out: Record<string, unknown> = { mode: 'ingress' };
  if (p.hostIp !== undefined) out['host_ip'] = p.hostIp;
  out['target'] = p.target;
  if (p.published !== undefined) {
    out['published'] = p.publishedEnd === undefined ? String(p.published) : `${p.published}-${p.publishedEnd}`;
  }
  out['protocol'] = p.protocol;
  return out;
}

function volume(v: ServiceVolume): Record<string, unknown> {
  const out: Record<string, unknown> = { type: v.type };
  if (v.source !== undefined) out['source'] = v.source;
  out['target'] = v.target;
  if (v.readOnly) out['read_only'] = true;
  if (v.type === 'bind') out['bind'] = { create_host_path: v.createHostPath ?? false };
  if (v.type === 'volume') out['volume'] = v.noCopy === true ? { nocopy: true } : {};
  if (v.type === 'tmpfs' && v.tmpfsSize !== undefined) out['tmpfs'] = { size: v.tmpfsSize };
  return out;
}

function healthcheck(h: Healthcheck): Record<string, unknown> {
  const out: Record<string, unknown> = { test: h.test };
  if (h.interval !== undefined) out['interval'] = formatDuration(h.interval);
  if (h.timeout !== undefined) out['timeout'] = formatDuration(h.timeout);
  if (h.startPeriod !== undefined) out['start_period'] = formatDuration(h.startPeriod);
  if (h.startInterval !== undefined) out['start_interval'] = formatDuration(h.startInterval);
  if (h.retries !== undefined) out['retries'] = h.retries;
  if (h.disable === true) out['disable'] = true;
  return out;
}

const nonEmpty = (v: unknown[] | Record<string, unknown>): boolean =>
  Array.isArray(v) ? v.length > 0 : Object.keys(v).length > 0;

function service(s: Service): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const put = (key: string, v: unknown): void => {
    if (v === undefined) return;
    if (typeof v === 'object' && v !== null && !nonEmpty(v as unknown[] | Record<string, unknown>)) return;
    out[key] = v;
  };
  if (s.build !== undefined) {
    const b: Record<string, unknown> = { context: s.build.context, dockerfile: s.build.dockerfile };
    if (nonEmpty(s.build.args)) b['args'] = s.build.args;
    if (s.build.target !== undefined) b['target'] = s.build.target;
    if (nonEmpty(s.build.labels)) b['labels'] = s.build.labels;
    out['build'] = b;
  }
  put('cap_add', s.capAdd);
  put('cap_drop', s.capDrop);
  put('command', s.command);
  put('container_name', s.containerName);
  put('cpus', s.cpus);
  const deps: Record<string, unknown> = {};
  for (const [k, d] of Object.entries(s.dependsOn)) deps[k] = { condition: d.condition, restart: d.restart, required: d.required };
  put('depends_on', deps);
  if (s.replicas !== 1) out['deploy'] = { replicas: s.replicas };
  put('dns', s.dns);
  put('entrypoint', s.entrypoint);
  put('environment', s.environment);
  put('expose', s.expose);
  put('extra_hosts', s.extraHosts);
  if (s.healthcheck !== undefined) out['healthcheck'] = healthcheck(s.healthcheck);
  put('hostname', s.hostname);
  put('image', s.image);
  put('init', s.init);
  put('labels', s.labels);
  if (s.logging !== undefined) {
    const l: Record<string, unknown> = {};
    if (s.logging.driver !== undefined) l['driver'] = s.logging.driver;
    if (nonEmpty(s.logging.options)) l['options'] = s.logging.options;
    out['logging'] = l;
  }
  put('mem_limit', s.memLimit === undefined ? undefined : String(s.memLimit));
  put('network_mode', s.networkMode);
  const nets: Record<string, unknown> = {};
  for (const [k, n] of Object.entries(s.networks)) {
    const v: Record<string, unknown> = {};
    if (n.aliases.length > 0) v['aliases'] = n.aliases;
    if (n.ipv4Address !== undefined) v['ipv4_address'] = n.ipv4Address;
    if (n.ipv6Address !== undefined) v['ipv6_address'] = n.ipv6Address;
    nets[k] = Object.keys(v).length > 0 ? v : null;
  }
  put('networks', nets);
  put('pids_limit', s.pidsLimit);
  put('platform', s.platform);
  put('ports', s.ports.map(port));
  put('privileged', s.privileged);
  put('profiles', s.profiles);
  put('pull_policy', s.pullPolicy);
  put('read_only', s.readOnly);
  put('restart', s.restart);
  put('stdin_open', s.stdinOpen);
  put('stop_grace_period', s.stopGracePeriod === undefined ? undefined : formatDuration(s.stopGracePeriod));
  put('stop_signal', s.stopSignal);
  put('tmpfs', s.tmpfs);
  put('tty', s.tty);
  put('ulimits', s.ulimits);
  put('user', s.user);
  put('volumes', s.volumes.map(volume));
  put('working_dir', s.workingDir);
  return out;
}

/** `berth compose config`: the project in compose's long forms, keys sorted. */
export function toYaml(project: Project): string {
  const doc: Record<string, unknown> = { name: project.name, services: {} };
  const services = doc['services'] as Record<string, unknown>;
  for (const name of Object.keys(project.services).sort()) services[name] = service(project.services[name] as Service);
  const networks: Record<string, unknown> = {};
  for (const [k, n] of Object.entries(project.networks)) {
    const v: Record<string, unknown> = { name: n.name };
    if (n.external) v['external'] = true;
    else {
      v['driver'] = n.driver;
      if (n.internal) v['internal'] = true;
      if (nonEmpty(n.labels)) v['labels'] = n.labels;
      if (n.enableIpv6 !== undefined) v['enable_ipv6'] = n.enableIpv6;
      if (n.ipam && n.ipam.length > 0) {
        v['ipam'] = {
          config: n.ipam.map((e) => {
            const c: Record<string, unknown> = {};
            if (e.subnet !== undefined) c['subnet'] = e.subnet;
            if (e.gateway !== undefined) c['gateway'] = e.gateway;
            if (e.ipRange !== undefined) c['ip_range'] = e.ipRange;
            return c;
          }),
        };
      }
    }
    networks[k] = v;
  }
  if (nonEmpty(networks)) doc['networks'] = networks;
  const volumes: Record<string, unknown> = {};
  for (const [k, vol] of Object.entries(project.volumes)) {
    const v: Record<string, unknown> = { name: vol.name };
    if (vol.external) v['external'] = true;
    else {
      v['driver'] = vol.driver;
      if (nonEmpty(vol.driverOpts)) v['driver_opts'] = vol.driverOpts;
      if (nonEmpty(vol.labels)) v['labels'] = vol.labels;
    }
    volumes[k] = v;
  }
  if (nonEmpty(volumes)) doc['volumes'] = volumes;
  return stringify(doc, { sortMapEntries: false, lineWidth: 0 });
}
