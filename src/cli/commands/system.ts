// berth system df | prune, and berth image prune.
import type { CommandSpec } from '../cli.ts';
import { filtersQuery } from '../filters.ts';
import { columns, humanSize } from '../format.ts';
import { confirm } from './prune.ts';

interface DfImage {
  Size: number;
  SharedSize: number;
  Containers: number;
  RepoTags?: string[] | null;
  Id: string;
}
interface DfContainer {
  Id: string;
  Names: string[];
  State: string;
  SizeRw?: number;
}
interface DfVolume {
  Name: string;
  UsageData?: { Size: number; RefCount: number };
}
interface Df {
  LayersSize?: number;
  Images?: DfImage[];
  Containers?: DfContainer[];
  ContainerLogs?: Array<{ Id: string; Size: number }>;
  Volumes?: DfVolume[];
  BuildCache?: unknown[];
}

function pct(part: number, whole: number): string {
  if (whole <= 0) return '0%';
  return `${Math.round((part / whole) * 100)}%`;
}


export const df: CommandSpec = {
  name: 'system df',
  usage: '[OPTIONS]',
  summary: 'Show berth disk usage',
  flags: [{ long: 'verbose', short: 'v', type: 'bool', help: 'Show detailed information on space usage' }],
  maxArgs: 0,
  async run(ctx, flags) {
    const r = await ctx.client.json<Df>('GET', '/system/df');
    const images = r.Images ?? [];
    const containers = r.Containers ?? [];
    const volumes = r.Volumes ?? [];
    const logs = r.ContainerLogs ?? [];
    const layers = r.LayersSize ?? 0;
    const unusedImages = images.filter((i) => i.Containers === 0).reduce((n, i) => n + i.Size - i.SharedSize, 0);
    const rw = containers.reduce((n, c) => n + (c.SizeRw ?? 0), 0);
    const rwIdle = containers.filter((c) => c.State !== 'running' && c.State !== 'paused').reduce((n, c) => n + (c.SizeRw ?? 0), 0);
    const volSize = volumes.reduce((n, v) => n + Math.max(0, v.UsageData?.Size ?? 0), 0);
    const volIdle = volumes.filter((v) => (v.UsageData?.RefCount ?? 0) === 0).reduce((n, v) => n + Math.max(0, v.UsageData?.Size ?? 0), 0);
    const logSize = logs.reduce((n, l) => n + l.Size, 0);
    const cache = (r.BuildCache ?? []) as Array<{ Size?: number }>;
    const cacheSize = cache.reduce((n, c) => n + (c.Size ?? 0), 0);
    const stoppedLogs = logs.filter((l) => !containers.some((c) => c.Id === l.Id && (c.State === 'running' || c.State === 'paused'))).reduce((n, l) => n + l.Size, 0);
    const rows = [
      ['TYPE', 'TOTAL', 'ACTIVE', 'SIZE', 'RECLAIMABLE'],
      ['Images', String(images.length), String(images.filter((i) => i.Containers > 0).length), humanSize(layers), `${humanSize(unusedImages)} (${pct(unusedImages, layers)})`],
      ['Containers', String(containers.length), String(containers.filter((c) => c.State === 'running' || c.State === 'paused').length), humanSize(rw), `${humanSize(rwIdle)} (${pct(rwIdle, rw)})`],
      ['Local Volumes', String(volumes.length), String(volumes.filter((v) => (v.UsageData?.RefCount ?? 0) > 0).length), humanSize(volSize), `${humanSize(volIdle)} (${pct(volIdle, volSize)})`],
      ['Container logs', String(logs.length), String(logs.length - logs.filter((l) => !containers.some((c) => c.Id === l.Id && (c.State === 'running' || c.State === 'paused'))).length), humanSize(logSize), `${humanSize(stoppedLogs)} (${pct(stoppedLogs, logSize)})`],
      ['Build Cache', String(cache.length), '0', humanSize(cacheSize), humanSize(cacheSize)],
    ];
    ctx.out(columns(rows));
    if (flags.bool('verbose')) {
      ctx.out('\nImages space usage:\n\n');
      ctx.out(columns([['REPOSITORY:TAG', 'IMAGE ID', 'SIZE', 'SHARED SIZE', 'CONTAINERS'], ...images.map((i) => [(i.RepoTags ?? [])[0] ?? '<none>', i.Id.slice(7, 19), humanSize(i.Size), humanSize(i.SharedSize), String(i.Containers)])]));
      ctx.out('\nContainers space usage:\n\n');
      ctx.out(columns([['CONTAINER ID', 'NAMES', 'SIZE', 'LOGS', 'STATUS'], ...containers.map((c) => [c.Id.slice(0, 12), (c.Names[0] ?? '').replace(/^\//, ''), humanSize(c.SizeRw ?? 0), humanSize(logs.find((l) => l.Id === c.Id)?.Size ?? 0), c.State])]));
      ctx.out('\nLocal Volumes space usage:\n\n');
      ctx.out(columns([['VOLUME NAME', 'LINKS', 'SIZE'], ...volumes.map((v) => [v.Name, String(v.UsageData?.RefCount ?? 0), humanSize(Math.max(0, v.UsageData?.Size ?? 0))])]));
    }
    return 0;
  },
};

type Deleted = Array<{ Untagged?: string; Deleted?: string }>;

function deletedText(items: Deleted | null | undefined): string {
  if (!items || items.length === 0) return '';
  return `Deleted Images:\n${items.map((i) => (i.Untagged !== undefined ? `untagged: ${i.Untagged}\n` : `deleted: ${i.Deleted}\n`)).join('')}\n`;
}

export const imagePrune: CommandSpec = {
  name: 'image prune',
  usage: '[OPTIONS]',
  summary: 'Remove unused images',
  flags: [
    { long: 'all', short: 'a', type: 'bool', help: 'Remove all unused images, not just dangling ones' },
    { long: 'filter', type: 'list', help: 'Provide filter values (e.g. "until=<timestamp>")' },
    { long: 'force', short: 'f', type: 'bool', help: 'Do not prompt for confirmation' },
  ],
  maxArgs: 0,
  async run(ctx, flags) {
    const all = flags.bool('all');
    const warning = all ? 'WARNING! This will remove all images without at least one container associated to them.' : 'WARNING! This will remove all dangling images.';
    if (!flags.bool('force') && !(await confirm(ctx, `${warning}\nAre you sure you want to continue? [y/N] `))) return 0;
    const filters = [...flags.list('filter'), ...(all ? ['dangling=false'] : [])];
    const r = await ctx.client.json<{ ImagesDeleted: Deleted | null; SpaceReclaimed: number }>('POST', '/images/prune', { query: { filters: filtersQuery(filters) } });
    ctx.out(`${deletedText(r.ImagesDeleted)}Total reclaimed space: ${humanSize(r.SpaceReclaimed ?? 0)}\n`);
    return 0;
  },
};

export const prune: CommandSpec = {
  name: 'system prune',
  usage: '[OPTIONS]',
  summary: 'Remove unused data',
  flags: [
    { long: 'all', short: 'a', type: 'bool', help: 'Remove all unused images not just dangling ones' },
    { long: 'filter', type: 'list', help: 'Provide filter values (e.g. "label=<key>=<value>")' },
    { long: 'force', short: 'f', type: 'bool', help: 'Do not prompt for confirmation' },
    { long: 'volumes', type: 'bool', help: 'Prune anonymous volumes' },
  ],
  maxArgs: 0,
  async run(ctx, flags) {
    const all = flags.bool('all');
    const lines = [
      'WARNING! This will remove:',
      '  - all stopped containers',
      '  - all networks not used by at least one container',
      ...(flags.bool('volumes') ? ['  - all anonymous volumes not used by at least one container'] : []),
      all ? '  - all images without at least one container associated to them' : '  - all dangling images',
    ];
    if (!flags.bool('force') && !(await confirm(ctx, `${lines.join('\n')}\n\nAre you sure you want to continue? [y/N] `))) return 0;
    const filters = filtersQuery(flags.list('filter'));
    let space = 0;
    let out = '';
    const c = await ctx.client.json<{ ContainersDeleted: string[] | null; SpaceReclaimed: number }>('POST', '/containers/prune', { query: { filters } });
    space += c.SpaceReclaimed ?? 0;
    if (c.ContainersDeleted?.length) out += `Deleted Containers:\n${c.ContainersDeleted.join('\n')}\n\n`;
    const n = await ctx.client.json<{ NetworksDeleted: string[] | null }>('POST', '/networks/prune', { query: { filters } });
    if (n.NetworksDeleted?.length) out += `Deleted Networks:\n${n.NetworksDeleted.join('\n')}\n\n`;
    if (flags.bool('volumes')) {
      const v = await ctx.client.json<{ VolumesDeleted: string[] | null; SpaceReclaimed: number }>('POST', '/volumes/prune', { query: { filters } });
      space += v.SpaceReclaimed ?? 0;
      if (v.VolumesDeleted?.length) out += `Deleted Volumes:\n${v.VolumesDeleted.join('\n')}\n\n`;
    }
    const imgFilters = filtersQuery([...flags.list('filter'), ...(all ? ['dangling=false'] : [])]);
    const i = await ctx.client.json<{ ImagesDeleted: Deleted | null; SpaceReclaimed: number }>('POST', '/images/prune', { query: { filters: imgFilters } });
    space += i.SpaceReclaimed ?? 0;
    out += deletedText(i.ImagesDeleted);
    ctx.out(`${out}Total reclaimed space: ${humanSize(space)}\n`);
    return 0;
  },
};

export const builderPrune: CommandSpec = {
  name: 'builder prune',
  usage: '[OPTIONS]',
  summary: 'Remove build cache',
  flags: [
    { long: 'all', short: 'a', type: 'bool', help: 'Remove all unused build cache, not just dangling ones' },
    { long: 'force', short: 'f', type: 'bool', help: 'Do not prompt for confirmation' },
  ],
  maxArgs: 0,
  async run(ctx, flags) {
    if (!flags.bool('force') && !(await confirm(ctx, 'WARNING! This will remove all dangling build cache.\nAre you sure you want to continue? [y/N] '))) return 0;
    const r = await ctx.client.json<{ CachesDeleted: string[] | null; SpaceReclaimed: number }>('POST', '/build/prune', { query: { all: flags.bool('all') ? '1' : undefined } });
    const list = r.CachesDeleted ?? [];
    ctx.out(`${list.length > 0 ? `Deleted build cache objects:\n${list.join('\n')}\n\n` : ''}Total reclaimed space: ${humanSize(r.SpaceReclaimed ?? 0)}\n`);
    return 0;
  },
};
