// Docker json-file style rotation (`max-size`, `max-file`) for conmon's k8s-file logs: berth renames
// the files itself and asks conmon, through its ctl FIFO, to reopen the log.
import { open, rename, stat, unlink } from 'node:fs/promises';
import { constants } from 'node:fs';
import { invalidParameter } from '../../core/errors.ts';
import { rotatedIndices } from './read.ts';

export interface LogLimits {
  /** Bytes; 0 = unlimited. */
  maxSize: number;
  /** Files kept, the live one included (Docker's `max-file`). */
  maxFile: number;
}

/**
 * Without `max-size`, Docker's json-file driver lets logs grow until the disk is full. berth caps them
 * by default at `max-size=20m`, `max-file=2` (at most ~40 MB per container, the recent half always kept);
 * an explicit `max-size` without `max-file` keeps Docker's single file.
 */
export const DEFAULT_LOG_LIMITS: Readonly<LogLimits> = { maxSize: 20_000_000, maxFile: 2 };

// Options any log driver accepts (labels, env, tag…) and json-file/local's own; berth stores but does
// not compress rotated files.
const KNOWN_OPTS = new Set(['max-size', 'max-file', 'compress', 'labels', 'labels-regex', 'env', 'env-regex', 'tag', 'mode', 'max-buffer-size']);

const UNITS: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12, p: 1e15 };

/** docker/go-units FromHumanSize: decimal multiples, "10m" = 10,000,000 bytes. */
export function parseHumanSize(text: string): number {
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(text);
  const num = m ? Number(m[1]) : NaN;
  if (!m || !Number.isFinite(num)) throw invalidParameter(`invalid size: '${text}'`);
  return Math.floor(num * (UNITS[(m[2] ?? '').toLowerCase()] ?? 1));
}

export function parseLogOptions(config: Record<string, string>): LogLimits {
  for (const key of Object.keys(config)) {
    if (!KNOWN_OPTS.has(key)) throw invalidParameter(`unknown log opt '${key}' for json-file log driver`);
  }
  try {
    return parseLimits(config);
  } catch (err) {
    // Said as Docker says a driver's bad value.
    throw invalidParameter(`failed to initialize logging driver: ${(err as Error).message}`);
  }
}

function parseLimits(config: Record<string, string>): LogLimits {
  const compress = config.compress;
  if (compress !== undefined && !/^(1|t|T|TRUE|true|True|0|f|F|FALSE|false|False)$/.test(compress)) {
    throw invalidParameter(`strconv.ParseBool: parsing "${compress}": invalid syntax`);
  }
  let maxFile: number | undefined;
  const fileText = config['max-file'];
  if (fileText !== undefined) {
    if (!/^[+-]?\d+$/.test(fileText)) throw invalidParameter(`strconv.Atoi: parsing "${fileText}": invalid syntax`);
    maxFile = Number(fileText);
    if (maxFile < 1) throw invalidParameter('max-file cannot be less than 1');
  }
  const sizeText = config['max-size'];
  if (sizeText === undefined) return { maxSize: DEFAULT_LOG_LIMITS.maxSize, maxFile: maxFile ?? DEFAULT_LOG_LIMITS.maxFile };
  const maxSize = parseHumanSize(sizeText);
  if (maxSize <= 0) throw invalidParameter('max-size must be a positive number');
  return { maxSize, maxFile: maxFile ?? 1 };
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}

async function unlinkIfExists(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if (errno(err) !== 'ENOENT') throw err;
  }
}

async function renameIfExists(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (err) {
    if (errno(err) !== 'ENOENT') throw err;
  }
}

export interface LogRotatorOptions {
  path: string;
  /** conmon's ctl FIFO; `2 0 0\n` makes it reopen its log file. */
  ctlPath: string;
  maxSize: number;
  maxFile: number;
  checkIntervalMs?: number;
  /** Rotation failures other than conmon being gone; the rotator keeps running. */
  onError?: (err: unknown) => void;
}

/** One per running container: watches the log size and rotates it. */
export class LogRotator {
  readonly #path: string;
  readonly #ctlPath: string;
  readonly #maxSize: number;
  readonly #maxFile: number;
  readonly #interval: number;
  readonly #onError: ((err: unknown) => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #busy = false;
  #stopped = false;
  /** The file was renamed but conmon has not been told yet (ctl FIFO full). */
  #reopenPending = false;

  constructor(opts: LogRotatorOptions) {
    if (!Number.isInteger(opts.maxSize) || opts.maxSize < 0) throw invalidParameter(`invalid log max-size: ${opts.maxSize}`);
    if (!Number.isInteger(opts.maxFile) || opts.maxFile < 1) throw invalidParameter('max-file cannot be less than 1');
    this.#path = opts.path;
    this.#ctlPath = opts.ctlPath;
    this.#maxSize = opts.maxSize;
    this.#maxFile = opts.maxFile;
    this.#interval = opts.checkIntervalMs ?? 250;
    this.#onError = opts.onError;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  start(): void {
    if (this.#maxSize === 0 || this.#timer !== undefined || this.#stopped) return;
    this.#timer = setInterval(() => {
      this.check().catch((err: unknown) => this.#onError?.(err));
    }, this.#interval);
    this.#timer.unref();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One size check, rotating when due; true when it rotated. Exposed for tests and for a check at stop. */
  async check(): Promise<boolean> {
    if (this.#busy || this.#stopped || this.#maxSize === 0) return false;
    this.#busy = true;
    try {
      if (this.#reopenPending) {
        await this.#signalReopen();
        return false;
      }
      let size: number;
      try {
        size = (await stat(this.#path)).size;
      } catch (err) {
        if (errno(err) === 'ENOENT') return false;
        throw err;
      }
      if (size < this.#maxSize) return false;
      await this.#shift();
      this.#reopenPending = true;
      await this.#signalReopen();
      // With a single file Docker truncates: the renamed file only had to live until conmon let go of it.
      if (this.#maxFile === 1) await unlinkIfExists(`${this.#path}.1`);
      return true;
    } finally {
      this.#busy = false;
    }
  }

  async #shift(): Promise<void> {
    const keep = this.#maxFile - 1;
    // Drop what would move past the last kept slot (also leftovers from a larger max-file).
    for (const i of await rotatedIndices(this.#path)) {
      if (i >= Math.max(keep, 1)) await unlinkIfExists(`${this.#path}.${i}`);
    }
    for (let i = keep - 1; i >= 1; i--) await renameIfExists(`${this.#path}.${i}`, `${this.#path}.${i + 1}`);
    await rename(this.#path, `${this.#path}.1`);
  }

  async #signalReopen(): Promise<void> {
    let fh;
    try {
      // Non-blocking: once conmon is gone a blocking open of the FIFO would hang forever; this gives ENXIO.
      fh = await open(this.#ctlPath, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (err) {
      const code = errno(err);
      if (code === 'ENXIO' || code === 'ENOENT') {
        this.stop();
        return;
      }
      throw err;
    }
    try {
      await fh.write('2 0 0\n');
      this.#reopenPending = false;
    } catch (err) {
      const code = errno(err);
      if (code === 'EPIPE') this.stop();
      else if (code !== 'EAGAIN') throw err;
      // EAGAIN: the FIFO is full; retried on the next check.
    } finally {
      await fh.close();
    }
  }
}

/** Bytes of the log file and its rotated siblings. */
export async function logsSize(path: string): Promise<number> {
  let total = 0;
  for (const p of [path, ...(await rotatedIndices(path)).map((i) => `${path}.${i}`)]) {
    total += (await stat(p).catch(() => undefined))?.size ?? 0;
  }
  return total;
}

/** Removes the log file and its rotated siblings. */
export async function removeLogs(path: string): Promise<void> {
  for (const i of await rotatedIndices(path)) await unlinkIfExists(`${path}.${i}`);
  await unlinkIfExists(path);
}
