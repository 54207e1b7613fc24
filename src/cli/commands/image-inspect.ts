import type { CommandSpec } from '../cli.ts';
import { INSPECT_FLAGS, inspectObjects } from './inspect.ts';

export const command: CommandSpec = {
  name: 'image inspect',
  usage: '[OPTIONS] IMAGE [IMAGE...]',
  summary: 'Display detailed information on one or more images',
  flags: INSPECT_FLAGS.map((f) => (f.long === 'size' ? { ...f, hidden: true } : f)),
  minArgs: 1,
  run: (ctx, flags, args) => inspectObjects(ctx, 'image', args, flags),
};
