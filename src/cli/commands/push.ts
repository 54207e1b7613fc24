import { parseReference } from '../../core/reference.ts';
import { CliError, seg, type CommandSpec } from '../cli.ts';
import { registryAuthHeader } from '../credentials.ts';
import { renderProgress } from '../progress.ts';
import { repositoryPart } from './pull.ts';

export const command: CommandSpec = {
  name: 'push',
  usage: '[OPTIONS] NAME[:TAG]',
  summary: 'Upload an image to a registry',
  aliases: ['berth image push', 'berth push'],
  flags: [
    { long: 'all-tags', short: 'a', type: 'bool', help: 'Push all tags of an image to the repository' },
    { long: 'quiet', short: 'q', type: 'bool', help: 'Suppress verbose output' },
  ],
  minArgs: 1,
  maxArgs: 1,
  async run(ctx, flags, args) {
    const name = args[0]!;
    let ref;
    try {
      ref = parseReference(name);
    } catch {
      throw new CliError(`invalid reference format: ${name}`, 1);
    }
    const allTags = flags.bool('all-tags');
    if (allTags && ref.tag !== undefined) throw new CliError('tag can\'t be used with --all-tags/-a', 1);
    const repo = repositoryPart(name);
    const tag = allTags ? '' : (ref.tag ?? 'latest');
    const headers = { 'X-Registry-Auth': registryAuthHeader(ctx.env, ref.domain) };
    await renderProgress(ctx, ctx.client.streamJsonLines(`/images/${seg(repo)}/push`, { method: 'POST', query: { tag }, headers }), { quiet: flags.bool('quiet') });
    if (flags.bool('quiet')) ctx.out(`${name}\n`);
    return 0;
  },
};
