import { forEachTarget, seg, type CommandSpec } from '../cli.ts';

export const command: CommandSpec = {
  name: 'wait',
  usage: 'CONTAINER [CONTAINER...]',
  summary: 'Block until one or more containers stop, then print their exit codes',
  aliases: ['berth container wait', 'berth wait'],
  flags: [],
  minArgs: 1,
  run(ctx, _flags, args) {
    return forEachTarget(ctx, args, async (name) => {
      const res = await ctx.client.json<{ StatusCode: number }>('POST', `/containers/${seg(name)}/wait`, { longLived: true });
      return String(res.StatusCode);
    });
  },
};
