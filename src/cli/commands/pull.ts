import { normalizeName, parseReference } from '../../core/reference.ts';
import { CliError, type CommandSpec } from '../cli.ts';
import { registryAuthHeader } from '../credentials.ts';
import { renderProgress } from '../progress.ts';

/** The registry host of an image reference as the CLI was given it. */
export function registryOf(ref: string): string {
  try {
    return parseReference(ref).domain;
  } catch {
    throw new CliError(`invalid reference format: ${ref}`, 1);
  }
}

/** NAME without its :TAG or @DIGEST. */
export function repositoryPart(name: string): string {
  const at = name.indexOf('@');
  if (at >= 0) return name.slice(0, at);
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  return colon > slash ? name.slice(0, colon) : name;
}

export const command: CommandSpec = {
  name: 'pull',
  usage: '[OPTIONS] NAME[:TAG|@DIGEST]',
  summary: 'Download an image from a registry',
  aliases: ['berth image pull', 'berth pull'],
  flags: [
    { long: 'all-tags', short: 'a', type: 'bool', help: 'Download all tagged images in the repository' },
    { long: 'platform', type: 'string', help: 'Set platform if server is multi-platform capable' },
    { long: 'quiet', short: 'q', type: 'bool', help: 'Suppress verbose output' },
  ],
  minArgs: 1,
  maxArgs: 1,
  async run(ctx, flags, args) {
    const name = args[0]!;
    const ref = parseReference(name);
    const allTags = flags.bool('all-tags');
    if (allTags && (ref.tag !== undefined || ref.digest !== undefined)) throw new CliError('tag can\'t be used with --all-tags/-a', 1);
    const query: Record<string, string | undefined> = {
      fromImage: repositoryPart(name),
      tag: ref.digest ?? ref.tag ?? (allTags ? '' : 'latest'),
      platform: flags.changed('platform') ? flags.string('platform') : undefined,
    };
    const headers = { 'X-Registry-Auth': registryAuthHeader(ctx.env, ref.domain) };
    await renderProgress(ctx, ctx.client.streamJsonLines('/images/create', { method: 'POST', query, headers }), { quiet: flags.bool('quiet') });
    // As docker prints it: the fully qualified reference.
    if (!allTags) ctx.out(`${normalizeName(name)}\n`);
    return 0;
  },
};
