import type { CommandSpec } from '../cli.ts';

export const command: CommandSpec = {
  name: 'bootstrap busybox',
  usage: '[OPTIONS]',
  summary: "Build busybox:latest from the host's static busybox (no registry needed)",
  flags: [{ long: 'tag', type: 'string', default: 'busybox:latest', help: 'Reference to tag the image with' }],
  maxArgs: 0,
  async run(ctx, flags) {
    const res = await ctx.client.json<{ Id: string }>('POST', '/berth/bootstrap/busybox', { query: { tag: flags.string('tag') } });
    ctx.out(`${res.Id}\n`);
    return 0;
  },
};
