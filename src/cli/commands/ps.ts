import type { CommandSpec } from '../cli.ts';
import { filtersQuery } from '../filters.ts';
import { describeState, displayablePorts, ellipsis, goQuote, humanSize, shortId, timeAgo, type PortEntry } from '../format.ts';
import { renderListing } from '../listing.ts';
import { goTimeString } from '../time.ts';

export interface ContainerSummary {
  Id: string;
  Names?: string[] | null;
  Image?: string;
  ImageID?: string;
  Command?: string;
  Created?: number;
  Ports?: PortEntry[] | null;
  Labels?: Record<string, string> | null;
  State?: string | { Status?: string };
  Status?: string;
  SizeRw?: number;
  SizeRootFs?: number;
  Mounts?: Array<{ Name?: string; Source?: string }> | null;
  NetworkSettings?: { Networks?: Record<string, unknown> | null } | null;
}

const HEADERS: Record<string, string> = {
  ID: 'CONTAINER ID',
  Image: 'IMAGE',
  Command: 'COMMAND',
  CreatedAt: 'CREATED AT',
  RunningFor: 'CREATED',
  Ports: 'PORTS',
  State: 'STATE',
  Status: 'STATUS',
  Size: 'SIZE',
  Names: 'NAMES',
  Labels: 'LABELS',
  Label: 'LABEL',
  Mounts: 'MOUNTS',
  Networks: 'NETWORKS',
  LocalVolumes: 'LOCAL VOLUMES',
};

function imageColumn(c: ContainerSummary, trunc: boolean): string {
  const image = c.Image ?? '';
  if (image === '') return '<no image>';
  if (!trunc) return image;
  if (c.ImageID && shortId(c.ImageID) === shortId(image)) return shortId(image);
  const at = image.indexOf('@');
  return at >= 0 ? image.slice(0, at) : image;
}

/** The fields a `ps --format` template sees, computed as docker does. */
export function containerRow(c: ContainerSummary, opts: { trunc: boolean; now?: number }): Record<string, unknown> {
  const now = opts.now ?? Date.now();
  const names = (c.Names ?? []).map((n) => n.replace(/^\//, '')).filter((n) => !opts.trunc || !n.includes('/'));
  const labels = c.Labels ?? {};
  const state = typeof c.State === 'string' ? c.State : (c.State?.Status ?? '');
  const command = c.Command ?? '';
  const sizeRw = humanSize(c.SizeRw ?? 0);
  return {
    ID: opts.trunc ? shortId(c.Id) : c.Id,
    Image: imageColumn(c, opts.trunc),
    Command: goQuote(opts.trunc ? ellipsis(command, 20) : command),
    CreatedAt: c.Created !== undefined ? goTimeString(c.Created * 1000) : '',
    RunningFor: c.Created !== undefined ? timeAgo(c.Created, now) : '',
    Ports: displayablePorts(c.Ports ?? []),
    State: state,
    Status: c.Status || describeState({ Status: state }, now),
    Size: (c.SizeRootFs ?? 0) > 0 ? `${sizeRw} (virtual ${humanSize(c.SizeRootFs ?? 0)})` : sizeRw,
    Names: names.join(','),
    Labels: Object.keys(labels)
      .sort()
      .map((k) => `${k}=${labels[k]}`)
      .join(','),
    Label: (key: unknown) => labels[String(key)] ?? '',
    Mounts: (c.Mounts ?? []).map((m) => (opts.trunc ? ellipsis(m.Name || m.Source || '', 15) : m.Name || m.Source || '')).join(','),
    Networks: Object.keys(c.NetworkSettings?.Networks ?? {}).sort().join(','),
    LocalVolumes: String((c.Mounts ?? []).filter((m) => m.Name).length),
    Platform: null,
  };
}

export const command: CommandSpec = {
  name: 'ps',
  usage: '[OPTIONS]',
  summary: 'List containers',
  aliases: ['berth container ls', 'berth container list', 'berth container ps', 'berth ps'],
  flags: [
    { long: 'all', short: 'a', type: 'bool', help: 'Show all containers (default shows just running)' },
    { long: 'filter', short: 'f', type: 'list', help: 'Filter output based on conditions provided' },
    { long: 'format', type: 'string', help: "Format output using a custom template: 'table', 'table TEMPLATE', 'json' or a Go template" },
    { long: 'last', short: 'n', type: 'int', default: -1, help: 'Show n last created containers (includes all states)' },
    { long: 'latest', short: 'l', type: 'bool', help: 'Show the latest created container (includes all states)' },
    { long: 'no-trunc', type: 'bool', help: "Don't truncate output" },
    { long: 'quiet', short: 'q', type: 'bool', help: 'Only display container IDs' },
    { long: 'size', short: 's', type: 'bool', help: 'Display total file sizes' },
  ],
  maxArgs: 0,
  async run(ctx, flags) {
    let limit = flags.int('last');
    if (flags.bool('latest')) limit = 1;
    const format = flags.string('format');
    const wantsSize = flags.bool('size') || /\.Size\b/.test(format);
    const query = {
      all: flags.bool('all') || limit > 0 || undefined,
      limit: limit > 0 ? limit : undefined,
      size: (wantsSize && !flags.bool('quiet')) || undefined,
      filters: filtersQuery(flags.list('filter')),
    };
    const list = (await ctx.client.json<ContainerSummary[] | null>('GET', '/containers/json', { query })) ?? [];
    const trunc = !flags.bool('no-trunc');
    if (flags.bool('quiet') && format === '') {
      ctx.out(list.map((c) => `${trunc ? shortId(c.Id) : c.Id}\n`).join(''));
      return 0;
    }
    const rows = list.map((c) => containerRow(c, { trunc }));
    const defaultTable = `table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}${flags.bool('size') ? '\t{{.Size}}' : ''}`;
    ctx.out(renderListing(rows, { format: flags.bool('quiet') ? '{{.ID}}' : format, defaultTable, headers: HEADERS }));
    return 0;
  },
};
