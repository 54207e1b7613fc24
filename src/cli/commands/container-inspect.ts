import type { CommandSpec } from '../cli.ts';
import { INSPECT_FLAGS, inspectObjects } from './inspect.ts';

export const command: CommandSpec = {
  name: 'container inspect',
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Display detailed information on one or more containers',
  flags: INSPECT_FLAGS,
  minArgs: 1,
  run: (ctx, flags, args) => inspectObjects(ctx, 'container', args, flags),
};
