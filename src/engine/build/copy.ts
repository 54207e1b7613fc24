// COPY and ADD: the files an instruction brings in, as one layer tar. Sources are read from a root
// opened for in-root access (the build context, or another stage's image), never by following a
// path on the host; entries are renamed under the destination, owned as --chown says (root by
// default), moded as --chmod says. While the tar is written, a digest of what matters for the
// cache is taken: names, types, modes, owners, link targets and content — not mtimes.
import { createHash, type Hash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import type { Header } from 'tar-stream';

type Headers = Partial<Header> & Pick<Header, 'name'>;
import { invalidParameter, notFound } from '../../core/errors.ts';
import { packPath, type RootFs } from '../../adapters/rootfs/index.ts';
import type { Readable } from 'node:stream';
import { openArchive } from '../../adapters/tar/index.ts';

export interface CopySource {
  /** The path as the instruction names it (globs expanded). */
  path: string;
  /** A tar of the path: its base name as the top entry, a directory's tree under it. */
  pack(): { isDir: boolean; stream: Readable };
  /** For context sources: whether a context path is excluded by .dockerignore. */
  ignored?: (contextPath: string) => boolean;
  /** ADD: unpack this source when it is a tar archive (plain, gzip, zstd). */
  unpackArchives?: boolean;
  /** COPY --parents: the source's own directory path, kept under dest (dest is then a directory). */
  parentDir?: string;
}

export interface CopyPlan {
  sources: CopySource[];
  /** Absolute destination inside the image (WORKDIR already applied). */
  dest: string;
  /** Whether dest names a directory: ends in `/`, several sources, or a directory in the image. */
  destIsDir: boolean;
  uid: number;
  gid: number;
  /** --chmod: mode bits for everything copied. */
  mode?: number;
  /** Parent directories of dest that the image lacks, created root-owned 0755 (dest itself with the owner when it is a directory). */
  missingDirs: string[];
}

function addToHash(h: Hash, header: Headers): void {
  h.update(JSON.stringify([header.name, header.type, header.mode, header.uid, header.gid, header.linkname ?? '', header.size ?? 0, header.devmajor ?? 0, header.devminor ?? 0]));
}

/** A copy source read from a root opened for in-root access (another stage's image). */
export function rootSource(root: RootFs, path: string): CopySource {
  return {
    path,
    pack: () => {
      const p = packPath(root, path);
      return { isDir: (p.stat.mode & 0x80000000) !== 0, stream: p.stream };
    },
  };
}

/** True when a glob metacharacter appears in the path (Go filepath.Match syntax). */
export function hasGlob(p: string): boolean {
  return /[*?[]/.test(p);
}

/** Go filepath.Match of one path component. */
export function matchComponent(pattern: string, name: string): boolean {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) throw invalidParameter(`syntax error in pattern: ${pattern}`);
      let cls = pattern.slice(i + 1, end);
      if (cls.startsWith('^')) cls = `^${cls.slice(1)}`;
      re += `[${cls.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else if (c === '\\' && i + 1 < pattern.length) {
      re += pattern[++i]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    } else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`${re}$`).test(name);
}

/**
 * Writes the layer tar for plan to file; returns the digest of the copied content (for the cache)
 * and how many entries were written.
 */
export async function writeCopyLayer(plan: CopyPlan, file: string): Promise<{ inputDigest: string; entries: number }> {
  const pack = tar.pack();
  const out = createWriteStream(file, { mode: 0o600 });
  const done = pipeline(pack, out);
  done.catch(() => {});
  const hash = createHash('sha256');
  let count = 0;
  const put = async (header: Headers, body?: AsyncIterable<unknown>): Promise<void> => {
    addToHash(hash, header);
    count++;
    if (body === undefined) {
      await new Promise<void>((resolve, reject) => pack.entry(header, (err) => (err ? reject(err) : resolve())).on('error', reject));
      return;
    }
    const content = createHash('sha256');
    await new Promise<void>((resolve, reject) => {
      const sink = pack.entry(header, (err) => (err ? reject(err) : resolve()));
      sink.on('error', reject);
      void (async () => {
        try {
          for await (const chunk of body) {
            const b = chunk as Buffer;
            content.update(b);
            if (!sink.write(b)) await new Promise<void>((r) => sink.once('drain', () => r()));
          }
          sink.end(undefined);
        } catch (err) {
          sink.destroy(err as Error);
          reject(err);
        }
      })();
    });
    hash.update(content.digest('hex'));
  };
  try {
    for (const dir of plan.missingDirs) {
      const isDest = dir === plan.dest.replace(/\/+$/, '') && plan.destIsDir;
      await put({ name: `${dir.slice(1)}/`, type: 'directory', mode: isDest && plan.mode !== undefined ? plan.mode : 0o755, uid: isDest ? plan.uid : 0, gid: isDest ? plan.gid : 0, mtime: new Date(0) });
    }
    const made = new Set(plan.missingDirs);
    for (const src of plan.sources) {
      if (src.parentDir) {
        // --parents: the directories between dest and the source, owned like dest.
        let at = plan.dest.replace(/\/+$/, '');
        for (const c of src.parentDir.split('/').filter(Boolean)) {
          at = `${at}/${c}`;
          if (made.has(at)) continue;
          made.add(at);
          await put({ name: `${at.slice(1)}/`, type: 'directory', mode: plan.mode ?? 0o755, uid: plan.uid, gid: plan.gid, mtime: new Date(0) });
        }
      }
      await copyOne(plan, src, put);
    }
    pack.finalize();
    await done;
  } catch (err) {
    pack.destroy(err as Error);
    throw err;
  }
  hash.update(`dest:${plan.dest}:${plan.destIsDir}`);
  return { inputDigest: `sha256:${hash.digest('hex')}`, entries: count };
}

async function copyOne(plan: CopyPlan, src: CopySource, put: (h: Headers, body?: AsyncIterable<unknown>) => Promise<void>): Promise<void> {
  let packed: { isDir: boolean; stream: Readable };
  try {
    packed = src.pack();
  } catch (err) {
    if ((err as { kind?: string }).kind === 'NotFound') throw notFound(`failed to compute cache key: "${src.path}" not found`);
    throw err;
  }
  const isDir = packed.isDir;
  const srcBase = posix.normalize(`/${src.path}`).replace(/\/+$/, '') || '/';
  const extract = tar.extract();
  const flowing = pipeline(packed.stream, extract);
  flowing.catch(() => {});
  // A directory source copies its contents; a file goes to dest, or into it when dest is a directory.
  const dest = src.parentDir ? posix.join(plan.dest, src.parentDir) : plan.dest;
  const destIsDir = src.parentDir !== undefined || plan.destIsDir;
  const target = (rel: string): string => {
    if (isDir) return posix.join(dest, rel);
    return destIsDir ? posix.join(dest, posix.basename(srcBase)) : dest;
  };
  for await (const entry of extract) {
    const h = entry.header;
    const parts = h.name.replace(/\/+$/, '').split('/');
    const rel = parts.slice(1).join('/');
    if (isDir && rel === '') {
      entry.resume();
      continue;
    }
    const contextPath = posix.join(srcBase, rel).slice(1);
    if (src.ignored?.(contextPath)) {
      entry.resume();
      continue;
    }
    const name = target(rel).slice(1);
    const header: Headers = {
      name: h.type === 'directory' ? `${name}/` : name,
      type: h.type ?? 'file',
      mode: plan.mode !== undefined && h.type !== 'symlink' ? plan.mode : (h.mode ?? 0o644) & 0o7777,
      uid: plan.uid,
      gid: plan.gid,
      mtime: h.mtime ?? new Date(0),
    };
    if (h.type === 'symlink') header.linkname = h.linkname ?? '';
    if (h.type === 'link') {
      // Hard links point at entries of this source; rename them like the entries.
      const lp = (h.linkname ?? '').split('/').slice(1).join('/');
      header.linkname = target(lp).slice(1);
    }
    if (h.devmajor !== undefined) header.devmajor = h.devmajor;
    if (h.devminor !== undefined) header.devminor = h.devminor;
    if (h.type === 'file' || h.type === 'contiguous-file' || h.type === undefined) {
      if (src.unpackArchives && !isDir) {
        await unpackInto(plan, entry as unknown as NodeJS.ReadableStream, put);
        continue;
      }
      header.size = h.size ?? 0;
      await put(header, entry);
    } else {
      entry.resume();
      await put(header);
    }
  }
  await flowing;
}

/** ADD of a local archive (the caller checked its first bytes): its entries land under dest. */
async function unpackInto(plan: CopyPlan, body: NodeJS.ReadableStream, put: (h: Headers, b?: AsyncIterable<unknown>) => Promise<void>): Promise<void> {
  const { source, decompressor } = await openArchive(body, { programs: true });
  const extract = tar.extract();
  const flowing = pipeline([source, ...(decompressor ? [decompressor] : []), extract] as unknown as [NodeJS.ReadableStream, NodeJS.WritableStream]);
  flowing.catch(() => {});
  for await (const entry of extract) {
      const h = entry.header;
      const clean = posix.normalize(`/${h.name}`).slice(1).replace(/\/+$/, '');
      if (clean === '' || clean.startsWith('..')) {
        entry.resume();
        continue;
      }
      const name = posix.join(plan.dest, clean).slice(1);
      const header: Headers = { name: h.type === 'directory' ? `${name}/` : name, type: h.type ?? 'file', mode: (h.mode ?? 0o644) & 0o7777, uid: h.uid ?? 0, gid: h.gid ?? 0, mtime: h.mtime ?? new Date(0) };
      if (h.type === 'symlink') header.linkname = h.linkname ?? '';
      if (h.type === 'link') header.linkname = posix.join(plan.dest, posix.normalize(`/${h.linkname ?? ''}`)).slice(1);
      if (h.type === 'file' || h.type === 'contiguous-file') {
        header.size = h.size ?? 0;
        await put(header, entry);
      } else {
        entry.resume();
        await put(header);
      }
  }
  await flowing;
}

/** Whether the first bytes of a file are a tar archive, plain or compressed (gzip, zstd, xz, bzip2) as ADD unpacks them. */
export function looksLikeArchive(head: Buffer): boolean {
  if (head.length >= 262 && head.toString('latin1', 257, 262) === 'ustar') return true;
  if ((head[0] === 0x1f && head[1] === 0x8b) || (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd)) return true;
  // xz and bzip2, as Docker's ADD unpacks them too.
  return (head[0] === 0xfd && head[1] === 0x37 && head[2] === 0x7a && head[3] === 0x58 && head[4] === 0x5a && head[5] === 0x00) || (head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68);
}
