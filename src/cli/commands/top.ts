import { seg, type CommandSpec } from '../cli.ts';
import { renderTable } from '../format.ts';

export const command: CommandSpec = {
  name: 'top',
  usage: 'CONTAINER [ps OPTIONS]',
  summary: 'Display the running processes of a container',
  aliases: ['berth container top', 'berth top'],
  interspersed: false,
  flags: [],
  minArgs: 1,
  async run(ctx, _flags, args) {
    const [name, ...psArgs] = args as [string, ...string[]];
    const query = { ps_args: psArgs.length > 0 ? psArgs.join(' ') : undefined };
    const res = await ctx.client.json<{ Titles: string[]; Processes: string[][] | null }>('GET', `/containers/${seg(name)}/top`, { query });
    ctx.out(renderTable([res.Titles, ...(res.Processes ?? [])], { minWidth: 20, padding: 3 }));
    return 0;
  },
};
