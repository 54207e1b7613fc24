// Which compressed blobs a layer is known by, and where: for each diff ID, the blob digests it was
// pulled as or pushed as, with their registry repository. Push uses it to skip uploads a registry
// already has and to mount blobs across repositories of one registry.
import { join } from 'node:path';
import { digestHex } from '../core/digest.ts';
import { ensureDir, readJson, writeJsonAtomic } from '../adapters/fs/index.ts';
import { Mutex } from '../lib/mutex.ts';

export interface BlobSource {
  digest: string;
  /** `host/path`, e.g. `docker.io/library/busybox` or `127.0.0.1:5000/team/app`. */
  repository: string;
  mediaType: string;
  size: number;
}

const MAX_ENTRIES = 50;

export class BlobMetadata {
  #dir: string;
  #lock = new Mutex();

  private constructor(dir: string) {
    this.#dir = dir;
  }

  static async open(opts: { dataRoot: string }): Promise<BlobMetadata> {
    const dir = join(opts.dataRoot, 'distribution', 'blobs-by-diff');
    await ensureDir(dir, 0o700);
    return new BlobMetadata(dir);
  }

  async get(diffId: string): Promise<BlobSource[]> {
    const v = await readJson<unknown>(join(this.#dir, `${digestHex(diffId)}.json`)).catch(() => undefined);
    if (!Array.isArray(v)) return [];
    return v.filter(
      (e): e is BlobSource =>
        typeof e === 'object' && e !== null && typeof e.digest === 'string' && typeof e.repository === 'string' && typeof e.mediaType === 'string' && typeof e.size === 'number',
    );
  }

  async add(diffId: string, src: BlobSource): Promise<void> {
    await this.#lock.run(async () => {
      const list = (await this.get(diffId)).filter((e) => !(e.digest === src.digest && e.repository === src.repository));
      list.unshift(src);
      await writeJsonAtomic(join(this.#dir, `${digestHex(diffId)}.json`), list.slice(0, MAX_ENTRIES));
    });
  }
}
