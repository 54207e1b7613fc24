import { CliError, seg, type CommandSpec } from '../cli.ts';

/** `repo[:tag]` → repo and tag (default latest); a digest reference cannot be a target. */
export function splitTarget(target: string): { repo: string; tag: string } {
  if (target.includes('@')) throw new CliError(`refusing to create a tag with a digest reference`, 1);
  const slash = target.lastIndexOf('/');
  const colon = target.lastIndexOf(':');
  if (colon > slash) return { repo: target.slice(0, colon), tag: target.slice(colon + 1) };
  return { repo: target, tag: 'latest' };
}

export const command: CommandSpec = {
  name: 'tag',
  usage: 'SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]',
  summary: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE',
  aliases: ['berth image tag', 'berth tag'],
  flags: [],
  minArgs: 2,
  maxArgs: 2,
  async run(ctx, _flags, args) {
    const [source, target] = args as [string, string];
    const { repo, tag } = splitTarget(target);
    await ctx.client.call('POST', `/images/${seg(source)}/tag`, { query: { repo, tag } });
    return 0;
  },
};
