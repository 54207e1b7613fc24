// Images: records by config digest in <dataRoot>/images/<hex>.json (the config bytes themselves
// live in the content store, so the ID is always the digest of stored bytes), and every reference
// (tags and digests -> image ID) in one atomically written <dataRoot>/images/repositories.json.
// Layers are shared between images and removed when the last image using them goes.
import { EventEmitter } from 'node:events';
import { readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { conflict, invalidParameter, notFound, internal, type BerthError } from '../core/errors.ts';
import { isDigest, digestHex, sha256Digest } from '../core/digest.ts';
import { parseReference, withDefaultTag, formatReference, familiarName, type Reference } from '../core/reference.ts';
import type { ImageConfigFile, ImageRuntimeConfig } from '../core/types.ts';
import { Mutex } from '../lib/mutex.ts';
import { ensureDir, readJson, writeJsonAtomic } from '../adapters/fs/index.ts';
import { openArchive } from '../adapters/tar/index.ts';
import { ContentStore } from './content.ts';
import { LayerStore, chainIds as chainIdsOf, type RegisterOptions } from './layers.ts';

export interface ImageRecord {
  id: string /* sha256:… */;
  config: ImageConfigFile;
  chainIds: string[] /* bottom-first */;
  size: number;
  created: string;
  /** The image this one was committed or built from, when known locally. */
  parent?: string;
}

/** Who uses an image: a container's ID and whether it runs. `true` means "some container". */
export interface ImageUser {
  containerId: string;
  running: boolean;
}

export interface RemoveOptions {
  force: boolean;
  noPrune?: boolean;
  usedBy: (id: string) => boolean | ImageUser | undefined;
}

export type DeleteResponseItem = { Untagged?: string; Deleted?: string };

export interface ImportOptions {
  ref?: string;
  changes?: string[];
  message?: string;
  platform?: { os: string; architecture: string };
}

export interface CreateImageOptions {
  layerTars: NodeJS.ReadableStream[];
  config: Partial<ImageConfigFile>;
  ref?: string;
  parent?: string;
  /** Abort extraction once a layer's uncompressed stream exceeds this many bytes. */
  maxLayerBytes?: number;
  signal?: AbortSignal;
  /**
   * A commit's one layer that holds nothing (the empty tar) is not added, and the last history
   * entry says `empty_layer`, as Docker commits an unchanged container.
   */
  dropEmptyLayer?: boolean;
}

export type ImageEvent = 'tag' | 'untag' | 'delete' | 'import';

interface StoredRecord {
  id: string;
  chainIds: string[];
  size: number;
  created: string;
  parent?: string;
}

interface RepositoriesFile {
  references: Record<string, string>;
  lastTagTime: Record<string, string>;
}

const ZERO_TIME = '0001-01-01T00:00:00Z';
/** The diff ID of a tar with no entries (two zero blocks). */
const EMPTY_TAR_DIFF_ID = 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef';

/** Docker's short form of an image ID: 12 hex digits without the algorithm. */
function shortImageId(id: string): string {
  const i = id.indexOf(':');
  return id.slice(i + 1, i + 13);
}

/** process.arch in OCI's vocabulary. */
export function ociArchitecture(arch: string = process.arch): string {
  const map: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return map[arch] ?? arch;
}


function isStoredRecord(v: unknown): v is StoredRecord {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return (
    typeof r.id === 'string' &&
    isDigest(r.id) &&
    Array.isArray(r.chainIds) &&
    r.chainIds.every((c) => typeof c === 'string' && isDigest(c)) &&
    typeof r.size === 'number' &&
    typeof r.created === 'string' &&
    (r.parent === undefined || (typeof r.parent === 'string' && isDigest(r.parent)))
  );
}

function isConfigFile(v: unknown): v is ImageConfigFile {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  const rootfs = r.rootfs as Record<string, unknown> | undefined;
  return (
    typeof rootfs === 'object' &&
    rootfs !== null &&
    Array.isArray(rootfs.diff_ids) &&
    rootfs.diff_ids.every((d) => typeof d === 'string' && isDigest(d))
  );
}

/** Reference-store key: `domain/path:tag` or `domain/path@digest` (a digest wins over a tag). */
function refKey(ref: Reference): string {
  const r = withDefaultTag(ref);
  if (r.digest !== undefined) return `${r.domain}/${r.path}@${r.digest}`;
  return formatReference(r);
}

function repoOfKey(key: string): string {
  const at = key.indexOf('@');
  if (at >= 0) return key.slice(0, at);
  const slash = key.lastIndexOf('/');
  const colon = key.lastIndexOf(':');
  return colon > slash ? key.slice(0, colon) : key;
}

const isDigestKey = (key: string): boolean => key.includes('@');

interface DeleteConflict {
  hard: boolean;
  used: boolean;
  message: string;
}

export class ImageStore {
  #dir: string;
  #content: ContentStore;
  #layers: LayerStore;
  #images = new Map<string, ImageRecord>();
  #refs = new Map<string, string>();
  #lastTagTime = new Map<string, string>();
  #lock = new Mutex();
  #events = new EventEmitter();

  private constructor(dir: string, content: ContentStore, layers: LayerStore) {
    this.#dir = dir;
    this.#content = content;
    this.#layers = layers;
  }

  static async open(opts: { dataRoot: string }): Promise<ImageStore> {
    const dir = join(opts.dataRoot, 'images');
    await ensureDir(dir);
    const content = await ContentStore.open(opts);
    const layers = await LayerStore.open(opts);
    const store = new ImageStore(dir, content, layers);
    await store.#load();
    return store;
  }

  /** The layer store underneath, for the container rootfs code. */
  get layers(): LayerStore {
    return this.#layers;
  }

  get content(): ContentStore {
    return this.#content;
  }

  async #load(): Promise<void> {
    for (const name of await readdir(this.#dir)) {
      if (name.startsWith('.') && name.endsWith('.tmp')) {
        await unlink(join(this.#dir, name)).catch(() => {});
        continue;
      }
      const m = /^([0-9a-f]{64})\.json$/.exec(name);
      if (!m) continue;
      const path = join(this.#dir, name);
      const stored = await readJson<unknown>(path).catch(() => undefined);
      const record = isStoredRecord(stored) && stored.id === `sha256:${m[1]}` ? await this.#hydrate(stored) : undefined;
      if (record === undefined) {
        // A record whose config or layers are gone cannot be used; its references go with it.
        await unlink(path).catch(() => {});
        continue;
      }
      this.#images.set(record.id, record);
    }
    const repos = await readJson<unknown>(join(this.#dir, 'repositories.json')).catch(() => undefined);
    if (typeof repos === 'object' && repos !== null) {
      const r = repos as Partial<RepositoriesFile>;
      for (const [k, v] of Object.entries(r.references ?? {})) {
        if (typeof v === 'string' && this.#images.has(v)) this.#refs.set(k, v);
      }
      for (const [k, v] of Object.entries(r.lastTagTime ?? {})) {
        if (typeof v === 'string' && this.#images.has(k)) this.#lastTagTime.set(k, v);
      }
    }
    // Layers no image uses are left from a crash between layer and image commit.
    await this.#removeUnusedLayers();
  }

  async #hydrate(stored: StoredRecord): Promise<ImageRecord | undefined> {
    let config: unknown;
    try {
      const bytes = await this.#content.get(stored.id);
      if (sha256Digest(bytes) !== stored.id) return undefined;
      config = JSON.parse(bytes.toString('utf8'));
    } catch {
      return undefined;
    }
    if (!isConfigFile(config)) return undefined;
    if (!stored.chainIds.every((c) => this.#layers.has(c))) return undefined;
    const expected = chainIdsOf(config.rootfs.diff_ids);
    if (expected.join() !== stored.chainIds.join()) return undefined;
    const record: ImageRecord = { id: stored.id, config, chainIds: stored.chainIds, size: stored.size, created: stored.created };
    if (stored.parent !== undefined) record.parent = stored.parent;
    return record;
  }

  async #saveRepositories(): Promise<void> {
    const file: RepositoriesFile = {
      references: Object.fromEntries([...this.#refs.entries()].sort(([a], [b]) => (a < b ? -1 : 1))),
      lastTagTime: Object.fromEntries(this.#lastTagTime),
    };
    await writeJsonAtomic(join(this.#dir, 'repositories.json'), file);
  }

  on(event: ImageEvent, fn: (id: string, ref?: string) => void): void {
    this.#events.on(event, fn);
  }

  #emit(event: ImageEvent, id: string, ref?: string): void {
    this.#events.emit(event, id, ref);
  }

  // -------------------------------------------------------------------------------------------
  // Lookup

  #byIdPrefix(s: string): ImageRecord | undefined {
    const hex = s.startsWith('sha256:') ? s.slice(7) : s;
    if (hex.length === 0 || hex.length > 64 || !/^[0-9a-f]+$/.test(hex)) return undefined;
    let found: ImageRecord | undefined;
    for (const r of this.#images.values()) {
      if (r.id.startsWith(`sha256:${hex}`)) {
        if (found !== undefined) return undefined; // ambiguous
        found = r;
      }
    }
    return found;
  }

  resolve(refOrId: string): ImageRecord | undefined {
    if (typeof refOrId !== 'string' || refOrId.length === 0) return undefined;
    if (isDigest(refOrId)) return this.#images.get(refOrId);
    if (/^[0-9a-f]{64}$/.test(refOrId)) return this.#images.get(`sha256:${refOrId}`);
    let ref: Reference | undefined;
    try {
      ref = parseReference(refOrId);
    } catch {
      ref = undefined;
    }
    if (ref !== undefined) {
      const id = this.#refs.get(refKey(ref));
      if (id !== undefined) return this.#images.get(id);
    }
    return this.#byIdPrefix(refOrId);
  }

  get(id: string): ImageRecord {
    const r = this.resolve(id);
    if (r === undefined) throw notFound(`No such image: ${id}`);
    return r;
  }

  list(): ImageRecord[] {
    return [...this.#images.values()].sort((a, b) => (a.created < b.created ? 1 : a.created > b.created ? -1 : 0));
  }

  #keysOf(id: string): string[] {
    const out: string[] = [];
    for (const [k, v] of this.#refs) if (v === id) out.push(k);
    return out.sort();
  }

  tagsOf(id: string): string[] {
    const r = this.get(id);
    return this.#keysOf(r.id)
      .filter((k) => !isDigestKey(k))
      .map((k) => familiarName(k));
  }

  digestsOf(id: string): string[] {
    const r = this.get(id);
    return this.#keysOf(r.id)
      .filter(isDigestKey)
      .map((k) => familiarName(k));
  }

  lowerDirs(id: string): string[] {
    const r = this.get(id);
    return this.#layers.lowerDirs([...r.chainIds].reverse());
  }

  // -------------------------------------------------------------------------------------------
  // References

  async tag(id: string, ref: string): Promise<void> {
    const parsed = parseReference(ref);
    if (parsed.digest !== undefined) throw invalidParameter('refusing to create a tag with a digest reference');
    await this.#lock.run(async () => {
      const image = this.get(id);
      await this.#addRef(image.id, parsed);
    });
  }

  /** Adds a tag or a digest reference (`name@sha256:…`, as a pull records it). */
  async addReference(id: string, ref: string): Promise<void> {
    const parsed = parseReference(ref);
    await this.#lock.run(async () => {
      const image = this.get(id);
      await this.#addRef(image.id, parsed);
    });
  }

  async #addRef(id: string, ref: Reference): Promise<void> {
    const key = refKey(ref);
    this.#refs.set(key, id);
    this.#lastTagTime.set(id, new Date().toISOString());
    await this.#saveRepositories();
    this.#emit('tag', id, familiarName(key));
  }

  // -------------------------------------------------------------------------------------------
  // Creation

  async createImage(opts: CreateImageOptions): Promise<ImageRecord> {
    const ref = opts.ref !== undefined ? parseReference(opts.ref) : undefined;
    if (ref?.digest !== undefined) throw invalidParameter('refusing to create a tag with a digest reference');
    // A child image (commit, build) stacks its new layers on the parent's.
    const base = opts.parent !== undefined ? this.get(opts.parent) : undefined;
    const chains: string[] = [];
    const diffIds: string[] = [...(base?.config.rootfs.diff_ids ?? [])];
    for (const c of base?.chainIds ?? []) {
      this.#layers.hold(c);
      chains.push(c);
    }
    let ok = false;
    let emptied = false;
    try {
      let parent: string | null = base?.chainIds.at(-1) ?? null;
      for (const input of opts.layerTars) {
        const layerOpts: RegisterOptions = { parent, hold: true };
        if (opts.maxLayerBytes !== undefined) layerOpts.maxBytes = opts.maxLayerBytes;
        if (opts.signal !== undefined) layerOpts.signal = opts.signal;
        const layer = await this.#layers.register(input, layerOpts);
        if (opts.dropEmptyLayer && opts.layerTars.length === 1 && layer.diffId === EMPTY_TAR_DIFF_ID) {
          this.#layers.release(layer.chainId);
          await this.#lock.run(() => this.#removeUnusedLayers([layer.chainId]));
          emptied = true;
          continue;
        }
        chains.push(layer.chainId);
        diffIds.push(layer.diffId);
        parent = layer.chainId;
      }
      const given = opts.config.rootfs?.diff_ids;
      if (given !== undefined && given.join() !== diffIds.join()) {
        throw invalidParameter('layer content does not match the diff IDs in the image config');
      }
      const history = opts.config.history;
      const config = buildConfig(emptied && history && history.length > 0 ? { ...opts.config, history: [...history.slice(0, -1), { ...history.at(-1)!, empty_layer: true }] } : opts.config, diffIds);
      const bytes = Buffer.from(JSON.stringify(config));
      const id = sha256Digest(bytes);
      const size = chains.reduce((n, c) => n + (this.#layers.get(c)?.size ?? 0), 0);
      return await this.#lock.run(async () => {
        let record = this.#images.get(id);
        if (record === undefined) {
          await this.#content.put(bytes, id);
          record = { id, config, chainIds: chains, size, created: config.created ?? new Date().toISOString() };
          if (opts.parent !== undefined) record.parent = this.get(opts.parent).id;
          const stored: StoredRecord = { id, chainIds: chains, size, created: record.created };
          if (record.parent !== undefined) stored.parent = record.parent;
          await writeJsonAtomic(join(this.#dir, `${digestHex(id)}.json`), stored);
          this.#images.set(id, record);
        }
        if (ref !== undefined) await this.#addRef(id, ref);
        ok = true;
        return record;
      });
    } finally {
      for (const c of chains) this.#layers.release(c);
      // Layers of a failed creation that no image uses are removed again.
      if (!ok) await this.#lock.run(() => this.#removeUnusedLayers(chains)).catch(() => {});
    }
  }

  /**
   * Records an image whose config bytes came from elsewhere (a registry, an archive) and whose layers
   * are already in the layer store, bottom first; the ID is the digest of those exact bytes.
   */
  async createFromConfig(configBytes: Buffer, chains: readonly string[], refs: readonly string[] = []): Promise<ImageRecord> {
    let config: unknown;
    try {
      config = JSON.parse(configBytes.toString('utf8'));
    } catch (err) {
      throw invalidParameter(`invalid image config: ${(err as Error).message}`);
    }
    if (!isConfigFile(config)) throw invalidParameter('invalid image config: no rootfs.diff_ids');
    const diffIds = chains.map((c) => this.#layers.get(c)?.diffId);
    if (config.rootfs.diff_ids.join() !== diffIds.join() || chainIdsOf(config.rootfs.diff_ids).join() !== chains.join()) {
      throw invalidParameter('layer content does not match the diff IDs in the image config');
    }
    const parsed = refs.map((r) => parseReference(r));
    const id = sha256Digest(configBytes);
    const size = chains.reduce((n, c) => n + (this.#layers.get(c)?.size ?? 0), 0);
    return this.#lock.run(async () => {
      let record = this.#images.get(id);
      if (record === undefined) {
        await this.#content.put(configBytes, id);
        const created = typeof config.created === 'string' && !Number.isNaN(Date.parse(config.created)) ? config.created : new Date().toISOString();
        record = { id, config, chainIds: [...chains], size, created };
        const stored: StoredRecord = { id, chainIds: [...chains], size, created };
        await writeJsonAtomic(join(this.#dir, `${digestHex(id)}.json`), stored);
        this.#images.set(id, record);
      }
      for (const ref of parsed) await this.#addRef(id, ref);
      return record;
    });
  }

  /** Removes those of the given layers that no image uses (after a failed pull or load). */
  async removeUnusedLayers(chains: readonly string[]): Promise<void> {
    await this.#lock.run(() => this.#removeUnusedLayers(chains));
  }

  /** The image's config exactly as stored (its digest is the image ID). */
  configBytes(id: string): Promise<Buffer> {
    return this.#content.get(this.get(id).id);
  }

  async importRootfs(input: NodeJS.ReadableStream, opts: ImportOptions): Promise<ImageRecord> {
    const runtime = applyChanges({}, opts.changes ?? []);
    const created = new Date().toISOString();
    const comment = opts.message ?? 'Imported from -';
    const config: Partial<ImageConfigFile> = {
      architecture: opts.platform?.architecture ?? ociArchitecture(),
      os: opts.platform?.os ?? 'linux',
      created,
      comment,
      config: runtime,
      history: [{ created, comment }],
    };
    // xz and bzip2 tarballs are decompressed here (gzip and zstd are the layer store's own).
    const { source, decompressor } = await openArchive(input, { programs: true });
    let plain: NodeJS.ReadableStream = source;
    if (decompressor) {
      source.on('error', (err: Error) => decompressor.destroy(err));
      plain = source.pipe(decompressor);
    }
    const createOpts: CreateImageOptions = { layerTars: [plain], config };
    if (opts.ref !== undefined) createOpts.ref = opts.ref;
    const record = await this.createImage(createOpts);
    this.#emit('import', record.id, opts.ref !== undefined ? familiarName(opts.ref) : undefined);
    return record;
  }

  // -------------------------------------------------------------------------------------------
  // Removal (Docker's rules: untag by name, delete by ID, conflicts soft and hard)

  async remove(refOrId: string, opts: RemoveOptions): Promise<DeleteResponseItem[]> {
    return this.#lock.run(() => this.#remove(refOrId, opts));
  }

  async #remove(refOrId: string, opts: RemoveOptions): Promise<DeleteResponseItem[]> {
    const image = this.resolve(refOrId);
    if (image === undefined) throw noSuchImage(refOrId);
    const id = image.id;
    const records: DeleteResponseItem[] = [];
    const user = normalizeUser(opts.usedBy(id));
    let keys = this.#keysOf(id);
    let quiet = false;

    if (!isIdPrefix(id, refOrId)) {
      // A name was given: untag it first.
      if (!opts.force && isSingleReference(keys) && user !== undefined) {
        const who = user.containerId ? `container ${user.containerId.slice(0, 12)}` : 'a container';
        throw conflict(
          `conflict: unable to remove repository reference ${JSON.stringify(refOrId)} (must force) - ${who} is using its referenced image ${shortImageId(id)}`,
        );
      }
      const ref = withDefaultTag(parseReference(refOrId));
      const key = refKey(ref);
      this.#refs.delete(key);
      await this.#saveRepositories();
      records.push({ Untagged: familiarName(key) });
      this.#emit('untag', id, familiarName(key));
      keys = this.#keysOf(id);
      if (!isDigestKey(key)) {
        const repo = repoOfKey(key);
        const tagLeft = keys.some((k) => !isDigestKey(k) && repoOfKey(k) === repo);
        if (!tagLeft) {
          for (const k of keys.filter((k) => isDigestKey(k) && repoOfKey(k) === repo)) {
            this.#refs.delete(k);
            records.push({ Untagged: familiarName(k) });
            this.#emit('untag', id, familiarName(k));
          }
          await this.#saveRepositories();
          keys = this.#keysOf(id);
        }
      }
      if (keys.length > 0) return records;
      quiet = true;
    } else if (isSingleReference(keys)) {
      const c = this.#conflict(id, user, { hard: true, references: false, stopped: !opts.force });
      if (c !== undefined) throw conflictError(id, c);
      await this.#untagAll(id, records);
    }

    await this.#deleteHelper(id, records, { force: opts.force, prune: !opts.noPrune, quiet, usedBy: opts.usedBy });
    return records;
  }

  async #untagAll(id: string, records: DeleteResponseItem[]): Promise<void> {
    const keys = this.#keysOf(id);
    if (keys.length === 0) return;
    for (const k of keys) this.#refs.delete(k);
    await this.#saveRepositories();
    for (const k of keys) {
      records.push({ Untagged: familiarName(k) });
      this.#emit('untag', id, familiarName(k));
    }
  }

  #conflict(id: string, user: ImageUser | undefined, mask: { hard: boolean; references: boolean; stopped: boolean }): DeleteConflict | undefined {
    if (mask.hard) {
      if ([...this.#images.values()].some((r) => r.parent === id)) {
        return { hard: true, used: false, message: 'image has dependent child images' };
      }
      if (user?.running) {
        return { hard: true, used: true, message: `image is being used by running container ${user.containerId.slice(0, 12)}` };
      }
    }
    if (mask.references && this.#keysOf(id).length > 0) {
      return { hard: false, used: false, message: 'image is referenced in multiple repositories' };
    }
    if (mask.stopped && user !== undefined && !user.running) {
      const who = user.containerId ? ` ${user.containerId.slice(0, 12)}` : '';
      return { hard: false, used: true, message: `image is being used by stopped container${who}` };
    }
    return undefined;
  }

  async #deleteHelper(
    id: string,
    records: DeleteResponseItem[],
    opts: { force: boolean; prune: boolean; quiet: boolean; usedBy: RemoveOptions['usedBy'] },
  ): Promise<void> {
    const user = normalizeUser(opts.usedBy(id));
    const c = this.#conflict(id, user, { hard: true, references: !opts.force, stopped: !opts.force });
    if (c !== undefined) {
      const dangling = this.#keysOf(id).length === 0 && ![...this.#images.values()].some((r) => r.parent === id);
      if (opts.quiet && (!dangling || c.used)) return;
      throw conflictError(id, c);
    }
    const image = this.#images.get(id);
    if (image === undefined) return;
    await this.#untagAll(id, records);
    this.#images.delete(id);
    this.#lastTagTime.delete(id);
    await unlink(join(this.#dir, `${digestHex(id)}.json`)).catch(() => {});
    await this.#saveRepositories();
    this.#emit('delete', id);
    records.push({ Deleted: id });
    for (const chain of await this.#removeUnusedLayers(image.chainIds)) records.push({ Deleted: chain });
    if (opts.prune && image.parent !== undefined && this.#images.has(image.parent)) {
      await this.#deleteHelper(image.parent, records, { force: false, prune: true, quiet: true, usedBy: opts.usedBy });
    }
  }

  /** Removes layers (all, or among candidates) that no image and no creation in flight uses, top first. */
  async #removeUnusedLayers(candidates?: readonly string[]): Promise<string[]> {
    const used = new Set<string>();
    for (const r of this.#images.values()) for (const c of r.chainIds) used.add(c);
    const pool = candidates ? [...candidates] : this.#layers.list().map((l) => l.chainId);
    const doomed = new Set(pool.filter((c) => !used.has(c) && this.#layers.has(c) && !this.#layers.isHeld(c)));
    const removed: string[] = [];
    // Children before parents: repeatedly take layers no remaining layer sits on.
    while (doomed.size > 0) {
      const parents = new Set(this.#layers.list().map((l) => l.parent));
      const leaves = [...doomed].filter((c) => !parents.has(c));
      if (leaves.length === 0) break;
      for (const c of leaves) {
        await this.#layers.remove(c);
        doomed.delete(c);
        removed.push(c);
      }
    }
    return removed;
  }

  // -------------------------------------------------------------------------------------------
  // Engine API views

  inspect(id: string): unknown {
    const r = this.get(id);
    const cfg = r.config;
    const top = r.chainIds[r.chainIds.length - 1];
    const data: Record<string, string> = {};
    if (top !== undefined) {
      data.UpperDir = this.#layers.diffPath(top);
      const lower = r.chainIds
        .slice(0, -1)
        .reverse()
        .map((c) => this.#layers.diffPath(c));
      if (lower.length > 0) data.LowerDir = lower.join(':');
    }
    const out: Record<string, unknown> = {
      Id: r.id,
      RepoTags: this.tagsOf(r.id),
      RepoDigests: this.digestsOf(r.id),
      Parent: r.parent ?? '',
      Comment: typeof cfg.comment === 'string' ? cfg.comment : '',
      Created: cfg.created ?? r.created,
      DockerVersion: typeof cfg.docker_version === 'string' ? cfg.docker_version : '',
      Author: cfg.author ?? '',
      Config: containerConfigView(cfg.config ?? {}),
      Architecture: cfg.architecture,
      Os: cfg.os,
      Size: r.size,
      GraphDriver: { Name: 'overlay2', Data: data },
      RootFS: { Type: 'layers', Layers: [...cfg.rootfs.diff_ids] },
      Metadata: { LastTagTime: this.#lastTagTime.get(r.id) ?? ZERO_TIME },
    };
    if (cfg.variant !== undefined) out.Variant = cfg.variant;
    return out;
  }

  summary(id: string): unknown {
    const r = this.get(id);
    const created = Date.parse(r.config.created ?? r.created);
    return {
      Id: r.id,
      ParentId: r.parent ?? '',
      RepoTags: this.tagsOf(r.id),
      RepoDigests: this.digestsOf(r.id),
      Created: Number.isFinite(created) ? Math.floor(created / 1000) : 0,
      Size: r.size,
      SharedSize: -1,
      VirtualSize: r.size,
      Labels: r.config.config?.Labels ?? {},
      Containers: -1,
    };
  }
}

function normalizeUser(u: boolean | ImageUser | undefined): ImageUser | undefined {
  if (u === undefined || u === false) return undefined;
  if (u === true) return { containerId: '', running: false };
  return u;
}

function conflictError(id: string, c: DeleteConflict): Error {
  return conflict(`conflict: unable to delete ${shortImageId(id)} (${c.hard ? 'cannot be forced' : 'must be forced'}) - ${c.message}`);
}

function isIdPrefix(id: string, s: string): boolean {
  return id.startsWith(s) || id.slice(id.indexOf(':') + 1).startsWith(s);
}

/** All references are in one repository, with at most one tag (Docker's rule). */
function isSingleReference(keys: readonly string[]): boolean {
  if (keys.length <= 1) return keys.length === 1;
  const tags = keys.filter((k) => !isDigestKey(k));
  if (tags.length > 1) return false;
  const repos = new Set(keys.filter(isDigestKey).map(repoOfKey));
  const single = tags[0] ?? keys[0]!;
  return repos.size === 1 && repos.has(repoOfKey(single));
}

/** The config JSON with its keys in a fixed order, so equal inputs give equal IDs. */
function buildConfig(given: Partial<ImageConfigFile>, diffIds: string[]): ImageConfigFile {
  const merged: Record<string, unknown> = { ...given, rootfs: { type: 'layers', diff_ids: diffIds } };
  merged.architecture ??= ociArchitecture();
  merged.os ??= 'linux';
  const sorted: Record<string, unknown> = {};
  for (const k of Object.keys(merged).sort()) if (merged[k] !== undefined) sorted[k] = merged[k];
  if (!isConfigFile(sorted)) throw internal('image config without rootfs');
  return sorted;
}

/** Docker's container-config view of an image's runtime config, as image inspect serves it. */
function containerConfigView(c: ImageRuntimeConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {
    Hostname: '',
    Domainname: '',
    User: c.User ?? '',
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
  };
  if (c.ExposedPorts !== undefined) out.ExposedPorts = c.ExposedPorts;
  Object.assign(out, {
    Tty: false,
    OpenStdin: false,
    StdinOnce: false,
    Env: c.Env ?? null,
    Cmd: c.Cmd ?? null,
  });
  if (c.Healthcheck !== undefined) out.Healthcheck = c.Healthcheck;
  Object.assign(out, {
    Image: '',
    Volumes: c.Volumes ?? null,
    WorkingDir: c.WorkingDir ?? '',
    Entrypoint: c.Entrypoint ?? null,
    OnBuild: c.OnBuild ?? null,
    Labels: c.Labels ?? null,
  });
  if (c.StopSignal !== undefined) out.StopSignal = c.StopSignal;
  if (c.Shell !== undefined) out.Shell = c.Shell;
  return out;
}

// ---------------------------------------------------------------------------------------------
// `changes` of POST /images/create?fromSrc and commit: Dockerfile-style instructions.

const CHANGE_COMMANDS = new Set(['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'LABEL', 'ONBUILD', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR']);

/** Splits words, honouring double and single quotes and backslash escapes. */
function splitWords(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (quote !== undefined) {
      if (ch === quote) quote = undefined;
      else if (ch === '\\' && quote === '"' && i + 1 < s.length) cur += s[++i];
      else cur += ch;
      continue;
    }
    if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (ch === '\\' && i + 1 < s.length) {
      cur += s[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (quote !== undefined) throw invalidParameter(`unterminated quote in ${JSON.stringify(s)}`);
  if (inWord) out.push(cur);
  return out;
}

function jsonArray(s: string): string[] | undefined {
  if (!s.startsWith('[')) return undefined;
  try {
    const v: unknown = JSON.parse(s);
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v;
  } catch {
    // Not JSON: shell form.
  }
  return undefined;
}

function keyValues(instr: string, args: string): Array<[string, string]> {
  const words = splitWords(args);
  if (words.length === 0) throw invalidParameter(`${instr} requires at least one argument`);
  if (!words[0]!.includes('=')) {
    // Legacy `ENV key value with spaces`.
    const rest = args.trim().slice(args.trim().indexOf(words[0]!) + words[0]!.length).trim();
    return [[words[0]!, splitWords(rest).join(' ')]];
  }
  return words.map((w) => {
    const eq = w.indexOf('=');
    if (eq <= 0) throw invalidParameter(`${instr} names can not be blank`);
    return [w.slice(0, eq), w.slice(eq + 1)];
  });
}

/** Applies Dockerfile-style change lines to a runtime config (returns a new object). */
export function applyChanges(base: ImageRuntimeConfig, changes: readonly string[]): ImageRuntimeConfig {
  const c: ImageRuntimeConfig = structuredClone(base);
  for (const raw of changes) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(\S+)\s*([\s\S]*)$/.exec(line);
    const instr = (m?.[1] ?? '').toUpperCase();
    const args = (m?.[2] ?? '').trim();
    if (!CHANGE_COMMANDS.has(instr)) throw invalidParameter(`${m?.[1] ?? line} is not a valid change command`);
    switch (instr) {
      case 'CMD':
      case 'ENTRYPOINT': {
        const argv = jsonArray(args) ?? ['/bin/sh', '-c', args];
        if (instr === 'CMD') c.Cmd = argv;
        else c.Entrypoint = argv;
        break;
      }
      case 'ENV': {
        const env = [...(c.Env ?? [])];
        for (const [k, v] of keyValues(instr, args)) {
          const i = env.findIndex((e) => e.split('=')[0] === k);
          if (i >= 0) env[i] = `${k}=${v}`;
          else env.push(`${k}=${v}`);
        }
        c.Env = env;
        break;
      }
      case 'LABEL': {
        const labels = { ...(c.Labels ?? {}) };
        for (const [k, v] of keyValues(instr, args)) labels[k] = v;
        c.Labels = labels;
        break;
      }
      case 'EXPOSE': {
        const ports = { ...(c.ExposedPorts ?? {}) };
        for (const p of splitWords(args)) {
          const pm = /^(\d{1,5})(?:-(\d{1,5}))?(?:\/(tcp|udp|sctp))?$/i.exec(p);
          if (!pm) throw invalidParameter(`invalid containerPort: ${p}`);
          const lo = Number(pm[1]);
          const hi = pm[2] !== undefined ? Number(pm[2]) : lo;
          if (lo < 1 || hi > 65535 || hi < lo) throw invalidParameter(`invalid containerPort: ${p}`);
          const proto = (pm[3] ?? 'tcp').toLowerCase();
          for (let n = lo; n <= hi; n++) ports[`${n}/${proto}`] = {};
        }
        c.ExposedPorts = ports;
        break;
      }
      case 'VOLUME': {
        const vols = { ...(c.Volumes ?? {}) };
        const list = jsonArray(args) ?? splitWords(args);
        if (list.length === 0) throw invalidParameter('VOLUME requires at least one argument');
        for (const v of list) {
          if (v.trim() === '') throw invalidParameter('VOLUME specified can not be an empty string');
          vols[v] = {};
        }
        c.Volumes = vols;
        break;
      }
      case 'WORKDIR': {
        if (args === '') throw invalidParameter('WORKDIR requires exactly one argument');
        const dir = args.startsWith('/') ? args : `${(c.WorkingDir ?? '/').replace(/\/$/, '')}/${args}`;
        c.WorkingDir = dir;
        break;
      }
      case 'USER':
        if (args === '') throw invalidParameter('USER requires exactly one argument');
        c.User = args;
        break;
      case 'STOPSIGNAL':
        if (args === '') throw invalidParameter('STOPSIGNAL requires exactly one argument');
        c.StopSignal = args;
        break;
      case 'ONBUILD':
        c.OnBuild = [...(c.OnBuild ?? []), args];
        break;
    }
  }
  return c;
}

/** Docker's 404 for an image: a reference is shown in full (`busybox` as `busybox:latest`), an ID as given. */
export function noSuchImage(refOrId: string): BerthError {
  let shown = refOrId;
  try {
    shown = familiarName(withDefaultTag(parseReference(refOrId)));
  } catch {
    // Not a reference: shown as given.
  }
  return notFound(`No such image: ${shown}`);
}
