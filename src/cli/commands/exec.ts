import { readFileSync } from 'node:fs';
import { CliError, seg, type CommandSpec } from '../cli.ts';
import { parseKeyValueFile } from '../run-options.ts';
import { startSession } from '../session.ts';

export const command: CommandSpec = {
  name: 'exec',
  usage: '[OPTIONS] CONTAINER COMMAND [ARG...]',
  summary: 'Execute a command in a running container',
  aliases: ['berth container exec', 'berth exec'],
  interspersed: false,
  flags: [
    { long: 'detach', short: 'd', type: 'bool', help: 'Detached mode: run command in the background' },
    { long: 'detach-keys', type: 'string', help: 'Override the key sequence for detaching a container' },
    { long: 'env', short: 'e', type: 'list', help: 'Set environment variables' },
    { long: 'env-file', type: 'list', help: 'Read in a file of environment variables' },
    { long: 'interactive', short: 'i', type: 'bool', help: 'Keep STDIN open even if not attached' },
    { long: 'privileged', type: 'bool', help: 'Give extended privileges to the command' },
    { long: 'tty', short: 't', type: 'bool', help: 'Allocate a pseudo-TTY' },
    { long: 'user', short: 'u', type: 'string', help: 'Username or UID (format: "<name|uid>[:<group|gid>]")' },
    { long: 'workdir', short: 'w', type: 'string', help: 'Working directory inside the container' },
  ],
  minArgs: 2,
  async run(ctx, flags, args) {
    const { client } = ctx;
    const [container, ...cmd] = args as [string, ...string[]];
    const detach = flags.bool('detach');
    const tty = flags.bool('tty');
    const interactive = flags.bool('interactive');
    const env: string[] = [];
    for (const file of flags.list('env-file')) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        throw new CliError(`open ${file}: no such file or directory`, 1);
      }
      env.push(...parseKeyValueFile(text, file, (k) => ctx.env[k]));
    }
    for (const e of flags.list('env')) env.push(e.includes('=') || ctx.env[e] === undefined ? e : `${e}=${ctx.env[e]}`);
    const body: Record<string, unknown> = {
      User: flags.string('user'),
      Privileged: flags.bool('privileged'),
      Tty: tty,
      AttachStdin: interactive && !detach,
      AttachStdout: !detach,
      AttachStderr: !detach,
      DetachKeys: flags.string('detach-keys'),
      Env: env,
      WorkingDir: flags.string('workdir'),
      Cmd: cmd,
    };
    if (tty && ctx.stdout.isTTY) body['ConsoleSize'] = [ctx.stdout.rows, ctx.stdout.columns];
    const created = await client.json<{ Id: string }>('POST', `/containers/${seg(container)}/exec`, { body });
    const path = `/exec/${created.Id}`;
    if (detach) {
      await client.call('POST', `${path}/start`, { body: { Detach: true, Tty: tty } });
      return 0;
    }
    const stream = await client.hijack(`${path}/start`, {}, { body: { Detach: false, Tty: tty } });
    const session = startSession(ctx, { stream, tty, stdin: interactive, resize: (h, w) => client.call('POST', `${path}/resize`, { query: { h, w } }) });
    session.sendSize();
    session.beginInput();
    try {
      await session.done;
    } finally {
      session.close();
    }
    const info = await client.json<{ ExitCode: number | null; Running?: boolean }>('GET', `${path}/json`);
    return info.ExitCode ?? 0;
  },
};
