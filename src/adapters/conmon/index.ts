// conmon, the per-container monitor: it creates the container through runc, holds its stdio,
// writes the k8s-file log, serves the attach socket and records the exit code. It daemonizes,
// so containers outlive berthd; the sync pipe reaching EOF means the exit file is written.
import { readFile } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import { start } from '../exec/index.ts';
import { processEnded } from '../proc/index.ts';
import { MonitorError, type ContainerMonitor, type MonitorCreateOptions, type MonitorExecOptions, type PreparedMonitor } from '../../core/ports.ts';

export class ConmonError extends MonitorError {
  constructor(message: string, runtimeMessage: string) {
    super(message, runtimeMessage);
    this.name = 'ConmonError';
  }
}

/** The port's options, plus where the conmon program is. */
export interface ConmonCommon {
  conmon: string;
}

export interface CreateOptions extends MonitorCreateOptions, ConmonCommon {}

export interface ExecOptions extends MonitorExecOptions, ConmonCommon {}

/** Pure: the argv conmon is started with for a container. */
export function createArgs(o: CreateOptions): string[] {
  const argv = [
    o.conmon, '--api-version', '1',
    '-c', o.containerId, '-u', o.containerId, '-n', o.name,
    '-r', o.runtime, '-b', o.bundle,
    '-p', `${o.bundle}/pidfile`, '--conmon-pidfile', `${o.bundle}/conmon.pid`,
    '--exit-dir', o.exitDir, '--persist-dir', `${o.bundle}/persist`, '--full-attach',
    '-l', o.logDriver === 'none' ? 'none:/dev/null' : `k8s-file:${o.logPath}`, '--log-level', o.logLevel ?? 'warn',
  ];
  if (o.logSizeMax !== undefined && o.logSizeMax > 0) argv.push('--log-size-max', String(o.logSizeMax));
  if (o.stdin) argv.push('-i');
  if (o.stdin && o.leaveStdinOpen) argv.push('--leave-stdin-open');
  if (o.tty) argv.push('-t');
  argv.push(...runtimeArgs(o.runtimeRoot, `${o.bundle}/oci-log`));
  return argv;
}

/** Pure: the argv conmon is started with for an exec session. */
export function execArgs(o: ExecOptions): string[] {
  const argv = [
    o.conmon, '--api-version', '1',
    '-c', o.containerId, '-u', o.execId, '-n', o.name,
    '-r', o.runtime, '-b', o.execDir,
    '-p', `${o.execDir}/exec_pid`, '--conmon-pidfile', `${o.execDir}/conmon.pid`,
    '--exit-dir', `${o.execDir}/exits`, '--persist-dir', `${o.execDir}/persist`, '--full-attach',
    // An exec's output goes to its attached client alone, as Docker's: nothing is kept, so an
    // endless writer whose client went away fills no disk (nor the exec root's tmpfs).
    '-l', 'none:/dev/null', '--log-level', o.logLevel ?? 'warn',
    '-e', '--exec-process-spec', o.processSpecPath,
  ];
  if (o.attach) argv.push('--exec-attach');
  if (o.stdin) argv.push('-i');
  if (o.tty) argv.push('-t');
  argv.push(...runtimeArgs(o.runtimeRoot, `${o.execDir}/oci-log`));
  return argv;
}

function runtimeArgs(root: string, ociLog: string): string[] {
  return ['--runtime-arg', '--root', '--runtime-arg', root, '--runtime-arg', '--log-format=json', '--runtime-arg', '--log', '--runtime-arg', ociLog];
}

/** Reads newline-delimited `{"data": n, "message"?: s}` records from a conmon pipe. */
class SyncReader {
  #buf = '';
  #queue: Array<{ data: number; message?: string }> = [];
  #waiters: Array<(v: { data: number; message?: string } | undefined) => void> = [];
  #ended = false;
  readonly ended: Promise<void>;
  constructor(stream: Readable) {
    let resolveEnded!: () => void;
    this.ended = new Promise((r) => (resolveEnded = r));
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      this.#buf += chunk;
      let i;
      while ((i = this.#buf.indexOf('\n')) >= 0) {
        const line = this.#buf.slice(0, i).trim();
        this.#buf = this.#buf.slice(i + 1);
        if (!line) continue;
        try {
          this.#deliver(JSON.parse(line) as { data: number; message?: string });
        } catch {
          // conmon writes only JSON here; ignore anything else.
        }
      }
    });
    const finish = (): void => {
      if (this.#ended) return;
      this.#ended = true;
      for (const w of this.#waiters.splice(0)) w(undefined);
      resolveEnded();
    };
    stream.on('end', finish);
    stream.on('close', finish);
    stream.on('error', finish);
  }
  #deliver(msg: { data: number; message?: string }): void {
    const w = this.#waiters.shift();
    if (w) w(msg);
    else this.#queue.push(msg);
  }
  next(): Promise<{ data: number; message?: string } | undefined> {
    const m = this.#queue.shift();
    if (m) return Promise.resolve(m);
    if (this.#ended) return Promise.resolve(undefined);
    return new Promise((r) => this.#waiters.push(r));
  }
}

export interface CreatedContainer {
  /** The container's init pid on the host. */
  pid: number;
  /** Resolves when conmon has written the exit file (sync pipe EOF). */
  exited: Promise<void>;
}

async function ociLogMessage(path: string): Promise<string> {
  try {
    const text = await readFile(path, 'utf8');
    const msgs: string[] = [];
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        const rec = JSON.parse(line) as { level?: string; msg?: string };
        if (rec.level === 'error' && rec.msg) msgs.push(rec.msg);
      } catch {
        msgs.push(line);
      }
    }
    return msgs.join('; ');
  } catch {
    return '';
  }
}

function spawnConmon(argv: string[], cwd: string, extraPipes: number): { proc: ReturnType<typeof start>; sync: Readable; startPipe: Writable; attachPipe?: Readable } {
  const stdio: Array<'ignore' | 'pipe'> = ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'];
  const env: Record<string, string> = { _OCI_SYNCPIPE: '3', _OCI_STARTPIPE: '4' };
  if (extraPipes > 0) {
    stdio.push('pipe');
    env._OCI_ATTACHPIPE = '5';
  }
  const proc = start(argv, { cwd, detached: true, stdio, env });
  const sync = proc.stdio[3] as Readable;
  const startPipe = proc.stdio[4] as Writable;
  startPipe.on('error', () => {});
  const out: { proc: typeof proc; sync: Readable; startPipe: Writable; attachPipe?: Readable } = { proc, sync, startPipe };
  if (extraPipes > 0) out.attachPipe = (proc.stdio as unknown as Readable[])[5]!;
  return out;
}

function stderrOf(proc: ReturnType<typeof start>): () => string {
  let text = '';
  proc.stderr?.setEncoding('utf8');
  proc.stderr?.on('data', (s: string) => {
    if (text.length < 8192) text += s;
  });
  return () => text.trim();
}

/**
 * Starts conmon, which runs `runc create` once told to go (a byte on its start pipe). conmon reads
 * its start pipe before it forks anything or writes its pid files, so until then it is a plain
 * child of berthd: `abort` kills it and nothing of it remains but the (empty) log file it opened.
 * `go` resolves once the container exists (status created) with its pid; berthd then starts it.
 */
export function prepareContainer(o: CreateOptions): PreparedMonitor {
  const argv = createArgs(o);
  const { proc, sync, startPipe } = spawnConmon(argv, o.bundle, 0);
  const stderr = stderrOf(proc);
  const spawnFailed = new Promise<Error>((resolve) => proc.once('error', resolve));
  spawnFailed.catch(() => {});
  proc.unref();
  const reader = new SyncReader(sync);
  let state: 'waiting' | 'going' | 'aborted' = 'waiting';
  return {
    async go(): Promise<CreatedContainer> {
      if (state !== 'waiting') throw new ConmonError('conmon: already told to go or aborted', '');
      state = 'going';
      startPipe.write(Buffer.from([0]));
      const pid = await firstPid(reader, spawnFailed, `${o.bundle}/oci-log`, stderr, 'conmon exited without creating the container');
      return { pid, exited: reader.ended };
    },
    abort(): void {
      if (state !== 'waiting') return;
      state = 'aborted';
      // Killed, not told to go: EOF on the start pipe would let it go on to run the runtime.
      proc.kill('SIGKILL');
      startPipe.destroy();
      sync.destroy();
    },
  };
}

/**
 * The first record on conmon's sync pipe: the process's pid, or the runtime's failure (its own
 * words from the OCI log, else conmon's, else `fallback`).
 */
async function firstPid(reader: SyncReader, spawnFailed: Promise<Error>, ociLog: string, stderr: () => string, fallback: string): Promise<number> {
  const first = await Promise.race([reader.next(), spawnFailed]);
  if (first instanceof Error) throw new ConmonError(`conmon: ${first.message}`, '');
  if (first === undefined || first.data < 0) {
    const oci = await ociLogMessage(ociLog);
    const msg = first?.message || oci || stderr() || fallback;
    throw new ConmonError(msg, oci || msg);
  }
  return first.data;
}

export interface ExecSession {
  pid: number;
  /** Resolves to the exit code of the process (or -1 when unknown). */
  exitCode: Promise<number>;
}

/**
 * Starts an exec session through conmon. With `attach`, `onAttachReady` runs once conmon's
 * attach socket exists and before the process starts, so no output is lost.
 */
export async function execProcess(o: ExecOptions, onAttachReady?: () => Promise<void>): Promise<ExecSession> {
  const argv = execArgs(o);
  const { proc, sync, startPipe, attachPipe } = spawnConmon(argv, o.execDir, o.attach ? 1 : 0);
  const stderr = stderrOf(proc);
  const spawnFailed = new Promise<Error>((resolve) => proc.once('error', resolve));
  proc.unref();
  const reader = new SyncReader(sync);
  startPipe.write(Buffer.from([0]));
  if (o.attach && attachPipe) {
    const attachReader = new SyncReader(attachPipe);
    const ready = await Promise.race([attachReader.next(), spawnFailed]);
    if (ready instanceof Error) throw new ConmonError(`conmon: ${ready.message}`, '');
    if (ready === undefined || ready.data < 0) {
      const msg = ready?.message || stderr() || 'conmon failed to set up the exec attach socket';
      throw new ConmonError(msg, msg);
    }
    if (onAttachReady) await onAttachReady();
    startPipe.write(Buffer.from([0]));
  }
  const pid = await firstPid(reader, spawnFailed, `${o.execDir}/oci-log`, stderr, 'exec failed');
  const exitCode = (async () => {
    const second = await reader.next();
    if (second !== undefined) return second.data;
    try {
      return Number((await readFile(`${o.execDir}/exits/${o.containerId}`, 'utf8')).trim());
    } catch {
      return -1;
    }
  })();
  return { pid, exitCode };
}

/** conmon's own pid from its pid file, if it is still alive and is conmon. */
export async function livingConmonPid(pidFile: string): Promise<number | undefined> {
  let pid: number;
  try {
    pid = Number((await readFile(pidFile, 'utf8')).trim());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    const comm = (await readFile(`/proc/${pid}/comm`, 'utf8')).trim();
    return comm === 'conmon' && !processEnded(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The ContainerMonitor port on conmon at the given path. */
export class Conmon implements ContainerMonitor {
  readonly binary: string;
  constructor(binary: string) {
    this.binary = binary;
  }

  prepare(o: MonitorCreateOptions): PreparedMonitor {
    return prepareContainer({ ...o, conmon: this.binary });
  }

  exec(o: MonitorExecOptions, onAttachReady?: () => Promise<void>): Promise<ExecSession> {
    return execProcess({ ...o, conmon: this.binary }, onAttachReady);
  }

  livingPid(pidFile: string): Promise<number | undefined> {
    return livingConmonPid(pidFile);
  }
}
