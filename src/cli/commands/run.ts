import { renderHelp, type CommandSpec, type Context } from '../cli.ts';
import { createContainer, parseForCommand, runFailure } from '../create-container.ts';
import { runFlags, type RunOptions } from '../run-options.ts';
import { proxySignals, startSession, within } from '../session.ts';

interface WaitResponse {
  StatusCode: number;
  Error?: { Message?: string } | null;
}

async function runAttached(ctx: Context, id: string, opts: RunOptions): Promise<number> {
  const { client } = ctx;
  const path = `/containers/${id}`;
  const attachAny = opts.attach.stdin || opts.attach.stdout || opts.attach.stderr;
  const query: Record<string, string> = { stream: '1' };
  if (opts.attach.stdout) query['stdout'] = '1';
  if (opts.attach.stderr) query['stderr'] = '1';
  if (opts.detachKeys !== undefined) query['detachKeys'] = opts.detachKeys;
  // Attach and wait go out together; start only once both are in place.
  const attaching = attachAny ? client.hijack(`${path}/attach`, query, { stdin: opts.attach.stdin }) : undefined;
  // The daemon answers the wait's headers once the waiter is registered; start only after that
  // (bounded, for a daemon that sends everything at exit) so a fast exit is never missed.
  const waitResponse = client.request('POST', `${path}/wait`, { query: { condition: opts.rm ? 'removed' : 'next-exit' }, longLived: true });
  const wait = waitResponse.then((res) => res.json<WaitResponse>());
  wait.catch(() => undefined);
  const stream = await attaching;
  await within(waitResponse, 1000).catch(() => undefined);

  // The session and the signal proxy are set up while the start is under way (no output can
  // arrive before this synchronous code has attached its listeners).
  const starting = client.call('POST', `${path}/start`);
  starting.catch(() => undefined);
  const session = stream
    ? startSession(ctx, {
        stream,
        tty: opts.tty,
        stdin: opts.attach.stdin,
        resize: (h, w) => client.call('POST', `${path}/resize`, { query: { h, w } }),
      })
    : undefined;
  const unproxy = opts.sigProxy && !opts.tty ? proxySignals((signal) => client.call('POST', `${path}/kill`, { query: { signal } })) : () => undefined;
  try {
    try {
      await starting;
    } catch (err) {
      stream?.destroy();
      throw err;
    }
    session?.sendSize();
    session?.beginInput();
    if (session) {
      await session.done;
      // With a TTY and stdin the stream also ends when the user types the detach keys: the
      // container keeps running and, like docker, we exit 0 without a word.
      if (opts.tty && opts.attach.stdin) {
        const early = await within(wait, 1500).catch(() => undefined);
        if (early) return reportWait(ctx, early);
        const state = await client.json<{ State?: { Running?: boolean } }>('GET', `${path}/json`).catch(() => undefined);
        if (state?.State?.Running) return 0;
      }
    }
    return reportWait(ctx, await wait);
  } finally {
    session?.close();
    unproxy();
  }
}

function reportWait(ctx: Context, res: WaitResponse): number {
  if (res.Error?.Message) ctx.err(`berth: ${res.Error.Message}\n`);
  return res.StatusCode;
}

export const command: CommandSpec = {
  name: 'run',
  usage: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
  summary: 'Create and run a new container from an image',
  aliases: ['berth container run', 'berth run'],
  flags: runFlags('run'),
  run: () => Promise.resolve(0),
  async runRaw(ctx, argv) {
    try {
      const parsed = parseForCommand(ctx, argv, 'run');
      if (parsed.help) {
        ctx.out(renderHelp(command));
        return 0;
      }
      const id = await createContainer(ctx, parsed);
      if (parsed.detach) {
        await ctx.client.call('POST', `/containers/${id}/start`);
        ctx.out(`${id}\n`);
        return 0;
      }
      return await runAttached(ctx, id, parsed);
    } catch (err) {
      return runFailure('run', err);
    }
  },
};
