// The registry's filesystem storage. Blobs are content-addressed and shared by all repositories;
// a repository sees a blob only through its own link file. Every name, tag, digest and upload ID
// is validated before it becomes a path component, every write is atomic (temp file, fsync,
// rename, fsync of the directory), and a blob is kept only when its digest matches.
//
// <root>/
//   blobs/<alg>/<hex>                                    blob bytes (layers, configs, manifests)
//   blobs/.tmp/                                          blobs being written
//   repositories/<name>/_layers/<alg>/<hex>              the repository may serve this blob
//   repositories/<name>/_manifests/revisions/<alg>/<hex> {"digest","mediaType"} of a pushed manifest
//   repositories/<name>/_manifests/tags/<tag>            the digest the tag points to
//   repositories/<name>/_manifests/referrers/<alg>/<subject hex>/<alg>-<hex>
//                                                        the descriptor of a manifest whose subject is that digest
//   _uploads/<uuid>/{info.json,data}                     upload sessions
import { createReadStream, createWriteStream, type ReadStream } from 'node:fs';
import { open, readFile, readdir, rename, rm, stat, truncate, unlink, mkdir } from 'node:fs/promises';
import { createHash, randomBytes, randomUUID, type Hash } from 'node:crypto';
import { join } from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { writeFileAtomic, fsyncDir } from '../adapters/fs/index.ts';
import { Mutex } from '../lib/mutex.ts';
import { RegistryError, registryError } from './errors.ts';
import { isTag, isUploadId, parseDigest, validateDigest, validateRepositoryName, type DigestAlgorithm, type ParsedDigest } from './names.ts';
import { MAX_MANIFEST_SIZE, parseManifest, type Descriptor, type ParsedManifest } from './manifest.ts';

export const DEFAULT_UPLOAD_MAX_AGE_MS = 24 * 60 * 60 * 1000;

export interface RegistryStorageOptions {
  root: string;
  /** Upload sessions idle longer than this are removed (at open and by purgeUploads). */
  uploadMaxAgeMs?: number;
}

export interface ManifestRecord {
  digest: string;
  mediaType: string;
  bytes: Buffer;
}

/** An upload session: its ID and the repository it was started in. */
export interface UploadRef {
  repo: string;
  id: string;
}

export interface RevisionRecord {
  digest: string;
  mediaType: string;
}

interface UploadState {
  repo: string;
  /** The running sha256 of the data so far; undefined after a restart (re-hashed at the end). */
  hash: Hash | undefined;
  size: number;
  busy: boolean;
}

function isErrno(err: unknown, code: string): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === code;
}

async function fileSize(path: string): Promise<number | undefined> {
  try {
    const st = await stat(path);
    return st.isFile() ? st.size : undefined;
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return undefined;
    throw err;
  }
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((n) => !n.startsWith('.'));
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return [];
    throw err;
  }
}

async function hashFile(path: string, algorithm: DigestAlgorithm): Promise<string> {
  const hash = createHash(algorithm);
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Hashes and counts what passes; fails once more than `limit` bytes came. */
class Meter extends Transform {
  readonly #hash: Hash | undefined;
  readonly #limit: number;
  bytes = 0;

  constructor(hash: Hash | undefined, limit = Number.POSITIVE_INFINITY) {
    super();
    this.#hash = hash;
    this.#limit = limit;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.#limit) {
      cb(registryError('SIZE_INVALID', `more data than the ${this.#limit} bytes announced`));
      return;
    }
    this.#hash?.update(chunk);
    cb(null, chunk);
  }
}

export class RegistryStorage {
  readonly root: string;
  readonly #uploads = new Map<string, UploadState>();
  readonly #repoLocks = new Map<string, Mutex>();
  readonly #uploadMaxAgeMs: number;

  private constructor(root: string, uploadMaxAgeMs: number) {
    this.root = root;
    this.#uploadMaxAgeMs = uploadMaxAgeMs;
  }

  static async open(opts: RegistryStorageOptions): Promise<RegistryStorage> {
    const s = new RegistryStorage(opts.root, opts.uploadMaxAgeMs ?? DEFAULT_UPLOAD_MAX_AGE_MS);
    for (const d of ['blobs/sha256', 'blobs/sha512', 'repositories', '_uploads']) await mkdir(join(opts.root, d), { recursive: true, mode: 0o755 });
    // Blob writes a crash interrupted.
    await rm(join(opts.root, 'blobs', '.tmp'), { recursive: true, force: true });
    await mkdir(join(opts.root, 'blobs', '.tmp'), { mode: 0o700 });
    await s.purgeUploads();
    return s;
  }

  // ---- paths (only ever from validated parts) ----

  #blobPath(d: ParsedDigest): string {
    return join(this.root, 'blobs', d.algorithm, d.hex);
  }

  #repoDir(repo: string): string {
    return join(this.root, 'repositories', ...validateRepositoryName(repo).split('/'));
  }

  #layerLink(repo: string, d: ParsedDigest): string {
    return join(this.#repoDir(repo), '_layers', d.algorithm, d.hex);
  }

  #revisionPath(repo: string, d: ParsedDigest): string {
    return join(this.#repoDir(repo), '_manifests', 'revisions', d.algorithm, d.hex);
  }

  #tagPath(repo: string, tag: string): string {
    if (!isTag(tag)) throw registryError('MANIFEST_INVALID', 'invalid tag', { tag: tag.slice(0, 200) });
    return join(this.#repoDir(repo), '_manifests', 'tags', tag);
  }

  #referrersDir(repo: string, subject: ParsedDigest): string {
    return join(this.#repoDir(repo), '_manifests', 'referrers', subject.algorithm, subject.hex);
  }

  #uploadDir(id: string): string {
    if (!isUploadId(id)) throw registryError('BLOB_UPLOAD_UNKNOWN', 'blob upload unknown');
    return join(this.root, '_uploads', id);
  }

  #lock(repo: string): Mutex {
    let m = this.#repoLocks.get(repo);
    if (!m) {
      m = new Mutex();
      this.#repoLocks.set(repo, m);
    }
    return m;
  }

  async #writeLink(path: string, content: string): Promise<void> {
    await mkdir(join(path, '..'), { recursive: true, mode: 0o755 });
    await writeFileAtomic(path, content, 0o644);
  }

  /** Moves a verified file into the blob store. */
  async #commitBlob(tmp: string, d: ParsedDigest): Promise<void> {
    const fh = await open(tmp, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.#blobPath(d));
    await fsyncDir(join(this.root, 'blobs', d.algorithm));
  }

  // ---- blobs ----

  /** The size of a blob the repository links to; BLOB_UNKNOWN otherwise. */
  async blobSize(repo: string, digest: string): Promise<number> {
    const d = validateDigest(digest);
    const link = await fileSize(this.#layerLink(repo, d));
    const size = link === undefined ? undefined : await fileSize(this.#blobPath(d));
    if (size === undefined) throw registryError('BLOB_UNKNOWN', 'blob unknown to registry', { digest });
    return size;
  }

  /** A read stream of bytes [start, end] of a blob (check blobSize first). */
  async openBlob(digest: string, range: { start?: number; end?: number } = {}): Promise<ReadStream> {
    const d = validateDigest(digest);
    const fh = await open(this.#blobPath(d), 'r').catch((err: unknown) => {
      if (isErrno(err, 'ENOENT')) throw registryError('BLOB_UNKNOWN', 'blob unknown to registry', { digest });
      throw err;
    });
    return createReadStream('', { fd: fh, ...(range.start !== undefined ? { start: range.start } : {}), ...(range.end !== undefined ? { end: range.end } : {}) });
  }

  async #linkBlob(repo: string, d: ParsedDigest): Promise<void> {
    await this.#writeLink(this.#layerLink(repo, d), `${d.algorithm}:${d.hex}\n`);
  }

  /** Links a blob of another repository into this one; false when `from` does not have it. */
  async mountBlob(repo: string, opts: { from: string; digest: string }): Promise<boolean> {
    const { from, digest } = opts;
    validateRepositoryName(repo);
    const d = validateDigest(digest);
    try {
      await this.blobSize(from, digest);
    } catch (err) {
      if (err instanceof RegistryError && err.code === 'BLOB_UNKNOWN') return false;
      throw err;
    }
    await this.#linkBlob(repo, d);
    return true;
  }

  /** Stores a whole blob from a stream; a digest mismatch stores nothing. */
  async putBlob(repo: string, body: Readable, opts: { digest: string; length?: number }): Promise<number> {
    const { digest } = opts;
    validateRepositoryName(repo);
    const d = validateDigest(digest);
    const tmp = join(this.root, 'blobs', '.tmp', randomBytes(12).toString('hex'));
    let kept = false;
    try {
      const h = createHash(d.algorithm);
      const m = new Meter(h, opts.length);
      await pipeline(body, m, createWriteStream(tmp, { flags: 'wx', mode: 0o644 }));
      if (opts.length !== undefined && m.bytes !== opts.length) {
        throw registryError('SIZE_INVALID', `received ${m.bytes} bytes, Content-Length said ${opts.length}`);
      }
      const got = h.digest('hex');
      if (got !== d.hex) throw registryError('DIGEST_INVALID', 'provided digest did not match uploaded content', { expected: digest, actual: `${d.algorithm}:${got}` });
      await this.#commitBlob(tmp, d);
      kept = true;
      await this.#linkBlob(repo, d);
      return m.bytes;
    } finally {
      if (!kept) await unlink(tmp).catch(() => {});
    }
  }

  /** Removes the repository's link to a blob (the bytes stay until gc). */
  async deleteBlob(repo: string, digest: string): Promise<void> {
    const d = validateDigest(digest);
    try {
      await unlink(this.#layerLink(repo, d));
    } catch (err) {
      if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) throw registryError('BLOB_UNKNOWN', 'blob unknown to registry', { digest });
      throw err;
    }
  }

  // ---- uploads ----

  async startUpload(repo: string): Promise<string> {
    validateRepositoryName(repo);
    const id = randomUUID();
    const dir = this.#uploadDir(id);
    await mkdir(dir, { mode: 0o700 });
    await writeFileAtomic(join(dir, 'info.json'), JSON.stringify({ repo, startedAt: new Date().toISOString() }));
    await createEmptyFile(join(dir, 'data'));
    this.#uploads.set(id, { repo, hash: createHash('sha256'), size: 0, busy: false });
    return id;
  }

  async #upload(upload: UploadRef): Promise<UploadState> {
    const { repo, id } = upload;
    const dir = this.#uploadDir(id);
    const size = await fileSize(join(dir, 'data'));
    if (size === undefined) {
      this.#uploads.delete(id);
      throw registryError('BLOB_UPLOAD_UNKNOWN', 'blob upload unknown to registry', { uuid: id });
    }
    let st = this.#uploads.get(id);
    if (!st) {
      // A session from before a restart: its hash state is gone, so the data is re-hashed at the end.
      let info: { repo?: unknown };
      try {
        info = JSON.parse(await readFile(join(dir, 'info.json'), 'utf8')) as { repo?: unknown };
      } catch {
        throw registryError('BLOB_UPLOAD_UNKNOWN', 'blob upload unknown to registry', { uuid: id });
      }
      st = { repo: String(info.repo), hash: undefined, size, busy: false };
      this.#uploads.set(id, st);
    }
    if (st.repo !== repo) throw registryError('BLOB_UPLOAD_UNKNOWN', 'blob upload unknown to registry', { uuid: id });
    if (st.size !== size) {
      st.size = size;
      st.hash = undefined;
    }
    return st;
  }

  /** Bytes received so far. */
  async uploadSize(upload: UploadRef): Promise<number> {
    return (await this.#upload(upload)).size;
  }

  /**
   * Appends a chunk. With `start` (from Content-Range) the chunk must begin where the data ends,
   * else RANGE_INVALID (416); with `length` the chunk must be exactly that long. A failed chunk
   * is rolled back, so the client may resend it.
   */
  async appendUpload(upload: UploadRef, body: Readable, opts: { start?: number; length?: number } = {}): Promise<number> {
    const { id } = upload;
    const st = await this.#upload(upload);
    if (st.busy) throw registryError('RANGE_INVALID', 'another chunk of this upload is in progress', { uuid: id });
    if (opts.start !== undefined && opts.start !== st.size) {
      throw registryError('RANGE_INVALID', `chunk starts at ${opts.start}, the upload has ${st.size} bytes`, { uuid: id });
    }
    st.busy = true;
    const before = st.size;
    const saved = st.hash?.copy();
    const meter = new Meter(st.hash, opts.length);
    const path = join(this.#uploadDir(id), 'data');
    try {
      await pipeline(body, meter, createWriteStream(path, { flags: 'r+', start: before }));
      if (opts.length !== undefined && meter.bytes !== opts.length) {
        throw registryError('BLOB_UPLOAD_INVALID', `chunk has ${meter.bytes} bytes, ${opts.length} announced`, { uuid: id });
      }
      st.size = before + meter.bytes;
      return st.size;
    } catch (err) {
      await truncate(path, before).catch(() => {});
      st.size = before;
      st.hash = saved;
      throw err;
    } finally {
      st.busy = false;
    }
  }

  /** Ends an upload: verifies the digest, then moves the data into the blob store. A mismatch discards the upload. */
  async completeUpload(upload: UploadRef, digest: string): Promise<number> {
    const { repo, id } = upload;
    const d = validateDigest(digest);
    const st = await this.#upload(upload);
    if (st.busy) throw registryError('RANGE_INVALID', 'a chunk of this upload is in progress', { uuid: id });
    st.busy = true;
    const dir = this.#uploadDir(id);
    const data = join(dir, 'data');
    try {
      const got = d.algorithm === 'sha256' && st.hash ? st.hash.copy().digest('hex') : await hashFile(data, d.algorithm);
      if (got !== d.hex) {
        await this.#dropUpload(id);
        throw registryError('DIGEST_INVALID', 'provided digest did not match uploaded content', { expected: digest, actual: `${d.algorithm}:${got}` });
      }
      await this.#commitBlob(data, d);
      await this.#linkBlob(repo, d);
      await this.#dropUpload(id);
      return st.size;
    } finally {
      st.busy = false;
    }
  }

  async cancelUpload(upload: UploadRef): Promise<void> {
    const st = await this.#upload(upload);
    if (st.busy) throw registryError('RANGE_INVALID', 'a chunk of this upload is in progress', { uuid: upload.id });
    await this.#dropUpload(upload.id);
  }

  async #dropUpload(id: string): Promise<void> {
    this.#uploads.delete(id);
    await rm(this.#uploadDir(id), { recursive: true, force: true });
  }

  /** Removes upload sessions idle for longer than the maximum age. */
  async purgeUploads(now = Date.now()): Promise<string[]> {
    const dir = join(this.root, '_uploads');
    const removed: string[] = [];
    for (const id of await listDir(dir)) {
      const st = isUploadId(id) ? this.#uploads.get(id) : undefined;
      if (st?.busy) continue;
      let mtime = 0;
      try {
        mtime = (await stat(join(dir, id, 'data'))).mtimeMs;
      } catch {}
      if (!isUploadId(id) || now - mtime > this.#uploadMaxAgeMs) {
        this.#uploads.delete(id);
        await rm(join(dir, id), { recursive: true, force: true });
        removed.push(id);
      }
    }
    return removed;
  }

  // ---- manifests ----

  async #readRevision(repo: string, d: ParsedDigest): Promise<RevisionRecord | undefined> {
    let text: string;
    try {
      text = await readFile(this.#revisionPath(repo, d), 'utf8');
    } catch (err) {
      if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return undefined;
      throw err;
    }
    const rec = JSON.parse(text) as RevisionRecord;
    return { digest: `${d.algorithm}:${d.hex}`, mediaType: String(rec.mediaType) };
  }

  /** The digest a tag or digest reference names in the repository; MANIFEST_UNKNOWN when none. */
  async resolve(repo: string, reference: string): Promise<string> {
    if (isTag(reference)) {
      try {
        const digest = (await readFile(this.#tagPath(repo, reference), 'utf8')).trim();
        validateDigest(digest);
        return digest;
      } catch (err) {
        if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) throw registryError('MANIFEST_UNKNOWN', 'manifest unknown', { tag: reference });
        throw err;
      }
    }
    validateDigest(reference);
    return reference;
  }

  async getManifest(repo: string, reference: string): Promise<ManifestRecord> {
    validateRepositoryName(repo);
    const digest = await this.resolve(repo, reference);
    const d = validateDigest(digest);
    const rev = await this.#readRevision(repo, d);
    if (!rev) throw registryError('MANIFEST_UNKNOWN', 'manifest unknown', { digest });
    let bytes: Buffer;
    try {
      bytes = await readFile(this.#blobPath(d));
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw registryError('MANIFEST_UNKNOWN', 'manifest unknown', { digest });
      throw err;
    }
    return { digest, mediaType: rev.mediaType, bytes };
  }

  /**
   * Stores a manifest under a tag or its digest. Checks its JSON, that a digest reference matches
   * the bytes, and that every blob and child manifest it names is in the repository.
   */
  async putManifest(repo: string, reference: string, opts: { bytes: Buffer; contentType: string }): Promise<{ digest: string; manifest: ParsedManifest }> {
    const { bytes, contentType } = opts;
    validateRepositoryName(repo);
    const byDigest = !isTag(reference);
    const ref = byDigest ? validateDigest(reference) : undefined;
    if (bytes.byteLength > MAX_MANIFEST_SIZE) throw registryError('SIZE_INVALID', `manifest exceeds the limit of ${MAX_MANIFEST_SIZE} bytes`);
    const algorithm = ref?.algorithm ?? 'sha256';
    const hex = createHash(algorithm).update(bytes).digest('hex');
    if (ref && ref.hex !== hex) {
      throw registryError('DIGEST_INVALID', 'manifest digest did not match the reference', { expected: reference, actual: `${algorithm}:${hex}` });
    }
    const d: ParsedDigest = { algorithm, hex };
    const digest = `${algorithm}:${hex}`;
    const m = parseManifest(bytes, contentType);
    for (const b of m.blobs) {
      const bd = validateDigest(b);
      if ((await fileSize(this.#layerLink(repo, bd))) === undefined || (await fileSize(this.#blobPath(bd))) === undefined) {
        throw registryError('MANIFEST_BLOB_UNKNOWN', 'blob unknown to registry', { digest: b });
      }
    }
    for (const c of m.manifests) {
      if (!(await this.#readRevision(repo, validateDigest(c)))) throw registryError('MANIFEST_BLOB_UNKNOWN', 'manifest unknown to registry', { digest: c });
    }
    await this.#lock(repo).run(async () => {
      if ((await fileSize(this.#blobPath(d))) === undefined) {
        const tmp = join(this.root, 'blobs', '.tmp', randomBytes(12).toString('hex'));
        try {
          const fh = await open(tmp, 'wx', 0o644);
          try {
            await fh.writeFile(bytes);
          } finally {
            await fh.close();
          }
          await this.#commitBlob(tmp, d);
        } finally {
          await unlink(tmp).catch(() => {});
        }
      }
      await this.#writeLink(this.#revisionPath(repo, d), `${JSON.stringify({ digest, mediaType: m.mediaType })}\n`);
      if (m.subject !== undefined) {
        const desc: Descriptor = { mediaType: m.mediaType, digest, size: bytes.byteLength };
        if (m.artifactType !== undefined) desc.artifactType = m.artifactType;
        if (m.annotations !== undefined) desc.annotations = m.annotations;
        await this.#writeLink(join(this.#referrersDir(repo, validateDigest(m.subject)), `${algorithm}-${hex}`), `${JSON.stringify(desc)}\n`);
      }
      if (!byDigest) await this.#writeLink(this.#tagPath(repo, reference), `${digest}\n`);
    });
    return { digest, manifest: m };
  }

  /** Deletes a tag, or a manifest by digest together with the tags that point to it. */
  async deleteManifest(repo: string, reference: string): Promise<void> {
    validateRepositoryName(repo);
    await this.#lock(repo).run(async () => {
      if (isTag(reference)) {
        try {
          await unlink(this.#tagPath(repo, reference));
          return;
        } catch (err) {
          if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) throw registryError('MANIFEST_UNKNOWN', 'manifest unknown', { tag: reference });
          throw err;
        }
      }
      const d = validateDigest(reference);
      const rev = await this.#readRevision(repo, d);
      if (!rev) throw registryError('MANIFEST_UNKNOWN', 'manifest unknown', { digest: reference });
      let subject: string | undefined;
      try {
        subject = parseManifest(await readFile(this.#blobPath(d)), rev.mediaType).subject;
      } catch {}
      await unlink(this.#revisionPath(repo, d));
      for (const tag of await this.tags(repo).catch(() => [])) {
        const p = this.#tagPath(repo, tag);
        const target = await readFile(p, 'utf8').catch(() => '');
        if (target.trim() === reference) await unlink(p).catch(() => {});
      }
      const sd = subject === undefined ? undefined : parseDigest(subject);
      if (sd) await unlink(join(this.#referrersDir(repo, sd), `${d.algorithm}-${d.hex}`)).catch(() => {});
    });
  }

  async repositoryExists(repo: string): Promise<boolean> {
    const dir = this.#repoDir(repo);
    for (const sub of ['_manifests', '_layers']) {
      try {
        if ((await stat(join(dir, sub))).isDirectory()) return true;
      } catch {}
    }
    return false;
  }

  /** The repository's tags, sorted; NAME_UNKNOWN when there is no such repository. */
  async tags(repo: string): Promise<string[]> {
    if (!(await this.repositoryExists(repo))) throw registryError('NAME_UNKNOWN', 'repository name not known to registry', { name: repo });
    const names = await listDir(join(this.#repoDir(repo), '_manifests', 'tags'));
    return names.filter(isTag).sort();
  }

  /** All repositories that hold manifests or blobs, sorted. */
  async repositories(): Promise<string[]> {
    const out: string[] = [];
    const walk = async (dir: string, prefix: string[]): Promise<void> => {
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      if (prefix.length > 0 && entries.some((e) => e.isDirectory() && (e.name === '_manifests' || e.name === '_layers'))) out.push(prefix.join('/'));
      for (const e of entries) {
        if (e.isDirectory() && !e.name.startsWith('_') && !e.name.startsWith('.')) await walk(join(dir, e.name), [...prefix, e.name]);
      }
    };
    await walk(join(this.root, 'repositories'), []);
    return out.sort();
  }

  /** The manifest digests stored in a repository. */
  async revisions(repo: string): Promise<RevisionRecord[]> {
    const out: RevisionRecord[] = [];
    const base = join(this.#repoDir(repo), '_manifests', 'revisions');
    for (const alg of await listDir(base)) {
      for (const hex of await listDir(join(base, alg))) {
        const d = parseDigest(`${alg}:${hex}`);
        if (!d) continue;
        const rev = await this.#readRevision(repo, d);
        if (rev) out.push(rev);
      }
    }
    return out;
  }

  /** Removes a manifest revision without touching tags (gc of untagged manifests). */
  async removeRevision(repo: string, digest: string): Promise<void> {
    await unlink(this.#revisionPath(repo, validateDigest(digest))).catch(() => {});
  }

  /** The blob digests a repository links to. */
  async layerLinks(repo: string): Promise<string[]> {
    const out: string[] = [];
    const base = join(this.#repoDir(repo), '_layers');
    for (const alg of await listDir(base)) {
      for (const hex of await listDir(join(base, alg))) if (parseDigest(`${alg}:${hex}`)) out.push(`${alg}:${hex}`);
    }
    return out;
  }

  async removeLayerLink(repo: string, digest: string): Promise<void> {
    await unlink(this.#layerLink(repo, validateDigest(digest))).catch(() => {});
  }

  /** Every blob in the store with its size. */
  async allBlobs(): Promise<{ digest: string; size: number }[]> {
    const out: { digest: string; size: number }[] = [];
    for (const alg of ['sha256', 'sha512']) {
      for (const hex of await listDir(join(this.root, 'blobs', alg))) {
        const d = parseDigest(`${alg}:${hex}`);
        if (!d) continue;
        const size = await fileSize(this.#blobPath(d));
        if (size !== undefined) out.push({ digest: `${alg}:${hex}`, size });
      }
    }
    return out;
  }

  async readBlob(digest: string, maxBytes: number): Promise<Buffer> {
    const d = validateDigest(digest);
    const size = await fileSize(this.#blobPath(d));
    if (size === undefined) throw registryError('BLOB_UNKNOWN', 'blob unknown to registry', { digest });
    if (size > maxBytes) throw registryError('SIZE_INVALID', `blob ${digest} exceeds ${maxBytes} bytes`);
    return readFile(this.#blobPath(d));
  }

  async removeBlob(digest: string): Promise<void> {
    await unlink(this.#blobPath(validateDigest(digest))).catch((err: unknown) => {
      if (!isErrno(err, 'ENOENT')) throw err;
    });
  }

  /** Descriptors of the repository's manifests whose subject is `digest`. */
  async referrers(repo: string, digest: string): Promise<Descriptor[]> {
    validateRepositoryName(repo);
    const dir = this.#referrersDir(repo, validateDigest(digest));
    const out: Descriptor[] = [];
    for (const name of await listDir(dir)) {
      const dash = name.indexOf('-');
      const d = parseDigest(`${name.slice(0, dash)}:${name.slice(dash + 1)}`);
      if (!d || !(await this.#readRevision(repo, d))) continue;
      try {
        out.push(JSON.parse(await readFile(join(dir, name), 'utf8')) as Descriptor);
      } catch {}
    }
    return out.sort((a, b) => (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0));
  }
}

async function createEmptyFile(path: string): Promise<void> {
  const fh = await open(path, 'wx', 0o600);
  await fh.close();
}
