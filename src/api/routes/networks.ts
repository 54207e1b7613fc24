// /networks/*: bridge networks (the default and user-defined ones) and Docker's pre-defined host and none.
import type { Router } from '../server/index.ts';
import { readJsonBody, sendJson, sendEmpty, qFilters } from '../server/http.ts';
import { invalidParameter } from '../../core/errors.ts';
import type { NetworkRecord, PredefinedNetwork } from '../../engine/networks/index.ts';
import { liveNet, matchLabels, pruneUntil } from '../../engine/containers/service.ts';
import type { Deps } from './deps.ts';
import { byteOrder } from '../../core/order.ts';

function view(n: NetworkRecord, d: Deps): Record<string, unknown> {
  const { bridge: _b, ...pub } = n;
  const containers: Record<string, unknown> = {};
  for (const c of d.containers.list()) {
    const net = [liveNet(c), ...(c.berth.extraNets ?? [])].find((x) => x?.networkId === n.Id);
    if (!net) continue;
    containers[c.Id] = { Name: c.Name.slice(1), EndpointID: c.Id, MacAddress: net.mac, IPv4Address: `${net.ip}/${net.prefix}`, IPv6Address: net.ip6 ? `${net.ip6}/${net.prefix6 ?? 64}` : '' };
  }
  // An IPv6 subnet's gateway is shown only when it was given, as Docker shows it.
  const ipam = { ...n.IPAM, Config: n.IPAM.Config.map((c) => (c.Gateway === '' ? { Subnet: c.Subnet, ...(c.IPRange ? { IPRange: c.IPRange } : {}) } : c)) };
  // The default network's options, as Docker lists them for its default bridge.
  const defaults = n.Name === 'bridge' ? { 'com.docker.network.bridge.default_bridge': 'true', 'com.docker.network.bridge.enable_icc': 'true', 'com.docker.network.bridge.enable_ip_masquerade': 'true', 'com.docker.network.bridge.host_binding_ipv4': '0.0.0.0', 'com.docker.network.driver.mtu': '1500' } : {};
  return { ...pub, IPAM: ipam, Options: { ...defaults, 'com.docker.network.bridge.name': n.bridge, ...n.Options }, Containers: containers };
}

/** `host` and `none` as Docker shows them: no IPAM, and the running containers that use them. */
function predefinedView(n: PredefinedNetwork, d: Deps): Record<string, unknown> {
  const containers: Record<string, unknown> = {};
  for (const c of d.containers.list()) {
    if (c.HostConfig.NetworkMode !== n.Name || c.State.Status !== 'running') continue;
    containers[c.Id] = { Name: c.Name.slice(1), EndpointID: c.Id, MacAddress: '', IPv4Address: '', IPv6Address: '' };
  }
  return {
    Name: n.Name, Id: n.Id, Created: n.Created, Scope: 'local', Driver: n.Driver, EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: [] },
    Internal: false, Attachable: false, Ingress: false, ConfigFrom: { Network: '' }, ConfigOnly: false,
    Containers: containers, Options: {}, Labels: {},
  };
}

/** Docker's refusal to move a container onto or off the host's network. */
function refusePredefined(d: Deps, ref: string): void {
  const pre = d.networks.findPredefined(ref);
  if (pre?.Name === 'host') throw invalidParameter('container cannot be disconnected from host network or connected to host network');
  if (pre?.Name === 'none') throw invalidParameter('container cannot be connected to multiple networks with one of the networks in private (none) mode');
}

export function registerNetworks(r: Router, d: Deps): void {
  const N = d.networks;

  r.on('GET', '/networks', async (ctx) => {
    const f = qFilters(ctx);
    for (const t of f.type ?? []) if (t !== 'custom' && t !== 'builtin') throw invalidParameter(`invalid filter: 'type'='${t}'`);
    type Listed = { Name: string; Id: string; Driver: string; Labels: Record<string, string>; builtin: boolean; out: () => Record<string, unknown> };
    let list: Listed[] = [
      ...N.list().map((n) => ({ Name: n.Name, Id: n.Id, Driver: n.Driver, Labels: n.Labels, builtin: n.Name === 'bridge', out: () => view(n, d) })),
      ...N.predefined().map((n) => ({ Name: n.Name, Id: n.Id, Driver: n.Driver, Labels: {}, builtin: true, out: () => predefinedView(n, d) })),
    ];
    if (f.name?.length) list = list.filter((n) => f.name!.some((v) => n.Name.includes(v)));
    if (f.id?.length) list = list.filter((n) => f.id!.some((v) => n.Id.startsWith(v)));
    if (f.driver?.length) list = list.filter((n) => f.driver!.includes(n.Driver));
    if (f.type?.length) list = list.filter((n) => f.type!.includes(n.builtin ? 'builtin' : 'custom'));
    if (f.label?.length) list = list.filter((n) => f.label!.every((l) => {
      const [k, v] = l.split('=', 2) as [string, string | undefined];
      return k in n.Labels && (v === undefined || n.Labels[k] === v);
    }));
    sendJson(ctx, 200, list.sort((a, b) => byteOrder(a.Name, b.Name)).map((n) => n.out()));
  });

  r.on('POST', '/networks/create', async (ctx) => {
    sendJson(ctx, 201, await N.create(await readJsonBody(ctx)));
  });

  r.on('GET', '/networks/:id', async (ctx) => {
    const ref = ctx.params.id!;
    const pre = N.findPredefined(ref);
    sendJson(ctx, 200, pre ? predefinedView(pre, d) : view(N.find(ref), d));
  });

  r.on('DELETE', '/networks/:id', async (ctx) => {
    await N.remove(ctx.params.id!, (id) => d.containers.endpointsOn(id));
    sendEmpty(ctx, 204);
  });

  r.on('POST', '/networks/prune', async (ctx) => {
    const filters = qFilters(ctx);
    const until = pruneUntil(filters);
    const deleted: string[] = [];
    for (const n of N.list()) {
      if (!matchLabels(n.Labels, filters)) continue;
      if (until !== undefined && Date.parse(n.Created) / 1000 >= until) continue;
      if (d.containers.list().some((c) => c.HostConfig.NetworkMode === n.Name || c.HostConfig.NetworkMode === n.Id)) continue;
      await N.remove(n.Id, () => []).then(() => deleted.push(n.Name), () => {});
    }
    sendJson(ctx, 200, { NetworksDeleted: deleted });
  });

  r.on('POST', '/networks/:id/connect', async (ctx) => {
    const body = await readJsonBody(ctx);
    if (typeof body.Container !== 'string' || body.Container === '') throw invalidParameter('Container is required');
    const ep = (body.EndpointConfig && typeof body.EndpointConfig === 'object' ? body.EndpointConfig : {}) as { IPAMConfig?: { IPv4Address?: unknown; IPv6Address?: unknown }; Aliases?: unknown };
    const aliases = Array.isArray(ep.Aliases) ? ep.Aliases.filter((a): a is string => typeof a === 'string') : [];
    const ip = ep.IPAMConfig?.IPv4Address;
    const ip6 = ep.IPAMConfig?.IPv6Address;
    for (const [k, v] of [['IPv4Address', ip], ['IPv6Address', ip6]] as const) {
      if (v !== undefined && v !== null && typeof v !== 'string') throw invalidParameter(`invalid JSON: field EndpointConfig.IPAMConfig.${k} must be a string, not ${typeof v}`);
    }
    refusePredefined(d, ctx.params.id!);
    await d.containers.connect(body.Container, ctx.params.id!, { aliases, ...(typeof ip === 'string' && ip ? { ip } : {}), ...(typeof ip6 === 'string' && ip6 ? { ip6 } : {}) });
    sendEmpty(ctx, 200);
  });

  r.on('POST', '/networks/:id/disconnect', async (ctx) => {
    const body = await readJsonBody(ctx);
    if (typeof body.Container !== 'string' || body.Container === '') throw invalidParameter('Container is required');
    refusePredefined(d, ctx.params.id!);
    await d.containers.disconnect(body.Container, ctx.params.id!);
    sendEmpty(ctx, 200);
  });
}
