import { createInterface } from 'node:readline';
import type { CommandSpec, Context } from '../cli.ts';
import { filtersQuery } from '../filters.ts';
import { humanSize } from '../format.ts';

export async function confirm(ctx: Context, question: string): Promise<boolean> {
  ctx.out(question);
  const rl = createInterface({ input: ctx.stdin });
  try {
    const answer = await new Promise<string>((resolve) => {
      rl.once('line', resolve);
      rl.once('close', () => resolve(''));
    });
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

export const command: CommandSpec = {
  name: 'container prune',
  usage: '[OPTIONS]',
  summary: 'Remove all stopped containers',
  flags: [
    { long: 'filter', type: 'list', help: 'Provide filter values (e.g. "until=<timestamp>")' },
    { long: 'force', short: 'f', type: 'bool', help: 'Do not prompt for confirmation' },
  ],
  maxArgs: 0,
  async run(ctx, flags) {
    if (!flags.bool('force') && !(await confirm(ctx, 'WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] '))) {
      return 0;
    }
    const res = await ctx.client.json<{ ContainersDeleted?: string[] | null; SpaceReclaimed?: number }>('POST', '/containers/prune', {
      query: { filters: filtersQuery(flags.list('filter')) },
    });
    const deleted = res?.ContainersDeleted ?? [];
    let out = '';
    if (deleted.length > 0) out += `Deleted Containers:\n${deleted.map((id) => `${id}\n`).join('')}\n`;
    out += `Total reclaimed space: ${humanSize(res?.SpaceReclaimed ?? 0)}\n`;
    ctx.out(out);
    return 0;
  },
};
