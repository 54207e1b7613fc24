// The single way berth starts a child process: an argv array (never a shell), an allow-listed
// environment, an optional AbortSignal, and failures as a typed ExecError.
import { spawn, type SpawnOptions, type ChildProcess, type StdioOptions } from 'node:child_process';

const ENV_ALLOW = ['PATH', 'LANG', 'LC_ALL', 'TZ', 'XDG_RUNTIME_DIR'];
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export class ExecError extends Error {
  readonly argv: readonly string[];
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
  constructor(argv: readonly string[], exitCode: number | null, signal: NodeJS.Signals | null, stderr: string, cause?: unknown) {
    const what = argv[0] ?? '?';
    const how = cause !== undefined ? String((cause as Error).message ?? cause) : signal ? `killed by ${signal}` : `exit status ${exitCode}`;
    const tail = stderr.trim().split('\n').slice(-3).join('; ');
    super(`${what}: ${how}${tail ? `: ${tail}` : ''}`, { cause });
    this.name = 'ExecError';
    this.argv = argv;
    this.exitCode = exitCode;
    this.signal = signal;
    this.stderr = stderr;
  }
  /** True when the program itself could not be found or executed. */
  get missing(): boolean {
    const code = (this.cause as NodeJS.ErrnoException | undefined)?.code;
    return code === 'ENOENT' || code === 'EACCES';
  }
}

export interface RunOptions {
  env?: Record<string, string>;
  cwd?: string;
  input?: string | Buffer;
  signal?: AbortSignal;
  /** Bytes of stdout/stderr kept; the rest is dropped (stderr keeps its tail). */
  maxOutput?: number;
  /** Exit codes that are not failures. */
  okCodes?: readonly number[];
}

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export function childEnv(extra?: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of ENV_ALLOW) {
    const v = process.env[k];
    if (v !== undefined) env[k] = v;
  }
  env.PATH ??= DEFAULT_PATH;
  return { ...env, ...extra };
}

/** Runs argv to completion and collects its output. Rejects with ExecError on failure. */
export function run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const [file, ...args] = argv;
  if (!file) return Promise.reject(new TypeError('run: empty argv'));
  const max = opts.maxOutput ?? 4 << 20;
  return new Promise((resolve, reject) => {
    const spawnOpts: SpawnOptions = { env: childEnv(opts.env), stdio: ['pipe', 'pipe', 'pipe'] };
    if (opts.cwd !== undefined) spawnOpts.cwd = opts.cwd;
    if (opts.signal !== undefined) spawnOpts.signal = opts.signal;
    let child: ChildProcess;
    try {
      child = spawn(file, args, spawnOpts);
    } catch (err) {
      reject(new ExecError(argv, null, null, '', err));
      return;
    }
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outLen = 0;
    let errLen = 0;
    child.stdout?.on('data', (b: Buffer) => {
      if (outLen < max) out.push(b);
      outLen += b.length;
    });
    child.stderr?.on('data', (b: Buffer) => {
      err.push(b);
      errLen += b.length;
      while (errLen > max && err.length > 1) errLen -= err.shift()!.length;
    });
    let spawnError: unknown;
    child.on('error', (e) => {
      spawnError = e;
    });
    child.on('close', (code, sig) => {
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      if (spawnError !== undefined) {
        reject(new ExecError(argv, code, sig, stderr, spawnError));
        return;
      }
      const exitCode = code ?? -1;
      if (sig !== null || !(exitCode === 0 || opts.okCodes?.includes(exitCode))) {
        reject(new ExecError(argv, code, sig, stderr));
        return;
      }
      resolve({ stdout, stderr, exitCode });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

export interface StartOptions {
  env?: Record<string, string>;
  cwd?: string;
  stdio?: StdioOptions;
  detached?: boolean;
  signal?: AbortSignal;
}

/** Starts a long-lived child (conmon) and hands back the process; the caller owns its stdio. */
export function start(argv: readonly string[], opts: StartOptions = {}): ChildProcess {
  const [file, ...args] = argv;
  if (!file) throw new TypeError('start: empty argv');
  const spawnOpts: SpawnOptions = { env: childEnv(opts.env), stdio: opts.stdio ?? 'ignore' };
  if (opts.cwd !== undefined) spawnOpts.cwd = opts.cwd;
  if (opts.detached !== undefined) spawnOpts.detached = opts.detached;
  if (opts.signal !== undefined) spawnOpts.signal = opts.signal;
  return spawn(file, args, spawnOpts);
}
