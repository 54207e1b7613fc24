// save and load: images as one tar, in the layout `docker save` writes since Docker 25 — an OCI
// image layout (oci-layout, index.json, blobs/sha256/…) that also carries Docker's manifest.json
// and repositories — and, on load, either of them, including the older `<id>/layer.tar` form.
//
// Loading never uses a name from the archive as a host path: every member is spooled to a file
// named by a counter in a private temporary directory, and the archive's own paths (with its
// symlinks, which older `docker save` used for shared layers) are resolved in a map.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { randomBytes, createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { openArchive } from '../../adapters/tar/index.ts';
import { invalidParameter, notFound, notImplemented } from '../../core/errors.ts';
import { digestHex, isDigest, sha256Digest } from '../../core/digest.ts';
import { familiarName, formatReference, parseReference, withDefaultTag } from '../../core/reference.ts';
import type { ImageRecord, ImageStore } from '../../stores/images.ts';
import { chainIds as chainIdsOf, type StagedLayer } from '../../stores/layers.ts';
import { limiter } from '../../core/limit.ts';
import type { Mounter } from '../../core/ports.ts';
import { MT, parseManifest, type ImageManifest } from '../../distribution/manifest.ts';

const MAX_META_BYTES = 8 * 1024 * 1024;
const MAX_MEMBERS = 100_000;
const MAX_LINK_HOPS = 40;

interface SavedImage {
  image: ImageRecord;
  tags: string[];
}

/** A tar of the named images (names or IDs); tags named explicitly are the ones recorded. */
export function saveImages(images: ImageStore, names: readonly string[]): Readable {
  if (names.length === 0) throw invalidParameter('no images specified');
  const byId = new Map<string, SavedImage>();
  for (const n of names) {
    const img = images.resolve(n);
    if (img === undefined) throw notFound(`No such image: ${n}`);
    const entry = byId.get(img.id) ?? { image: img, tags: [] };
    let tagged: string[] = [];
    try {
      const ref = parseReference(n);
      if (ref.digest === undefined && !img.id.slice(7).startsWith(n) && images.resolve(formatReference(withDefaultTag(ref)))?.id === img.id) {
        tagged = [familiarName(formatReference(withDefaultTag(ref)))];
      }
    } catch {
      tagged = [];
    }
    // An image named by ID is saved with all of its tags, as Docker does.
    if (tagged.length === 0 && !names.some((x) => x !== n && images.resolve(x)?.id === img.id)) tagged = images.tagsOf(img.id);
    for (const t of tagged) if (!entry.tags.includes(t)) entry.tags.push(t);
    byId.set(img.id, entry);
  }
  for (const { image } of byId.values()) {
    for (const c of image.chainIds) {
      const l = images.layers.get(c);
      if (l?.split !== true || l.tarSize === undefined) throw notImplemented(`layer ${l?.diffId ?? c} cannot be saved: its original archive cannot be rebuilt`);
    }
  }
  const pack = tar.pack();
  const held = [...byId.values()].flatMap((s) => s.image.chainIds);
  for (const c of held) images.layers.hold(c);
  const mtime = new Date(0);
  const add = (name: string, body: Buffer): Promise<void> =>
    new Promise((resolve, reject) => pack.entry({ name, mode: 0o644, mtime, size: body.length }, body, (err) => (err ? reject(err) : resolve())));
  const dir = (name: string): Promise<void> =>
    new Promise((resolve, reject) => pack.entry({ name, type: 'directory', mode: 0o755, mtime }, (err) => (err ? reject(err) : resolve())));
  void (async () => {
    try {
      await dir('blobs');
      await dir('blobs/sha256');
      const written = new Set<string>();
      const manifestJson: unknown[] = [];
      const indexEntries: unknown[] = [];
      const repositories: Record<string, Record<string, string>> = {};
      for (const { image, tags } of byId.values()) {
        const diffIds = image.config.rootfs.diff_ids;
        const layerDescs = [];
        for (let i = 0; i < image.chainIds.length; i++) {
          const chain = image.chainIds[i]!;
          const rec = images.layers.get(chain)!;
          const name = `blobs/sha256/${digestHex(rec.diffId)}`;
          layerDescs.push({ mediaType: MT.ociLayer, digest: rec.diffId, size: rec.tarSize! });
          if (written.has(name)) continue;
          written.add(name);
          await new Promise<void>((resolve, reject) => {
            const sink = pack.entry({ name, mode: 0o644, mtime, size: rec.tarSize! }, (err) => (err ? reject(err) : resolve()));
            pipeline(images.layers.tarStream(chain), sink).catch(reject);
          });
        }
        const config = await images.configBytes(image.id);
        const configName = `blobs/sha256/${digestHex(image.id)}`;
        if (!written.has(configName)) {
          written.add(configName);
          await add(configName, config);
        }
        const manifest = Buffer.from(
          JSON.stringify({ schemaVersion: 2, mediaType: MT.ociManifest, config: { mediaType: MT.ociConfig, digest: image.id, size: config.length }, layers: layerDescs }),
        );
        const mDigest = sha256Digest(manifest);
        const mName = `blobs/sha256/${digestHex(mDigest)}`;
        if (!written.has(mName)) {
          written.add(mName);
          await add(mName, manifest);
        }
        const desc = { mediaType: MT.ociManifest, digest: mDigest, size: manifest.length };
        if (tags.length === 0) indexEntries.push(desc);
        for (const t of tags) {
          const full = formatReference(withDefaultTag(parseReference(t)));
          indexEntries.push({ ...desc, annotations: { 'io.containerd.image.name': full, 'org.opencontainers.image.ref.name': withDefaultTag(parseReference(t)).tag ?? 'latest' } });
          const colon = t.lastIndexOf(':');
          (repositories[t.slice(0, colon)] ??= {})[t.slice(colon + 1)] = digestHex(diffIds.at(-1) ?? image.id);
        }
        manifestJson.push({ Config: configName, RepoTags: tags.length > 0 ? tags : null, Layers: layerDescs.map((l) => `blobs/sha256/${digestHex(l.digest)}`) });
      }
      await add('index.json', Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MT.ociIndex, manifests: indexEntries })));
      await add('manifest.json', Buffer.from(JSON.stringify(manifestJson)));
      await add('oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })));
      if (Object.keys(repositories).length > 0) await add('repositories', Buffer.from(JSON.stringify(repositories)));
      pack.finalize();
    } catch (err) {
      pack.destroy(err as Error);
    } finally {
      for (const c of held) images.layers.release(c);
    }
  })();
  return pack as unknown as Readable;
}

/** The archive's members: regular files spooled to numbered files, symlinks kept as targets. */
class Spool {
  readonly dir: string;
  files = new Map<string, string>();
  links = new Map<string, string>();

  constructor(dir: string) {
    this.dir = dir;
  }

  static clean(name: string): string {
    return posix.normalize(`/${name}`).slice(1).replace(/\/$/, '');
  }

  /** The spooled file for an archive path, following the archive's own symlinks. */
  resolve(path: string): string {
    let p = Spool.clean(path);
    for (let hops = 0; hops < MAX_LINK_HOPS; hops++) {
      const f = this.files.get(p);
      if (f !== undefined) return f;
      const target = this.links.get(p);
      if (target === undefined) break;
      p = Spool.clean(target.startsWith('/') ? target : posix.join(posix.dirname(p), target));
    }
    throw invalidParameter(`invalid archive: ${path} is missing`);
  }

  has(path: string): boolean {
    try {
      this.resolve(path);
      return true;
    } catch {
      return false;
    }
  }

  async readSmall(path: string): Promise<Buffer> {
    const f = this.resolve(path);
    const st = await stat(f);
    if (st.size > MAX_META_BYTES) throw invalidParameter(`invalid archive: ${path} is too large`);
    return readFile(f);
  }
}

async function spoolArchive(input: NodeJS.ReadableStream, dir: string, signal?: AbortSignal): Promise<Spool> {
  const spool = new Spool(dir);
  const extract = tar.extract();
  // `load` takes the archive compressed too (gzip, zstd, xz, bzip2), as docker's does.
  const { source, decompressor } = await openArchive(input, { programs: true });
  const flowing = pipeline([source, ...(decompressor ? [decompressor] : []), extract] as unknown as [NodeJS.ReadableStream, NodeJS.WritableStream], signal ? { signal } : {});
  flowing.catch(() => {});
  let n = 0;
  for await (const entry of extract) {
    if (++n > MAX_MEMBERS) throw invalidParameter('invalid archive: too many members');
    const name = Spool.clean(entry.header.name);
    if (entry.header.type === 'file' || entry.header.type === 'contiguous-file') {
      const file = join(dir, String(n));
      await pipeline(entry, createWriteStream(file, { mode: 0o600 }));
      spool.files.set(name, file);
      continue;
    }
    if (entry.header.type === 'symlink' && entry.header.linkname) spool.links.set(name, entry.header.linkname);
    entry.resume();
  }
  await flowing;
  // The archive may end before its body does (tar record padding): read the rest, so the client
  // is not left writing into a request that was already answered.
  if (!(input as { readableEnded?: boolean }).readableEnded) {
    for await (const _ of input) {
      // discarded
    }
  }
  return spool;
}

/**
 * Removes what loads and builds interrupted by a crash left in tmpRoot, unmounting first any image
 * root a build had mounted there.
 */
export async function removeLoadLeftovers(tmpRoot: string, mounts: Mounter): Promise<void> {
  const names = await readdir(tmpRoot).catch(() => [] as string[]);
  if (names.length === 0) return;
  for (const m of await mounts.mountsUnder(tmpRoot)) await mounts.unmount(m).catch(() => {});
  for (const n of names) if (n.startsWith('load-') || n.startsWith('build-')) await rm(join(tmpRoot, n), { recursive: true, force: true });
}

export interface LoadResult {
  /** Lines as Docker prints them: "Loaded image: busybox:latest" or "Loaded image ID: sha256:…". */
  lines: string[];
}

interface Candidate {
  config: string;
  layers: Array<{ path: string; digest?: string }>;
  tags: string[];
}

function jsonOf(bytes: Buffer, what: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw invalidParameter(`invalid archive: ${what} is not valid JSON`);
  }
}

/** Loads every image of an archive made by save (berth's or Docker's, docker-archive or OCI layout). */
export async function loadImages(images: ImageStore, input: NodeJS.ReadableStream, opts: { tmpRoot: string; signal?: AbortSignal; onLoaded?: (ref: string, id: string) => void }): Promise<LoadResult> {
  await mkdir(opts.tmpRoot, { recursive: true, mode: 0o700 });
  const dir = join(opts.tmpRoot, `load-${randomBytes(8).toString('hex')}`);
  await mkdir(dir, { mode: 0o700 });
  try {
    const spool = await spoolArchive(input, dir, opts.signal);
    const candidates: Candidate[] = [];
    if (spool.has('manifest.json')) {
      const list = jsonOf(await spool.readSmall('manifest.json'), 'manifest.json');
      if (!Array.isArray(list)) throw invalidParameter('invalid archive: manifest.json is not a list');
      for (const m of list as Array<Record<string, unknown>>) {
        if (typeof m?.Config !== 'string' || !Array.isArray(m.Layers) || !m.Layers.every((l) => typeof l === 'string')) {
          throw invalidParameter('invalid archive: malformed manifest.json entry');
        }
        const tags = Array.isArray(m.RepoTags) ? m.RepoTags.filter((t): t is string => typeof t === 'string') : [];
        candidates.push({ config: m.Config, layers: (m.Layers as string[]).map((p) => ({ path: p })), tags });
      }
    } else if (spool.has('index.json')) {
      await collectOci(spool, 'index.json', candidates, 0);
    } else {
      throw invalidParameter('invalid archive: no manifest.json or index.json: not an image archive made by save');
    }
    const lines: string[] = [];
    for (const c of candidates) {
      const configBytes = await spool.readSmall(c.config);
      const config = jsonOf(configBytes, 'image config') as { rootfs?: { diff_ids?: unknown } };
      const diffIds = config.rootfs?.diff_ids;
      if (!Array.isArray(diffIds) || diffIds.length !== c.layers.length || !diffIds.every((d) => typeof d === 'string' && isDigest(d))) {
        throw invalidParameter('invalid archive: the image config does not match its layers');
      }
      const chains = chainIdsOf(diffIds as string[]);
      const held: string[] = [];
      let ok = false;
      // Layers unpack side by side (two at a time) and are committed bottom first.
      const limit = limiter(STAGE_CONCURRENCY);
      const staged = c.layers.map((l, i) => (images.layers.has(chains[i]!) ? Promise.resolve(undefined) : limit(() => stageLayer(images, spool.resolve(l.path), l.digest, opts.signal))));
      for (const p of staged) p.catch(() => {});
      try {
        let parent: string | null = null;
        for (let i = 0; i < c.layers.length; i++) {
          const chain = chains[i]!;
          const s = await staged[i]!;
          if (s !== undefined) {
            if (s.diffId !== diffIds[i]) {
              await s.discard();
              throw invalidParameter(`invalid archive: layer ${c.layers[i]!.path} has diff ID ${s.diffId}, the config says ${String(diffIds[i])}`);
            }
            await s.commit(parent, { hold: true });
          } else {
            images.layers.hold(chain);
          }
          held.push(chain);
          parent = chain;
        }
        const refs: string[] = [];
        for (const t of c.tags) {
          const r = parseReference(t);
          if (r.digest === undefined) refs.push(formatReference(withDefaultTag(r)));
        }
        const img = await images.createFromConfig(configBytes, chains, refs);
        if (c.tags.length === 0) lines.push(`Loaded image ID: ${img.id}`);
        for (const t of c.tags) lines.push(`Loaded image: ${familiarName(t)}`);
        opts.onLoaded?.(c.tags[0] ?? img.id, img.id);
        ok = true;
      } finally {
        if (!ok) await Promise.all(staged.map((p) => p.then((st) => st?.discard()).catch(() => {})));
        for (const h of held) images.layers.release(h);
        if (!ok) await images.removeUnusedLayers(held).catch(() => {});
      }
    }
    return { lines };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const STAGE_CONCURRENCY = 2;

/** Unpacks one layer file of the archive; a blob named by its digest must match it. */
async function stageLayer(images: ImageStore, file: string, digest: string | undefined, signal: AbortSignal | undefined): Promise<StagedLayer> {
  const hash = createHash('sha256');
  // 1 MiB reads: a quarter of the time of 64 KiB ones per byte through the extractor.
  const source = createReadStream(file, { highWaterMark: 1 << 20 });
  if (digest !== undefined) source.on('data', (b) => hash.update(b as Buffer));
  const staged = await images.layers.stage(source, signal ? { signal } : {});
  if (digest !== undefined && `sha256:${hash.digest('hex')}` !== digest) {
    await staged.discard();
    throw invalidParameter(`invalid archive: blob ${digest} does not match its digest`);
  }
  return staged;
}

async function readBlob(spool: Spool, digest: string): Promise<Buffer> {
  const bytes = await spool.readSmall(`blobs/sha256/${digestHex(digest)}`);
  if (sha256Digest(bytes) !== digest) throw invalidParameter(`invalid archive: blob ${digest} does not match its digest`);
  return bytes;
}

async function collectOci(spool: Spool, indexPath: string | { digest: string }, out: Candidate[], depth: number): Promise<void> {
  if (depth > 4) throw invalidParameter('invalid archive: indexes nested too deep');
  const bytes = typeof indexPath === 'string' ? await spool.readSmall(indexPath) : await readBlob(spool, indexPath.digest);
  const index = parseManifest(bytes, MT.ociIndex);
  if (index.kind !== 'index') throw invalidParameter('invalid archive: index.json is not an image index');
  for (const d of index.manifests) {
    const name = d.annotations?.['io.containerd.image.name'];
    const mBytes = await readBlob(spool, d.digest);
    const m = parseManifest(mBytes, d.mediaType);
    if (m.kind === 'index') {
      await collectOci(spool, { digest: d.digest }, out, depth + 1);
      continue;
    }
    const manifest: ImageManifest = m;
    await readBlob(spool, manifest.config.digest);
    const tags = name !== undefined ? [name] : [];
    const existing = out.find((c) => c.config === `blobs/sha256/${digestHex(manifest.config.digest)}`);
    if (existing !== undefined) {
      existing.tags.push(...tags);
      continue;
    }
    out.push({
      config: `blobs/sha256/${digestHex(manifest.config.digest)}`,
      layers: manifest.layers.map((l) => ({ path: `blobs/sha256/${digestHex(l.digest)}`, digest: l.digest })),
      tags,
    });
  }
}
