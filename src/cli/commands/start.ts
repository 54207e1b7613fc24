import { CliError, forEachTarget, seg, type CommandSpec } from '../cli.ts';
import { proxySignals, startSession } from '../session.ts';

interface Inspect {
  Id: string;
  Config?: { Tty?: boolean; OpenStdin?: boolean };
}

export const command: CommandSpec = {
  name: 'start',
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Start one or more stopped containers',
  aliases: ['berth container start', 'berth start'],
  flags: [
    { long: 'attach', short: 'a', type: 'bool', help: 'Attach STDOUT/STDERR and forward signals' },
    { long: 'detach-keys', type: 'string', help: 'Override the key sequence for detaching a container' },
    { long: 'interactive', short: 'i', type: 'bool', help: "Attach container's STDIN" },
  ],
  minArgs: 1,
  async run(ctx, flags, args) {
    const attach = flags.bool('attach') || flags.bool('interactive');
    if (!attach) {
      return forEachTarget(ctx, args, async (name) => {
        await ctx.client.call('POST', `/containers/${seg(name)}/start`);
      });
    }
    if (args.length > 1) throw new CliError('you cannot start and attach multiple containers at once', 1);
    const { client } = ctx;
    const info = await client.json<Inspect>('GET', `/containers/${seg(args[0] as string)}/json`);
    const path = `/containers/${info.Id}`;
    const tty = info.Config?.Tty === true;
    const stdin = flags.bool('interactive') && info.Config?.OpenStdin === true;
    const query: Record<string, string> = { stream: '1', stdout: '1', stderr: '1' };
    if (flags.changed('detach-keys')) query['detachKeys'] = flags.string('detach-keys');
    const stream = await client.hijack(`${path}/attach`, query, { stdin });
    const waitResponse = client.request('POST', `${path}/wait`, { query: { condition: 'next-exit' }, longLived: true });
    const wait = waitResponse.then((r) => r.json<{ StatusCode: number }>());
    wait.catch(() => undefined);
    const session = startSession(ctx, { stream, tty, stdin, resize: (h, w) => client.call('POST', `${path}/resize`, { query: { h, w } }) });
    const unproxy = tty ? () => undefined : proxySignals((signal) => client.call('POST', `${path}/kill`, { query: { signal } }));
    try {
      await client.call('POST', `${path}/start`);
      session.sendSize();
      session.beginInput();
      await session.done;
      return (await wait).StatusCode;
    } finally {
      session.close();
      unproxy();
    }
  },
};
