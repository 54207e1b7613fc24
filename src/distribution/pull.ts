// Pulling an image: manifest (and the host's entry of an index), config, then every missing layer
// downloaded and unpacked at the same time, several layers in parallel, committed bottom first.
// Compressed bytes are kept in a partial file while they arrive, so a pull interrupted by a
// network failure or a daemon crash resumes with a range request instead of starting over.
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, stat, unlink, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash, type Hash } from 'node:crypto';
import { Readable } from 'node:stream';
import { invalidParameter, internal, messageOf, isKind } from '../core/errors.ts';
import { digestHex, sha256Digest } from '../core/digest.ts';
import { familiarName, formatReference, parseReference, withDefaultTag, type Reference } from '../core/reference.ts';
import { chainIds as chainIdsOf } from '../stores/layers.ts';
import { limiter } from '../core/limit.ts';
import type { ImageStore } from '../stores/images.ts';
import type { StagedLayer } from '../stores/layers.ts';
import { ociArchitecture } from '../stores/images.ts';
import type { AuthConfig } from './auth.ts';
import type { BlobMetadata } from './metadata.ts';
import { MANIFEST_ACCEPT, MAX_CONFIG_BYTES, MAX_MANIFEST_BYTES, parseManifest, selectPlatform, type Descriptor, type ImageManifest, type Platform } from './manifest.ts';
import { shortDigest, throttledProgress, type ProgressSink } from './progress.ts';
import { readBounded, RegistryClient, RegistryError, type RegistryOptions } from './registry.ts';
import type { HttpResponse } from '../adapters/http/index.ts';

export interface PullerDeps {
  images: ImageStore;
  metadata: BlobMetadata;
  dataRoot: string;
  registry: Omit<RegistryOptions, 'signal'>;
  /** Uncompressed bytes allowed per layer: max(floor, ratio × compressed size), or a fixed cap. */
  layerBudget?: { floor: number; ratio: number; cap?: number };
  onPulled?: (ref: string, id: string) => void;
}

/** `GET /distribution/{name}/json`'s answer, in the Engine API's shape. */
export interface DistributionInspect {
  Descriptor: { mediaType: string; digest: string; size: number };
  Platforms: Platform[];
}

export interface PullOptions {
  ref: string;
  auth: AuthConfig;
  platform?: Platform;
  /** Pull every tag of the repository (the reference must carry neither tag nor digest). */
  allTags?: boolean;
  signal?: AbortSignal;
}

const DOWNLOAD_CONCURRENCY = 3;
const BLOB_RETRIES = 5;
const GATHER_BYTES = 1 << 20;
const DEFAULT_BUDGET: { floor: number; ratio: number; cap?: number } = { floor: 8 * 1024 ** 3, ratio: 100 };

function maxBytesText(budget: { floor: number; ratio: number; cap?: number }, size: number): string {
  const n = budget.cap !== undefined && budget.cap > 0 ? budget.cap : Math.max(budget.floor, budget.ratio * size);
  return String(n);
}

function scopeOf(ref: Reference, actions = 'pull'): string {
  return `repository:${ref.path}:${actions}`;
}

export class Puller {
  #d: PullerDeps;
  #partialDir: string;
  /** Downloads in flight by blob digest, shared by concurrent pulls. */
  #inflight = new Map<string, Promise<void>>();

  constructor(deps: PullerDeps) {
    this.#d = deps;
    this.#partialDir = join(deps.dataRoot, 'distribution', 'partial');
  }

  /** Removes partial downloads nobody will resume (called at daemon start with a max age). */
  async prunePartials(maxAgeMs: number): Promise<void> {
    await mkdir(this.#partialDir, { recursive: true, mode: 0o700 });
    const now = Date.now();
    for (const name of await readdir(this.#partialDir)) {
      const p = join(this.#partialDir, name);
      const st = await stat(p).catch(() => undefined);
      if (st && now - st.mtimeMs > maxAgeMs) await unlink(p).catch(() => {});
    }
  }

  async pull(opts: PullOptions, progress: ProgressSink): Promise<void> {
    const ref = parseReference(opts.ref);
    const client = new RegistryClient(ref.domain, opts.auth, { ...this.#d.registry, useMirrors: true, ...(opts.signal ? { signal: opts.signal } : {}) });
    if (opts.allTags) {
      if (ref.tag !== undefined || ref.digest !== undefined) throw invalidParameter('tag can\'t be used with --all-tags/-a');
      const tags = await this.#listTags(client, ref);
      for (const tag of tags) await this.#pullOne(client, { ...ref, tag }, opts, progress, false);
      progress({ status: `Status: Downloaded newer images for ${familiarName(formatReference({ domain: ref.domain, path: ref.path }))}` });
      return;
    }
    try {
      await this.#pullOne(client, withDefaultTag(ref), opts, progress, true);
    } catch (err) {
      // As Docker: what a mirror cannot serve comes from Docker Hub itself.
      if (!client.viaMirror || opts.signal?.aborted) throw err;
      const direct = new RegistryClient(ref.domain, opts.auth, { ...this.#d.registry, useMirrors: false, ...(opts.signal ? { signal: opts.signal } : {}) });
      await this.#pullOne(direct, withDefaultTag(ref), opts, progress, true);
    }
  }

  /**
   * What the registry holds under a reference, without pulling it (`GET /distribution/{name}/json`):
   * the manifest's descriptor and the platforms it offers (read from its config when it is not an index).
   */
  async inspect(opts: { ref: string; auth: AuthConfig; signal?: AbortSignal }): Promise<DistributionInspect> {
    const ref = withDefaultTag(parseReference(opts.ref));
    const client = new RegistryClient(ref.domain, opts.auth, { ...this.#d.registry, useMirrors: true, ...(opts.signal ? { signal: opts.signal } : {}) });
    const name = familiarName(formatReference(ref));
    const top = await this.#fetchManifest(client, ref, ref.digest ?? ref.tag ?? 'latest', name);
    const parsed = parseManifest(top.bytes, top.contentType);
    let platforms: Platform[];
    if (parsed.kind === 'index') {
      platforms = parsed.manifests.flatMap((m) => (m.platform ? [m.platform] : []));
    } else {
      let config: { os?: unknown; architecture?: unknown; variant?: unknown };
      try {
        config = JSON.parse((await this.#fetchConfig(client, ref, parsed.config)).toString('utf8')) as typeof config;
      } catch (err) {
        if (err instanceof SyntaxError) throw invalidParameter('invalid image config: not JSON');
        throw err;
      }
      platforms = typeof config.os === 'string' && typeof config.architecture === 'string' ? [{ os: config.os, architecture: config.architecture, ...(typeof config.variant === 'string' ? { variant: config.variant } : {}) }] : [];
    }
    return { Descriptor: { mediaType: parsed.mediaType || top.contentType, digest: top.digest, size: top.bytes.length }, Platforms: platforms };
  }

  async #listTags(client: RegistryClient, ref: Reference): Promise<string[]> {
    const tags: string[] = [];
    let path: string | undefined = `/v2/${ref.path}/tags/list?n=1000`;
    for (let page = 0; path !== undefined && page < 100; page++) {
      const res = await client.request(path, { scope: scopeOf(ref), retries: 3 });
      const body = JSON.parse((await readBounded(res, MAX_MANIFEST_BYTES, 'tag list')).toString('utf8')) as { tags?: unknown };
      if (Array.isArray(body.tags)) for (const t of body.tags) if (typeof t === 'string' && /^[\w][\w.-]{0,127}$/.test(t)) tags.push(t);
      const link = res.headers.get('link');
      const m = link ? /<([^>]+)>\s*;\s*rel="?next"?/.exec(link) : null;
      path = m ? m[1] : undefined;
    }
    return tags;
  }

  async #fetchManifest(client: RegistryClient, ref: Reference, reference: string, repoName: string): Promise<{ bytes: Buffer; digest: string; contentType: string }> {
    let res: HttpResponse;
    try {
      res = await client.request(`/v2/${ref.path}/manifests/${reference}`, { scope: scopeOf(ref), headers: { Accept: MANIFEST_ACCEPT }, retries: 3 });
    } catch (err) {
      if (err instanceof RegistryError && err.status === 404 && err.code === 'manifest unknown') {
        throw new RegistryError('NotFound', `manifest for ${repoName} not found: ${err.message}`, 404, err.code);
      }
      if (err instanceof RegistryError && (err.status === 401 || err.status === 403 || err.status === 404)) {
        throw new RegistryError(
          err.status === 404 ? 'NotFound' : err.kind,
          `pull access denied for ${familiarName(formatReference({ domain: ref.domain, path: ref.path }))}, repository does not exist or may require 'docker login': ${err.message}`,
          err.status,
          err.code,
        );
      }
      throw err;
    }
    const bytes = await readBounded(res, MAX_MANIFEST_BYTES, 'manifest');
    const digest = sha256Digest(bytes);
    if (reference.startsWith('sha256:') && digest !== reference) throw invalidParameter(`manifest verification failed for digest ${reference}: got ${digest}`);
    const claimed = res.headers.get('docker-content-digest');
    if (claimed !== null && claimed.startsWith('sha256:') && claimed !== digest) {
      throw invalidParameter(`manifest digest mismatch: the registry says ${claimed}, the content is ${digest}`);
    }
    return { bytes, digest, contentType: res.headers.get('content-type') ?? '' };
  }

  async #pullOne(client: RegistryClient, ref: Reference, opts: PullOptions, progress: ProgressSink, single: boolean): Promise<void> {
    const name = familiarName(formatReference(ref));
    const reference = ref.digest ?? ref.tag ?? 'latest';
    const top = await this.#fetchManifest(client, ref, reference, name);
    let parsed = parseManifest(top.bytes, top.contentType);
    if (parsed.kind === 'index') {
      const want = opts.platform ?? { os: 'linux', architecture: ociArchitecture() };
      const entry = selectPlatform(parsed, want);
      const child = await this.#fetchManifest(client, ref, entry.digest, name);
      parsed = parseManifest(child.bytes, child.contentType);
      if (parsed.kind !== 'manifest') throw invalidParameter('invalid manifest: an index inside an index');
    }
    progress({ status: `Pulling from ${ref.path}`, id: ref.digest ?? reference });
    const manifest: ImageManifest = parsed;
    const configBytes = await this.#fetchConfig(client, ref, manifest.config);
    let config: { rootfs?: { diff_ids?: unknown } };
    try {
      config = JSON.parse(configBytes.toString('utf8')) as typeof config;
    } catch {
      throw invalidParameter('invalid image config: not JSON');
    }
    const diffIds = config.rootfs?.diff_ids;
    if (!Array.isArray(diffIds) || diffIds.length !== manifest.layers.length || !diffIds.every((d) => typeof d === 'string')) {
      throw invalidParameter('invalid image config: its rootfs.diff_ids do not match the manifest layers');
    }
    const chains = chainIdsOf(diffIds as string[]);
    const imageId = sha256Digest(configBytes);
    const tagRef = ref.digest === undefined ? formatReference(ref) : undefined;
    const digestRef = `${ref.domain}/${ref.path}@${top.digest}`;
    const existing = this.#d.images.resolve(imageId);
    const upToDate = existing !== undefined && (tagRef === undefined || this.#d.images.resolve(tagRef)?.id === imageId);

    const layers = this.#d.images.layers;
    const staged: Array<Promise<StagedLayer | undefined>> = [];
    const limit = limiter(DOWNLOAD_CONCURRENCY);
    for (let i = 0; i < manifest.layers.length; i++) {
      const desc = manifest.layers[i]!;
      const id = shortDigest(desc.digest);
      if (layers.has(chains[i]!)) {
        progress({ status: 'Already exists', progressDetail: {}, id });
        staged.push(Promise.resolve(undefined));
        continue;
      }
      progress({ status: 'Pulling fs layer', progressDetail: {}, id });
      staged.push(limit(() => this.#download(client, ref, desc, progress, opts.signal)));
    }
    for (const p of staged) p.catch(() => {});
    // Commit bottom first; every layer stays held until the image record exists.
    const held: string[] = [];
    let done = false;
    try {
      let parent: string | null = null;
      for (let i = 0; i < manifest.layers.length; i++) {
        const s = await staged[i]!;
        const chain = chains[i]!;
        if (s === undefined) {
          layers.hold(chain);
          held.push(chain);
        } else {
          if (s.diffId !== diffIds[i]) {
            await s.discard();
            throw invalidParameter(`layer ${manifest.layers[i]!.digest} does not match the image config: its content has diff ID ${s.diffId}, the config says ${String(diffIds[i])}`);
          }
          const rec = await s.commit(parent, { hold: true });
          held.push(rec.chainId);
          await this.#d.metadata.add(rec.diffId, { digest: manifest.layers[i]!.digest, repository: `${ref.domain}/${ref.path}`, mediaType: manifest.layers[i]!.mediaType, size: manifest.layers[i]!.size });
          await unlink(this.#partialPath(manifest.layers[i]!.digest)).catch(() => {});
          progress({ status: 'Pull complete', progressDetail: {}, id: shortDigest(manifest.layers[i]!.digest) });
        }
        parent = chain;
      }
      const refs = [...(tagRef !== undefined ? [tagRef] : []), digestRef];
      const img = await this.#d.images.createFromConfig(configBytes, chains, refs);
      this.#d.onPulled?.(name, img.id);
      done = true;
    } catch (err) {
      // Layers unpacked but not committed are removed; those committed stay for the next try.
      for (const p of staged) void p.then((s) => s?.discard()).catch(() => {});
      throw err;
    } finally {
      for (const c of held) layers.release(c);
      if (!done) await this.#d.images.removeUnusedLayers(held).catch(() => {});
    }
    progress({ status: `Digest: ${top.digest}` });
    if (single) progress({ status: upToDate ? `Status: Image is up to date for ${name}` : `Status: Downloaded newer image for ${name}` });
  }

  async #fetchConfig(client: RegistryClient, ref: Reference, desc: Descriptor): Promise<Buffer> {
    if (desc.size > MAX_CONFIG_BYTES) throw invalidParameter(`image config too large: ${desc.size} bytes`);
    const local = this.#d.images.resolve(desc.digest);
    if (local !== undefined) return this.#d.images.configBytes(local.id);
    const res = await client.request(`/v2/${ref.path}/blobs/${desc.digest}`, { scope: scopeOf(ref), retries: 3 });
    const bytes = await readBounded(res, Math.min(desc.size, MAX_CONFIG_BYTES), 'image config');
    if (bytes.length !== desc.size || sha256Digest(bytes) !== desc.digest) {
      throw invalidParameter(`image config verification failed for digest ${desc.digest}`);
    }
    return bytes;
  }

  #partialPath(digest: string): string {
    return join(this.#partialDir, digestHex(digest));
  }

  /** Downloads a layer blob and unpacks it as it arrives; the digest is checked at the end. */
  async #download(client: RegistryClient, ref: Reference, desc: Descriptor, progress: ProgressSink, signal: AbortSignal | undefined): Promise<StagedLayer> {
    // Two pulls of one blob at once: the second waits for the first, then finds the layer.
    const busy = this.#inflight.get(desc.digest);
    if (busy !== undefined) await busy.catch(() => {});
    let done!: () => void;
    const mine = new Promise<void>((r) => (done = r));
    this.#inflight.set(desc.digest, mine);
    try {
      await mkdir(this.#partialDir, { recursive: true, mode: 0o700 });
      const id = shortDigest(desc.digest);
      const budget = this.#d.layerBudget ?? DEFAULT_BUDGET;
      const body = Readable.from(this.#blobBytes(client, ref, desc, progress, signal), { objectMode: false });
      let staged: StagedLayer;
      try {
        const maxBytes = budget.cap !== undefined && budget.cap > 0 ? budget.cap : Math.max(budget.floor, budget.ratio * desc.size);
        staged = await this.#d.images.layers.stage(body, { maxBytes, ...(signal ? { signal } : {}) });
      } catch (err) {
        // A blob that is bad (wrong digest, too long, a decompression bomb) is not kept for resuming.
        if (isKind(err, 'InvalidParameter') && /verification failed|longer than|digest|size limit/.test(messageOf(err))) await unlink(this.#partialPath(desc.digest)).catch(() => {});
        if (isKind(err, 'InvalidParameter') && /size limit/.test(messageOf(err))) {
          throw invalidParameter(`layer ${desc.digest} unpacks to more than ${maxBytesText(budget, desc.size)} bytes: refused as a decompression bomb (raise max-layer-size if it is genuine)`);
        }
        throw err;
      }
      progress({ status: 'Extracting', progressDetail: { current: desc.size, total: desc.size }, id });
      return staged;
    } finally {
      this.#inflight.delete(desc.digest);
      done();
    }
  }

  /** The blob's bytes: what a partial file holds, then the rest from the registry, verified. */
  async *#blobBytes(client: RegistryClient, ref: Reference, desc: Descriptor, progress: ProgressSink, signal: AbortSignal | undefined): AsyncGenerator<Buffer> {
    const id = shortDigest(desc.digest);
    const partial = this.#partialPath(desc.digest);
    const hash: Hash = createHash('sha256');
    let have = (await stat(partial).catch(() => undefined))?.size ?? 0;
    if (have > desc.size) {
      await unlink(partial).catch(() => {});
      have = 0;
    }
    let offset = 0;
    const report = throttledProgress(progress, id, 'Downloading', desc.size);
    // The digest is checked before the last bytes go downstream, so a corrupt blob is reported
    // as such rather than as whatever the decompressor makes of its end.
    let verified = false;
    const verifyAtEnd = async (): Promise<void> => {
      if (offset !== desc.size || verified) return;
      verified = true;
      const got = `sha256:${hash.digest('hex')}`;
      if (got !== desc.digest) {
        await unlink(partial).catch(() => {});
        throw invalidParameter(`filesystem layer verification failed for digest ${desc.digest}`);
      }
    };
    // What an earlier attempt left is replayed first (it is hashed again like the rest).
    if (have > 0) {
      for await (const chunk of createReadStream(partial, { end: have - 1 })) {
        const b = chunk as Buffer;
        hash.update(b);
        offset += b.length;
        await verifyAtEnd();
        yield b;
      }
    }
    let out: WriteStream | undefined;
    const openOut = (): WriteStream => (out ??= createWriteStream(partial, { flags: offset > 0 ? 'a' : 'w', mode: 0o600 }));
    try {
      for (let attempt = 0; offset < desc.size || desc.size === 0; attempt++) {
        signal?.throwIfAborted();
        const headers: Record<string, string> = {};
        if (offset > 0) headers.Range = `bytes=${offset}-`;
        let res: HttpResponse;
        try {
          res = await client.request(`/v2/${ref.path}/blobs/${desc.digest}`, { scope: scopeOf(ref), headers, retries: 3 });
        } catch (err) {
          if (attempt < BLOB_RETRIES && isKind(err, 'Unavailable')) continue;
          throw err;
        }
        if (offset > 0 && res.status !== 206) {
          // The registry ignored the range: the partial bytes already went downstream, so start over.
          await res.body?.cancel().catch(() => {});
          throw invalidParameter(`registry ignored a range request for ${desc.digest}; retry the pull`);
        }
        // The socket's ~64 KiB pieces are gathered into pieces of about a megabyte: each piece
        // costs a thread-pool trip to the partial file and another to the decompressor.
        let gathered: Buffer[] = [];
        let gatheredLen = 0;
        const take = async (): Promise<Buffer> => {
          const b = gathered.length === 1 ? gathered[0]! : Buffer.concat(gathered, gatheredLen);
          gathered = [];
          gatheredLen = 0;
          hash.update(b);
          offset += b.length;
          const w = openOut();
          if (!w.write(b)) await new Promise<void>((r) => w.once('drain', r));
          report(offset);
          await verifyAtEnd();
          return b;
        };
        try {
          for await (const chunk of res.body ?? []) {
            const c = chunk as Uint8Array;
            const b = Buffer.isBuffer(c) ? c : Buffer.from(c.buffer, c.byteOffset, c.byteLength);
            if (offset + gatheredLen + b.length > desc.size) throw invalidParameter(`blob ${desc.digest} is longer than its descriptor says (${desc.size} bytes)`);
            gathered.push(b);
            gatheredLen += b.length;
            if (gatheredLen >= GATHER_BYTES) yield await take();
          }
          if (gatheredLen > 0) yield await take();
        } catch (err) {
          if (isKind(err, 'InvalidParameter') || signal?.aborted) throw err;
          // A connection that broke mid-body resumes from the last byte received.
          if (gatheredLen > 0) yield await take();
          if (attempt < BLOB_RETRIES) continue;
          throw internal(`downloading ${desc.digest}: ${messageOf(err)}`, err);
        }
        if (offset < desc.size) {
          if (attempt < BLOB_RETRIES) continue;
          throw invalidParameter(`blob ${desc.digest} is truncated: got ${offset} of ${desc.size} bytes`);
        }
        break;
      }
    } finally {
      if (out !== undefined) {
        const w = out;
        await new Promise<void>((r) => w.end(r));
      }
    }
    await verifyAtEnd();
    progress({ status: 'Verifying Checksum', progressDetail: {}, id });
    progress({ status: 'Download complete', progressDetail: {}, id });
  }
}
