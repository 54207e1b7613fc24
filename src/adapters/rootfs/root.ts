// In-root file access: paths of a container's filesystem resolved by walking file descriptors,
// so nothing the container does while we work can lead us outside its root.
//
// Node has neither chroot nor openat2(RESOLVE_IN_ROOT). Every component is opened relative to a
// held directory descriptor through `/proc/self/fd/<dirfd>/<name>` with O_PATH|O_NOFOLLOW; the
// kernel then follows only the magic link to that very directory and looks up one plain name in
// it. Symlinks are read and resolved here, inside the root: an absolute target restarts at the
// root descriptor, `..` pops our own stack of descriptors (never the kernel's `..`, which could
// climb out of a directory moved under us) and stops at the root. The final operation (read,
// create, chown, remove) again goes through a held descriptor, with O_NOFOLLOW or O_EXCL.
import { closeSync, constants, fstatSync, mkdirSync, openSync, readdirSync, readlinkSync, readSync, rmdirSync, unlinkSync, type BigIntStats } from 'node:fs';
import { invalidParameter, notFound, internal, BerthError } from '../../core/errors.ts';

// O_PATH is not in Node's constants everywhere; its value is the same on x86_64 and arm64 Linux.
export const O_PATH: number = (constants as Record<string, number | undefined>).O_PATH ?? 0o10000000;
const O_CLOEXEC: number = (constants as Record<string, number | undefined>).O_CLOEXEC ?? 0o2000000;
export const O_NOFOLLOW = constants.O_NOFOLLOW;
export const O_DIRECTORY = constants.O_DIRECTORY;
const MAX_SYMLINKS = 40;

/** The path through which the kernel reaches `name` inside the directory held by fd (or fd itself). */
export function fdPath(fd: number, name?: string): string {
  return name === undefined ? `/proc/self/fd/${fd}` : `/proc/self/fd/${fd}/${name}`;
}

export function errnoOf(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Opens one plain name in a held directory without following a symlink there. */
export function openAt(dirFd: number, name: string, flags = 0): number {
  return openSync(fdPath(dirFd, name), O_PATH | O_NOFOLLOW | O_CLOEXEC | flags);
}

/** Lexical clean of an in-root path, as Go's filepath.Clean on `/`+path: `..` stops at the root. */
export function cleanPath(path: string): string[] {
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return out;
}

/** True when the path, as written, names a directory's contents or the directory itself (`P/`, `P/.`). */
export function hasTrailingDirMark(path: string): boolean {
  return path.endsWith('/') || path.endsWith('/.') || path === '.';
}

interface Frame {
  fd: number;
  name: string;
  owned: boolean;
}

export interface ResolveOptions {
  /** Follow a symlink in the last component too (as a path ending in `/` does). */
  followFinal?: boolean;
  /** The last component may be missing: `fd` is then undefined; the parent must exist. */
  allowMissing?: boolean;
  /** Create missing directories along the way, the last one included (mkdir -p). */
  create?: boolean;
}

/** A resolved object: its canonical in-root path, its parent directory and itself, held open. */
export interface Resolved {
  /** Canonical absolute path inside the root, all symlinks resolved but the last (unless followed). */
  path: string;
  /** O_PATH descriptor of the parent directory; undefined for the root itself. */
  dir: number | undefined;
  /** Last component (`''` for the root). */
  name: string;
  /** O_PATH descriptor of the object; undefined when it does not exist (allowMissing). */
  fd: number | undefined;
  stat: BigIntStats | undefined;
  close(): void;
}

/**
 * A container's root filesystem opened for in-root access. `mounts` maps canonical in-root paths
 * to host paths that stand in for them (a stopped container's volumes and bind mounts, which are
 * not mounted anywhere we could walk through).
 */
export class RootFs {
  readonly #fd: number;
  readonly #mounts: ReadonlyMap<string, string>;
  #closed = false;

  private constructor(fd: number, mounts: ReadonlyMap<string, string>) {
    this.#fd = fd;
    this.#mounts = mounts;
  }

  /** Opens hostPath (trusted: a rootfs mount or /proc/<pid>/root) as the root. */
  static open(hostPath: string, opts: { mounts?: ReadonlyMap<string, string> } = {}): RootFs {
    const fd = openSync(hostPath, O_PATH | O_DIRECTORY | O_CLOEXEC);
    return new RootFs(fd, opts.mounts ?? new Map());
  }

  get fd(): number {
    return this.#fd;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeSync(this.#fd);
  }

  /** Resolves path inside the root; see ResolveOptions. Throws NotFound for missing components. */
  resolve(path: string, opts: ResolveOptions = {}): Resolved {
    const stack: Frame[] = [{ fd: this.#fd, name: '', owned: false }];
    const todo = cleanPath(path).reverse();
    let links = 0;
    const canonical = (extra?: string): string => `/${[...stack.slice(1).map((f) => f.name), ...(extra === undefined ? [] : [extra])].join('/')}`;
    const release = (): void => {
      for (const f of stack) if (f.owned) closeQuietly(f.fd);
    };
    const result = (name: string, fd: number | undefined, st: BigIntStats | undefined, ownFd: boolean): Resolved => {
      const parent = stack[stack.length - 1];
      let done = false;
      return {
        path: canonical(name === '' ? undefined : name),
        dir: name === '' ? undefined : parent?.fd,
        name,
        fd,
        stat: st,
        close: () => {
          if (done) return;
          done = true;
          if (fd !== undefined && ownFd) closeQuietly(fd);
          release();
        },
      };
    };
    try {
      while (todo.length > 0) {
        const c = todo.pop()!;
        if (c === '' || c === '.') continue;
        if (c === '..') {
          if (stack.length > 1) closeQuietly(stack.pop()!.fd);
          continue;
        }
        const last = todo.length === 0;
        const top = stack[stack.length - 1]!;
        const stand = this.#mounts.get(canonical(c));
        let fd: number;
        try {
          fd = stand !== undefined ? openSync(stand, O_PATH | O_CLOEXEC) : openAt(top.fd, c);
        } catch (err) {
          if (errnoOf(err) !== 'ENOENT') throw wrapFsError(err, canonical(c));
          if (opts.create) {
            try {
              mkdirSync(fdPath(top.fd, c), 0o755);
            } catch (e) {
              if (errnoOf(e) !== 'EEXIST') throw wrapFsError(e, canonical(c));
            }
            todo.push(c);
            continue;
          }
          if (last && opts.allowMissing) return result(c, undefined, undefined, false);
          throw notFound(`${canonical(c)}: no such file or directory`, err);
        }
        let st: BigIntStats;
        try {
          st = fstatSync(fd, { bigint: true });
        } catch (err) {
          closeQuietly(fd);
          throw wrapFsError(err, canonical(c));
        }
        if (st.isSymbolicLink() && (!last || opts.followFinal || opts.create)) {
          closeQuietly(fd);
          if (++links > MAX_SYMLINKS) throw invalidParameter(`${canonical(c)}: too many levels of symbolic links`);
          let target: string;
          try {
            target = readlinkSync(fdPath(top.fd, c));
          } catch (err) {
            // No longer a symlink since we looked: look again (the hop count bounds this).
            if (errnoOf(err) === 'EINVAL') {
              todo.push(c);
              continue;
            }
            throw wrapFsError(err, canonical(c));
          }
          if (target.startsWith('/')) while (stack.length > 1) closeQuietly(stack.pop()!.fd);
          const parts = target.split('/').filter((p) => p !== '' && p !== '.');
          for (let i = parts.length - 1; i >= 0; i--) todo.push(parts[i]!);
          continue;
        }
        if (last && !opts.create) return result(c, fd, st, true);
        if (!st.isDirectory()) {
          closeQuietly(fd);
          throw notFound(`${canonical(c)}: not a directory`);
        }
        stack.push({ fd, name: c, owned: true });
      }
      // The path ended on a directory held in the stack (or on the root).
      if (stack.length === 1) return result('', this.#fd, fstatSync(this.#fd, { bigint: true }), false);
      const top = stack.pop()!;
      return result(top.name, top.fd, fstatSync(top.fd, { bigint: true }), true);
    } catch (err) {
      release();
      throw err;
    }
  }

  /** Reads a whole regular file (bounded), e.g. the container's /etc/passwd; undefined when missing. */
  readFile(path: string, maxBytes: number): Buffer | undefined {
    let r: Resolved;
    try {
      r = this.resolve(path, { followFinal: true });
    } catch (err) {
      if (err instanceof BerthError && err.kind === 'NotFound') return undefined;
      throw err;
    }
    try {
      if (!r.stat?.isFile() || r.fd === undefined) return undefined;
      const fd = openSync(fdPath(r.fd), constants.O_RDONLY | O_CLOEXEC);
      try {
        const buf = Buffer.alloc(Math.min(Number(r.stat.size), maxBytes));
        let n = 0;
        while (n < buf.length) {
          const got = readSyncAt(fd, buf, n);
          if (got === 0) break;
          n += got;
        }
        return buf.subarray(0, n);
      } finally {
        closeSync(fd);
      }
    } finally {
      r.close();
    }
  }
}

function readSyncAt(fd: number, buf: Buffer, off: number): number {
  return readSync(fd, buf, off, buf.length - off, null);
}

export function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}

/** Maps a filesystem failure to an error kind: missing → NotFound, the rest is the engine's. */
export function wrapFsError(err: unknown, path: string): BerthError {
  if (err instanceof BerthError) return err;
  const code = errnoOf(err);
  const msg = `${path}: ${err instanceof Error ? err.message.replace(/, \w+ '\/proc\/self\/fd\/[^']*'$/, '') : String(err)}`;
  if (code === 'ENOENT' || code === 'ENOTDIR') return notFound(msg, err);
  if (code === 'ELOOP') return invalidParameter(msg, err);
  return internal(msg, err);
}

/** Removes `name` in the held directory and, for a directory, everything under it, never following a symlink. */
export function removeAt(dirFd: number, name: string): void {
  try {
    unlinkSync(fdPath(dirFd, name));
    return;
  } catch (err) {
    const code = errnoOf(err);
    if (code === 'ENOENT') return;
    if (code !== 'EISDIR' && code !== 'EPERM') throw err;
  }
  const fd = openAt(dirFd, name, O_DIRECTORY);
  try {
    for (const child of readdirSync(fdPath(fd))) removeAt(fd, child);
  } finally {
    closeQuietly(fd);
  }
  rmdirSync(fdPath(dirFd, name));
}
