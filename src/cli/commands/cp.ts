// berth cp: copies files between a container and the local filesystem, with docker's semantics.
// The local side reads and writes through the same in-root primitives as the daemon, rooted at
// the local directory being written: an archive from a container cannot write outside it.
import { lstatSync, readlinkSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CliError, seg, type CommandSpec, type Context } from '../cli.ts';
import { RootFs, packPath, extractInto } from '../../adapters/rootfs/index.ts';
import { splitCpArg, splitPathDirEntry, planCopy, rebaseArchive, rebaseNameOf, humanSize, CopyError, type CopyInfo } from '../copy.ts';

interface PathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

const GO_DIR = 2 ** 31;
const GO_SYMLINK = 2 ** 27;
const isDirMode = (m: number): boolean => m >= GO_DIR;
const isSymlinkMode = (m: number): boolean => Math.floor(m / GO_SYMLINK) % 2 === 1;
// Go's type bits above bit 19: irregular, char device, socket, pipe, device, symlink, dir.
const GO_TYPE_BITS = 1 | 4 | 32 | 64 | 128 | 256 | 4096;
const isRegularMode = (m: number): boolean => (Math.floor(m / 2 ** 19) & GO_TYPE_BITS) === 0;

function decodeStat(h: string | string[] | undefined): PathStat {
  if (typeof h !== 'string') throw new CliError('the daemon sent no path stat', 1);
  return JSON.parse(Buffer.from(h, 'base64').toString()) as PathStat;
}

/** Adds the bytes that pass to a counter. */
function counter(count: { n: number }): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      count.n += chunk.length;
      cb(null, chunk);
    },
  });
}

/** A local path with the trailing `/` or `/.` kept, made absolute. */
function localAbs(p: string): string {
  const abs = resolve(p);
  if (p.endsWith('/.') || p === '.') return abs === '/' ? '/.' : `${abs}/.`;
  if (p.endsWith('/') && abs !== '/') return `${abs}/`;
  return abs;
}

/** docker's check of a local output path: its directory exists; it is a directory or a regular file. */
function validateOutputPath(path: string): void {
  const dir = dirname(resolve(path));
  try {
    statSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new CliError(`invalid output path: directory "${dir}" does not exist`, 1);
  }
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    throw new CliError(`stat ${path}: ${code === 'ENOTDIR' ? 'not a directory' : (err as Error).message}`, 1);
  }
  if (!st.isDirectory() && !st.isFile()) throw new CliError(`invalid output path: "${path}" must be a directory or a regular file`, 1);
}

/** Docker's CopyInfoDestinationPath: a local destination, its symlinks followed. */
function localDestination(path: string): CopyInfo {
  let p = path;
  for (let i = 0; i < 32; i++) {
    let st;
    try {
      st = lstatSync(p);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      const parent = splitPathDirEntry(p).dir;
      try {
        statSync(parent);
      } catch {
        throw new CliError(`lstat ${parent}: no such file or directory`, 1);
      }
      return { path: p, exists: false, isDir: false };
    }
    if (!st.isSymbolicLink()) return { path: p, exists: true, isDir: st.isDirectory() };
    const target = readlinkSync(p);
    p = isAbsolute(target) ? target : join(dirname(p), target);
  }
  throw new CliError(`too many levels of symbolic links: ${path}`, 1);
}

async function copyFromContainer(ctx: Context, container: string, srcPath: string, dstArg: string, o: { follow: boolean; quiet: boolean }): Promise<number> {
  let src = srcPath;
  let rebaseName = '';
  if (o.follow) {
    const head = await ctx.client.request('HEAD', `/containers/${seg(container)}/archive`, { query: { path: src } }).catch(() => undefined);
    if (head) {
      head.stream.resume();
      const st = decodeStat(head.headers['x-docker-container-path-stat']);
      if (isSymlinkMode(st.mode)) {
        const target = st.linkTarget.startsWith('/') ? st.linkTarget : join(splitPathDirEntry(src).dir, st.linkTarget);
        ({ path: src, rebaseName } = rebaseNameOf(src, target));
      }
    }
  }
  if (dstArg !== '-') validateOutputPath(dstArg);
  const dst = dstArg === '-' ? '-' : localAbs(dstArg);
  const dstInfo = dst === '-' ? undefined : localDestination(dst);
  const res = await ctx.client.request('GET', `/containers/${seg(container)}/archive`, { query: { path: src } });
  if (dst === '-' || !dstInfo) {
    await pipeline(res.stream, ctx.stdout);
    return 0;
  }
  const stat = decodeStat(res.headers['x-docker-container-path-stat']);
  const srcInfo: CopyInfo = { path: src, exists: true, isDir: isDirMode(stat.mode), ...(rebaseName ? { rebaseName } : {}) };
  const count = { n: 0 };
  let content: Readable = res.stream.pipe(counter(count));
  if (rebaseName) content = rebaseArchive(content, splitPathDirEntry(src).base, rebaseName);
  let plan;
  try {
    plan = planCopy(srcInfo, dstInfo);
  } catch (err) {
    res.stream.destroy();
    if (err instanceof CopyError) throw new CliError(err.message, 1);
    throw err;
  }
  if (plan.rebase) content = rebaseArchive(content, plan.rebase.from, plan.rebase.to);
  const root = RootFs.open(plan.dir);
  try {
    // Files are owned by whoever runs the copy, as with docker cp.
    await extractInto(root, '/', content, { noOverwriteDirNonDir: true, chown: { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 } });
  } finally {
    root.close();
  }
  if (!o.quiet && ctx.stderr.isTTY) ctx.err(`Successfully copied ${humanSize(count.n)} to ${dstArg}\n`);
  return 0;
}

async function copyToContainer(ctx: Context, srcArg: string, container: string, dstPath: string, o: { follow: boolean; quiet: boolean; copyUIDGID: boolean }): Promise<number> {
  const base = `/containers/${seg(container)}/archive`;
  const statOf = async (p: string): Promise<PathStat | undefined> => {
    try {
      const r = await ctx.client.request('HEAD', base, { query: { path: p } });
      r.stream.resume();
      return decodeStat(r.headers['x-docker-container-path-stat']);
    } catch (err) {
      if (err instanceof Error && err.name === 'DaemonUnreachableError') throw err;
      return undefined;
    }
  };
  const dstInfo: CopyInfo = { path: dstPath, exists: false, isDir: false };
  let st = await statOf(dstPath);
  if (st && isSymlinkMode(st.mode)) {
    const target = st.linkTarget.startsWith('/') ? st.linkTarget : join(splitPathDirEntry(dstPath).dir, st.linkTarget);
    dstInfo.path = target;
    st = await statOf(target);
  }
  if (st && !isDirMode(st.mode) && !isRegularMode(st.mode)) {
    throw new CliError(`destination "${container}:${dstPath}" must be a directory or a regular file`, 1);
  }
  if (st) {
    dstInfo.exists = true;
    dstInfo.isDir = isDirMode(st.mode);
  }
  const count = { n: 0 };
  let content: Readable;
  let dir: string;
  let root: RootFs | undefined;
  if (srcArg === '-') {
    if (!dstInfo.isDir) throw new CliError(`destination "${container}:${dstPath}" must be a directory`, 1);
    content = ctx.stdin;
    dir = dstInfo.path;
  } else {
    let src = localAbs(srcArg);
    let rebaseName = '';
    let lst;
    try {
      lst = lstatSync(src);
    } catch {
      throw new CliError(`lstat ${src.replace(/\/\.?$/, '')}: no such file or directory`, 1);
    }
    if (o.follow && lst.isSymbolicLink()) {
      const t = readlinkSync(src);
      ({ path: src, rebaseName } = rebaseNameOf(src, isAbsolute(t) ? t : join(dirname(src), t)));
    }
    const { dir: srcDir, base: srcBase } = splitPathDirEntry(src);
    const isDir = (() => {
      try {
        return (srcBase === '.' || src.endsWith('/') ? statSync(src) : lstatSync(src)).isDirectory();
      } catch {
        return false;
      }
    })();
    const srcInfo: CopyInfo = { path: src, exists: true, isDir, ...(rebaseName ? { rebaseName } : {}) };
    let plan;
    try {
      plan = planCopy(srcInfo, dstInfo);
    } catch (err) {
      if (err instanceof CopyError) throw new CliError(err.message, 1);
      throw err;
    }
    // The local source is archived through a root at its parent, named as Docker names it.
    root = RootFs.open(srcBase === '.' ? src.slice(0, -2) || '/' : srcDir);
    const packed = packPath(root, srcBase === '.' ? '/.' : `/${srcBase}${src.endsWith('/') ? '/' : ''}`).stream;
    content = packed;
    if (rebaseName) content = rebaseArchive(content, srcBase, rebaseName);
    if (plan.rebase) content = rebaseArchive(content, rebaseName || plan.rebase.from, plan.rebase.to);
    dir = plan.dir;
  }
  try {
    await ctx.client.call('PUT', base, {
      query: { path: dir, noOverwriteDirNonDir: true, copyUIDGID: o.copyUIDGID },
      body: content.pipe(counter(count)),
      headers: { 'Content-Type': 'application/x-tar' },
    });
  } finally {
    root?.close();
  }
  if (!o.quiet && ctx.stderr.isTTY) ctx.err(`Successfully copied ${humanSize(count.n)} to ${container}:${dstInfo.path}\n`);
  return 0;
}

export const command: CommandSpec = {
  name: 'cp',
  usage: '[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tberth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH',
  summary: 'Copy files/folders between a container and the local filesystem',
  aliases: ['berth container cp', 'berth cp'],
  flags: [
    { long: 'archive', short: 'a', type: 'bool', help: 'Archive mode (copy all uid/gid information)' },
    { long: 'follow-link', short: 'L', type: 'bool', help: 'Always follow symbol link in SRC_PATH' },
    { long: 'quiet', short: 'q', type: 'bool', help: 'Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached' },
  ],
  minArgs: 2,
  maxArgs: 2,
  async run(ctx, flags, args) {
    const [a, b] = args as [string, string];
    const src = splitCpArg(a);
    const dst = splitCpArg(b);
    if (src.container !== undefined && dst.container !== undefined) throw new CliError('copying between containers is not supported', 1);
    if (src.container === undefined && dst.container === undefined) throw new CliError('must specify at least one container source', 1);
    const o = { follow: flags.bool('follow-link'), quiet: flags.bool('quiet'), copyUIDGID: flags.bool('archive') };
    if (src.container !== undefined) {
      if (src.path === '') throw new CliError('source can not be empty', 1);
      return copyFromContainer(ctx, src.container, src.path, b, o);
    }
    if (dst.path === '') throw new CliError('destination can not be empty', 1);
    return copyToContainer(ctx, a, dst.container!, dst.path, o);
  },
};
