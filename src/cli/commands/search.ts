import type { CommandSpec } from '../cli.ts';
import { registryAuthHeader } from '../credentials.ts';
import { filtersQuery } from '../filters.ts';
import { ellipsis } from '../format.ts';
import { renderListing } from '../listing.ts';

interface SearchResult {
  name: string;
  description: string;
  star_count: number;
  is_official: boolean;
  is_automated: boolean;
}

const HEADERS: Record<string, string> = { Name: 'NAME', Description: 'DESCRIPTION', StarCount: 'STARS', IsOfficial: 'OFFICIAL', IsAutomated: 'AUTOMATED' };

export const command: CommandSpec = {
  name: 'search',
  usage: '[OPTIONS] TERM',
  summary: 'Search Docker Hub (or the registry a term names) for images',
  aliases: ['berth search'],
  flags: [
    { long: 'filter', short: 'f', type: 'list', help: 'Filter output based on conditions provided (is-official=, stars=)' },
    { long: 'format', type: 'string', help: 'Pretty-print search using a Go template' },
    { long: 'limit', type: 'int', default: 25, help: 'Max number of search results' },
    { long: 'no-trunc', type: 'bool', help: "Don't truncate output" },
  ],
  minArgs: 1,
  maxArgs: 1,
  async run(ctx, flags, args) {
    const term = args[0]!;
    const slash = term.indexOf('/');
    const first = slash > 0 ? term.slice(0, slash) : '';
    const host = first !== '' && (first.includes('.') || first.includes(':') || first === 'localhost') ? first : 'docker.io';
    const results = await ctx.client.json<SearchResult[]>('GET', '/images/search', {
      query: { term, limit: String(flags.int('limit')), filters: filtersQuery(flags.list('filter')) },
      headers: { 'X-Registry-Auth': registryAuthHeader(ctx.env, host) },
    });
    const trunc = !flags.bool('no-trunc');
    const rows = results.map((r) => ({
      Name: r.name,
      Description: trunc ? ellipsis(r.description.replace(/\s+/g, ' '), 45) : r.description,
      StarCount: String(r.star_count),
      IsOfficial: r.is_official ? '[OK]' : '',
      IsAutomated: r.is_automated ? '[OK]' : '',
    }));
    ctx.out(renderListing(rows, { format: flags.string('format'), defaultTable: 'table {{.Name}}\t{{.Description}}\t{{.StarCount}}\t{{.IsOfficial}}', headers: HEADERS }));
    return 0;
  },
};
