import { forEachTarget, PARALLEL_TARGETS, seg, type CommandSpec } from '../cli.ts';

export const command: CommandSpec = {
  name: 'rm',
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Remove one or more containers',
  aliases: ['berth container rm', 'berth container remove', 'berth rm'],
  flags: [
    { long: 'force', short: 'f', type: 'bool', help: 'Force the removal of a running container (uses SIGKILL)' },
    { long: 'link', short: 'l', type: 'bool', help: 'Remove the specified link' },
    { long: 'volumes', short: 'v', type: 'bool', help: 'Remove anonymous volumes associated with the container' },
  ],
  minArgs: 1,
  run(ctx, flags, args) {
    const query = { force: flags.bool('force') || undefined, v: flags.bool('volumes') || undefined, link: flags.bool('link') || undefined };
    return forEachTarget(ctx, args, async (name) => {
      await ctx.client.call('DELETE', `/containers/${seg(name)}`, { query });
    }, { parallel: PARALLEL_TARGETS });
  },
};
