import { forEachTarget, PARALLEL_TARGETS, seg, type CommandSpec } from '../cli.ts';

export const command: CommandSpec = {
  name: 'unpause',
  usage: 'CONTAINER [CONTAINER...]',
  summary: 'Unpause all processes within one or more containers',
  aliases: ['berth container unpause', 'berth unpause'],
  flags: [],
  minArgs: 1,
  run(ctx, _flags, args) {
    return forEachTarget(ctx, args, async (name) => {
      await ctx.client.call('POST', `/containers/${seg(name)}/unpause`);
    }, { parallel: PARALLEL_TARGETS });
  },
};
