// The interactive part of run/start/attach/exec: copy the hijacked stream to stdout/stderr,
// stdin to the stream, put the terminal in raw mode for a TTY and keep the size in sync.
import type { Duplex } from 'node:stream';
import { copyRaw, demultiplex } from '../client/index.ts';
import type { Context } from './cli.ts';

export interface SessionOptions {
  stream: Duplex;
  /** The container/exec has a TTY: output is raw, not framed. */
  tty: boolean;
  /** Copy our stdin to the stream (and half-close it at EOF). */
  stdin: boolean;
  /** Sends the terminal size; called once the process runs and on every resize. */
  resize?: (rows: number, cols: number) => Promise<unknown>;
}

export interface Session {
  /** Settles when the output stream has ended. */
  done: Promise<void>;
  /** Sends the current size now (after start). */
  sendSize(): void;
  /** Starts copying stdin (after start: some daemons stall a start whose stdin already hit EOF). */
  beginInput(): void;
  /** Restores the terminal and stops reading stdin. Safe to call more than once. */
  close(): void;
}

export function startSession(ctx: Context, opts: SessionOptions): Session {
  const { stream } = opts;
  // Standard input is only touched when it is used: making node's stdin stream costs ~1 ms.
  let stdinStream: NodeJS.ReadStream | undefined;
  const input = (): NodeJS.ReadStream => (stdinStream ??= ctx.stdin);
  const rawMode = opts.tty && opts.stdin && input().isTTY === true;
  if (rawMode) input().setRawMode(true);
  let closed = false;

  const sendSize = (): void => {
    if (!opts.resize || !opts.tty || !ctx.stdout.isTTY) return;
    const rows = ctx.stdout.rows;
    const cols = ctx.stdout.columns;
    if (rows > 0 && cols > 0) opts.resize(rows, cols).catch(() => undefined);
  };
  const onResize = (): void => sendSize();
  if (opts.tty && ctx.stdout.isTTY) ctx.stdout.on('resize', onResize);

  const onData = (chunk: Buffer): void => {
    if (!stream.write(chunk)) {
      input().pause();
      stream.once('drain', () => input().resume());
    }
  };
  const onEnd = (): void => {
    if (!stream.writableEnded && !stream.destroyed) stream.end();
  };
  let reading = false;
  const beginInput = (): void => {
    if (!opts.stdin || reading || closed) return;
    reading = true;
    const stdin = input();
    stdin.on('data', onData);
    stdin.on('end', onEnd);
    stdin.resume();
  };

  const close = (): void => {
    if (closed) return;
    closed = true;
    ctx.stdout.off('resize', onResize);
    if (reading) {
      const stdin = input();
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      stdin.pause();
    }
    if (rawMode) input().setRawMode(false);
  };

  // A reset or error after the output ended still counts as the end of the session.
  stream.on('error', () => undefined);
  const copy = opts.tty ? copyRaw(stream, ctx.stdout) : demultiplex(stream, { stdout: ctx.stdout, stderr: ctx.stderr });
  const done = copy.then(
    (systemErr) => {
      if (typeof systemErr === 'string' && systemErr !== '') ctx.err(`${systemErr.trimEnd()}\n`);
    },
    () => undefined,
  );
  return { done, sendSize, beginInput, close };
}

/** Forwards SIGINT/SIGTERM/SIGHUP/SIGQUIT/SIGUSR1/SIGUSR2 via `kill`; returns the undo. */
export function proxySignals(kill: (signal: string) => Promise<unknown>): () => void {
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];
  const handlers = signals.map((sig) => {
    const h = (): void => void kill(sig).catch(() => undefined);
    process.on(sig, h);
    return [sig, h] as const;
  });
  return () => {
    for (const [sig, h] of handlers) process.off(sig, h);
  };
}

/** Waits for `p` at most `ms`; undefined on timeout. */
export function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => resolve(undefined), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(t);
        reject(err);
      },
    );
  });
}
