// The build context, read where it lies: the (decompressed) tar is spooled to one file and
// indexed in memory — each member's path, type, metadata and the offset of its data — so COPY
// reads file contents by offset and nothing is unpacked. Creating thousands of small files is
// the slow part of a build on most file systems; a context is only ever read.
//
// Paths are resolved inside the index the way RESOLVE_IN_ROOT does: `..` stops at the root and
// symlinks (absolute ones from the root) are followed within the context only.
import { createReadStream, createWriteStream, openSync, readSync, closeSync } from 'node:fs';
import { posix } from 'node:path';
import { Transform, type TransformCallback, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import type { Header } from 'tar-stream';
import { invalidParameter, notFound } from '../../core/errors.ts';
import { openArchive, cField, numericField, paxRecords } from '../../adapters/tar/index.ts';

type Headers = Partial<Header> & Pick<Header, 'name'>;

export interface ContextEntry {
  type: 'file' | 'directory' | 'symlink' | 'link';
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
  size: number;
  /** Offset of the data in the spooled tar (files). */
  offset: number;
  /** Symlink target, or the hard link's target path (clean, in-context). */
  linkname?: string;
}

const BLOCK = 512;
const MAX_LINKS = 40;
const MAX_META = 1 << 20;
const SMALL = 256 * 1024;

function clean(p: string): string {
  return posix.normalize(`/${p}`).replace(/\/+$/, '') || '/';
}

function octal(buf: Buffer, at: number, len: number): number {
  return numericField(buf.subarray(at, at + len));
}

function cstr(buf: Buffer, at: number, len: number): string {
  return cField(buf.subarray(at, at + len)).toString('utf8');
}

function paxStrings(data: Buffer): Map<string, string> {
  return new Map([...paxRecords(data)].map(([k, v]) => [k, v.toString('utf8')]));
}

/** Passes a tar through, recording each member and where its data starts. */
class TarIndexer extends Transform {
  readonly entries = new Map<string, ContextEntry>();
  #pos = 0;
  #pending: Buffer = Buffer.alloc(0);
  #skip = 0;
  #meta: { kind: string; left: number; chunks: Buffer[] } | undefined;
  #longName: string | undefined;
  #longLink: string | undefined;
  #pax: Map<string, string> | undefined;
  #global = new Map<string, string>();
  #ended = false;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.#consume(chunk);
    } catch (err) {
      cb(err as Error);
      return;
    }
    cb(null, chunk);
  }

  #consume(chunk: Buffer): void {
    let buf = this.#pending.length > 0 ? Buffer.concat([this.#pending, chunk]) : chunk;
    this.#pending = Buffer.alloc(0);
    while (buf.length > 0 && !this.#ended) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, buf.length);
        if (this.#meta) {
          const take = Math.min(this.#meta.left, n);
          if (take > 0) this.#meta.chunks.push(Buffer.from(buf.subarray(0, take)));
          this.#meta.left -= take;
          if (this.#meta.left === 0) this.#finishMeta();
        }
        this.#skip -= n;
        this.#pos += n;
        buf = buf.subarray(n);
        continue;
      }
      if (buf.length < BLOCK) {
        this.#pending = Buffer.from(buf);
        return;
      }
      this.#header(buf.subarray(0, BLOCK));
      this.#pos += BLOCK;
      buf = buf.subarray(BLOCK);
    }
  }

  #finishMeta(): void {
    const m = this.#meta!;
    this.#meta = undefined;
    const data = Buffer.concat(m.chunks);
    if (m.kind === 'L') this.#longName = data.toString('utf8').replace(/\0.*$/s, '');
    else if (m.kind === 'K') this.#longLink = data.toString('utf8').replace(/\0.*$/s, '');
    else if (m.kind === 'x') this.#pax = paxStrings(data);
    else if (m.kind === 'g') for (const [k, v] of paxStrings(data)) this.#global.set(k, v);
  }

  #header(h: Buffer): void {
    if (h.every((b) => b === 0)) {
      this.#ended = true;
      return;
    }
    const type = String.fromCharCode(h[156]!);
    let size = octal(h, 124, 12);
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'L' || type === 'K' || type === 'x' || type === 'g') {
      if (size > MAX_META) throw invalidParameter('invalid build context: extended header too large');
      this.#meta = { kind: type, left: size, chunks: [] };
      this.#skip = padded;
      if (size === 0) this.#finishMeta();
      return;
    }
    let name = cstr(h, 0, 100);
    if (h.toString('latin1', 257, 262) === 'ustar') {
      const prefix = cstr(h, 345, 155);
      if (prefix !== '') name = `${prefix}/${name}`;
    }
    let linkname = cstr(h, 157, 100);
    const pax = new Map([...this.#global, ...(this.#pax ?? [])]);
    name = pax.get('path') ?? this.#longName ?? name;
    linkname = pax.get('linkpath') ?? this.#longLink ?? linkname;
    if (pax.has('size')) size = Number(pax.get('size'));
    this.#pax = undefined;
    this.#longName = undefined;
    this.#longLink = undefined;
    const dataOffset = this.#pos + BLOCK;
    this.#skip = Math.ceil(size / BLOCK) * BLOCK;
    if (name.includes('\0')) throw invalidParameter('invalid build context: NUL byte in a path');
    const path = clean(name);
    const kind = type === '5' ? 'directory' : type === '2' ? 'symlink' : type === '1' ? 'link' : type === '0' || type === '\0' || type === '7' ? 'file' : undefined;
    if (kind === undefined || path === '/') return;
    const entry: ContextEntry = {
      type: kind,
      mode: octal(h, 100, 8) & 0o7777,
      uid: pax.has('uid') ? Number(pax.get('uid')) : octal(h, 108, 8),
      gid: pax.has('gid') ? Number(pax.get('gid')) : octal(h, 116, 8),
      mtime: new Date((pax.has('mtime') ? Number(pax.get('mtime')) : octal(h, 136, 12)) * 1000),
      size: kind === 'file' ? size : 0,
      offset: dataOffset,
    };
    if (kind === 'symlink') entry.linkname = linkname;
    if (kind === 'link') entry.linkname = clean(linkname);
    this.entries.set(path, entry);
  }

  override _flush(cb: TransformCallback): void {
    cb();
  }
}

export class BuildContext {
  readonly #file: string;
  readonly #entries: Map<string, ContextEntry>;
  readonly #children = new Map<string, string[]>();

  private constructor(file: string, entries: Map<string, ContextEntry>) {
    this.#file = file;
    this.#entries = entries;
    // Directories only implied by their members exist too.
    for (const p of [...entries.keys()]) {
      let dir = posix.dirname(p);
      while (dir !== '/' && !entries.has(dir)) {
        entries.set(dir, { type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime: new Date(0), size: 0, offset: 0 });
        dir = posix.dirname(dir);
      }
    }
    for (const p of entries.keys()) {
      const parent = posix.dirname(p);
      const list = this.#children.get(parent) ?? [];
      list.push(posix.basename(p));
      this.#children.set(parent, list);
    }
    for (const list of this.#children.values()) list.sort();
  }

  /** Spools the context (plain, gzip or zstd tar) to file and indexes it. */
  static async load(input: NodeJS.ReadableStream, file: string, opts: { signal?: AbortSignal } = {}): Promise<BuildContext> {
    const { source, decompressor } = await openArchive(input, { programs: true });
    const indexer = new TarIndexer();
    const streams: Array<NodeJS.ReadableStream | NodeJS.WritableStream> = [source];
    if (decompressor) streams.push(decompressor);
    streams.push(indexer, createWriteStream(file, { mode: 0o600 }));
    await pipeline(streams, opts.signal ? { signal: opts.signal } : {});
    return new BuildContext(file, indexer.entries);
  }

  /** Resolves a path in the context, following symlinks inside it (the last one when followFinal). */
  resolve(path: string, followFinal = true): { path: string; entry: ContextEntry } | undefined {
    const todo = clean(path).split('/').filter(Boolean).reverse();
    const done: string[] = [];
    let links = 0;
    while (todo.length > 0) {
      const c = todo.pop()!;
      if (c === '.' || c === '') continue;
      if (c === '..') {
        done.pop();
        continue;
      }
      const p = `/${[...done, c].join('/')}`;
      const e = this.#entries.get(p);
      if (e === undefined) return undefined;
      if (e.type === 'symlink' && (todo.length > 0 || followFinal)) {
        if (++links > MAX_LINKS) throw invalidParameter(`too many levels of symbolic links: ${path}`);
        const target = e.linkname ?? '';
        if (target.startsWith('/')) done.length = 0;
        for (const t of target.split('/').reverse()) todo.push(t);
        continue;
      }
      done.push(c);
    }
    const p = `/${done.join('/')}`;
    if (p === '/') return { path: '/', entry: { type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime: new Date(0), size: 0, offset: 0 } };
    const e = this.#entries.get(p);
    return e === undefined ? undefined : { path: p, entry: e };
  }

  kind(path: string): 'dir' | 'file' | undefined {
    const r = this.resolve(path);
    if (r === undefined) return undefined;
    return r.entry.type === 'directory' ? 'dir' : 'file';
  }

  list(dir: string): string[] {
    const r = this.resolve(dir);
    if (r === undefined || r.entry.type !== 'directory') return [];
    return [...(this.#children.get(r.path) ?? [])];
  }

  #data(path: string, e: ContextEntry): ContextEntry {
    if (e.type !== 'link') return e;
    const target = this.#entries.get(e.linkname ?? '');
    if (target === undefined || target.type !== 'file') throw invalidParameter(`invalid build context: hard link ${path} has no target`);
    return target;
  }

  /** Reads a small file (the Dockerfile, .dockerignore). */
  readSmall(path: string, max: number): string {
    const r = this.resolve(path);
    if (r === undefined || (r.entry.type !== 'file' && r.entry.type !== 'link')) throw notFound(`${path} not found in the build context`);
    const e = this.#data(r.path, r.entry);
    if (e.size > max) throw invalidParameter(`${path} is too large`);
    return this.head(r.path, e.size).toString('utf8');
  }

  #fd: number | undefined;

  /** A file's whole data (small files), read by offset from the spooled tar. */
  #read(e: ContextEntry): Buffer {
    this.#fd ??= openSync(this.#file, 'r');
    const buf = Buffer.alloc(e.size);
    let off = 0;
    while (off < e.size) {
      const got = readSync(this.#fd, buf, off, e.size - off, e.offset + off);
      if (got === 0) throw invalidParameter('invalid build context: truncated member');
      off += got;
    }
    return buf;
  }

  /** Closes the spooled file. */
  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }

  /** The first n bytes of a file. */
  head(path: string, n: number): Buffer {
    const r = this.resolve(path);
    if (r === undefined || (r.entry.type !== 'file' && r.entry.type !== 'link')) return Buffer.alloc(0);
    const e = this.#data(r.path, r.entry);
    const len = Math.min(n, e.size);
    const buf = Buffer.alloc(len);
    if (len === 0) return buf;
    const fd = openSync(this.#file, 'r');
    try {
      let off = 0;
      while (off < len) {
        const got = readSync(fd, buf, off, len - off, e.offset + off);
        if (got === 0) break;
        off += got;
      }
    } finally {
      closeSync(fd);
    }
    return buf;
  }

  /**
   * A tar of path as Docker names it: the base name as the top entry and a directory's tree under
   * it; symlinks inside are kept as links. The path itself is resolved (its symlink followed).
   */
  pack(path: string): { isDir: boolean; stream: Readable } {
    const r = this.resolve(path);
    if (r === undefined) throw notFound(`"${clean(path)}" not found in the build context`);
    const isDir = r.entry.type === 'directory';
    const top = r.path === '/' ? '.' : posix.basename(r.path);
    const pack = tar.pack();
    const put = (name: string, p: string, e: ContextEntry): Promise<void> =>
      new Promise((resolve, reject) => {
        const header: Headers = { name, mode: e.mode, uid: e.uid, gid: e.gid, mtime: e.mtime, type: e.type === 'link' ? 'file' : e.type };
        if (e.type === 'directory') {
          pack.entry({ ...header, name: `${name}/` }, (err) => (err ? reject(err) : resolve())).on('error', reject);
          return;
        }
        if (e.type === 'symlink') {
          pack.entry({ ...header, linkname: e.linkname ?? '' }, (err) => (err ? reject(err) : resolve())).on('error', reject);
          return;
        }
        const data = this.#data(p, e);
        if (data.size <= SMALL) {
          // Small files are read at once: a stream per file costs more than the file.
          pack.entry({ ...header, size: data.size }, this.#read(data), (err) => (err ? reject(err) : resolve())).on('error', reject);
          return;
        }
        const sink = pack.entry({ ...header, size: data.size }, (err) => (err ? reject(err) : resolve()));
        sink.on('error', reject);
        const src = createReadStream(this.#file, { start: data.offset, end: data.offset + data.size - 1 });
        src.on('error', (err) => sink.destroy(err));
        src.pipe(sink);
      });
    const walk = async (p: string, name: string): Promise<void> => {
      for (const child of this.#children.get(p) ?? []) {
        const cp = p === '/' ? `/${child}` : `${p}/${child}`;
        const e = this.#entries.get(cp)!;
        await put(`${name}/${child}`, cp, e);
        if (e.type === 'directory') await walk(cp, `${name}/${child}`);
      }
    };
    void (async () => {
      try {
        await put(top, r.path, r.entry);
        if (isDir) await walk(r.path, top);
        pack.finalize();
      } catch (err) {
        pack.destroy(err as Error);
      }
    })();
    return { isDir, stream: pack as unknown as Readable };
  }
}
