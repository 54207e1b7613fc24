// berth network create | ls | inspect | rm | prune
import { CliError, forEachTarget, seg, type CommandSpec } from '../cli.ts';
import { filtersQuery } from '../filters.ts';
import { keyValueMap } from '../run-options.ts';
import { shortId } from '../format.ts';
import { renderListing } from '../listing.ts';
import { inspectObjects } from './inspect.ts';

interface NetworkJson {
  Id: string;
  Name: string;
  Driver: string;
  Scope: string;
  Created?: string;
  EnableIPv6?: boolean;
  Internal?: boolean;
  Labels?: Record<string, string> | null;
}

const NETWORK_HEADERS: Record<string, string> = { ID: 'NETWORK ID', Name: 'NAME', Driver: 'DRIVER', Scope: 'SCOPE', IPv6: 'IPV6', Internal: 'INTERNAL', Labels: 'LABELS', CreatedAt: 'CREATED AT' };

export const create: CommandSpec = {
  name: 'network create',
  usage: '[OPTIONS] NETWORK',
  summary: 'Create a network',
  flags: [
    { long: 'driver', short: 'd', type: 'string', help: 'Driver to manage the Network', default: 'bridge' },
    { long: 'subnet', type: 'list', help: 'Subnet in CIDR format that represents a network segment' },
    { long: 'gateway', type: 'list', help: 'IPv4 Gateway for the master subnet' },
    { long: 'ip-range', type: 'list', help: 'Allocate container ip from a sub-range' },
    { long: 'internal', type: 'bool', help: 'Restrict external access to the network' },
    { long: 'ipv6', type: 'bool', help: 'Enable IPv6 networking (needs an IPv6 --subnet)' },
    { long: 'label', type: 'list', help: 'Set metadata on a network' },
    { long: 'opt', short: 'o', type: 'list', help: 'Set driver specific options' },
    { long: 'attachable', type: 'bool', help: 'Enable manual container attachment' },
  ],
  minArgs: 1,
  maxArgs: 1,
  async run(ctx, flags, args) {
    // One IPAM entry per subnet; a gateway or range goes with the subnet of its address family.
    const family = (a: string): 4 | 6 => (a.includes(':') ? 6 : 4);
    const configs: Array<Record<string, string>> = flags.list('subnet').map((Subnet) => ({ Subnet }));
    const entryFor = (addr: string, what: string): Record<string, string> => {
      const found = configs.find((c) => family(c.Subnet ?? '') === family(addr));
      if (found) return found;
      if (configs.length > 0) throw new CliError(`Error response from daemon: no matching subnet for ${what} ${addr}`, 1);
      const fresh: Record<string, string> = {};
      configs.push(fresh);
      return fresh;
    };
    for (const gw of flags.list('gateway')) entryFor(gw, 'gateway').Gateway = gw;
    for (const range of flags.list('ip-range')) entryFor(range, 'range').IPRange = range;
    const cfgs = configs;
    const body = {
      Name: args[0],
      ...(flags.bool('ipv6') ? { EnableIPv6: true } : {}),
      Driver: flags.string('driver'),
      Internal: flags.bool('internal'),
      Attachable: flags.bool('attachable'),
      Labels: keyValueMap(flags.list('label'), 'label', false),
      Options: keyValueMap(flags.list('opt'), 'opt', true),
      IPAM: { Driver: 'default', Config: cfgs },
    };
    const r = await ctx.client.json<{ Id: string }>('POST', '/networks/create', { body });
    ctx.out(`${r.Id}\n`);
    return 0;
  },
};

export const ls: CommandSpec = {
  name: 'network ls',
  usage: '[OPTIONS]',
  summary: 'List networks',
  flags: [
    { long: 'quiet', short: 'q', type: 'bool', help: 'Only display network IDs' },
    { long: 'no-trunc', type: 'bool', help: 'Do not truncate the output' },
    { long: 'filter', short: 'f', type: 'list', help: 'Provide filter values (e.g. "driver=bridge")' },
    { long: 'format', type: 'string', help: "Format output using a custom template: 'table', 'table TEMPLATE', 'json' or a Go template" },
  ],
  maxArgs: 0,
  async run(ctx, flags) {
    const filters = filtersQuery(flags.list('filter'));
    const list = await ctx.client.json<NetworkJson[]>('GET', '/networks', filters ? { query: { filters } } : {});
    const id = (s: string): string => (flags.bool('no-trunc') ? s : shortId(s));
    const format = flags.string('format');
    if (flags.bool('quiet') && format === '') {
      for (const n of list) ctx.out(`${id(n.Id)}\n`);
      return 0;
    }
    const rows = list.map((n) => ({
      ID: id(n.Id),
      Name: n.Name,
      Driver: n.Driver,
      Scope: n.Scope,
      IPv6: String(n.EnableIPv6 ?? false),
      Internal: String(n.Internal ?? false),
      Labels: Object.entries(n.Labels ?? {}).map(([k, v]) => `${k}=${v}`).join(','),
      CreatedAt: n.Created ?? '',
    }));
    ctx.out(renderListing(rows, { format: flags.bool('quiet') ? '{{.ID}}' : format, defaultTable: 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}', headers: NETWORK_HEADERS }));
    return 0;
  },
};

export const inspect: CommandSpec = {
  name: 'network inspect',
  usage: '[OPTIONS] NETWORK [NETWORK...]',
  summary: 'Display detailed information on one or more networks',
  flags: [
    { long: 'format', short: 'f', type: 'string', help: "Format output using a custom template: 'json' or a Go template" },
    { long: 'verbose', short: 'v', type: 'bool', help: 'Verbose output for diagnostics' },
  ],
  minArgs: 1,
  run: (ctx, flags, args) => inspectObjects(ctx, 'network', args, flags),
};

export const rm: CommandSpec = {
  name: 'network rm',
  usage: 'NETWORK [NETWORK...]',
  summary: 'Remove one or more networks',
  flags: [],
  minArgs: 1,
  async run(ctx, _flags, args) {
    return forEachTarget(ctx, args, async (n) => {
          await ctx.client.call('DELETE', `/networks/${seg(n)}`);
    });
  },
};

export const prune: CommandSpec = {
  name: 'network prune',
  usage: '[OPTIONS]',
  summary: 'Remove all unused networks',
  flags: [
    { long: 'force', short: 'f', type: 'bool', help: 'Do not prompt for confirmation' },
    { long: 'filter', type: 'list', help: 'Provide filter values (e.g. "until=<timestamp>")' },
  ],
  maxArgs: 0,
  async run(ctx, flags) {
    const filters = filtersQuery(flags.list('filter'));
    const r = await ctx.client.json<{ NetworksDeleted: string[] | null }>('POST', '/networks/prune', filters ? { query: { filters } } : {});
    const deleted = r.NetworksDeleted ?? [];
    if (deleted.length > 0) ctx.out(`Deleted Networks:\n${deleted.join('\n')}\n`);
    return 0;
  },
};

export const connect: CommandSpec = {
  name: 'network connect',
  usage: '[OPTIONS] NETWORK CONTAINER',
  summary: 'Connect a container to a network',
  flags: [
    { long: 'alias', type: 'list', help: 'Add network-scoped alias for the container' },
    { long: 'ip', type: 'string', help: 'IPv4 address (e.g., "172.30.100.104")' },
    { long: 'ip6', type: 'string', help: 'IPv6 address (e.g., "2001:db8::33")' },
  ],
  minArgs: 2,
  maxArgs: 2,
  async run(ctx, flags, args) {
    const [network, container] = args as [string, string];
    const ip = flags.string('ip');
    const ip6 = flags.string('ip6');
    const ipam = { ...(ip ? { IPv4Address: ip } : {}), ...(ip6 ? { IPv6Address: ip6 } : {}) };
    const body = { Container: container, EndpointConfig: { Aliases: flags.list('alias'), ...(ip || ip6 ? { IPAMConfig: ipam } : {}) } };
    await ctx.client.call('POST', `/networks/${seg(network)}/connect`, { body });
    return 0;
  },
};

export const disconnect: CommandSpec = {
  name: 'network disconnect',
  usage: '[OPTIONS] NETWORK CONTAINER',
  summary: 'Disconnect a container from a network',
  flags: [{ long: 'force', short: 'f', type: 'bool', help: 'Force the container to disconnect from a network' }],
  minArgs: 2,
  maxArgs: 2,
  async run(ctx, flags, args) {
    const [network, container] = args as [string, string];
    await ctx.client.call('POST', `/networks/${seg(network)}/disconnect`, { body: { Container: container, Force: flags.bool('force') } });
    return 0;
  },
};
