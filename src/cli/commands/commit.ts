// berth commit | export | diff
import { CliError, seg, type CommandSpec } from '../cli.ts';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';

export const commit: CommandSpec = {
  name: 'commit',
  usage: "[OPTIONS] CONTAINER [REPOSITORY[:TAG]]",
  summary: "Create a new image from a container's changes",
  aliases: ['berth container commit', 'berth commit'],
  flags: [
    { long: 'author', short: 'a', type: 'string', help: 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")' },
    { long: 'change', short: 'c', type: 'list', help: 'Apply Dockerfile instruction to the created image' },
    { long: 'message', short: 'm', type: 'string', help: 'Commit message' },
    { long: 'pause', short: 'p', type: 'bool', help: 'Pause container during commit', default: true },
  ],
  minArgs: 1,
  maxArgs: 2,
  async run(ctx, flags, args) {
    const [container, target] = args as [string, string | undefined];
    const query: Record<string, string | string[]> = { container, pause: flags.bool('pause') ? '1' : '0', changes: flags.list('change') };
    if (target) {
      const slash = target.lastIndexOf('/');
      const colon = target.lastIndexOf(':');
      if (target.includes('@')) throw new CliError('refusing to create a tag with a digest reference', 1);
      if (colon > slash) {
        query.repo = target.slice(0, colon);
        query.tag = target.slice(colon + 1);
      } else query.repo = target;
    }
    if (flags.string('message')) query.comment = flags.string('message');
    if (flags.string('author')) query.author = flags.string('author');
    const r = await ctx.client.json<{ Id: string }>('POST', '/commit', { query });
    ctx.out(`${r.Id}\n`);
    return 0;
  },
};

export const exportCmd: CommandSpec = {
  name: 'export',
  usage: '[OPTIONS] CONTAINER',
  summary: "Export a container's filesystem as a tar archive",
  aliases: ['berth container export', 'berth export'],
  flags: [{ long: 'output', short: 'o', type: 'string', help: 'Write to a file, instead of STDOUT' }],
  minArgs: 1,
  maxArgs: 1,
  async run(ctx, flags, args) {
    const out = flags.string('output');
    if (!out && ctx.stdout.isTTY) throw new CliError('cowardly refusing to save to a terminal. Use the -o flag or redirect', 1);
    const res = await ctx.client.request('GET', `/containers/${seg(args[0]!)}/export`);
    await pipeline(res.stream, out ? createWriteStream(out) : ctx.stdout);
    return 0;
  },
};

export const diff: CommandSpec = {
  name: 'diff',
  usage: 'CONTAINER',
  summary: "Inspect changes to files or directories on a container's filesystem",
  aliases: ['berth container diff', 'berth diff'],
  flags: [],
  minArgs: 1,
  maxArgs: 1,
  async run(ctx, _flags, args) {
    const changes = await ctx.client.json<Array<{ Path: string; Kind: number }> | null>('GET', `/containers/${seg(args[0]!)}/changes`);
    for (const c of changes ?? []) ctx.out(`${['C', 'A', 'D'][c.Kind] ?? '?'} ${c.Path}\n`);
    return 0;
  },
};
