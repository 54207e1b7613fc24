import { seg, type CommandSpec } from '../cli.ts';

export const command: CommandSpec = {
  name: 'rename',
  usage: 'CONTAINER NEW_NAME',
  summary: 'Rename a container',
  aliases: ['berth container rename', 'berth rename'],
  flags: [],
  minArgs: 2,
  maxArgs: 2,
  async run(ctx, _flags, args) {
    const [from, to] = args as [string, string];
    if (to.trim() === '') throw new Error('Error: neither old nor new names may be empty');
    await ctx.client.call('POST', `/containers/${seg(from)}/rename`, { query: { name: to.trim() } });
    return 0;
  },
};
