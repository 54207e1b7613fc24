import { forEachTarget, PARALLEL_TARGETS, seg, type CommandSpec } from '../cli.ts';

export const command: CommandSpec = {
  name: 'kill',
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Kill one or more running containers',
  aliases: ['berth container kill', 'berth kill'],
  flags: [{ long: 'signal', short: 's', type: 'string', help: 'Signal to send to the container' }],
  minArgs: 1,
  run(ctx, flags, args) {
    const query = { signal: flags.changed('signal') ? flags.string('signal') : undefined };
    return forEachTarget(ctx, args, async (name) => {
      await ctx.client.call('POST', `/containers/${seg(name)}/kill`, { query });
    }, { parallel: PARALLEL_TARGETS });
  },
};
