// berth volume create | ls | inspect | rm | prune
import { forEachTarget, seg, type CommandSpec } from '../cli.ts';
import { filtersQuery, parseFilters } from '../filters.ts';
import { keyValueMap } from '../run-options.ts';
import { renderListing } from '../listing.ts';
import { inspectObjects } from './inspect.ts';

interface VolumeJson {
  Name: string;
  Driver: string;
  Scope?: string;
  Mountpoint?: string;
  Labels?: Record<string, string> | null;
}

const VOLUME_HEADERS: Record<string, string> = { Driver: 'DRIVER', Name: 'VOLUME NAME', Scope: 'SCOPE', Mountpoint: 'MOUNTPOINT', Labels: 'LABELS' };

export const create: CommandSpec = {
  name: 'volume create',
  usage: '[OPTIONS] [VOLUME]',
  summary: 'Create a volume',
  flags: [
    { long: 'driver', short: 'd', type: 'string', help: 'Specify volume driver name', default: 'local' },
    { long: 'label', type: 'list', help: 'Set metadata for a volume' },
    { long: 'opt', short: 'o', type: 'list', help: 'Set driver specific options' },
    { long: 'name', type: 'string', help: 'Specify volume name', hidden: true },
  ],
  maxArgs: 1,
  async run(ctx, flags, args) {
    const name = args[0] ?? flags.optString('name') ?? '';
    const body = { Name: name, Driver: flags.string('driver'), Labels: keyValueMap(flags.list('label'), 'label', false), DriverOpts: keyValueMap(flags.list('opt'), 'opt', true) };
    const v = await ctx.client.json<VolumeJson>('POST', '/volumes/create', { body });
    ctx.out(`${v.Name}\n`);
    return 0;
  },
};

export const ls: CommandSpec = {
  name: 'volume ls',
  usage: '[OPTIONS]',
  summary: 'List volumes',
  flags: [
    { long: 'quiet', short: 'q', type: 'bool', help: 'Only display volume names' },
    { long: 'filter', short: 'f', type: 'list', help: 'Provide filter values (e.g. "dangling=true")' },
    { long: 'format', type: 'string', help: "Format output using a custom template: 'table', 'table TEMPLATE', 'json' or a Go template" },
  ],
  maxArgs: 0,
  async run(ctx, flags) {
    const filters = filtersQuery(flags.list('filter'));
    const r = await ctx.client.json<{ Volumes: VolumeJson[] | null }>('GET', '/volumes', filters ? { query: { filters } } : {});
    const list = r.Volumes ?? [];
    const format = flags.string('format');
    if (flags.bool('quiet') && format === '') {
      for (const v of list) ctx.out(`${v.Name}\n`);
      return 0;
    }
    const rows = list.map((v) => ({ Name: v.Name, Driver: v.Driver, Scope: v.Scope ?? 'local', Mountpoint: v.Mountpoint ?? '', Labels: Object.entries(v.Labels ?? {}).map(([k, val]) => `${k}=${val}`).join(',') }));
    ctx.out(renderListing(rows, { format: flags.bool('quiet') ? '{{.Name}}' : format, defaultTable: 'table {{.Driver}}\t{{.Name}}', headers: VOLUME_HEADERS }));
    return 0;
  },
};

export const inspect: CommandSpec = {
  name: 'volume inspect',
  usage: '[OPTIONS] VOLUME [VOLUME...]',
  summary: 'Display detailed information on one or more volumes',
  flags: [{ long: 'format', short: 'f', type: 'string', help: "Format output using a custom template: 'json' or a Go template" }],
  minArgs: 1,
  run: (ctx, flags, args) => inspectObjects(ctx, 'volume', args, flags),
};

export const rm: CommandSpec = {
  name: 'volume rm',
  usage: '[OPTIONS] VOLUME [VOLUME...]',
  summary: 'Remove one or more volumes',
  flags: [{ long: 'force', short: 'f', type: 'bool', help: 'Force the removal of one or more volumes' }],
  minArgs: 1,
  async run(ctx, flags, args) {
    return forEachTarget(ctx, args, async (n) => {
          await ctx.client.call('DELETE', `/volumes/${seg(n)}`, { query: flags.bool('force') ? { force: '1' } : {} });
    });
  },
};

export const prune: CommandSpec = {
  name: 'volume prune',
  usage: '[OPTIONS]',
  summary: 'Remove unused local volumes',
  flags: [
    { long: 'force', short: 'f', type: 'bool', help: 'Do not prompt for confirmation' },
    { long: 'all', short: 'a', type: 'bool', help: 'Remove all unused volumes, not just anonymous ones' },
    { long: 'filter', type: 'list', help: 'Provide filter values (e.g. "label=<label>")' },
  ],
  maxArgs: 0,
  async run(ctx, flags) {
    const filters = parseFilters(flags.list('filter'));
    if (flags.bool('all')) filters.all = { true: true };
    const r = await ctx.client.json<{ VolumesDeleted: string[] | null }>('POST', '/volumes/prune', { query: { filters: JSON.stringify(filters) } });
    const deleted = r.VolumesDeleted ?? [];
    if (deleted.length > 0) ctx.out(`Deleted Volumes:\n${deleted.join('\n')}\n\n`);
    ctx.out('Total reclaimed space: 0B\n');
    return 0;
  },
};
