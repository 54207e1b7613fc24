// Pushing an image: each layer's original tar (rebuilt exactly from the unpacked layer) gzipped and
// uploaded unless the registry already has it or can mount it from another repository, then the
// config, then a Docker schema2 manifest under the tag.
import { createHash } from 'node:crypto';
import { invalidParameter, notFound } from '../core/errors.ts';
import { sha256Digest } from '../core/digest.ts';
import { familiarName, formatReference, parseReference, type Reference } from '../core/reference.ts';
import type { ImageStore, ImageRecord } from '../stores/images.ts';
import type { AuthConfig } from './auth.ts';
import type { BlobMetadata } from './metadata.ts';
import { dockerManifest, MT, type Descriptor } from './manifest.ts';
import { shortDigest, throttledProgress, type ProgressSink } from './progress.ts';
import { RegistryClient, type RegistryOptions } from './registry.ts';
import { parallelGzip } from './gzip.ts';

export interface PusherDeps {
  images: ImageStore;
  metadata: BlobMetadata;
  registry: Omit<RegistryOptions, 'signal'>;
  onPushed?: (ref: string, id: string) => void;
}

export interface PushOptions {
  /** `name` (every tag of that repository) or `name:tag`. */
  ref: string;
  auth: AuthConfig;
  signal?: AbortSignal;
}

const UPLOAD_CONCURRENCY = 3;

export class Pusher {
  #d: PusherDeps;

  constructor(deps: PusherDeps) {
    this.#d = deps;
  }

  async push(opts: PushOptions, progress: ProgressSink): Promise<void> {
    const ref = parseReference(opts.ref);
    if (ref.digest !== undefined) throw invalidParameter('cannot push a digest reference');
    const repo = formatReference({ domain: ref.domain, path: ref.path });
    // As Docker: the repository is named first, then a missing image is the stream's error.
    progress({ status: `The push refers to repository [${repo}]` });
    const tagged: Array<{ tag: string; image: ImageRecord }> = [];
    for (const img of this.#d.images.list()) {
      for (const t of this.#d.images.tagsOf(img.id)) {
        const r = parseReference(t);
        if (r.domain === ref.domain && r.path === ref.path && r.tag !== undefined) tagged.push({ tag: r.tag, image: img });
      }
    }
    if (tagged.length === 0) throw notFound(`An image does not exist locally with the tag: ${familiarName(repo)}`);
    let targets: Array<{ tag: string; image: ImageRecord }>;
    if (ref.tag !== undefined) {
      const image = this.#d.images.resolve(formatReference(ref));
      if (image === undefined) throw notFound(`tag does not exist: ${familiarName(formatReference(ref))}`);
      targets = [{ tag: ref.tag, image }];
    } else {
      targets = tagged.sort((a, b) => (a.tag < b.tag ? -1 : 1));
    }
    const client = new RegistryClient(ref.domain, opts.auth, { ...this.#d.registry, ...(opts.signal ? { signal: opts.signal } : {}) });
    for (const t of targets) await this.#pushOne(client, ref, t.tag, t.image, progress);
  }

  async #pushOne(client: RegistryClient, ref: Reference, tag: string, image: ImageRecord, progress: ProgressSink): Promise<void> {
    const layers = this.#d.images.layers;
    const diffIds = image.config.rootfs.diff_ids;
    for (const c of image.chainIds) layers.hold(c);
    try {
      // Top layer first, as Docker lists them.
      const order = image.chainIds.map((c, i) => ({ chain: c, diffId: diffIds[i]! })).reverse();
      for (const l of order) progress({ status: 'Preparing', progressDetail: {}, id: shortDigest(l.diffId) });
      const results = new Map<string, Descriptor>();
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < order.length) {
          const l = order[next++]!;
          results.set(l.chain, await this.#pushLayer(client, ref, l.chain, l.diffId, progress));
        }
      };
      if (order.length > UPLOAD_CONCURRENCY) for (const l of order.slice(UPLOAD_CONCURRENCY)) progress({ status: 'Waiting', progressDetail: {}, id: shortDigest(l.diffId) });
      await Promise.all(Array.from({ length: Math.min(UPLOAD_CONCURRENCY, order.length) }, worker));
      const configBytes = await this.#d.images.configBytes(image.id);
      const configDesc: Descriptor = { mediaType: MT.dockerConfig, digest: image.id, size: configBytes.length };
      if (!(await this.#exists(client, ref, image.id))) await this.#uploadBytes(client, ref, configBytes, image.id);
      const manifest = dockerManifest(configDesc, image.chainIds.map((c) => results.get(c)!));
      const digest = sha256Digest(manifest);
      await client.request(`/v2/${ref.path}/manifests/${tag}`, {
        method: 'PUT',
        scope: `repository:${ref.path}:pull,push`,
        headers: { 'Content-Type': MT.dockerManifest },
        body: manifest,
      });
      await this.#d.images.addReference(image.id, `${ref.domain}/${ref.path}@${digest}`);
      progress({ status: `${tag}: digest: ${digest} size: ${manifest.length}` });
      progress({ progressDetail: {}, aux: { Tag: tag, Digest: digest, Size: manifest.length } });
      this.#d.onPushed?.(familiarName(formatReference({ ...ref, tag })), image.id);
    } finally {
      for (const c of image.chainIds) layers.release(c);
    }
  }

  async #exists(client: RegistryClient, ref: Reference, digest: string): Promise<boolean> {
    const res = await client.request(`/v2/${ref.path}/blobs/${digest}`, { method: 'HEAD', scope: `repository:${ref.path}:pull,push`, accept: [404], retries: 2 });
    await res.body?.cancel().catch(() => {});
    return res.status === 200;
  }

  async #pushLayer(client: RegistryClient, ref: Reference, chain: string, diffId: string, progress: ProgressSink): Promise<Descriptor> {
    const id = shortDigest(diffId);
    const repo = `${ref.domain}/${ref.path}`;
    const known = (await this.#d.metadata.get(diffId)).filter((s) => s.repository.startsWith(`${ref.domain}/`));
    // Already in this repository?
    for (const s of known.filter((k) => k.repository === repo)) {
      if (await this.#exists(client, ref, s.digest)) {
        progress({ status: 'Layer already exists', progressDetail: {}, id });
        return { mediaType: s.mediaType, digest: s.digest, size: s.size };
      }
    }
    // In another repository of the same registry: mount it.
    for (const s of known.filter((k) => k.repository !== repo)) {
      const from = s.repository.slice(ref.domain.length + 1);
      const res = await client.request(`/v2/${ref.path}/blobs/uploads/?mount=${encodeURIComponent(s.digest)}&from=${encodeURIComponent(from)}`, {
        method: 'POST',
        scope: `repository:${ref.path}:pull,push repository:${from}:pull`,
        accept: [202],
      });
      await res.body?.cancel().catch(() => {});
      if (res.status === 201) {
        progress({ status: `Mounted from ${familiarName(`${ref.domain}/${from}`)}`, progressDetail: {}, id });
        await this.#d.metadata.add(diffId, { ...s, repository: repo });
        return { mediaType: s.mediaType, digest: s.digest, size: s.size };
      }
      // 202: the registry started an upload instead; cancel it and upload ourselves.
      const loc = res.headers.get('location');
      if (loc) await client.request('', { url: new URL(loc, await client.base()).toString(), method: 'DELETE', scope: `repository:${ref.path}:pull,push`, accept: [404, 405] }).then((r) => r.body?.cancel()).catch(() => {});
    }
    // Upload: the rebuilt tar, gzipped, hashed and counted on the way.
    const layer = this.#d.images.layers.get(chain);
    const total = layer?.tarSize ?? 0;
    const layers = this.#d.images.layers;
    const hash = createHash('sha256');
    let size = 0;
    let fed = 0;
    const report = throttledProgress(progress, id, 'Pushing', total);
    const counted = (async function* () {
      for await (const chunk of layers.tarStream(chain)) {
        const b = chunk as Buffer;
        fed += b.length;
        report(Math.min(fed, total));
        yield b;
      }
    })();
    const body = (async function* () {
      for await (const b of parallelGzip(counted)) {
        hash.update(b);
        size += b.length;
        yield b;
      }
    })();
    const location = await this.#startUpload(client, ref);
    const patched = await client.request('', {
      url: location,
      method: 'PATCH',
      scope: `repository:${ref.path}:pull,push`,
      headers: { 'Content-Type': 'application/octet-stream' },
      body,
    });
    await patched.body?.cancel().catch(() => {});
    const digest = `sha256:${hash.digest('hex')}`;
    const next = new URL(patched.headers.get('location') ?? location, location);
    next.searchParams.set('digest', digest);
    const put = await client.request('', { url: next.toString(), method: 'PUT', scope: `repository:${ref.path}:pull,push`, headers: { 'Content-Length': '0' } });
    await put.body?.cancel().catch(() => {});
    progress({ status: 'Pushed', progressDetail: {}, id });
    await this.#d.metadata.add(diffId, { digest, repository: repo, mediaType: MT.dockerLayer, size });
    return { mediaType: MT.dockerLayer, digest, size };
  }

  async #startUpload(client: RegistryClient, ref: Reference): Promise<string> {
    const res = await client.request(`/v2/${ref.path}/blobs/uploads/`, { method: 'POST', scope: `repository:${ref.path}:pull,push`, headers: { 'Content-Length': '0' } });
    await res.body?.cancel().catch(() => {});
    const loc = res.headers.get('location');
    if (!loc) throw invalidParameter('registry did not return an upload location');
    return new URL(loc, await client.base()).toString();
  }

  async #uploadBytes(client: RegistryClient, ref: Reference, bytes: Buffer, digest: string): Promise<void> {
    const location = new URL(await this.#startUpload(client, ref));
    location.searchParams.set('digest', digest);
    const res = await client.request('', { url: location.toString(), method: 'PUT', scope: `repository:${ref.path}:pull,push`, headers: { 'Content-Type': 'application/octet-stream' }, body: bytes });
    await res.body?.cancel().catch(() => {});
  }
}
