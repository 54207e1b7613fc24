import { CliError, seg, type CommandSpec } from '../cli.ts';
import { joinHostPort } from '../format.ts';

type Bindings = Record<string, Array<{ HostIp?: string; HostPort?: string }> | null>;

function portKeyOrder(a: string, b: string): number {
  const [pa, ta] = a.split('/') as [string, string];
  const [pb, tb] = b.split('/') as [string, string];
  return Number(pa) - Number(pb) || (ta < tb ? -1 : ta > tb ? 1 : 0);
}

function hostAddr(b: { HostIp?: string; HostPort?: string }): string {
  return joinHostPort(b.HostIp || '0.0.0.0', b.HostPort ?? '');
}

export const command: CommandSpec = {
  name: 'port',
  usage: 'CONTAINER [PRIVATE_PORT[/PROTO]]',
  summary: 'List port mappings or a specific mapping for the container',
  aliases: ['berth container port', 'berth port'],
  flags: [],
  minArgs: 1,
  maxArgs: 2,
  async run(ctx, _flags, args) {
    const [name, want] = args as [string, string | undefined];
    const info = await ctx.client.json<{ NetworkSettings?: { Ports?: Bindings | null } }>('GET', `/containers/${seg(name)}/json`);
    const ports = info.NetworkSettings?.Ports ?? {};
    if (want !== undefined) {
      const key = want.includes('/') ? want.toLowerCase() : `${want}/tcp`;
      const [num] = key.split('/');
      if (!/^\d+$/.test(num ?? '')) throw new CliError(`Error: invalid port (${want}): invalid syntax`, 1);
      const found = ports[key];
      if (!found || found.length === 0) throw new CliError(`Error: No public port '${key}' published for ${name}`, 1);
      for (const b of found) ctx.out(`${hostAddr(b)}\n`);
      return 0;
    }
    for (const key of Object.keys(ports).sort(portKeyOrder)) {
      for (const b of ports[key] ?? []) ctx.out(`${key} -> ${hostAddr(b)}\n`);
    }
    return 0;
  },
};
