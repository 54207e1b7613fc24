import { forEachTarget, seg, type CommandSpec } from '../cli.ts';

export const command: CommandSpec = {
  name: 'rmi',
  usage: '[OPTIONS] IMAGE [IMAGE...]',
  summary: 'Remove one or more images',
  aliases: ['berth image rm', 'berth image remove', 'berth rmi'],
  flags: [
    { long: 'force', short: 'f', type: 'bool', help: 'Force removal of the image' },
    { long: 'no-prune', type: 'bool', help: 'Do not delete untagged parents' },
  ],
  minArgs: 1,
  run(ctx, flags, args) {
    const query = { force: flags.bool('force') || undefined, noprune: flags.bool('no-prune') || undefined };
    return forEachTarget(ctx, args, async (name) => {
      const items = (await ctx.client.json<Array<{ Untagged?: string; Deleted?: string }> | null>('DELETE', `/images/${seg(name)}`, { query })) ?? [];
      return items.map((i) => (i.Untagged ? `Untagged: ${i.Untagged}` : `Deleted: ${i.Deleted ?? ''}`)).join('\n');
    });
  },
};
