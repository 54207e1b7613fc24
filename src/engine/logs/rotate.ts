// Docker json-file style rotation (`max-size`, `max-file`, `compress`) for conmon's k8s-file logs:
// conmon cuts the file at max-size, berth keeps (and compresses) the finished ones.
import { link, rename, stat, unlink } from 'node:fs/promises';
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { zlib } from '../../lib/lazy-modules.ts';
import { invalidParameter } from '../../core/errors.ts';
import { heldLogPath, rotatedFiles } from './read.ts';

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

// Options any log driver accepts (labels, env, tag…) and json-file/local's own.
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

/** Whether rotated files are gzipped: the `compress` option, on by default for the `local` driver (as Docker's). */
export function compressRotated(config: Record<string, string>, driver: string): boolean {
  const v = config.compress;
  if (v === undefined) return driver === 'local';
  return /^(1|t|T|TRUE|true|True)$/.test(v);
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
  maxSize: number;
  maxFile: number;
  /** Gzip each rotated file (`path.N.gz`). */
  compress?: boolean;
  checkIntervalMs?: number;
  /** Rotation failures; the rotator keeps running. */
  onError?: (err: unknown) => void;
}

const DEFAULT_INTERVAL = 250;
const shared = new Set<LogRotator>();
let sharedTick: NodeJS.Timeout | undefined;

/**
 * One per running container: keeps conmon's finished log files as Docker's rotated ones. conmon
 * cuts the file at max-size itself, between two records, so the size is exact and nothing is
 * torn; berthd holds a hard link to the live file and, once conmon has started a new one, shifts
 * the held file into `path.1` (compressed with `compress`), keeping max-file files in all.
 * conmon's counter is its own: berthd never asks it to reopen (a reopen it did not decide does
 * not restart its count, and it would cut the next file short, losing what that held).
 */
export class LogRotator {
  readonly #path: string;
  readonly #held: string;
  readonly #maxSize: number;
  readonly #maxFile: number;
  readonly #interval: number;
  readonly #onError: ((err: unknown) => void) | undefined;
  readonly #compress: boolean;
  #timer: NodeJS.Timeout | undefined;
  #busy = false;
  #stopped = false;
  /** The inode the held link is known to name: a look then costs one stat of the live file. */
  #heldIno: number | undefined;

  constructor(opts: LogRotatorOptions) {
    if (!Number.isInteger(opts.maxSize) || opts.maxSize < 0) throw invalidParameter(`invalid log max-size: ${opts.maxSize}`);
    if (!Number.isInteger(opts.maxFile) || opts.maxFile < 1) throw invalidParameter('max-file cannot be less than 1');
    this.#path = opts.path;
    this.#held = heldLogPath(opts.path);
    this.#maxSize = opts.maxSize;
    this.#maxFile = opts.maxFile;
    this.#interval = opts.checkIntervalMs ?? DEFAULT_INTERVAL;
    this.#compress = opts.compress === true;
    this.#onError = opts.onError;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  start(): void {
    if (this.#maxSize === 0 || this.#timer !== undefined || this.#stopped) return;
    // Rotators with the usual interval share one timer (thousands of containers, one tick).
    if (this.#interval === DEFAULT_INTERVAL) {
      shared.add(this);
      sharedTick ??= setInterval(() => {
        for (const r of shared) r.#tick();
      }, DEFAULT_INTERVAL).unref();
      return;
    }
    this.#timer = setInterval(() => this.#tick(), this.#interval);
    this.#timer.unref();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    shared.delete(this);
    if (shared.size === 0 && sharedTick !== undefined) {
      clearInterval(sharedTick);
      sharedTick = undefined;
    }
  }

  #tick(): void {
    if (this.#unchanged()) return;
    this.check().catch((err: unknown) => this.#onError?.(err));
  }

  /**
   * The frequent look, 4 times a second per running container: one synchronous stat (microseconds,
   * the inode is in cache) says whether the live file is still the one held; a promise and a pool
   * thread for it cost ~20 times as much.
   */
  #unchanged(): boolean {
    if (this.#busy || this.#heldIno === undefined) return false;
    try {
      return statSync(this.#path, { throwIfNoEntry: false })?.ino === this.#heldIno;
    } catch {
      return false;
    }
  }

  /**
   * One look: holds the live file, or moves the held one into rotation once conmon has started a
   * new file; true when it rotated. Exposed for tests and for a last look when a container stops.
   */
  async check(): Promise<boolean> {
    if (this.#busy || this.#maxSize === 0) return false;
    this.#busy = true;
    try {
      const live = await inode(this.#path);
      if (live === undefined) return false;
      if (live === this.#heldIno) return false;
      const held = await inode(this.#held);
      if (held === live) {
        this.#heldIno = held;
        return false;
      }
      if (held === undefined) {
        await linkIfMissing(this.#path, this.#held);
        this.#heldIno = await inode(this.#held);
        return false;
      }
      await this.#shift();
      await linkIfMissing(this.#path, this.#held);
      this.#heldIno = await inode(this.#held);
      return true;
    } finally {
      this.#busy = false;
    }
  }

  async #shift(): Promise<void> {
    const keep = this.#maxFile - 1;
    const { files, shadowed } = await rotatedFiles(this.#path);
    for (const name of shadowed) await unlinkIfExists(name);
    // Drop what would move past the last kept slot (also leftovers from a larger max-file).
    for (const f of files) if (f.index >= Math.max(keep, 1)) await unlinkIfExists(f.name);
    // Oldest first, each to the next index, compressed or not as it is.
    for (const f of files) {
      if (f.index >= keep) continue;
      await renameIfExists(f.name, `${this.#path}.${f.index + 1}${f.name.endsWith('.gz') ? '.gz' : ''}`);
    }
    // With a single file Docker truncates: nothing rotated is kept.
    if (keep === 0) {
      await unlinkIfExists(this.#held);
      return;
    }
    await rename(this.#held, `${this.#path}.1`);
    if (this.#compress) await compressFile(`${this.#path}.1`);
  }
}

async function inode(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).ino;
  } catch (err) {
    if (errno(err) === 'ENOENT') return undefined;
    throw err;
  }
}

async function linkIfMissing(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
  } catch (err) {
    // The live file went again meanwhile (a new one is held on the next look), or it is held.
    if (errno(err) !== 'ENOENT' && errno(err) !== 'EEXIST') throw err;
  }
}

/** gzips `path` to `path.gz` (through a temporary name) and removes it; a missing file is fine. */
async function compressFile(path: string): Promise<void> {
  const tmp = `${path}.gz.tmp`;
  try {
    await pipeline(createReadStream(path), zlib().createGzip(), createWriteStream(tmp, { mode: 0o640 }));
  } catch (err) {
    await unlinkIfExists(tmp);
    if (errno(err) === 'ENOENT') return;
    throw err;
  }
  await rename(tmp, `${path}.gz`);
  await unlinkIfExists(path);
}

/** Bytes of the log file and its rotated siblings (compressed ones as stored; each inode once). */
export async function logsSize(path: string): Promise<number> {
  let total = 0;
  const seen = new Set<number>();
  for (const p of [path, heldLogPath(path), ...(await rotatedFiles(path)).files.map((f) => f.name)]) {
    const st = await stat(p).catch(() => undefined);
    if (st === undefined || seen.has(st.ino)) continue;
    seen.add(st.ino);
    total += st.size;
  }
  return total;
}

/** Removes the log file and its rotated siblings. */
export async function removeLogs(path: string): Promise<void> {
  const { files, shadowed } = await rotatedFiles(path);
  for (const name of [...files.map((f) => f.name), ...shadowed]) await unlinkIfExists(name);
  for (const f of files) await unlinkIfExists(`${path}.${f.index}.gz.tmp`);
  await unlinkIfExists(heldLogPath(path));
  await unlinkIfExists(`${path}.tmp`);
  await unlinkIfExists(path);
}
