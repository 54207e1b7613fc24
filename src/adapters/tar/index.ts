// Layer archives: safe extraction into a root directory (never writing outside it), conversion of
// OCI/AUFS whiteouts to overlayfs form, and deterministic tar creation.
//
// Safety model: every entry name is cleaned lexically and refused if it climbs above the root; its
// parent directory is then resolved component by component inside the root, following symlinks the
// way the kernel's RESOLVE_IN_ROOT does (absolute targets restart at the root, `..` stops at it), so
// a symlink such as `evil -> /etc` leads to `<root>/etc`, never to the host's /etc. The final
// component is never followed: whatever is there is removed and created anew with O_EXCL.
import type { BigIntStats } from 'node:fs';
import {
  createReadStream,
  lstatSync,
  mkdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  lchownSync,
  lutimesSync,
  chmodSync,
  linkSync,
  open,
  constants as fsConstants,
  writev,
  fchownSync,
  fchmodSync,
  futimesSync,
  closeSync,
  readdirSync,
  readFileSync,
  type Stats,
} from 'node:fs';
import { realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { Duplex, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { zlib } from '../../lib/lazy-modules.ts';
import tar from 'tar-stream';
import type { Header, Pack } from 'tar-stream';

type Headers = Partial<Header> & Pick<Header, 'name'>;
/** An archive entry's body as tar-stream hands it out. */
type EntryBody = AsyncIterable<unknown> & { resume(): unknown };
import { invalidParameter, notImplemented, internal, BerthError } from '../../core/errors.ts';
import { DigestingStream } from '../../core/digest.ts';
import { run, start, ExecError } from '../exec/index.ts';
import { TarSplitter } from './split.ts';
export { rebuildTar } from './split.ts';
export { cField, numericField, paxRecords } from './raw.ts';

const WHITEOUT_PREFIX = '.wh.';
const WHITEOUT_META_PREFIX = '.wh..wh.';
const WHITEOUT_OPAQUE = '.wh..wh..opq';
const OPAQUE_XATTR = 'trusted.overlay.opaque';
const MAX_SYMLINK_HOPS = 255;
/** Files up to this size are read whole when packed. */
const SMALL_FILE = 1 << 20;
/** Bytes of one big file written behind the stream at most. */
const WRITE_BEHIND_BYTES = 8 << 20;
const WRITE_PIECE = 1 << 20;
/** Files up to this size are read whole and written in the background (see Extractor.#defer). */
const DEFER_MAX = 1 << 20;
const MAX_PENDING_FILES = 32;
const MAX_PENDING_BYTES = 16 << 20;
/** zlib's 16 KiB default output pieces make extraction several times slower (a write per piece). */
const DECOMPRESS_CHUNK = 512 * 1024;

// ---------------------------------------------------------------------------------------------
// Extended attributes and special files. Node has no API for either: xattrs go through `setfattr`
// (Debian `attr`) when installed, else through perl's syscall() (perl-base is Essential on
// Debian); device nodes and fifos go through mknod(1).

const XATTR_SYSCALLS: Record<string, { lset: number; lget: number }> = {
  x64: { lset: 189, lget: 192 },
  arm64: { lset: 6, lget: 9 },
};

let haveSetfattr: boolean | undefined;

async function setfattrAvailable(): Promise<boolean> {
  if (haveSetfattr === undefined) {
    try {
      await run(['setfattr', '--version']);
      haveSetfattr = true;
    } catch {
      haveSetfattr = false;
    }
  }
  return haveSetfattr;
}

function xattrSyscalls(): { lset: number; lget: number } {
  const nums = XATTR_SYSCALLS[process.arch];
  if (!nums) throw notImplemented(`extended attributes on ${process.arch}: install setfattr (Debian package attr)`);
  return nums;
}

/** Sets an extended attribute on path itself (never following a final symlink). */
export async function setXattr(path: string, name: string, value: string): Promise<void> {
  try {
    if (await setfattrAvailable()) {
      await run(['setfattr', '-h', '-n', name, '-v', value, '--', path]);
      return;
    }
    const script = 'my ($n,$p,$k,$v)=@ARGV; syscall($n,$p,$k,$v,length($v),0)==0 or die "$!\\n"';
    await run(['perl', '-e', script, String(xattrSyscalls().lset), path, name, value]);
  } catch (err) {
    if (err instanceof BerthError) throw err;
    throw internal(`setting ${name} on ${path}: ${err instanceof Error ? err.message : String(err)}`, err);
  }
}

/** Reads an extended attribute of path itself; undefined when it is not set. */
export async function getXattr(path: string, name: string): Promise<string | undefined> {
  try {
    if (await setfattrAvailable()) {
      const r = await run(['getfattr', '-h', '--only-values', '-n', name, '--', path]);
      return r.stdout;
    }
    const script =
      'my ($n,$p,$k)=@ARGV; my $b="\\0" x 65536; my $r=syscall($n,$p,$k,$b,65536); ' +
      'if ($r < 0) { exit($!{ENODATA} ? 3 : 1) } print substr($b,0,$r)';
    const r = await run(['perl', '-e', script, String(xattrSyscalls().lget), path, name], { okCodes: [3] });
    return r.exitCode === 3 ? undefined : r.stdout;
  } catch (err) {
    if (err instanceof ExecError && /No such attribute|No data available/i.test(err.stderr)) return undefined;
    if (err instanceof BerthError) throw err;
    throw internal(`reading ${name} of ${path}: ${err instanceof Error ? err.message : String(err)}`, err);
  }
}

async function mknod(path: string, kind: 'c' | 'b' | 'p', major = 0, minor = 0): Promise<void> {
  const argv = kind === 'p' ? ['mknod', '--', path, 'p'] : ['mknod', '--', path, kind, String(major), String(minor)];
  await run(argv);
}

// ---------------------------------------------------------------------------------------------
// Compression

export type Compression = 'none' | 'gzip' | 'zstd' | 'xz' | 'bzip2';

export function detectCompression(head: Uint8Array): Compression {
  const b = (i: number): number | undefined => head[i];
  if (b(0) === 0x1f && b(1) === 0x8b) return 'gzip';
  if (b(0) === 0x28 && b(1) === 0xb5 && b(2) === 0x2f && b(3) === 0xfd) return 'zstd';
  if (b(0) === 0xfd && b(1) === 0x37 && b(2) === 0x7a && b(3) === 0x58 && b(4) === 0x5a && b(5) === 0x00) return 'xz';
  if (b(0) === 0x42 && b(1) === 0x5a && b(2) === 0x68) return 'bzip2';
  return 'none';
}

/** O_EXCL: never write through whatever might sit at the final component. */
const CREATE_FLAGS = fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL;

/**
 * Creates a file from the thread pool: an ext4 create can take a millisecond of kernel time (its
 * inode allocator scans past recently deleted inodes), which would otherwise stall hashing and
 * parsing of the stream behind it.
 */
function createAsync(path: string): Promise<number> {
  return new Promise((resolve, reject) => open(path, CREATE_FLAGS, 0o600, (err, fd) => (err ? reject(err) : resolve(fd))));
}

/** Writes all of bufs at position pos (pwritev: several may be in flight on one descriptor). */
async function pwritevAll(fd: number, bufs: Buffer[], pos: number): Promise<void> {
  let left = bufs;
  while (left.length > 0) {
    let n = await new Promise<number>((resolve, reject) => writev(fd, left, pos, (err, written) => (err ? reject(err) : resolve(written))));
    pos += n;
    while (n > 0 && left.length > 0) {
      const first = left[0]!;
      if (n >= first.length) {
        n -= first.length;
        left = left.slice(1);
      } else {
        left = [first.subarray(n), ...left.slice(1)];
        n = 0;
      }
    }
  }
}

function writeAllAsync(fd: number, chunks: Buffer[]): Promise<void> {
  return pwritevAll(fd, chunks.filter((c) => c.length > 0), 0);
}

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk);
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw invalidParameter('archive stream produced a non-binary chunk');
}

/**
 * Looks at the first bytes of input and returns the streams that yield the uncompressed archive,
 * to be put in one pipeline so an error anywhere tears all of them down: gzip and zstd, and with
 * `programs` xz and bzip2 through the host's programs (never for `cp` bodies).
 */
export async function openArchive(input: NodeJS.ReadableStream, opts: { programs?: boolean } = {}): Promise<{ source: Readable; decompressor?: Duplex }> {
  const it = input[Symbol.asyncIterator]();
  let head: Buffer = Buffer.alloc(0);
  let ended = false;
  while (head.length < 6) {
    const r = await it.next();
    if (r.done) {
      ended = true;
      break;
    }
    head = Buffer.concat([head, toBuffer(r.value)]);
  }
  const first = head;
  const source = Readable.from(
    (async function* () {
      if (first.length > 0) yield first;
      if (ended) return;
      for (;;) {
        const r = await it.next();
        if (r.done) return;
        yield toBuffer(r.value);
      }
    })(),
    { objectMode: false },
  );
  const kind = detectCompression(first);
  switch (kind) {
    case 'none':
      return { source };
    case 'gzip':
      return { source, decompressor: zlib().createGunzip({ chunkSize: DECOMPRESS_CHUNK }) };
    case 'zstd':
      return { source, decompressor: zlib().createZstdDecompress({ chunkSize: DECOMPRESS_CHUNK }) };
    case 'xz':
    case 'bzip2':
      if (!opts.programs) {
        source.destroy();
        throw notImplemented(`${kind}-compressed archives are not supported`);
      }
      // As Docker: the host's xz and bzip2 decompress (Node has neither).
      return { source, decompressor: programFilter(kind === 'xz' ? ['xz', '-d', '-c', '-q'] : ['bzip2', '-d', '-c', '-q']) };
  }
}

/** A Duplex that pipes through a decompression program's stdin and stdout; its failure is the stream's. */
function programFilter(argv: string[]): Duplex {
  let child: ReturnType<typeof start>;
  try {
    child = start(argv, { stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (err) {
    throw notImplemented(`${argv[0]}-compressed archives need ${argv[0]} on the host: ${(err as Error).message}`);
  }
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-2000)));
  const duplex = Duplex.from({ writable: child.stdin!, readable: child.stdout! });
  child.on('error', (err: NodeJS.ErrnoException) => {
    duplex.destroy(err.code === 'ENOENT' ? notImplemented(`${argv[0]}-compressed archives need ${argv[0]} on the host (Debian: ${argv[0] === 'xz' ? 'xz-utils' : 'bzip2'})`) : err);
  });
  child.on('exit', (code, signal) => {
    if (code !== 0 && code !== null) duplex.destroy(invalidParameter(`invalid archive: ${argv[0]}: ${stderr.trim() || `exit status ${code}`}`));
    else if (signal) duplex.destroy(new Error(`${argv[0]} killed by ${signal}`));
  });
  // The consumer going away stops the program.
  duplex.on('close', () => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  return duplex;
}

// ---------------------------------------------------------------------------------------------
// Paths inside the root

function breakout(name: string): BerthError {
  return invalidParameter(`invalid archive: path ${JSON.stringify(name.slice(0, 200))} escapes the extraction root (breakout)`);
}

/** Splits an entry name into clean components; refuses names that climb above the root. */
export function cleanEntryPath(name: string): string[] {
  if (name.includes('\0')) throw invalidParameter('invalid archive: NUL byte in a path');
  const out: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length === 0) throw breakout(name);
      out.pop();
      continue;
    }
    out.push(part);
  }
  return out;
}

function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/**
 * Resolves directory components inside root, following symlinks without ever leaving it.
 * Returns the real path of the directory. Missing directories are created when `create` is set.
 */
export function resolveInRoot(root: string, parts: readonly string[], opts: { create: boolean; onCreate?: (path: string) => void }): string {
  const done: string[] = [];
  const todo = [...parts].reverse();
  let hops = 0;
  while (todo.length > 0) {
    const c = todo.pop()!;
    if (c === '' || c === '.') continue;
    if (c === '..') {
      done.pop();
      continue;
    }
    const p = join(root, ...done, c);
    const st = lstatOrUndefined(p);
    if (st === undefined) {
      if (!opts.create) throw invalidParameter(`invalid archive: ${join(...done, c)} does not exist`);
      mkdirSync(p, { mode: 0o755 });
      opts.onCreate?.(p);
      done.push(c);
      continue;
    }
    if (st.isSymbolicLink()) {
      if (++hops > MAX_SYMLINK_HOPS) throw invalidParameter('invalid archive: too many levels of symbolic links');
      const target = readlinkSync(p);
      if (target.startsWith('/')) done.length = 0;
      for (const t of target.split('/').reverse()) todo.push(t);
      continue;
    }
    if (!st.isDirectory()) throw invalidParameter(`invalid archive: ${join(...done, c)} is not a directory`);
    done.push(c);
  }
  return join(root, ...done);
}

// ---------------------------------------------------------------------------------------------
// Extraction

export interface ExtractOptions {
  /** Abort once the uncompressed stream exceeds this many bytes. */
  maxBytes?: number;
  signal?: AbortSignal;
  /** Called for entries that are skipped (e.g. devices that cannot be created). */
  onWarning?: (message: string) => void;
  /** Write the tar-split records of the stream here (see split.ts). */
  splitPath?: string;
}

export interface ExtractResult {
  /** sha256 of the uncompressed tar stream (the layer's diff ID). */
  diffId: string;
  /** Bytes of the uncompressed tar stream. */
  tarSize: number;
  /** Bytes of the regular files and symlinks written (each hard-linked file once), as Docker sizes a layer. */
  size: number;
  /** With splitPath: whether the tar can be rebuilt exactly from the unpacked files. */
  splitExact?: boolean;
}

interface DirMeta {
  path: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
}

const ENTRY_TYPES = new Set(['file', 'contiguous-file', 'directory', 'symlink', 'link', 'character-device', 'block-device', 'fifo']);
const MAX_MAJOR = 0xfff;
const MAX_MINOR = 0xfffff;

class Extractor {
  #root: string;
  #opts: ExtractOptions;
  #dirs = new Map<string, DirMeta>();
  /** Resolved parent directories by their entry path; dropped whenever the tree changes shape. */
  #parents = new Map<string, string>();
  /**
   * Small files read from the stream but still being created and written from the thread pool, so
   * the next entries are parsed and hashed meanwhile. Anything that could observe them (another
   * entry at the same path, a parent not yet resolved, links, whiteouts, directory metadata) waits
   * for all of them first.
   */
  #pending = new Set<Promise<void>>();
  #pendingPaths = new Set<string>();
  #pendingBytes = 0;
  #failure: unknown;
  /**
   * Every path this extraction made, when it began in an empty directory: a name not in it does
   * not exist, so no lstat is needed (a lookup of a missing name waits on the directory's lock
   * while a create in it runs on the thread pool).
   */
  #made: Set<string> | undefined;
  size = 0;

  constructor(root: string, opts: ExtractOptions) {
    this.#root = root;
    this.#opts = opts;
    this.#made = readdirSync(root).length === 0 ? new Set([root]) : undefined;
  }

  #parentOf(parts: readonly string[]): string {
    const key = parts.join('/');
    const hit = this.#parents.get(key);
    if (hit !== undefined) return hit;
    const real = resolveInRoot(this.#root, parts, { create: true, onCreate: (p) => this.#made?.add(p) });
    this.#parents.set(key, real);
    return real;
  }

  #changedShape(): void {
    this.#parents.clear();
  }

  /** Waits for every deferred file; the first failure among them is thrown. */
  async drain(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
    if (this.#failure !== undefined) throw this.#failure;
  }

  /** Waits for every deferred file, ignoring failures (before the staging directory is removed). */
  async settle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  #defer(target: string, chunks: Buffer[], size: number, meta: { uid: number; gid: number; mode: number; mtime: Date }): void {
    const task = (async () => {
      const fd = await createAsync(target);
      try {
        await writeAllAsync(fd, chunks);
        // chown clears set-id bits, so the mode comes after it.
        fchownSync(fd, meta.uid, meta.gid);
        fchmodSync(fd, meta.mode);
        futimesSync(fd, meta.mtime, meta.mtime);
      } finally {
        closeSync(fd);
      }
    })();
    this.#pending.add(task);
    this.#pendingPaths.add(target);
    this.#pendingBytes += size;
    task
      .catch((err: unknown) => {
        this.#failure ??= err;
      })
      .finally(() => {
        this.#pending.delete(task);
        this.#pendingPaths.delete(target);
        this.#pendingBytes -= size;
      });
  }

  async entry(header: Headers, body: EntryBody): Promise<void> {
    if (this.#failure !== undefined) throw this.#failure;
    const parts = cleanEntryPath(header.name);
    // tar-stream reports typeflags it does not know as null: those entries are skipped below.
    const type = header.type ?? 'unknown';
    const deferrable = (type === 'file' || type === 'contiguous-file') && (header.size ?? 0) <= DEFER_MAX;
    if (!deferrable) await this.drain();
    if (parts.length === 0) {
      // The root itself (`./`): keep its metadata, nothing to create.
      if (type === 'directory') this.#dirs.set(this.#root, dirMeta(this.#root, header));
      body.resume();
      return;
    }
    const base = parts[parts.length - 1]!;
    const parentParts = parts.slice(0, -1);

    if (base.startsWith(WHITEOUT_PREFIX)) {
      body.resume();
      await this.drain();
      await this.#whiteout(parentParts, base, header.name);
      return;
    }

    if (!ENTRY_TYPES.has(type)) {
      body.resume();
      this.#opts.onWarning?.(`skipped ${header.name}: unsupported entry type ${type}`);
      return;
    }

    if (this.#pending.size > 0 && !this.#parents.has(parentParts.join('/'))) await this.drain();
    const parent = this.#parentOf(parentParts);
    const target = join(parent, base);
    if (this.#pendingPaths.has(target)) await this.drain();
    const existing = this.#made === undefined || this.#made.has(target) ? lstatOrUndefined(target) : undefined;
    this.#made?.add(target);
    if (existing !== undefined) {
      if (existing.isDirectory() && type === 'directory') {
        this.#dirs.set(target, dirMeta(target, header));
        body.resume();
        return;
      }
      rmSync(target, { recursive: true, force: true });
      this.#changedShape();
    }

    const uid = header.uid ?? 0;
    const gid = header.gid ?? 0;
    const mode = (header.mode ?? 0o644) & 0o7777;
    const mtime = header.mtime ?? new Date(0);

    switch (type) {
      case 'file':
      case 'contiguous-file': {
        if (deferrable) {
          const chunks: Buffer[] = [];
          for await (const chunk of body) chunks.push(toBuffer(chunk));
          this.#defer(target, chunks, header.size ?? 0, { uid, gid, mode, mtime });
          this.size += header.size ?? 0;
          while (this.#pending.size >= MAX_PENDING_FILES || this.#pendingBytes > MAX_PENDING_BYTES) await Promise.race(this.#pending);
          return;
        }
        const fd = await createAsync(target);
        // Big files are written behind the stream: pieces go to the thread pool at their offsets
        // while the next ones are hashed and parsed, a few megabytes at most in flight.
        // Pieces are gathered to about a megabyte per write: an upload's 64 KiB pieces would
        // otherwise cost a thread-pool trip each.
        const inflight = new Set<Promise<void>>();
        let inflightBytes = 0;
        let batch: Buffer[] = [];
        let batchLen = 0;
        let pos = 0;
        const flush = (): void => {
          const bufs = batch;
          const len = batchLen;
          batch = [];
          batchLen = 0;
          const write = pwritevAll(fd, bufs, pos).finally(() => {
            inflight.delete(write);
            inflightBytes -= len;
          });
          write.catch(() => {});
          inflight.add(write);
          inflightBytes += len;
          pos += len;
        };
        try {
          for await (const chunk of body) {
            const buf = toBuffer(chunk);
            if (buf.length === 0) continue;
            batch.push(buf);
            batchLen += buf.length;
            if (batchLen >= WRITE_PIECE) flush();
            while (inflightBytes > WRITE_BEHIND_BYTES) await Promise.race(inflight);
          }
          if (batchLen > 0) flush();
          await Promise.all(inflight);
          // chown clears set-id bits, so the mode comes after it.
          fchownSync(fd, uid, gid);
          fchmodSync(fd, mode);
          futimesSync(fd, mtime, mtime);
        } finally {
          await Promise.allSettled(inflight);
          closeSync(fd);
        }
        this.size += header.size ?? 0;
        return;
      }
      case 'directory':
        body.resume();
        mkdirSync(target, { mode: 0o700 });
        this.#dirs.set(target, dirMeta(target, header));
        return;
      case 'symlink':
        body.resume();
        if (!header.linkname) throw invalidParameter(`invalid archive: symlink ${header.name} has no target`);
        symlinkSync(header.linkname, target);
        // Counted as Docker counts a layer's size: a symlink's own size is its target's length.
        this.size += Buffer.byteLength(header.linkname);
        this.#changedShape();
        lchownSync(target, uid, gid);
        lutimesSync(target, mtime, mtime);
        return;
      case 'link': {
        body.resume();
        const linkParts = cleanEntryPath(header.linkname ?? '');
        if (linkParts.length === 0) throw invalidParameter(`invalid archive: hardlink ${header.name} has no target`);
        const linkParent = resolveInRoot(this.#root, linkParts.slice(0, -1), { create: false });
        const source = join(linkParent, linkParts[linkParts.length - 1]!);
        const st = lstatOrUndefined(source);
        if (st === undefined) throw invalidParameter(`invalid archive: hardlink target ${header.linkname} does not exist`);
        if (st.isDirectory()) throw invalidParameter(`invalid archive: hardlink ${header.name} points to a directory`);
        // link(2) does not follow a final symlink, so a link to a symlink is a second name for it.
        linkSync(source, target);
        return;
      }
      case 'character-device':
      case 'block-device': {
        body.resume();
        const major = header.devmajor ?? 0;
        const minor = header.devminor ?? 0;
        if (!Number.isInteger(major) || !Number.isInteger(minor) || major < 0 || minor < 0 || major > MAX_MAJOR || minor > MAX_MINOR) {
          throw invalidParameter(`invalid archive: device numbers of ${header.name} out of range`);
        }
        try {
          await mknod(target, type === 'character-device' ? 'c' : 'b', major, minor);
        } catch (err) {
          this.#opts.onWarning?.(`skipped device ${header.name}: ${err instanceof Error ? err.message : String(err)}`);
          return;
        }
        this.#finish(target, { uid, gid, mode, mtime });
        return;
      }
      case 'fifo':
        body.resume();
        await mknod(target, 'p');
        this.#finish(target, { uid, gid, mode, mtime });
        return;
      default:
        body.resume();
        this.#opts.onWarning?.(`skipped ${header.name}: unsupported entry type ${String(type)}`);
    }
  }

  async #whiteout(parentParts: string[], base: string, name: string): Promise<void> {
    const parent = this.#parentOf(parentParts);
    if (base === WHITEOUT_OPAQUE) {
      await setXattr(parent, OPAQUE_XATTR, 'y');
      return;
    }
    // Other `.wh..wh.` names are AUFS bookkeeping (hard-link directories and the like).
    if (base.startsWith(WHITEOUT_META_PREFIX)) return;
    const hidden = base.slice(WHITEOUT_PREFIX.length);
    if (hidden === '' || hidden === '.' || hidden === '..') {
      throw invalidParameter(`invalid archive: invalid whiteout ${JSON.stringify(name.slice(0, 200))}`);
    }
    const target = join(parent, hidden);
    this.#made?.add(target);
    if (lstatOrUndefined(target) !== undefined) {
      rmSync(target, { recursive: true, force: true });
    }
    this.#changedShape();
    // overlayfs hides a lower entry behind a 0:0 character device of the same name.
    await mknod(target, 'c', 0, 0);
  }

  #finish(target: string, meta: { uid: number; gid: number; mode: number; mtime: Date }): void {
    lchownSync(target, meta.uid, meta.gid);
    chmodSync(target, meta.mode);
    lutimesSync(target, meta.mtime, meta.mtime);
  }

  /** Directory metadata last: creating children changes a directory's mtime. */
  finishDirs(): void {
    for (const d of this.#dirs.values()) {
      lchownSync(d.path, d.uid, d.gid);
      chmodSync(d.path, d.mode);
      lutimesSync(d.path, d.mtime, d.mtime);
    }
  }
}

function dirMeta(path: string, header: Headers): DirMeta {
  return {
    path,
    mode: (header.mode ?? 0o755) & 0o7777,
    uid: header.uid ?? 0,
    gid: header.gid ?? 0,
    mtime: header.mtime ?? new Date(0),
  };
}

/**
 * Extracts a layer tar (plain, gzip or zstd) into dest, which must exist. Whiteouts become overlay
 * whiteouts. Returns the diff ID (sha256 of the uncompressed tar).
 */
export async function extractLayer(input: NodeJS.ReadableStream, dest: string, opts: ExtractOptions = {}): Promise<ExtractResult> {
  const root = await realpath(dest);
  const { source, decompressor } = await openArchive(input);
  const digester = new DigestingStream(opts.maxBytes === undefined ? {} : { maxBytes: opts.maxBytes });
  const extract = tar.extract();
  const streams: Array<NodeJS.ReadableStream | NodeJS.WritableStream> = [source];
  if (decompressor) streams.push(decompressor);
  const splitter = opts.splitPath !== undefined ? new TarSplitter(opts.splitPath) : undefined;
  streams.push(digester);
  if (splitter) streams.push(splitter);
  streams.push(extract);
  const flowing = pipeline(streams, opts.signal ? { signal: opts.signal } : {});
  flowing.catch(() => {});
  const extractor = new Extractor(root, opts);
  try {
    let n = 0;
    for await (const entry of extract) {
      await extractor.entry(entry.header, entry);
      // File operations are synchronous (far faster than a thread-pool round trip each); let
      // other work run now and then.
      if (++n % 64 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await extractor.drain();
    await flowing;
    extractor.finishDirs();
    await splitter?.close();
  } catch (err) {
    await extractor.settle();
    splitter?.abort();
    source.destroy();
    extract.destroy();
    if (err instanceof BerthError) throw err;
    const e = err as NodeJS.ErrnoException;
    if (e.name === 'AbortError') throw err;
    // Failures of the host (no space, I/O, a helper program) are the engine's, not the archive's.
    if (typeof e.errno === 'number' && typeof e.syscall === 'string') throw internal(`extracting layer: ${e.message}`, err);
    if (err instanceof ExecError) throw internal(`extracting layer: ${err.message}`, err);
    throw invalidParameter(`invalid archive: ${e.message ?? String(err)}`, err);
  }
  const result: ExtractResult = { diffId: digester.digest(), tarSize: digester.bytes, size: extractor.size };
  if (splitter) result.splitExact = splitter.exact;
  return result;
}

// ---------------------------------------------------------------------------------------------
// Creation

export interface PackEntry {
  /** Relative path inside the archive, without a leading slash. */
  name: string;
  type: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'block-device' | 'fifo';
  mode: number;
  uid?: number;
  gid?: number;
  mtime?: Date;
  /** symlink target, or hardlink target path inside the archive. */
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** File contents: bytes, or a path on the host streamed at pack time with its known size. */
  content?: Uint8Array | { path: string; size: number };
}

function addEntry(pack: Pack, header: Headers, data?: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const sink = pack.entry(header, data ?? Buffer.alloc(0), (err) => (err ? reject(err) : resolve()));
    // The pack destroys its current entry with the reader's error when the reader goes away (a
    // client hanging up): unheard, that error would end the process.
    sink.on('error', reject);
  });
}

async function addFileEntry(pack: Pack, header: Headers, path: string): Promise<void> {
  let settle!: (err?: Error | null) => void;
  const done = new Promise<void>((resolve, reject) => {
    settle = (err) => (err ? reject(err) : resolve());
  });
  // It may fail while the file is still being read; it is awaited below.
  done.catch(() => {});
  const sink = pack.entry(header, (err) => settle(err));
  // The pack is destroyed when the reader goes away (a client hanging up): the entry then fails.
  sink.on('error', (err: Error) => settle(err));
  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  try {
    for await (const chunk of file) {
      if (sink.destroyed) break;
      if (!sink.write(chunk)) {
        await new Promise<void>((resolve) => {
          sink.once('drain', resolve);
          sink.once('close', resolve);
        });
      }
    }
  } finally {
    file.destroy();
  }
  if (!sink.destroyed) sink.end(undefined);
  await done;
}

/** Packs entries in the given order into a tar stream (uid/gid default 0, mtime default epoch). */
export function packEntries(entries: Iterable<PackEntry> | AsyncIterable<PackEntry>): Readable {
  const pack = tar.pack();
  (async () => {
    for await (const e of entries) {
      const header: Headers = {
        // Directories end in `/`, as GNU tar and Docker write them.
        name: e.type === 'directory' && !e.name.endsWith('/') ? `${e.name}/` : e.name,
        type: e.type,
        mode: e.mode,
        uid: e.uid ?? 0,
        gid: e.gid ?? 0,
        mtime: e.mtime ?? new Date(0),
        size: 0,
      };
      if (e.linkname !== undefined) header.linkname = e.linkname;
      if (e.devmajor !== undefined) header.devmajor = e.devmajor;
      if (e.devminor !== undefined) header.devminor = e.devminor;
      const c = e.type === 'file' ? e.content : undefined;
      if (c === undefined) await addEntry(pack, header);
      else if (c instanceof Uint8Array) await addEntry(pack, { ...header, size: c.byteLength }, Buffer.from(c));
      else await addFileEntry(pack, { ...header, size: c.size }, c.path);
    }
    pack.finalize();
  })().catch((err: unknown) => pack.destroy(err instanceof Error ? err : new Error(String(err))));
  // A Node stream, so callers may use stream.pipeline and destroy() as with any other.
  return Readable.from(pack, { objectMode: false });
}

export interface CreateTarOptions {
  /** Replace every mtime (for reproducible archives). */
  mtime?: Date;
  /** Replace every owner. */
  uid?: number;
  gid?: number;
  /** Turn overlay whiteouts (0:0 char devices, opaque xattrs) back into `.wh.` entries. */
  aufsWhiteouts?: boolean;
  /** Leave out these paths (relative, `a/b`) when they are empty regular files. */
  skipEmptyFiles?: ReadonlySet<string>;
  /**
   * Directories this says are unchanged (relative path, its lstat) are written only when an
   * entry below them is: a container's upper directory holds `etc/` for the runtime's mount
   * stubs alone, which is no change of the user's.
   */
  unchangedDir?: (rel: string, st: BigIntStats) => boolean;
}

function devNumbers(rdev: bigint): { major: number; minor: number } {
  const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
  const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
  return { major, minor };
}

async function* walk(dir: string, opts: CreateTarOptions): AsyncGenerator<PackEntry> {
  const firstLink = new Map<string, string>();
  let count = 0;
  // Unchanged directories not written yet: they go out just before the first entry below them.
  const held: PackEntry[] = [];
  function* out(e: PackEntry): Generator<PackEntry> {
    yield* held.splice(0);
    yield e;
  }
  async function* visit(abs: string, rel: string): AsyncGenerator<PackEntry> {
    const names = readdirSync(abs).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const n of names) {
      const p = join(abs, n);
      const name = rel ? `${rel}/${n}` : n;
      const st = lstatSync(p, { bigint: true });
      if (++count % 64 === 0) await new Promise((resolve) => setImmediate(resolve));
      const base = {
        name,
        mode: Number(st.mode & 0o7777n),
        uid: opts.uid ?? Number(st.uid),
        gid: opts.gid ?? Number(st.gid),
        mtime: opts.mtime ?? new Date(Number(st.mtimeMs)),
      };
      if (st.isDirectory()) {
        const entry: PackEntry = { ...base, type: 'directory' };
        const opaque = opts.aufsWhiteouts === true && (await getXattr(p, OPAQUE_XATTR)) === 'y';
        if (!opaque && opts.unchangedDir?.(name, st)) {
          held.push(entry);
          yield* visit(p, name);
          if (held.at(-1) === entry) held.pop();
          continue;
        }
        yield* out(entry);
        if (opaque) yield { ...base, name: `${name}/${WHITEOUT_OPAQUE}`, type: 'file', mode: 0o644, content: new Uint8Array(0) };
        yield* visit(p, name);
      } else if (st.isSymbolicLink()) {
        yield* out({ ...base, type: 'symlink', linkname: readlinkSync(p) });
      } else if (st.isFile() && st.size === 0n && opts.skipEmptyFiles?.has(name)) {
        continue;
      } else if (st.isFile()) {
        const key = `${st.dev}:${st.ino}`;
        const first = st.nlink > 1n ? firstLink.get(key) : undefined;
        if (first !== undefined) {
          yield* out({ ...base, type: 'link', linkname: first });
        } else {
          if (st.nlink > 1n) firstLink.set(key, name);
          // Small files are read at once; large ones stream.
          const size = Number(st.size);
          yield* out({ ...base, type: 'file', content: size <= SMALL_FILE ? readFileSync(p) : { path: p, size } });
        }
      } else if (st.isCharacterDevice() || st.isBlockDevice()) {
        const { major, minor } = devNumbers(st.rdev);
        if (opts.aufsWhiteouts && st.isCharacterDevice() && major === 0 && minor === 0) {
          const cut = name.lastIndexOf('/');
          const wh = `${name.slice(0, cut + 1)}${WHITEOUT_PREFIX}${name.slice(cut + 1)}`;
          yield* out({ ...base, name: wh, type: 'file', mode: 0o644, content: new Uint8Array(0) });
        } else {
          yield* out({ ...base, type: st.isCharacterDevice() ? 'character-device' : 'block-device', devmajor: major, devminor: minor });
        }
      } else if (st.isFIFO()) {
        yield* out({ ...base, type: 'fifo' });
      }
      // Sockets are not archived.
    }
  }
  yield* visit(dir, '');
}

/** A tar stream of dir's contents: entries sorted by name, metadata as on disk unless overridden. */
export function createTar(dir: string, opts: CreateTarOptions = {}): Readable {
  return packEntries(walk(dir, opts));
}

/** A reproducible tar of dir: fixed mtimes and root ownership, so equal trees give equal bytes. */
export function packDirectory(dir: string, opts: { mtime?: Date } = {}): Readable {
  return createTar(dir, { mtime: opts.mtime ?? new Date(0), uid: 0, gid: 0 });
}

// ---------------------------------------------------------------------------------------------
// GNU tar, for trees berth made itself (a checked-out build context, a copy it wrote)

/** The directory as a tar stream by GNU tar (numeric owners); the stream fails if tar does. */
export function tarDirectoryWithTar(dir: string): Readable {
  const child = start(['tar', '-C', dir, '--numeric-owner', '-cf', '-', '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const out = child.stdout!;
  child.on('exit', (code) => {
    if (code !== 0) out.destroy(new Error(`tar of ${dir} failed: ${err.trim() || `exit ${code}`}`));
  });
  return out;
}

/** Unpacks a tar file berth wrote itself (clean, relative names) into dir with GNU tar. */
export async function untarWithTar(tarFile: string, dir: string): Promise<void> {
  await run(['tar', '-x', '-f', tarFile, '-C', dir]);
}
