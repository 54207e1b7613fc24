import { createWriteStream } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { CliError, type CommandSpec } from '../cli.ts';
import { renderProgress } from '../progress.ts';
import { createReadStream } from 'node:fs';

export const save: CommandSpec = {
  name: 'save',
  usage: '[OPTIONS] IMAGE [IMAGE...]',
  summary: 'Save one or more images to a tar archive (streamed to STDOUT by default)',
  aliases: ['berth image save', 'berth save'],
  flags: [{ long: 'output', short: 'o', type: 'string', help: 'Write to a file, instead of STDOUT' }],
  minArgs: 1,
  async run(ctx, flags, args) {
    const out = flags.changed('output') ? flags.string('output') : '';
    if (out === '' && ctx.stdout.isTTY) throw new CliError('cowardly refusing to save to a terminal. Use the -o flag or redirect', 1);
    const res = await ctx.client.request('GET', '/images/get', { query: { names: args } });
    if (out === '') {
      await pipeline(res.stream, ctx.stdout);
      return 0;
    }
    const tmp = `${out}.tmp-${process.pid}`;
    try {
      await pipeline(res.stream, createWriteStream(tmp, { mode: 0o644 }));
      await rename(tmp, out);
    } catch (err) {
      await unlink(tmp).catch(() => {});
      throw err;
    }
    return 0;
  },
};

export const load: CommandSpec = {
  name: 'load',
  usage: '[OPTIONS]',
  summary: 'Load an image from a tar archive or STDIN',
  aliases: ['berth image load', 'berth load'],
  flags: [
    { long: 'input', short: 'i', type: 'string', help: 'Read from tar archive file, instead of STDIN' },
    { long: 'quiet', short: 'q', type: 'bool', help: 'Suppress the load output' },
  ],
  maxArgs: 0,
  async run(ctx, flags) {
    const input = flags.changed('input') ? flags.string('input') : '';
    if (input === '' && ctx.stdin.isTTY) throw new CliError('requested load from stdin, but stdin is empty', 1);
    const body = input === '' ? ctx.stdin : createReadStream(input);
    if (input !== '') {
      await new Promise<void>((resolve, reject) => {
        body.once('open', () => resolve());
        body.once('error', (err: NodeJS.ErrnoException) => reject(new CliError(`open ${input}: ${err.code === 'ENOENT' ? 'no such file or directory' : err.message}`, 1)));
      });
    }
    const q = flags.bool('quiet');
    await renderProgress(ctx, ctx.client.streamJsonLines('/images/load', { method: 'POST', query: { quiet: q ? '1' : '0' }, body, headers: { 'Content-Type': 'application/x-tar' } }), { quiet: q });
    return 0;
  },
};
