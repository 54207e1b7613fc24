import { forEachTarget, PARALLEL_TARGETS, seg, type CommandSpec } from '../cli.ts';

export const command: CommandSpec = {
  name: 'stop',
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Stop one or more running containers',
  aliases: ['berth container stop', 'berth stop'],
  flags: [
    { long: 'signal', short: 's', type: 'string', help: 'Signal to send to the container' },
    { long: 'time', short: 't', type: 'int', help: 'Seconds to wait before killing the container' },
  ],
  minArgs: 1,
  run(ctx, flags, args) {
    const query = {
      t: flags.changed('time') ? flags.int('time') : undefined,
      signal: flags.changed('signal') ? flags.string('signal') : undefined,
    };
    return forEachTarget(ctx, args, async (name) => {
      await ctx.client.call('POST', `/containers/${seg(name)}/stop`, { query });
    }, { parallel: PARALLEL_TARGETS });
  },
};
