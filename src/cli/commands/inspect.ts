import { ApiError } from '../../client/index.ts';
import { CliError, seg, type CommandSpec, type Context } from '../cli.ts';
import type { Flags, FlagSpec } from '../flags.ts';
import { Template, unescapeFormat } from '../template.ts';

export type InspectKind = 'container' | 'image' | 'network' | 'volume' | 'any';

/** Go's json.MarshalIndent with 4 spaces, HTML characters escaped as Go does. */
export function goIndentJson(v: unknown): string {
  return JSON.stringify(v, null, 4).replace(/[<>&]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

async function fetchOne(ctx: Context, kind: InspectKind, name: string, size: boolean): Promise<unknown> {
  const container = (): Promise<unknown> => ctx.client.json('GET', `/containers/${seg(name)}/json`, { query: { size: size || undefined } });
  const image = (): Promise<unknown> => ctx.client.json('GET', `/images/${seg(name)}/json`);
  const network = (): Promise<unknown> => ctx.client.json('GET', `/networks/${seg(name)}`);
  const volume = (): Promise<unknown> => ctx.client.json('GET', `/volumes/${seg(name)}`);
  // A missing network or volume is told as the docker CLI tells it.
  const named = async (get: () => Promise<unknown>, what: string): Promise<unknown> => {
    try {
      return await get();
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) throw new CliError(`Error: No such ${what}: ${name}`, 1);
      throw err;
    }
  };
  if (kind === 'container') return container();
  if (kind === 'image') return image();
  if (kind === 'network') return named(network, 'network');
  if (kind === 'volume') return named(volume, 'volume');
  // As the docker CLI's order: containers, images, networks, volumes.
  for (const get of [container, image, network, volume]) {
    try {
      return await get();
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 404) throw err;
    }
  }
  throw new CliError(`Error: No such object: ${name}`, 1);
}

export async function inspectObjects(ctx: Context, kind: InspectKind, names: readonly string[], flags: Flags): Promise<number> {
  const format = flags.string('format');
  const template = format !== '' && format !== 'json' ? new Template(unescapeFormat(format)) : undefined;
  const found: unknown[] = [];
  const errors: string[] = [];
  const size = kind === 'container' || kind === 'any' || kind === 'image' ? flags.bool('size') : false;
  for (const name of names) {
    try {
      const obj = await fetchOne(ctx, kind, name, size);
      if (template) ctx.out(`${template.execute(obj)}\n`);
      else found.push(obj);
    } catch (err) {
      if (err instanceof Error && err.name === 'DaemonUnreachableError') throw err;
      errors.push(err instanceof ApiError ? `Error response from daemon: ${err.message}` : (err as Error).message);
    }
  }
  if (!template) ctx.out(found.length === 0 ? '[]\n' : `${goIndentJson(found)}\n`);
  if (errors.length > 0) {
    ctx.err(`${errors.join('\n')}\n`);
    return 1;
  }
  return 0;
}

export const INSPECT_FLAGS: FlagSpec[] = [
  { long: 'format', short: 'f', type: 'string', help: "Format output using a custom template: 'json' or a Go template" },
  { long: 'size', short: 's', type: 'bool', help: 'Display total file sizes if the type is container' },
];

export const command: CommandSpec = {
  name: 'inspect',
  usage: '[OPTIONS] NAME|ID [NAME|ID...]',
  summary: 'Return low-level information on berth objects',
  flags: [...INSPECT_FLAGS, { long: 'type', type: 'string', help: 'Only inspect objects of the given type (container, image)' }],
  minArgs: 1,
  run(ctx, flags, args) {
    const type = flags.string('type');
    if (type !== '' && type !== 'container' && type !== 'image') {
      throw new CliError(`"${type}" is not a valid value for --type`, 1);
    }
    return inspectObjects(ctx, type === '' ? 'any' : type, args, flags);
  },
};
