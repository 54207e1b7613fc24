// File-system helpers for state: atomic writes (temp, fsync, rename, fsync dir) and JSON records.
import { open, rename, mkdir, readFile, rm, unlink } from 'node:fs/promises';
import { openSync, writeSync, fsyncSync, closeSync, renameSync, readFileSync, unlinkSync, rmSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { run, ExecError } from '../exec/index.ts';

function tempName(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
}

/** fsync of a directory, so a rename or create in it is durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** How a file is written: `volatile` for one under the exec root, which no reboot keeps. */
export interface AtomicWriteOptions {
  /**
   * Atomic for a crash of the process (temp file, rename) but not synced to the disk: for state
   * that lives only until a reboot anyway (the exec root, /run). Saves an fsync (~2–3 ms) where
   * /run is on a disk rather than a tmpfs.
   */
  volatile?: boolean;
}

/** Writes data so that a crash at any moment leaves either the old file or the new one. */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600, opts: AtomicWriteOptions = {}): Promise<void> {
  const tmp = tempName(path);
  const fh = await open(tmp, 'wx', mode);
  try {
    await fh.writeFile(typeof data === 'string' ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    if (!opts.volatile) await fh.sync();
  } catch (err) {
    await fh.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw err;
  }
  await fh.close();
  try {
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
  if (!opts.volatile) await fsyncDir(dirname(path));
}

export function writeFileAtomicSync(path: string, data: string | Uint8Array, mode = 0o600): void {
  const tmp = tempName(path);
  const fd = openSync(tmp, 'wx', mode);
  try {
    if (typeof data === 'string') writeSync(fd, data);
    else writeSync(fd, data);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {}
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, path);
  const dfd = openSync(dirname(path), 'r');
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}

export async function writeJsonAtomic(path: string, value: unknown, opts: AtomicWriteOptions = {}): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(value, null, 1) + '\n', 0o600, opts);
}

/** Reads a JSON file; undefined when it does not exist. */
export async function readJson<T>(path: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return JSON.parse(text) as T;
}

export function readJsonSync<T>(path: string): T | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return JSON.parse(text) as T;
}

export async function ensureDir(path: string, mode = 0o700): Promise<void> {
  await mkdir(path, { recursive: true, mode });
}

export async function removeAll(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true, maxRetries: 3 });
}

/**
 * Removes a directory of a few small files on a memory file system (a bundle, a runtime's state)
 * on the calling thread: each of removeAll's steps is a thread-pool trip, whose wake-up on a
 * small machine costs more than the system call. Anything else is left to removeAll.
 */
export function removeSmallTree(path: string): void {
  try {
    rmSync(path, { recursive: true, force: true });
  } catch {
    void removeAll(path).catch(() => {});
  }
}

export async function exists(path: string): Promise<boolean> {
  try {
    await open(path, 'r').then((fh) => fh.close());
    return true;
  } catch {
    return false;
  }
}

/**
 * The bytes of the files under dir as Docker counts a container's or a volume's size: regular
 * files and symlinks, each inode once (hard links), directories not at all. 0 when dir is missing.
 */
export async function directorySize(dir: string): Promise<number> {
  let out: string;
  try {
    // -xdev: a mount inside (a volume under a container's upper dir cannot be, but be sure) is not counted.
    out = (await run(['find', dir, '-xdev', '!', '-type', 'd', '-printf', '%i %s\\n'])).stdout;
  } catch (err) {
    if (err instanceof ExecError && /No such file or directory/.test(err.stderr)) return 0;
    throw err;
  }
  const seen = new Set<string>();
  let total = 0;
  for (const line of out.split('\n')) {
    const sp = line.indexOf(' ');
    if (sp <= 0) continue;
    const ino = line.slice(0, sp);
    if (seen.has(ino)) continue;
    seen.add(ino);
    total += Number(line.slice(sp + 1)) || 0;
  }
  return total;
}

/** Copies what src holds into dst (an existing directory), keeping owners, modes, times and links (cp -a). */
export async function copyTree(src: string, dst: string): Promise<void> {
  await run(['cp', '-a', '--', `${src}/.`, dst]);
}
