// Archives of paths inside a container's root, both ways, through the in-root primitives of
// root.ts only: reading never follows a symlink found in the tree, writing never goes through one
// at the final component and resolves every parent inside the root.
import { closeSync, constants, fchmodSync, fchownSync, fstatSync, futimesSync, lchownSync, linkSync, lutimesSync, mkdirSync, chmodSync, chownSync, openSync, readSync, readdirSync, readlinkSync, symlinkSync, utimesSync, writeSync, type BigIntStats } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import type { Header } from 'tar-stream';
import { invalidParameter, notFound, BerthError } from '../../core/errors.ts';
import { openArchive } from '../tar/index.ts';
import { RootFs, cleanPath, closeQuietly, errnoOf, fdPath, hasTrailingDirMark, openAt, removeAt, wrapFsError, O_DIRECTORY, type Resolved } from './root.ts';

/** Docker's PathStat: what `HEAD /containers/{id}/archive` sends, base64 JSON in a header. */
export interface PathStat {
  name: string;
  size: number;
  /** Go's os.FileMode bits. */
  mode: number;
  /** RFC 3339 with nanoseconds, as Go writes a time.Time. */
  mtime: string;
  linkTarget: string;
}

// Go's os.FileMode type bits, above the permission bits (written as numbers: 1<<31 is negative in JS).
const GO_DIR = 2 ** 31;
const GO_SYMLINK = 2 ** 27;
const GO_DEVICE = 2 ** 26;
const GO_PIPE = 2 ** 25;
const GO_SOCKET = 2 ** 24;
const GO_SETUID = 2 ** 23;
const GO_SETGID = 2 ** 22;
const GO_CHARDEV = 2 ** 21;
const GO_STICKY = 2 ** 20;

/** A Unix st_mode as Go's os.FileMode. */
export function goFileMode(mode: number): number {
  let m = mode & 0o777;
  switch (mode & constants.S_IFMT) {
    case constants.S_IFDIR:
      m += GO_DIR;
      break;
    case constants.S_IFLNK:
      m += GO_SYMLINK;
      break;
    case constants.S_IFBLK:
      m += GO_DEVICE;
      break;
    case constants.S_IFCHR:
      m += GO_DEVICE + GO_CHARDEV;
      break;
    case constants.S_IFIFO:
      m += GO_PIPE;
      break;
    case constants.S_IFSOCK:
      m += GO_SOCKET;
      break;
  }
  if (mode & 0o4000) m += GO_SETUID;
  if (mode & 0o2000) m += GO_SETGID;
  if (mode & 0o1000) m += GO_STICKY;
  return m;
}

/** A nanosecond timestamp as Go's RFC3339Nano in UTC (trailing zeros of the fraction dropped). */
export function goTime(ns: bigint): string {
  const secs = ns / 1_000_000_000n;
  const frac = ns % 1_000_000_000n;
  const base = new Date(Number(secs) * 1000).toISOString().slice(0, 19);
  const f = frac === 0n ? '' : `.${frac.toString().padStart(9, '0').replace(/0+$/, '')}`;
  return `${base}${f}Z`;
}

/** Go's filepath.Base of a cleaned path that keeps a trailing `/.`. */
function baseName(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  if (trimmed === '') return '/';
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

/** The path as Docker names it: cleaned, absolute, with a trailing `/` or `/.` kept. */
export function normalizeContainerPath(path: string): string {
  const clean = `/${cleanPath(path).join('/')}`;
  if (clean === '/') return '/';
  if (path.endsWith('/.')) return `${clean}/.`;
  if (path.endsWith('/')) return `${clean}/`;
  return clean;
}

/** Resolves a path as lstat(2) would see it (a trailing `/` or `/.` follows the last symlink). */
function resolveForStat(root: RootFs, path: string): Resolved {
  const r = root.resolve(path, { followFinal: hasTrailingDirMark(path) });
  if (hasTrailingDirMark(path) && !r.stat?.isDirectory()) {
    r.close();
    throw notFound(`${path}: not a directory`);
  }
  return r;
}

function statOf(root: RootFs, path: string, r: Resolved): PathStat {
  const st = r.stat!;
  let linkTarget = '';
  if (st.isSymbolicLink()) {
    // Where the link leads inside the root, as far as it resolves.
    try {
      const t = root.resolve(path, { followFinal: true, allowMissing: true });
      linkTarget = t.path;
      t.close();
    } catch {
      linkTarget = readlinkSync(fdPath(r.dir!, r.name));
    }
  }
  return { name: baseName(path), size: Number(st.size), mode: goFileMode(Number(st.mode)), mtime: goTime(st.mtimeNs), linkTarget };
}

/** Docker's stat of a path inside the root (HEAD archive). */
export function statPath(root: RootFs, path: string): PathStat {
  const p = normalizeContainerPath(path);
  const r = resolveForStat(root, p);
  try {
    return statOf(root, p, r);
  } finally {
    r.close();
  }
}

type Headers = Partial<Header> & Pick<Header, 'name'>;

/** Owner names for tar headers, from the container's own passwd and group files. */
export interface OwnerNames {
  users: ReadonlyMap<number, string>;
  groups: ReadonlyMap<number, string>;
}

const CHUNK = 64 * 1024;

function devNumbers(rdev: bigint): { devmajor: number; devminor: number } {
  return {
    devmajor: Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn)),
    devminor: Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn)),
  };
}

/**
 * The tar of a path inside the root, named as Docker names it: the path's base name as the top
 * entry (`.` for `P/.`), a directory's tree under it. Symlinks in the tree are archived as links,
 * never followed; the stat is taken before the stream starts, so errors come before any byte.
 */
export function packPath(root: RootFs, path: string, opts: { names?: OwnerNames } = {}): { stat: PathStat; stream: Readable } {
  const p = normalizeContainerPath(path);
  const top = resolveForStat(root, p);
  let stat: PathStat;
  try {
    stat = statOf(root, p, top);
  } catch (err) {
    top.close();
    throw err;
  }
  const rebase = baseName(p) === '/' ? '.' : baseName(p);
  const pack = tar.pack();
  const links = new Map<string, string>();

  // A reader that goes away destroys the pack: pending writes end then, and the walk stops.
  let closed = false;
  const pending = new Set<() => void>();
  pack.on('close', () => {
    closed = true;
    for (const abort of pending) abort();
  });
  const writeEntry = (header: Headers, body?: { fd: number; size: number }): Promise<void> =>
    new Promise<void>((resolveEntry, rejectEntry) => {
      const abort = (): void => rejectEntry(new Error('archive reader went away'));
      if (closed) return abort();
      pending.add(abort);
      const resolve = (): void => {
        pending.delete(abort);
        resolveEntry();
      };
      const reject = (err: unknown): void => {
        pending.delete(abort);
        rejectEntry(err);
      };
      if (!body) {
        // Every entry sink fails when the pack is destroyed: listen, or the error would be uncaught.
        pack.entry(header, (err) => (err ? reject(err) : resolve())).on('error', reject);
        return;
      }
      const sink = pack.entry({ ...header, size: body.size }, (err) => (err ? reject(err) : resolve()));
      sink.on('error', reject);
      let left = body.size;
      const pump = (): void => {
        try {
          while (left > 0) {
            const buf = Buffer.alloc(Math.min(CHUNK, left));
            let n = readSync(body.fd, buf, 0, buf.length, null);
            // A file that shrank while we read it is padded, as the header's size is already out.
            if (n === 0) n = buf.length;
            left -= n;
            if (!sink.write(buf.subarray(0, n))) {
              sink.once('drain', pump);
              return;
            }
          }
          sink.end(undefined);
        } catch (err) {
          reject(err);
        }
      };
      pump();
    });

  const headerOf = (name: string, st: BigIntStats): Headers => {
    const h: Headers = { name, mode: Number(st.mode & 0o7777n), uid: Number(st.uid), gid: Number(st.gid), mtime: new Date(Number(st.mtimeMs)) };
    const uname = opts.names?.users.get(h.uid!);
    const gname = opts.names?.groups.get(h.gid!);
    if (uname !== undefined) h.uname = uname;
    if (gname !== undefined) h.gname = gname;
    return h;
  };

  /** One object held by an O_PATH fd, found as `name` in the directory dirFd. */
  const emit = async (dirFd: number | undefined, name: string, fd: number, st: BigIntStats, entryName: string): Promise<void> => {
    if (st.isDirectory()) {
      await writeEntry({ ...headerOf(`${entryName}/`, st), type: 'directory' });
      let names: string[];
      try {
        names = readdirSync(fdPath(fd)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      } catch {
        return;
      }
      for (const n of names) {
        let cfd: number;
        try {
          cfd = openAt(fd, n);
        } catch {
          continue; // gone since the listing
        }
        try {
          await emit(fd, n, cfd, fstatSync(cfd, { bigint: true }), `${entryName === '' ? '' : `${entryName}/`}${n}`);
        } finally {
          closeQuietly(cfd);
        }
      }
      return;
    }
    if (st.isSymbolicLink()) {
      if (dirFd === undefined) return;
      let target: string;
      try {
        target = readlinkSync(fdPath(dirFd, name));
      } catch {
        return; // replaced since we looked
      }
      await writeEntry({ ...headerOf(entryName, st), type: 'symlink', linkname: target });
      return;
    }
    if (st.isFile()) {
      const key = `${st.dev}:${st.ino}`;
      const first = st.nlink > 1n ? links.get(key) : undefined;
      if (first !== undefined) {
        await writeEntry({ ...headerOf(entryName, st), type: 'link', linkname: first });
        return;
      }
      if (st.nlink > 1n) links.set(key, entryName);
      // Reopening the O_PATH descriptor reaches the very inode we looked at, whatever the name is now.
      const rfd = openSync(fdPath(fd), constants.O_RDONLY | constants.O_NOCTTY);
      try {
        await writeEntry({ ...headerOf(entryName, st), type: 'file' }, { fd: rfd, size: Number(st.size) });
      } finally {
        closeSync(rfd);
      }
      return;
    }
    if (st.isCharacterDevice() || st.isBlockDevice()) {
      await writeEntry({ ...headerOf(entryName, st), type: st.isCharacterDevice() ? 'character-device' : 'block-device', ...devNumbers(st.rdev) });
      return;
    }
    if (st.isFIFO()) await writeEntry({ ...headerOf(entryName, st), type: 'fifo' });
    // Sockets are not archived.
  };

  void (async () => {
    try {
      await emit(top.dir, top.name, top.fd!, top.stat!, rebase);
      pack.finalize();
    } catch (err) {
      pack.destroy(err instanceof Error ? err : new Error(String(err)));
    } finally {
      top.close();
    }
  })();
  return { stat, stream: Readable.from(pack, { objectMode: false }) };
}

// ---------------------------------------------------------------------------------------------
// Extraction

export interface ExtractOptions {
  /** Refuse to replace a directory with a non-directory and the reverse. */
  noOverwriteDirNonDir?: boolean;
  /** Owner for everything extracted, instead of the archive's. */
  chown?: { uid: number; gid: number };
  signal?: AbortSignal;
  onWarning?: (msg: string) => void;
}

function breakout(what: string): BerthError {
  return invalidParameter(`invalid archive: ${what} is outside of the extraction directory (breakout)`);
}

/**
 * Cleans an entry name as Go's filepath.Clean does, relative to the extraction directory: an
 * absolute name stays inside it (`/../x` is `x`), a relative one that climbs out is refused.
 */
export function cleanEntryName(name: string): string[] {
  if (name.includes('\0')) throw invalidParameter('invalid archive: NUL byte in a path');
  const absolute = name.startsWith('/');
  const out: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0) out.pop();
      else if (!absolute) throw breakout(JSON.stringify(name.slice(0, 200)));
      continue;
    }
    out.push(part);
  }
  return out;
}

/** Docker refuses a relative symlink whose target climbs above the extraction directory. */
function checkSymlink(parentParts: readonly string[], linkname: string, entry: string): void {
  if (linkname.startsWith('/')) return;
  const parts = [...parentParts];
  for (const p of linkname.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') {
      if (parts.length === 0) throw breakout(`symlink ${JSON.stringify(entry)} -> ${JSON.stringify(linkname)}`);
      parts.pop();
    } else parts.push(p);
  }
}

type EntryBody = AsyncIterable<unknown> & { resume(): unknown };

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  return Buffer.from(String(chunk));
}

/** Sets owner, mode and times of the object held by an O_PATH fd, through its magic link. */
function setMeta(fd: number, meta: { uid: number; gid: number; mode: number }): void {
  // chown clears set-id bits, so the mode comes after it.
  chownSync(fdPath(fd), meta.uid, meta.gid);
  chmodSync(fdPath(fd), meta.mode);
}

/**
 * Extracts a tar (plain, gzip or zstd; xz and bzip2 are refused, as they would need an external
 * program) into the directory `dest` inside the root, which must exist.
 */
export async function extractInto(root: RootFs, dest: string, input: NodeJS.ReadableStream, opts: ExtractOptions = {}): Promise<void> {
  const destRes = root.resolve(dest, { followFinal: true });
  const destPath = destRes.path;
  const isDir = destRes.stat?.isDirectory() ?? false;
  destRes.close();
  if (!isDir) throw invalidParameter('extraction point is not a directory');
  const base = cleanPath(destPath);

  let opened: Awaited<ReturnType<typeof openArchive>>;
  try {
    opened = await openArchive(input);
  } catch (err) {
    if (err instanceof BerthError && err.kind === 'NotImplemented') throw invalidParameter(`invalid archive: ${err.message}`);
    throw err;
  }
  const extract = tar.extract();
  const streams: Array<NodeJS.ReadableStream | NodeJS.WritableStream> = [opened.source];
  if (opened.decompressor) streams.push(opened.decompressor);
  streams.push(extract);
  const flowing = pipeline(streams, opts.signal ? { signal: opts.signal } : {});
  flowing.catch(() => {});
  const dirTimes: Array<{ parts: string[]; mtime: Date }> = [];
  const inRoot = (parts: readonly string[]): string => `/${[...base, ...parts].join('/')}`;
  try {
    for await (const entry of extract) {
      await extractEntry(root, entry.header, entry, { ...opts, inRoot, dirTimes });
    }
    await flowing;
  } catch (err) {
    opened.source.destroy();
    extract.destroy();
    if (err instanceof BerthError) throw err;
    const e = err as NodeJS.ErrnoException;
    if (e.name === 'AbortError') throw err;
    if (typeof e.errno === 'number' && typeof e.syscall === 'string') throw wrapFsError(err, dest);
    throw invalidParameter(`invalid archive: ${e.message ?? String(err)}`, err);
  }
  // Directory times last: creating children changed them.
  for (const d of dirTimes.reverse()) {
    let r: Resolved | undefined;
    try {
      r = root.resolve(inRoot(d.parts));
      if (r.fd !== undefined && r.stat?.isDirectory()) utimesSync(fdPath(r.fd), d.mtime, d.mtime);
    } catch {
      // gone or replaced meanwhile
    } finally {
      r?.close();
    }
  }
}

async function extractEntry(
  root: RootFs,
  header: Headers,
  body: EntryBody,
  o: ExtractOptions & { inRoot: (parts: readonly string[]) => string; dirTimes: Array<{ parts: string[]; mtime: Date }> },
): Promise<void> {
  const parts = cleanEntryName(header.name);
  const type = header.type ?? 'unknown';
  if (parts.length === 0) {
    body.resume();
    return;
  }
  const name = parts[parts.length - 1]!;
  const parentParts = parts.slice(0, -1);
  const uid = o.chown?.uid ?? header.uid ?? 0;
  const gid = o.chown?.gid ?? header.gid ?? 0;
  const mode = (header.mode ?? 0o644) & 0o7777;
  const mtime = header.mtime ?? new Date(0);
  if (type === 'symlink') checkSymlink(parentParts, header.linkname ?? '', header.name);
  let linkSource: Resolved | undefined;
  if (type === 'link') {
    const target = cleanEntryName(header.linkname ?? '');
    if (target.length === 0) throw invalidParameter(`invalid archive: hardlink ${JSON.stringify(header.name)} has no target`);
    linkSource = root.resolve(o.inRoot(target));
  }
  // Parents are created as needed and resolved inside the root, following symlinks there.
  const parent = root.resolve(o.inRoot(parentParts), { create: true });
  try {
    const dirFd = parent.fd!;
    let existing: BigIntStats | undefined;
    try {
      const fd = openAt(dirFd, name);
      existing = fstatSync(fd, { bigint: true });
      closeQuietly(fd);
    } catch (err) {
      if (errnoOf(err) !== 'ENOENT') throw err;
    }
    if (existing) {
      const wantDir = type === 'directory';
      if (o.noOverwriteDirNonDir && existing.isDirectory() && !wantDir) throw invalidParameter(`cannot overwrite directory ${JSON.stringify(o.inRoot(parts))} with non-directory`);
      if (o.noOverwriteDirNonDir && !existing.isDirectory() && wantDir) throw invalidParameter(`cannot overwrite non-directory ${JSON.stringify(o.inRoot(parts))} with directory`);
      if (!(existing.isDirectory() && wantDir)) removeAt(dirFd, name);
    }
    switch (type) {
      case 'file':
      case 'contiguous-file': {
        // O_EXCL|O_NOFOLLOW: never write through whatever appeared at the final component.
        const fd = openSync(fdPath(dirFd, name), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
        try {
          for await (const chunk of body) {
            const buf = toBuffer(chunk);
            for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off);
          }
          fchownSync(fd, uid, gid);
          fchmodSync(fd, mode);
          futimesSync(fd, mtime, mtime);
        } finally {
          closeSync(fd);
        }
        return;
      }
      case 'directory': {
        body.resume();
        if (!existing) mkdirSync(fdPath(dirFd, name), 0o700);
        const fd = openAt(dirFd, name, O_DIRECTORY);
        try {
          setMeta(fd, { uid, gid, mode });
        } finally {
          closeQuietly(fd);
        }
        o.dirTimes.push({ parts, mtime });
        return;
      }
      case 'symlink':
        body.resume();
        if (!header.linkname) throw invalidParameter(`invalid archive: symlink ${JSON.stringify(header.name)} has no target`);
        symlinkSync(header.linkname, fdPath(dirFd, name));
        lchownSync(fdPath(dirFd, name), uid, gid);
        lutimesSync(fdPath(dirFd, name), mtime, mtime);
        return;
      case 'link': {
        body.resume();
        const src = linkSource!;
        if (src.stat?.isDirectory()) throw invalidParameter(`invalid archive: hardlink ${JSON.stringify(header.name)} points to a directory`);
        // link(2) does not follow a final symlink: a link to a symlink is a second name for it.
        linkSync(fdPath(src.dir!, src.name), fdPath(dirFd, name));
        return;
      }
      default:
        // Devices, fifos and unknown types would need mknod: not created by a copy.
        body.resume();
        o.onWarning?.(`skipped ${header.name}: ${type} entries are not extracted`);
    }
  } finally {
    parent.close();
    linkSource?.close();
  }
}
