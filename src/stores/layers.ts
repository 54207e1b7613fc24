// Unpacked layers, keyed by chain ID, at <dataRoot>/layers/<chainhex>/diff (an overlay lowerdir).
//
// A layer is extracted into a temp directory, renamed to its chain ID once its diff ID is known,
// and its metadata (layer.json) is written last: a layer directory without metadata is incomplete
// and is removed on open. Short links l/<26 chars> -> ../<chainhex>/diff keep overlay's lowerdir=
// option short: the whole option string must fit in one page.
import { mkdir, readdir, readlink, rename, rm, symlink, unlink, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes, createHash } from 'node:crypto';
import { createReadStream, constants, openSync } from 'node:fs';
import { Transform, type Readable } from 'node:stream';
import { conflict, internal, invalidParameter, notFound, notImplemented } from '../core/errors.ts';
import { digestHex, sha256Digest, validateDigest } from '../core/digest.ts';
import { Mutex } from '../lib/mutex.ts';
import { ensureDir, readJson, writeJsonAtomic, removeAll } from '../adapters/fs/index.ts';
import { extractLayer, rebuildTar, cleanEntryPath, resolveInRoot, type ExtractOptions } from '../adapters/tar/index.ts';

export interface LayerRecord {
  chainId: string;
  diffId: string;
  /** Chain ID of the layer below, or null for a base layer. */
  parent: string | null;
  /** Bytes of regular files in the layer. */
  size: number;
  /** Name of the short link in layers/l/. */
  link: string;
  /** Bytes of the uncompressed tar the layer came from. */
  tarSize?: number;
  /** Whether tar-split.gz can rebuild that tar exactly (push, save). */
  split?: boolean;
}

const METADATA = 'layer.json';
const SPLIT = 'tar-split.gz';
const LINK_DIR = 'l';
const TEMP_PREFIX = '.tmp-';
const LINK_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const LINK_LENGTH = 26;

/** chainID(L1) = diffID(L1); chainID(Ln) = sha256(chainID(Ln-1) + " " + diffID(Ln)) (OCI image spec). */
export function chainId(parent: string | null | undefined, diffId: string): string {
  validateDigest(diffId);
  if (parent === null || parent === undefined) return diffId;
  return sha256Digest(`${validateDigest(parent)} ${diffId}`);
}

/** Chain IDs of a stack of diff IDs, bottom first. */
export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  let parent: string | null = null;
  for (const d of diffIds) {
    parent = chainId(parent, d);
    out.push(parent);
  }
  return out;
}

function randomLinkName(): string {
  const bytes = randomBytes(LINK_LENGTH);
  let s = '';
  for (const b of bytes) s += LINK_CHARS[b % LINK_CHARS.length];
  return s;
}

function isRecord(v: unknown): v is LayerRecord {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return (
    typeof r.chainId === 'string' &&
    typeof r.diffId === 'string' &&
    (r.parent === null || typeof r.parent === 'string') &&
    typeof r.size === 'number' &&
    typeof r.link === 'string' &&
    /^[A-Z0-9]{26}$/.test(r.link)
  );
}


/** An unpacked layer waiting for its place in a chain; commit or discard it exactly once. */
export interface StagedLayer {
  diffId: string;
  tarSize: number;
  commit(parent: string | null, opts?: { hold?: boolean }): Promise<LayerRecord>;
  discard(): Promise<void>;
}

export interface RegisterOptions extends ExtractOptions {
  /** Chain ID of the layer this one sits on. */
  parent?: string | null;
  /** Take a hold on the layer (atomically with registering it); see hold(). */
  hold?: boolean;
}

export class LayerStore {
  #root: string;
  #layers = new Map<string, LayerRecord>();
  #lock = new Mutex();
  #holds = new Map<string, number>();

  private constructor(root: string) {
    this.#root = root;
  }

  /** Opens the store, removing incomplete layers, temp directories and dangling short links. */
  static async open(opts: { dataRoot: string }): Promise<LayerStore> {
    const root = join(opts.dataRoot, 'layers');
    // Not traversable by other users (CVE-2021-41091): layer contents keep their own modes.
    await ensureDir(root, 0o700);
    await chmod(root, 0o700);
    await ensureDir(join(root, LINK_DIR), 0o700);
    const store = new LayerStore(root);
    await store.#load();
    return store;
  }

  async #load(): Promise<void> {
    for (const name of await readdir(this.#root)) {
      if (name === LINK_DIR) continue;
      const dir = join(this.#root, name);
      if (name.startsWith(TEMP_PREFIX)) {
        await removeAll(dir);
        continue;
      }
      if (!/^[0-9a-f]{64}$/.test(name)) continue;
      let meta: unknown;
      try {
        meta = await readJson<unknown>(join(dir, METADATA));
      } catch {
        meta = undefined;
      }
      if (!isRecord(meta) || meta.chainId !== `sha256:${name}`) {
        await removeAll(dir);
        continue;
      }
      this.#layers.set(meta.chainId, meta);
    }
    const wanted = new Map<string, LayerRecord>();
    for (const r of this.#layers.values()) wanted.set(r.link, r);
    const linkDir = join(this.#root, LINK_DIR);
    for (const name of await readdir(linkDir)) {
      const r = wanted.get(name);
      let ok = false;
      if (r !== undefined) ok = (await readlink(join(linkDir, name)).catch(() => '')) === this.#linkTarget(r.chainId);
      if (!ok) await unlink(join(linkDir, name)).catch(() => {});
      else wanted.delete(name);
    }
    // Links lost in a crash are made again.
    for (const r of wanted.values()) await symlink(this.#linkTarget(r.chainId), join(linkDir, r.link));
  }

  #linkTarget(chain: string): string {
    return `../${digestHex(chain)}/diff`;
  }

  has(chain: string): boolean {
    return this.#layers.has(chain);
  }

  /**
   * Holds keep a layer from removal while an image that will use it is still being created;
   * release() each hold taken.
   */
  hold(chain: string): void {
    this.#holds.set(chain, (this.#holds.get(chain) ?? 0) + 1);
  }

  release(chain: string): void {
    const n = (this.#holds.get(chain) ?? 0) - 1;
    if (n <= 0) this.#holds.delete(chain);
    else this.#holds.set(chain, n);
  }

  isHeld(chain: string): boolean {
    return this.#holds.has(chain);
  }

  get(chain: string): LayerRecord | undefined {
    return this.#layers.get(chain);
  }

  list(): LayerRecord[] {
    return [...this.#layers.values()];
  }

  /** The layer's unpacked directory. */
  diffPath(chain: string): string {
    if (!this.#layers.has(chain)) throw notFound(`layer ${chain} not found`);
    return join(this.#root, digestHex(chain), 'diff');
  }

  /** Absolute short-link paths for overlay's lowerdir=, in the order given (top layer first). */
  lowerDirs(chainIdsTopFirst: readonly string[]): string[] {
    return chainIdsTopFirst.map((c) => {
      const r = this.#layers.get(c);
      if (r === undefined) throw notFound(`layer ${c} not found`);
      return join(this.#root, LINK_DIR, r.link);
    });
  }

  /** Unpacks a layer tar on top of parent; returns the existing record when the layer is known. */
  async register(input: NodeJS.ReadableStream, opts: RegisterOptions = {}): Promise<LayerRecord> {
    const parent = opts.parent ?? null;
    if (parent !== null && !this.#layers.has(parent)) throw notFound(`parent layer ${parent} not found`);
    const staged = await this.stage(input, opts);
    return staged.commit(parent, opts.hold === true ? { hold: true } : {});
  }

  /**
   * Unpacks a layer tar into a staging directory without choosing its parent yet, so layers of one
   * image can be unpacked side by side while they download; commit() them bottom first.
   */
  async stage(input: NodeJS.ReadableStream, opts: ExtractOptions = {}): Promise<StagedLayer> {
    const tmp = join(this.#root, `${TEMP_PREFIX}${randomBytes(8).toString('hex')}`);
    const diff = join(tmp, 'diff');
    await mkdir(tmp, { mode: 0o700 });
    await mkdir(diff, { mode: 0o755 });
    let res: Awaited<ReturnType<typeof extractLayer>>;
    try {
      const extractOpts: ExtractOptions = { splitPath: join(tmp, SPLIT) };
      if (opts.maxBytes !== undefined) extractOpts.maxBytes = opts.maxBytes;
      if (opts.signal !== undefined) extractOpts.signal = opts.signal;
      if (opts.onWarning !== undefined) extractOpts.onWarning = opts.onWarning;
      res = await extractLayer(input, diff, extractOpts);
    } catch (err) {
      await removeAll(tmp);
      throw err;
    }
    let settled = false;
    const discard = async (): Promise<void> => {
      if (settled) return;
      settled = true;
      await removeAll(tmp);
    };
    const commit = async (parent: string | null, copts: { hold?: boolean } = {}): Promise<LayerRecord> => {
      if (settled) throw internal('staged layer already committed or discarded');
      settled = true;
      let committed = false;
      try {
        const chain = chainId(parent, res.diffId);
        return await this.#lock.run(async () => {
          const known = this.#layers.get(chain);
          if (known !== undefined) {
            if (copts.hold) this.hold(chain);
            return known;
          }
          if (parent !== null && !this.#layers.has(parent)) throw notFound(`parent layer ${parent} not found`);
          const record: LayerRecord = { chainId: chain, diffId: res.diffId, parent, size: res.size, link: randomLinkName(), tarSize: res.tarSize, split: res.splitExact === true };
          const dir = join(this.#root, digestHex(chain));
          await rm(dir, { recursive: true, force: true });
          await rename(tmp, dir);
          committed = true;
          await symlink(this.#linkTarget(chain), join(this.#root, LINK_DIR, record.link));
          await writeJsonAtomic(join(dir, METADATA), record);
          this.#layers.set(chain, record);
          if (copts.hold) this.hold(chain);
          return record;
        });
      } finally {
        if (!committed) await removeAll(tmp);
      }
    };
    return { diffId: res.diffId, tarSize: res.tarSize, commit, discard };
  }

  /**
   * The layer's uncompressed tar exactly as it was registered (its digest is the diff ID), rebuilt
   * from the unpacked files and the tar-split records; the stream fails if the result differs.
   */
  tarStream(chain: string): Readable {
    const r = this.#layers.get(chain);
    if (r === undefined) throw notFound(`layer ${chain} not found`);
    if (r.split !== true) throw notImplemented(`layer ${r.diffId} cannot be exported: its original archive cannot be rebuilt from the unpacked files`);
    const dir = join(this.#root, digestHex(chain));
    const diff = join(dir, 'diff');
    const rebuilt = rebuildTar(join(dir, SPLIT), async (name) => {
      const parts = cleanEntryPath(Buffer.from(name, 'latin1').toString('utf8'));
      const parent = resolveInRoot(diff, parts.slice(0, -1), { create: false });
      // 1 MiB reads: the default 64 KiB costs a thread-pool round trip and a buffer per piece.
      return createReadStream('', { fd: openSync(join(parent, parts.at(-1) ?? ''), constants.O_RDONLY | constants.O_NOFOLLOW), highWaterMark: 1 << 20 });
    });
    const hash = createHash('sha256');
    const check = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        cb(null, chunk);
      },
      flush(cb) {
        const got = `sha256:${hash.digest('hex')}`;
        cb(got === r.diffId ? null : internal(`layer ${r.diffId}: rebuilt archive has digest ${got}; the layer is damaged`));
      },
    });
    rebuilt.on('error', (err) => check.destroy(err));
    return rebuilt.pipe(check);
  }

  /** Removes a layer; the caller (the image store) decides when no image needs it any more. */
  async remove(chain: string): Promise<void> {
    await this.#lock.run(async () => {
      const r = this.#layers.get(chain);
      if (r === undefined) return;
      if (this.#holds.has(chain)) throw conflict(`layer ${chain} is in use`);
      if ([...this.#layers.values()].some((l) => l.parent === chain)) {
        throw invalidParameter(`layer ${chain} has child layers`);
      }
      const dir = join(this.#root, digestHex(chain));
      const doomed = join(this.#root, `${TEMP_PREFIX}removing-${digestHex(chain)}`);
      this.#layers.delete(chain);
      // Renamed first: a crash part-way leaves a temp directory that open() removes.
      try {
        await rename(dir, doomed);
      } catch (err) {
        throw internal(`removing layer ${chain}`, err);
      }
      await unlink(join(this.#root, LINK_DIR, r.link)).catch(() => {});
      await removeAll(doomed);
    });
  }
}
