// Distribution: pull, push and login against registries, for the image routes.
import type { ImageStore } from '../stores/images.ts';
import { BlobMetadata } from './metadata.ts';
import { Puller, type PullOptions, type DistributionInspect } from './pull.ts';
import { Pusher, type PushOptions } from './push.ts';
import { insecureMatcher, readBounded, RegistryClient } from './registry.ts';
import { RegistryTls } from './tls.ts';
import type { Agent } from 'node:https';
import { registryHostOf, type AuthConfig } from './auth.ts';
import type { ProgressSink } from './progress.ts';

export { decodeRegistryAuth, encodeRegistryAuth, authFromObject, registryHostOf, type AuthConfig } from './auth.ts';
export type { ProgressMessage, ProgressSink } from './progress.ts';
export { parsePlatform } from './manifest.ts';

export interface DistributionOptions {
  images: ImageStore;
  dataRoot: string;
  insecureRegistries?: readonly string[];
  mirrors?: readonly string[];
  userAgent: string;
  onPulled?: (ref: string, id: string) => void;
  onPushed?: (ref: string, id: string) => void;
  /** Uncompressed bytes one pulled layer may unpack to (0: the default ratio-based budget). */
  maxLayerSize?: number;
  /** certs.d directories: per-registry CAs and client certificates (first match wins). */
  certsDirs?: readonly string[];
}

const PARTIAL_MAX_AGE_MS = 7 * 24 * 3600 * 1000;

/** One result of `search`, in the Engine API's shape. */
export interface SearchResult {
  name: string;
  description: string;
  star_count: number;
  is_official: boolean;
  is_automated: boolean;
}

export class Distribution {
  #puller: Puller;
  #pusher: Pusher;
  #registry: { insecure: (host: string) => boolean; mirrors: readonly string[]; userAgent: string; tls: (host: string) => Agent | undefined };
  /** The registry settings as given (for `info`'s RegistryConfig). */
  readonly settings: { insecureRegistries: readonly string[]; mirrors: readonly string[] };

  private constructor(opts: DistributionOptions, metadata: BlobMetadata) {
    this.settings = { insecureRegistries: [...(opts.insecureRegistries ?? [])], mirrors: [...(opts.mirrors ?? [])] };
    const tls = new RegistryTls(opts.certsDirs ?? []);
    this.#registry = { insecure: insecureMatcher(opts.insecureRegistries ?? []), mirrors: opts.mirrors ?? [], userAgent: opts.userAgent, tls: (host) => tls.dispatcher(host) };
    this.#puller = new Puller({
      images: opts.images,
      metadata,
      dataRoot: opts.dataRoot,
      registry: this.#registry,
      ...(opts.onPulled ? { onPulled: opts.onPulled } : {}),
      ...(opts.maxLayerSize ? { layerBudget: { floor: 8 * 1024 ** 3, ratio: 100, cap: opts.maxLayerSize } } : {}),
    });
    this.#pusher = new Pusher({ images: opts.images, metadata, registry: this.#registry, ...(opts.onPushed ? { onPushed: opts.onPushed } : {}) });
  }

  static async open(opts: DistributionOptions): Promise<Distribution> {
    const d = new Distribution(opts, await BlobMetadata.open({ dataRoot: opts.dataRoot }));
    await d.#puller.prunePartials(PARTIAL_MAX_AGE_MS);
    return d;
  }

  pull(opts: PullOptions, progress: ProgressSink): Promise<void> {
    return this.#puller.pull(opts, progress);
  }

  push(opts: PushOptions, progress: ProgressSink): Promise<void> {
    return this.#pusher.push(opts, progress);
  }

  /** The registry's descriptor and platforms for a reference, without pulling it. */
  inspect(opts: { ref: string; auth: AuthConfig; signal?: AbortSignal }): Promise<DistributionInspect> {
    return this.#puller.inspect(opts);
  }

  /**
   * `search`: a registry's v1 search (Docker Hub's index for a term without a registry name), as
   * Docker's daemon does it. Results are bounded and checked before they are returned.
   */
  async search(term: string, opts: { limit: number; auth: AuthConfig; signal?: AbortSignal }): Promise<SearchResult[]> {
    // `host/rest`: a registry name when the first part has a dot or a port, or is localhost.
    const slash = term.indexOf('/');
    const first = slash > 0 ? term.slice(0, slash) : '';
    const named = first !== '' && (first.includes('.') || first.includes(':') || first === 'localhost');
    const host = named ? first.toLowerCase() : 'docker.io';
    const q = named ? term.slice(slash + 1) : term;
    const client = new RegistryClient(host === 'docker.io' ? 'index.docker.io' : host, opts.auth, { ...this.#registry, ...(opts.signal ? { signal: opts.signal } : {}) });
    const res = await client.request(`/v1/search?q=${encodeURIComponent(q)}&n=${opts.limit}`, { scope: '', retries: 2 });
    const body = JSON.parse((await readBounded(res, 4 << 20, 'search results')).toString('utf8')) as { results?: unknown };
    const out: SearchResult[] = [];
    for (const r of Array.isArray(body.results) ? body.results : []) {
      const x = r as Record<string, unknown>;
      if (typeof x.name !== 'string') continue;
      out.push({
        name: named ? `${host}/${x.name}` : x.name,
        description: typeof x.description === 'string' ? x.description : '',
        star_count: typeof x.star_count === 'number' ? x.star_count : 0,
        is_official: x.is_official === true,
        is_automated: x.is_automated === true,
      });
      if (out.length >= opts.limit) break;
    }
    return out;
  }

  /** Verifies credentials against the registry named by auth.serverAddress. */
  async login(auth: AuthConfig, signal?: AbortSignal): Promise<void> {
    const client = new RegistryClient(registryHostOf(auth.serverAddress), auth, { ...this.#registry, ...(signal ? { signal } : {}) });
    await client.login();
  }
}
