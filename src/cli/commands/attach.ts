import { CliError, seg, type CommandSpec } from '../cli.ts';
import { proxySignals, startSession, within } from '../session.ts';

interface Inspect {
  Id: string;
  Config?: { Tty?: boolean; OpenStdin?: boolean };
  State?: { Running?: boolean; Paused?: boolean; Restarting?: boolean; ExitCode?: number };
}

export const command: CommandSpec = {
  name: 'attach',
  usage: '[OPTIONS] CONTAINER',
  summary: 'Attach local standard input, output, and error streams to a running container',
  aliases: ['berth container attach', 'berth attach'],
  flags: [
    { long: 'detach-keys', type: 'string', help: 'Override the key sequence for detaching a container' },
    { long: 'no-stdin', type: 'bool', help: 'Do not attach STDIN' },
    { long: 'sig-proxy', type: 'bool', default: true, help: 'Proxy all received signals to the process' },
  ],
  minArgs: 1,
  maxArgs: 1,
  async run(ctx, flags, args) {
    const { client } = ctx;
    const info = await client.json<Inspect>('GET', `/containers/${seg(args[0] as string)}/json`);
    if (!info.State?.Running) throw new CliError('You cannot attach to a stopped container, start it first', 1);
    if (info.State.Paused) throw new CliError('You cannot attach to a paused container, unpause it first', 1);
    if (info.State.Restarting) throw new CliError('You cannot attach to a restarting container, wait until it is running', 1);
    const path = `/containers/${info.Id}`;
    const tty = info.Config?.Tty === true;
    const stdin = !flags.bool('no-stdin') && info.Config?.OpenStdin === true;
    const query: Record<string, string> = { stream: '1', stdout: '1', stderr: '1' };
    if (flags.changed('detach-keys')) query['detachKeys'] = flags.string('detach-keys');
    const wait = client.request('POST', `${path}/wait`, { query: { condition: 'next-exit' }, longLived: true }).then((r) => r.json<{ StatusCode: number }>());
    wait.catch(() => undefined);
    const stream = await client.hijack(`${path}/attach`, query, { stdin });
    const session = startSession(ctx, { stream, tty, stdin, resize: (h, w) => client.call('POST', `${path}/resize`, { query: { h, w } }) });
    session.sendSize();
    session.beginInput();
    const unproxy = flags.bool('sig-proxy') && !tty ? proxySignals((signal) => client.call('POST', `${path}/kill`, { query: { signal } })) : () => undefined;
    try {
      await session.done;
      const res = await within(wait, 1500).catch(() => undefined);
      if (res) return res.StatusCode;
      const after = await client.json<Inspect>('GET', `${path}/json`).catch(() => undefined);
      // Still running: the user detached.
      if (!after || after.State?.Running) return 0;
      return after.State?.ExitCode ?? 0;
    } finally {
      session.close();
      unproxy();
    }
  },
};
