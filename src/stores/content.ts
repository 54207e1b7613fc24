// Blobs by digest at <dataRoot>/content/blobs/sha256/<hex>. A blob is written to a temp name in the
// same directory, hashed while it streams, and renamed into place only when its digest is known
// (and matches the expected one), so a stored blob is always whole and what its name says.
import { createReadStream, type ReadStream } from 'node:fs';
import { open, readFile, readdir, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes, createHash } from 'node:crypto';
import { invalidParameter, notFound } from '../core/errors.ts';
import { digestHex, validateDigest } from '../core/digest.ts';
import { ensureDir } from '../adapters/fs/index.ts';

const TEMP_PREFIX = '.tmp-';

export interface ContentPutOptions {
  /** Refuse blobs larger than this. */
  maxSize?: number;
  signal?: AbortSignal;
}

function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

export class ContentStore {
  #dir: string;

  private constructor(dir: string) {
    this.#dir = dir;
  }

  static async open(opts: { dataRoot: string }): Promise<ContentStore> {
    const dir = join(opts.dataRoot, 'content', 'blobs', 'sha256');
    await ensureDir(dir);
    // Temp files left by a crash mid-write.
    for (const name of await readdir(dir)) {
      if (name.startsWith(TEMP_PREFIX)) await unlink(join(dir, name)).catch(() => {});
    }
    return new ContentStore(dir);
  }

  /** The blob's path; the digest is validated before it becomes a path component. */
  path(digest: string): string {
    return join(this.#dir, digestHex(digest));
  }

  async has(digest: string): Promise<boolean> {
    try {
      await stat(this.path(digest));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  async size(digest: string): Promise<number> {
    try {
      return (await stat(this.path(digest))).size;
    } catch (err) {
      if (isNotFound(err)) throw notFound(`blob ${digest} not found`);
      throw err;
    }
  }

  async get(digest: string): Promise<Buffer> {
    try {
      return await readFile(this.path(digest));
    } catch (err) {
      if (isNotFound(err)) throw notFound(`blob ${digest} not found`);
      throw err;
    }
  }

  /** A read stream of the blob; throws NotFound when it is missing. */
  async openRead(digest: string): Promise<ReadStream> {
    const fh = await open(this.path(digest), 'r').catch((err: unknown) => {
      if (isNotFound(err)) throw notFound(`blob ${digest} not found`);
      throw err;
    });
    return createReadStream('', { fd: fh });
  }

  /** Stores bytes or a stream; returns its digest. With expectedDigest, a mismatch stores nothing. */
  async put(data: Uint8Array | NodeJS.ReadableStream, expectedDigest?: string, opts: ContentPutOptions = {}): Promise<string> {
    if (expectedDigest !== undefined) validateDigest(expectedDigest);
    const tmp = join(this.#dir, `${TEMP_PREFIX}${randomBytes(8).toString('hex')}`);
    const hash = createHash('sha256');
    const max = opts.maxSize ?? Number.POSITIVE_INFINITY;
    let size = 0;
    const fh = await open(tmp, 'wx', 0o600);
    let kept = false;
    try {
      const chunks: AsyncIterable<unknown> | Iterable<Uint8Array> = data instanceof Uint8Array ? [data] : data;
      for await (const chunk of chunks) {
        opts.signal?.throwIfAborted();
        const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Uint8Array);
        size += buf.byteLength;
        if (size > max) throw invalidParameter(`blob exceeds the size limit of ${max} bytes`);
        hash.update(buf);
        await fh.write(buf);
      }
      await fh.sync();
      await fh.close();
      const digest = `sha256:${hash.digest('hex')}`;
      if (expectedDigest !== undefined && digest !== expectedDigest) {
        throw invalidParameter(`digest mismatch: expected ${expectedDigest}, got ${digest}`);
      }
      await rename(tmp, this.path(digest));
      kept = true;
      const dfh = await open(this.#dir, 'r');
      await dfh.sync().finally(() => dfh.close());
      return digest;
    } finally {
      if (!kept) {
        await fh.close().catch(() => {});
        await unlink(tmp).catch(() => {});
      }
    }
  }

  async delete(digest: string): Promise<void> {
    await unlink(this.path(digest)).catch((err: unknown) => {
      if (!isNotFound(err)) throw err;
    });
  }

  async list(): Promise<string[]> {
    const names = await readdir(this.#dir);
    return names.filter((n) => /^[0-9a-f]{64}$/.test(n)).map((n) => `sha256:${n}`);
  }
}
