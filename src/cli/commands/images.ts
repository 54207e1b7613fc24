import type { CommandSpec } from '../cli.ts';
import { filtersQuery } from '../filters.ts';
import { humanSize, shortId, timeAgo } from '../format.ts';
import { renderListing } from '../listing.ts';
import { goTimeString } from '../time.ts';

export interface ImageSummary {
  Id: string;
  RepoTags?: string[] | null;
  RepoDigests?: string[] | null;
  Created?: number;
  Size?: number;
  SharedSize?: number;
  Containers?: number;
}

const HEADERS: Record<string, string> = {
  Repository: 'REPOSITORY',
  Tag: 'TAG',
  Digest: 'DIGEST',
  ID: 'IMAGE ID',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  Size: 'SIZE',
  SharedSize: 'SHARED SIZE',
  UniqueSize: 'UNIQUE SIZE',
  Containers: 'CONTAINERS',
};

function splitRef(ref: string, sep: '@' | ':'): [string, string] {
  const i = sep === '@' ? ref.indexOf('@') : ref.lastIndexOf(':');
  if (i < 0 || (sep === ':' && ref.lastIndexOf('/') > i)) return [ref, ''];
  return [ref.slice(0, i), ref.slice(i + 1)];
}

/** One row per repository tag (and per digest with --digests), as docker lists them. */
export function imageRows(img: ImageSummary, opts: { trunc: boolean; digests: boolean; now?: number }): Array<Record<string, unknown>> {
  const tagsByRepo = new Map<string, string[]>();
  const digestsByRepo = new Map<string, string[]>();
  for (const ref of img.RepoTags ?? []) {
    if (ref === '<none>:<none>') continue;
    const [repo, tag] = splitRef(ref, ':');
    tagsByRepo.set(repo, [...(tagsByRepo.get(repo) ?? []), tag]);
  }
  for (const ref of img.RepoDigests ?? []) {
    if (ref === '<none>@<none>') continue;
    const [repo, digest] = splitRef(ref, '@');
    digestsByRepo.set(repo, [...(digestsByRepo.get(repo) ?? []), digest]);
  }
  const now = opts.now ?? Date.now();
  const base = {
    ID: opts.trunc ? shortId(img.Id) : img.Id,
    CreatedSince: img.Created ? timeAgo(img.Created, now) : 'N/A',
    CreatedAt: img.Created ? goTimeString(img.Created * 1000) : '',
    Size: humanSize(img.Size ?? 0),
    VirtualSize: humanSize(img.Size ?? 0, 4),
    SharedSize: (img.SharedSize ?? -1) < 0 ? 'N/A' : humanSize(img.SharedSize ?? 0),
    UniqueSize: (img.SharedSize ?? -1) < 0 ? 'N/A' : humanSize((img.Size ?? 0) - (img.SharedSize ?? 0)),
    Containers: (img.Containers ?? -1) < 0 ? 'N/A' : String(img.Containers),
  };
  const rows: Array<Record<string, unknown>> = [];
  const row = (Repository: string, Tag: string, Digest: string): void => void rows.push({ Repository, Tag, Digest, ...base });
  for (const [repo, tags] of tagsByRepo) {
    const digests = digestsByRepo.get(repo) ?? [];
    digestsByRepo.delete(repo);
    for (const tag of tags) {
      if (!opts.digests || digests.length === 0) row(repo, tag, '<none>');
      else for (const d of digests) row(repo, tag, d);
    }
  }
  for (const [repo, digests] of digestsByRepo) {
    if (!opts.digests) row(repo, '<none>', '<none>');
    else for (const d of digests) row(repo, '<none>', d);
  }
  if (rows.length === 0) row('<none>', '<none>', '<none>');
  return rows;
}

export const command: CommandSpec = {
  name: 'images',
  usage: '[OPTIONS] [REPOSITORY[:TAG]]',
  summary: 'List images',
  aliases: ['berth image ls', 'berth image list', 'berth images'],
  flags: [
    { long: 'all', short: 'a', type: 'bool', help: 'Show all images (default hides intermediate images)' },
    { long: 'digests', type: 'bool', help: 'Show digests' },
    { long: 'filter', short: 'f', type: 'list', help: 'Filter output based on conditions provided' },
    { long: 'format', type: 'string', help: "Format output using a custom template: 'table', 'table TEMPLATE', 'json' or a Go template" },
    { long: 'no-trunc', type: 'bool', help: "Don't truncate output" },
    { long: 'quiet', short: 'q', type: 'bool', help: 'Only show image IDs' },
  ],
  maxArgs: 1,
  async run(ctx, flags, args) {
    const filters = flags.list('filter');
    if (args[0] !== undefined) filters.push(`reference=${args[0]}`);
    const query = { all: flags.bool('all') || undefined, filters: filtersQuery(filters) };
    const list = (await ctx.client.json<ImageSummary[] | null>('GET', '/images/json', { query })) ?? [];
    const trunc = !flags.bool('no-trunc');
    const digests = flags.bool('digests') || /\.Digest\b/.test(flags.string('format'));
    const rows = list.flatMap((img) => imageRows(img, { trunc, digests }));
    if (flags.bool('quiet')) {
      ctx.out(rows.map((r) => `${String(r['ID'])}\n`).join(''));
      return 0;
    }
    const defaultTable = `table {{.Repository}}\t{{.Tag}}\t${flags.bool('digests') ? '{{.Digest}}\t' : ''}{{.ID}}\t{{.CreatedSince}}\t{{.Size}}`;
    ctx.out(renderListing(rows, { format: flags.string('format'), defaultTable, headers: HEADERS }));
    return 0;
  },
};
