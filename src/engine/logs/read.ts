// Reads a container's conmon log (and its rotated siblings) as Docker log entries: streaming, with
// `tail` found by scanning backwards, and `follow` surviving rotation. Memory stays bounded by a few
// read chunks whatever the file sizes and line lengths.
import { open, readdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import { watch, type FSWatcher } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { zlib } from '../../lib/lazy-modules.ts';
import {
  LineAssembler,
  parseRecord,
  parseRecordHead,
  secondsToNs,
  type AssembledEntry,
  type LogEntry,
  type LogRecord,
  type LogStream,
} from './k8s-file.ts';

export interface ReadLogsOptions {
  /** The current log file; rotated files are path + '.1' (newest) … + '.N' (oldest). */
  path: string;
  stdout: boolean;
  stderr: boolean;
  /** Unix seconds (may be fractional); entries strictly before are skipped. */
  since?: number;
  /** Unix seconds; entries after are skipped and reading stops (with follow, also once the clock passes it). */
  until?: number;
  /** The last N lines across all files; undefined = all, 0 = none. */
  tail?: number;
  /** Keep reading new data until `signal` aborts, or `isRunning()` turns false and the file is drained. */
  follow: boolean;
  isRunning?: () => boolean;
  signal?: AbortSignal;
  /** Poll interval while following, as a fallback to file-system notifications. */
  pollMs?: number;
}

const CHUNK = 64 * 1024;
// conmon writes records of at most 8 KiB plus a header; anything far longer is corruption, skipped.
const MAX_RECORD = 256 * 1024;
// Enough for `<time> <stream> <tag> ` of any record.
const HEAD_BYTES = 128;

interface LogFile {
  fh: FileHandle;
  ino: number;
}

async function openIfExists(path: string): Promise<LogFile | undefined> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const st = await fh.stat();
  return { fh, ino: st.ino };
}

async function inodeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).ino;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * The name under which berthd holds the live log file's inode: conmon starts a new file at
 * `max-size` (its --log-size-max: it writes `path.tmp` and renames it over `path`), and what it
 * wrote before lives on under this name until it joins the rotated files.
 */
export function heldLogPath(path: string): string {
  return `${path}.held`;
}

/** A rotated file: `path.N`, or `path.N.gz` once compressed. */
export interface RotatedFile {
  index: number;
  name: string;
}

/**
 * Rotated files, oldest (highest N) first, and copies they shadow: while `path.N` is being
 * compressed both it and `path.N.gz` exist, and the plain one is the complete one.
 */
export async function rotatedFiles(path: string): Promise<{ files: RotatedFile[]; shadowed: string[] }> {
  const base = `${basename(path)}.`;
  const dir = dirname(path);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { files: [], shadowed: [] };
    throw err;
  }
  const plain = new Map<number, string>();
  const gz = new Map<number, string>();
  for (const n of names) {
    if (!n.startsWith(base)) continue;
    const m = /^([1-9]\d*)(\.gz)?$/.exec(n.slice(base.length));
    if (m) (m[2] ? gz : plain).set(Number(m[1]), join(dir, n));
  }
  const shadowed = [...gz].filter(([i]) => plain.has(i)).map(([, n]) => n);
  const all = new Map([...gz, ...plain]);
  const files = [...all].sort((a, b) => b[0] - a[0]).map(([index, name]) => ({ index, name }));
  return { files, shadowed };
}

/**
 * A compressed rotated file, readable as the others: its content goes to a file made and unlinked
 * at once in the same directory (nothing is left behind, whatever happens), read by position.
 */
async function openCompressed(path: string): Promise<LogFile | undefined> {
  const compressed = await openIfExists(path);
  if (compressed === undefined) return undefined;
  const { fh: gz, ino } = compressed;
  try {
    const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.read`);
    const out = await open(tmp, 'wx+', 0o600);
    try {
      await unlink(tmp);
      // Written through the handle itself: a write stream on it would hold it open until closed.
      await pipeline(gz.createReadStream({ autoClose: false }), zlib().createGunzip(), async (source: AsyncIterable<Buffer>) => {
        for await (const chunk of source) await out.write(chunk);
      });
      return { fh: out, ino };
    } catch (err) {
      await out.close();
      throw err;
    }
  } finally {
    await gz.close();
  }
}

/**
 * Opens the rotated files and the live one. Open descriptors survive later renames, so the set is
 * consistent once every name still points at what was opened; a rotation in between makes us retry.
 */
async function openSnapshot(path: string): Promise<LogFile[]> {
  for (let attempt = 0; ; attempt++) {
    // A held file conmon has finished with, not yet among the rotated ones, comes just before the live one.
    const held = heldLogPath(path);
    const heldIno = await inodeOf(held);
    const heldDistinct = heldIno !== undefined && heldIno !== (await inodeOf(path));
    const names = [...(await rotatedFiles(path)).files.map((f) => f.name), ...(heldDistinct ? [held] : []), path];
    const opened: Array<{ name: string; file: LogFile }> = [];
    for (const name of names) {
      const file = name.endsWith('.gz') ? await openCompressed(name) : await openIfExists(name);
      if (file !== undefined) opened.push({ name, file });
    }
    let stable = true;
    for (const { name, file } of opened) if ((await inodeOf(name)) !== file.ino) stable = false;
    if (stable || attempt >= 3) return opened.map((o) => o.file);
    await Promise.all(opened.map((o) => o.file.fh.close()));
  }
}

interface RecordPos {
  start: number;
  end: number;
  head: Buffer;
}

/** Complete records of a file from its end backwards; bytes after the last newline are ignored. */
async function* recordsBackward(fh: FileHandle, size: number): AsyncGenerator<RecordPos> {
  // `after` holds the first HEAD_BYTES bytes at and after `blockEnd`, for heads that cross a block edge.
  let after = Buffer.alloc(0);
  let blockEnd = size;
  let recEnd: number | undefined;
  while (blockEnd > 0) {
    const blockStart = Math.max(0, blockEnd - CHUNK);
    const block = Buffer.allocUnsafe(blockEnd - blockStart);
    const { bytesRead } = await fh.read(block, 0, block.length, blockStart);
    if (bytesRead < block.length) block.fill(0, bytesRead);
    const joined = Buffer.concat([block, after]);
    for (let i = block.lastIndexOf(0x0a); i >= 0; i = i > 0 ? block.lastIndexOf(0x0a, i - 1) : -1) {
      const nl = blockStart + i;
      if (recEnd !== undefined && recEnd > nl + 1) {
        const start = nl + 1;
        yield { start, end: recEnd, head: joined.subarray(start - blockStart, Math.min(start - blockStart + HEAD_BYTES, recEnd - blockStart)) };
      }
      recEnd = nl + 1;
    }
    after = Buffer.from(joined.subarray(0, HEAD_BYTES));
    blockEnd = blockStart;
  }
  if (recEnd !== undefined && recEnd > 0) yield { start: 0, end: recEnd, head: after.subarray(0, Math.min(HEAD_BYTES, recEnd)) };
}

interface TailStart {
  file: number;
  offset: number;
  /** Lines per stream that begin before `offset` but end after it: they are skipped when read forward. */
  drop: Record<LogStream, number>;
  /** Lines per stream counted into the tail, after the dropped ones. */
  keep: Record<LogStream, number>;
  /** The stream's unfinished last line began before the tail window: skip it, even once it completes. */
  skipUnfinished: Record<LogStream, boolean>;
}

/**
 * Scans backwards for the position from which reading forward yields the last `n` lines. A line is
 * counted at its `F` record and extends back over its stream's `P` records to the previous `F`; the
 * scan stops only when every counted line's beginning has been passed, so none is cut.
 */
async function findTailStart(files: LogFile[], n: number, want: ReadonlySet<LogStream>, sizes?: number[]): Promise<TailStart> {
  const drop: Record<LogStream, number> = { stdout: 0, stderr: 0 };
  const keep: Record<LogStream, number> = { stdout: 0, stderr: 0 };
  const open: Record<LogStream, boolean> = { stdout: false, stderr: false };
  const seen: Record<LogStream, boolean> = { stdout: false, stderr: false };
  const skipUnfinished: Record<LogStream, boolean> = { stdout: false, stderr: false };
  let count = 0;
  for (let f = files.length - 1; f >= 0; f--) {
    const file = files[f]!;
    const size = sizes?.[f] ?? (await file.fh.stat()).size;
    for await (const rec of recordsBackward(file.fh, size)) {
      if (n === 0) return { file: f, offset: rec.end, drop, keep, skipUnfinished };
      const h = parseRecordHead(rec.head);
      if (h === undefined || !want.has(h.stream)) continue;
      const s = h.stream;
      const first = !seen[s];
      seen[s] = true;
      if (h.partial) {
        if (first && count >= n) skipUnfinished[s] = true;
        // A trailing unfinished line (no `F` yet) is a line of its own, dated by its last record.
        if (!open[s] && count < n) {
          count++;
          keep[s]++;
          open[s] = true;
        }
        continue;
      }
      const closes = open[s];
      open[s] = false;
      if (count < n) {
        count++;
        keep[s]++;
        open[s] = true;
        continue;
      }
      if (closes && !open.stdout && !open.stderr) return { file: f, offset: rec.end, drop, keep, skipUnfinished };
      drop[s]++;
    }
    // Only the newest file matters for n = 0; without a complete record its data starts a new one at 0.
    if (n === 0) return { file: f, offset: 0, drop, keep, skipUnfinished };
  }
  return { file: 0, offset: 0, drop, keep, skipUnfinished };
}

/** Splits a file into records from a position, holding back an unfinished last record. */
class ForwardReader {
  readonly fh: FileHandle;
  pos: number;
  #carry: Buffer[] = [];
  #carryLen = 0;
  #skipping = false;

  readonly #limit: number | undefined;

  /** `limit`: read no further than this offset (the file's size when a one-off read began). */
  constructor(fh: FileHandle, pos: number, limit?: number) {
    this.fh = fh;
    this.pos = pos;
    this.#limit = limit;
  }

  /** Reads one chunk; `bytes` 0 means end of file for now. */
  async read(): Promise<{ bytes: number; records: LogRecord[] }> {
    const want = this.#limit === undefined ? CHUNK : Math.min(CHUNK, this.#limit - this.pos);
    if (want <= 0) return { bytes: 0, records: [] };
    const buf = Buffer.allocUnsafe(CHUNK);
    const { bytesRead } = await this.fh.read(buf, 0, want, this.pos);
    if (bytesRead === 0) return { bytes: 0, records: [] };
    this.pos += bytesRead;
    const chunk = buf.subarray(0, bytesRead);
    const records: LogRecord[] = [];
    let from = 0;
    for (let nl = chunk.indexOf(0x0a); nl >= 0; nl = chunk.indexOf(0x0a, from)) {
      let line = chunk.subarray(from, nl);
      from = nl + 1;
      if (this.#skipping) {
        this.#skipping = false;
        continue;
      }
      if (this.#carryLen > 0) {
        line = Buffer.concat([...this.#carry, line]);
        this.#carry = [];
        this.#carryLen = 0;
      }
      const rec = parseRecord(line);
      if (rec !== undefined) records.push(rec);
    }
    if (from < chunk.length && !this.#skipping) {
      const rest = Buffer.from(chunk.subarray(from));
      if (this.#carryLen + rest.length > MAX_RECORD) {
        this.#carry = [];
        this.#carryLen = 0;
        this.#skipping = true;
      } else {
        this.#carry.push(rest);
        this.#carryLen += rest.length;
      }
    }
    return { bytes: bytesRead, records };
  }

  /** The file was truncated under us (conmon's own size cap): start over from its beginning. */
  restart(): void {
    this.pos = 0;
    this.#carry = [];
    this.#carryLen = 0;
    this.#skipping = false;
  }
}

/** Wakes a follower on file-system events, a timeout or abort, whichever comes first. */
class Waker {
  #dirty = false;
  #wake: (() => void) | undefined;
  #watcher: FSWatcher | undefined;

  constructor(dir: string) {
    try {
      this.#watcher = watch(dir, { persistent: false }, () => this.notify());
      this.#watcher.on('error', () => this.close());
    } catch {
      // No inotify (limits, odd file systems): polling alone still works.
      this.#watcher = undefined;
    }
  }

  notify(): void {
    this.#dirty = true;
    this.#wake?.();
  }

  wait(ms: number, signal: AbortSignal | undefined): Promise<void> {
    if (this.#dirty || signal?.aborted) {
      this.#dirty = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.#wake = undefined;
        this.#dirty = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      this.#wake = done;
    });
  }

  close(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
  }
}

function publicEntry(e: AssembledEntry): LogEntry {
  return { stream: e.stream, time: e.time, timeNano: e.timeNano, data: e.data };
}

export async function* readLogs(opts: ReadLogsOptions): AsyncGenerator<LogEntry> {
  const want = new Set<LogStream>();
  if (opts.stdout) want.add('stdout');
  if (opts.stderr) want.add('stderr');
  if (want.size === 0 || opts.signal?.aborted) return;
  const sinceNs = opts.since !== undefined ? secondsToNs(opts.since) : undefined;
  const untilNs = opts.until !== undefined ? secondsToNs(opts.until) : undefined;
  const pollMs = opts.pollMs ?? 250;

  const files = await openSnapshot(opts.path);
  const held = new Set<FileHandle>(files.map((f) => f.fh));
  // Without follow, the logs are those written when the request came: a container writing fast
  // would otherwise have a `--tail 1` read on for as long as it keeps writing.
  const sizes = opts.follow ? undefined : await Promise.all(files.map(async (f) => (await f.fh.stat()).size));
  let waker: Waker | undefined;
  try {
    let start: TailStart = {
      file: 0,
      offset: 0,
      drop: { stdout: 0, stderr: 0 },
      keep: { stdout: 0, stderr: 0 },
      skipUnfinished: { stdout: false, stderr: false },
    };
    if (opts.tail !== undefined && Number.isFinite(opts.tail) && opts.tail >= 0) {
      start = await findTailStart(files, Math.floor(opts.tail), want, sizes);
    }
    const assembler = new LineAssembler();
    const seen: Record<LogStream, number> = { stdout: 0, stderr: 0 };
    let passedUntil = false;

    const accept = (entries: AssembledEntry[]): LogEntry[] => {
      const out: LogEntry[] = [];
      for (const e of entries) {
        const ordinal = seen[e.stream];
        if (e.ends) seen[e.stream]++;
        const s = e.stream;
        if (ordinal < start.drop[s] || (start.skipUnfinished[s] && ordinal === start.drop[s] + start.keep[s])) continue;
        if (sinceNs !== undefined && e.ns < sinceNs) continue;
        if (untilNs !== undefined && e.ns > untilNs) {
          passedUntil = true;
          break;
        }
        out.push(publicEntry(e));
      }
      return out;
    };
    const take = (records: LogRecord[]): LogEntry[] => {
      const out: LogEntry[] = [];
      for (const rec of records) {
        if (!want.has(rec.stream)) continue;
        out.push(...accept(assembler.push(rec)));
        if (passedUntil) break;
      }
      return out;
    };

    let reader: ForwardReader | undefined;
    let current: LogFile | undefined;
    for (let i = start.file; i < files.length; i++) {
      const file = files[i]!;
      reader = new ForwardReader(file.fh, i === start.file ? start.offset : 0, sizes?.[i]);
      current = file;
      for (;;) {
        const { bytes, records } = await reader.read();
        if (bytes === 0) break;
        yield* take(records);
        if (passedUntil || opts.signal?.aborted) return;
      }
    }
    // While following, the last file read stays the one to drain even when it is a rotated one: a snapshot
    // taken between the rename and conmon's reopen finds the live log under `path.1`.

    if (opts.follow) {
      waker = new Waker(dirname(opts.path));
      let finalPass = false;
      for (;;) {
        if (opts.signal?.aborted) return;
        if (reader !== undefined) {
          const { bytes, records } = await reader.read();
          if (bytes > 0) {
            yield* take(records);
            if (passedUntil) return;
            continue;
          }
        }
        // At the end of what is written: has the log been rotated (or created) under us?
        const ino = await inodeOf(opts.path);
        if (ino !== undefined && ino !== current?.ino) {
          const next = await openIfExists(opts.path);
          if (next !== undefined) {
            // Finish the old file first: conmon may have written to it until it reopened the log.
            if (reader !== undefined) {
              for (;;) {
                const { bytes, records } = await reader.read();
                if (bytes === 0) break;
                yield* take(records);
                if (passedUntil) return;
              }
            }
            held.add(next.fh);
            if (current !== undefined) {
              held.delete(current.fh);
              await current.fh.close();
            }
            current = next;
            reader = new ForwardReader(next.fh, 0);
            continue;
          }
        } else if (reader !== undefined && current !== undefined && (await current.fh.stat()).size < reader.pos) {
          reader.restart();
          continue;
        }
        const stopped = opts.isRunning !== undefined && !opts.isRunning();
        const expired = untilNs !== undefined && secondsToNs(Date.now() / 1000) > untilNs;
        if (stopped || expired) {
          // One more pass: output written just before the container stopped is still to be read.
          if (finalPass) break;
          finalPass = true;
          continue;
        }
        await waker.wait(pollMs, opts.signal);
      }
    }
    yield* accept(assembler.flush());
  } finally {
    waker?.close();
    await Promise.all([...held].map((fh) => fh.close().catch(() => {})));
  }
}
