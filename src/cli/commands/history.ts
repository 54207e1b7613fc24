// berth history IMAGE
import { seg, type CommandSpec } from '../cli.ts';
import { humanSize, renderTable, shortId, timeAgo, ellipsis } from '../format.ts';

interface HistoryEntry {
  Id: string;
  Created: number;
  CreatedBy: string;
  Size: number;
  Comment: string;
}

export const command: CommandSpec = {
  name: 'history',
  usage: '[OPTIONS] IMAGE',
  summary: 'Show the history of an image',
  aliases: ['berth image history', 'berth history'],
  flags: [
    { long: 'no-trunc', type: 'bool', help: "Don't truncate output" },
    { long: 'quiet', short: 'q', type: 'bool', help: 'Only show image IDs' },
  ],
  minArgs: 1,
  maxArgs: 1,
  async run(ctx, flags, args) {
    const list = await ctx.client.json<HistoryEntry[]>('GET', `/images/${seg(args[0]!)}/history`);
    const full = flags.bool('no-trunc');
    const id = (s: string): string => (s === '<missing>' || full ? s : shortId(s));
    if (flags.bool('quiet')) {
      for (const h of list) ctx.out(`${id(h.Id)}\n`);
      return 0;
    }
    const rows = list.map((h) => [id(h.Id), h.Created ? timeAgo(h.Created) : 'N/A', full ? h.CreatedBy : ellipsis(h.CreatedBy, 45), humanSize(h.Size), h.Comment]);
    ctx.out(renderTable([['IMAGE', 'CREATED', 'CREATED BY', 'SIZE', 'COMMENT'], ...rows]));
    return 0;
  },
};
