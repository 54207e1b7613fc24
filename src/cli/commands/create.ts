import { renderHelp, type CommandSpec } from '../cli.ts';
import { createContainer, parseForCommand, runFailure } from '../create-container.ts';
import { runFlags } from '../run-options.ts';

export const command: CommandSpec = {
  name: 'create',
  usage: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
  summary: 'Create a new container',
  aliases: ['berth container create', 'berth create'],
  flags: runFlags('create'),
  run: () => Promise.resolve(0),
  async runRaw(ctx, argv) {
    try {
      const parsed = parseForCommand(ctx, argv, 'create');
      if (parsed.help) {
        ctx.out(renderHelp(command));
        return 0;
      }
      ctx.out(`${await createContainer(ctx, parsed)}\n`);
      return 0;
    } catch (err) {
      return runFailure('create', err);
    }
  },
};
