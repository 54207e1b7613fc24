// The client side of `cp`, as docker's CLI does it: which argument is the container's, where an
// archive is extracted, and renaming the archive's top entry when the copy takes a new name. The
// API stays Docker's: the daemon extracts into a directory and archives a path, nothing more.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';

export interface CpArg {
  container?: string;
  path: string;
}

/** `CONTAINER:PATH` or a local path (absolute, or `./x:y`, or without a colon). */
export function splitCpArg(arg: string): CpArg {
  if (arg.startsWith('/') || arg.startsWith('.')) return { path: arg };
  const i = arg.indexOf(':');
  if (i <= 0) return { path: arg };
  return { container: arg.slice(0, i), path: arg.slice(i + 1) };
}

/** Go's filepath.Clean for the paths cp handles. */
function clean(p: string): string {
  const abs = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!abs) out.push('..');
      continue;
    }
    out.push(part);
  }
  const s = out.join('/');
  return abs ? `/${s}` : s === '' ? '.' : s;
}

/** Docker's SplitPathDirEntry: the parent and the base, `.` kept as the base of `P/.`. */
export function splitPathDirEntry(path: string): { dir: string; base: string } {
  let cleaned = clean(path);
  if (path.endsWith('/.') || path === '.') cleaned = cleaned === '/' ? '/.' : `${cleaned}/.`;
  const i = cleaned.lastIndexOf('/');
  if (i < 0) return { dir: '.', base: cleaned };
  return { dir: i === 0 ? '/' : cleaned.slice(0, i), base: cleaned.slice(i + 1) === '' ? '/' : cleaned.slice(i + 1) };
}

/** A path that says it must be a directory: `P/` or `P/.`. */
export function assertsDirectory(path: string): boolean {
  return path.endsWith('/') || path.endsWith('/.') || path === '.';
}

export interface CopyInfo {
  path: string;
  exists: boolean;
  isDir: boolean;
  /** The name the source takes when a symlink was followed (-L). */
  rebaseName?: string;
}

export class CopyError extends Error {}

/**
 * Docker's PrepareArchiveCopy: the directory to extract into, and the renaming (old top name →
 * new one) the archive needs so the copy lands under the destination's name.
 */
export function planCopy(src: CopyInfo, dst: CopyInfo): { dir: string; rebase?: { from: string; to: string } } {
  const { dir: dstDir, base: dstBase } = splitPathDirEntry(dst.path);
  let { base: srcBase } = splitPathDirEntry(src.path);
  if (dst.exists && dst.isDir) return { dir: dst.path };
  if (dst.exists && src.isDir) throw new CopyError('cannot copy directory');
  if (!dst.exists && !src.isDir && assertsDirectory(dst.path)) throw new CopyError('no such directory');
  if (src.rebaseName) srcBase = src.rebaseName;
  return { dir: dstDir, rebase: { from: srcBase, to: dstBase } };
}

/** Docker's GetRebaseName: the name to give a followed symlink's target (trailing `/.` kept). */
export function rebaseNameOf(path: string, resolved: string): { path: string; rebaseName: string } {
  let p = resolved;
  if (path.endsWith('/.') && !p.endsWith('/.')) p = `${p.replace(/\/$/, '')}/.`;
  else if (path.endsWith('/') && !p.endsWith('/')) p = `${p}/`;
  const a = splitPathDirEntry(path).base;
  const b = splitPathDirEntry(p).base;
  return { path: p, rebaseName: a !== b ? a : '' };
}

function renamed(name: string, from: string, to: string): string {
  if (name === from || name === `${from}/`) return name.replace(from, to);
  if (name.startsWith(`${from}/`)) return `${to}${name.slice(from.length)}`;
  return name;
}

/** Rewrites the archive's top entry `from` (and what is under it) to `to`, streaming. */
export function rebaseArchive(input: Readable, from: string, to: string): Readable {
  const extract = tar.extract();
  const pack = tar.pack();
  const copying = (async () => {
    for await (const entry of extract) {
      const h = { ...entry.header, name: renamed(entry.header.name, from, to) };
      if (h.type === 'link' && h.linkname) h.linkname = renamed(h.linkname, from, to);
      await new Promise<void>((resolve, reject) => {
        const sink = pack.entry(h, (err) => (err ? reject(err) : resolve()));
        sink.on('error', reject);
        entry.on('error', reject);
        entry.pipe(sink);
      });
    }
    pack.finalize();
  })();
  copying.catch((err: unknown) => pack.destroy(err instanceof Error ? err : new Error(String(err))));
  pipeline(input, extract).catch((err: unknown) => pack.destroy(err instanceof Error ? err : new Error(String(err))));
  return Readable.from(pack, { objectMode: false });
}

/** Docker's units.HumanSize: four significant digits, decimal units. */
export function humanSize(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(4))}${units[i]}`;
}
