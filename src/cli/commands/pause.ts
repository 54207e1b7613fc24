import { forEachTarget, PARALLEL_TARGETS, seg, type CommandSpec } from '../cli.ts';

export const command: CommandSpec = {
  name: 'pause',
  usage: 'CONTAINER [CONTAINER...]',
  summary: 'Pause all processes within one or more containers',
  aliases: ['berth container pause', 'berth pause'],
  flags: [],
  minArgs: 1,
  run(ctx, _flags, args) {
    return forEachTarget(ctx, args, async (name) => {
      await ctx.client.call('POST', `/containers/${seg(name)}/pause`);
    }, { parallel: PARALLEL_TARGETS });
  },
};
