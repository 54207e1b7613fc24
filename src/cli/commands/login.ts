import { registryHostOf } from '../../distribution/auth.ts';
import { CliError, type CommandSpec, type Context } from '../cli.ts';
import { removeCredentials, saveCredentials, serverKey } from '../credentials.ts';

async function readAllStdin(ctx: Context): Promise<string> {
  let s = '';
  for await (const c of ctx.stdin) s += c.toString();
  return s.replace(/\r?\n$/, '');
}

/** Reads a line from the terminal; without echo for passwords. */
async function prompt(ctx: Context, question: string, echo: boolean): Promise<string> {
  if (!ctx.stdin.isTTY) throw new CliError('Error: Cannot perform an interactive login from a non TTY device', 1);
  ctx.out(question);
  ctx.stdin.setRawMode(true);
  ctx.stdin.resume();
  let s = '';
  try {
    for await (const chunk of ctx.stdin) {
      for (const ch of chunk.toString()) {
        if (ch === '\r' || ch === '\n') {
          ctx.out('\n');
          return s;
        }
        if (ch === '\u0003') throw new CliError('', 130);
        if (ch === '\u007f') {
          if (s.length > 0) {
            s = s.slice(0, -1);
            if (echo) ctx.out('\b \b');
          }
          continue;
        }
        s += ch;
        if (echo) ctx.out(ch);
      }
    }
    return s;
  } finally {
    ctx.stdin.setRawMode(false);
    ctx.stdin.pause();
  }
}

export const login: CommandSpec = {
  name: 'login',
  usage: '[OPTIONS] [SERVER]',
  summary: 'Authenticate to a registry',
  flags: [
    { long: 'username', short: 'u', type: 'string', help: 'Username' },
    { long: 'password', short: 'p', type: 'string', help: 'Password' },
    { long: 'password-stdin', type: 'bool', help: 'Take the password from stdin' },
  ],
  maxArgs: 1,
  async run(ctx, flags, args) {
    const server = args[0] ?? 'https://index.docker.io/v1/';
    const host = registryHostOf(server);
    let username = flags.changed('username') ? flags.string('username') : '';
    let password = flags.changed('password') ? flags.string('password') : '';
    if (flags.bool('password-stdin')) {
      if (flags.changed('password')) throw new CliError('--password and --password-stdin are mutually exclusive', 1);
      if (username === '') throw new CliError('Must provide --username with --password-stdin', 1);
      password = await readAllStdin(ctx);
    } else if (flags.changed('password')) {
      ctx.err('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
    }
    if (username === '') username = (await prompt(ctx, 'Username: ', true)).trim();
    if (username === '') throw new CliError('Error: Non-null Username Required', 1);
    if (password === '') password = await prompt(ctx, 'Password: ', false);
    if (password === '') throw new CliError('Error: Password Required', 1);
    await ctx.client.call('POST', '/auth', { body: { username, password, serveraddress: serverKey(host) } });
    const path = saveCredentials(ctx.env, host, username, password);
    ctx.out(`WARNING! Your password will be stored unencrypted in ${path}.\n\nLogin Succeeded\n`);
    return 0;
  },
};

export const logout: CommandSpec = {
  name: 'logout',
  usage: '[SERVER]',
  summary: 'Log out from a registry',
  flags: [],
  maxArgs: 1,
  async run(ctx, _flags, args) {
    const host = registryHostOf(args[0]);
    const shown = args[0] ?? serverKey(host);
    if (!removeCredentials(ctx.env, host)) {
      ctx.out(`Not logged in to ${shown}\n`);
      return 0;
    }
    ctx.out(`Removing login credentials for ${shown}\n`);
    return 0;
  },
};
