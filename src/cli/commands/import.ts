import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { ApiError } from '../../client/index.ts';
import { CliError, type CommandSpec } from '../cli.ts';
import { splitTarget } from './tag.ts';

export const command: CommandSpec = {
  name: 'import',
  usage: '[OPTIONS] file|URL|- [REPOSITORY[:TAG]]',
  summary: 'Import the contents from a tarball to create a filesystem image',
  aliases: ['berth image import', 'berth import'],
  flags: [
    { long: 'change', short: 'c', type: 'list', help: 'Apply Dockerfile instruction to the created image' },
    { long: 'message', short: 'm', type: 'string', help: 'Set commit message for imported image' },
    { long: 'platform', type: 'string', help: 'Set platform if server is multi-platform capable' },
  ],
  minArgs: 1,
  maxArgs: 2,
  async run(ctx, flags, args) {
    const [source, ref] = args as [string, string | undefined];
    const query: Record<string, string | string[] | undefined> = {
      fromSrc: /^https?:\/\//.test(source) ? source : '-',
      message: flags.changed('message') ? flags.string('message') : undefined,
      changes: flags.changed('change') ? flags.list('change') : undefined,
      platform: flags.changed('platform') ? flags.string('platform') : undefined,
    };
    if (ref !== undefined) {
      const { repo, tag } = splitTarget(ref);
      query['repo'] = repo;
      query['tag'] = tag;
    }
    let body: Readable | undefined;
    if (query['fromSrc'] === '-') {
      if (source === '-') body = ctx.stdin;
      else {
        const file = createReadStream(source);
        await new Promise<void>((resolve, reject) => {
          file.once('open', () => resolve());
          file.once('error', (err: NodeJS.ErrnoException) =>
            reject(new CliError(`open ${source}: ${err.code === 'ENOENT' ? 'no such file or directory' : err.message}`, 1)),
          );
        });
        body = file;
      }
    }
    const opts = body ? { method: 'POST', query, body, headers: { 'Content-Type': 'application/x-tar' } } : { method: 'POST', query };
    for await (const msg of ctx.client.streamJsonLines('/images/create', opts)) {
      const m = msg as { status?: string; error?: string; errorDetail?: { message?: string } } | null;
      if (m?.error || m?.errorDetail) throw new ApiError(500, m.errorDetail?.message ?? m.error ?? 'import failed');
      if (m?.status) ctx.out(`${m.status}\n`);
    }
    return 0;
  },
};
