// Distribution: pull, push and login against registries, for the image routes.
import type { ImageStore } from '../stores/images.ts';
import { BlobMetadata } from './metadata.ts';
import { Puller, type PullOptions } from './pull.ts';
import { Pusher, type PushOptions } from './push.ts';
import { insecureMatcher, RegistryClient } from './registry.ts';
import { RegistryTls } from './tls.ts';
import type { Dispatcher } from 'undici';
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

export class Distribution {
  #puller: Puller;
  #pusher: Pusher;
  #registry: { insecure: (host: string) => boolean; mirrors: readonly string[]; userAgent: string; tls: (host: string) => Dispatcher | undefined };

  private constructor(opts: DistributionOptions, metadata: BlobMetadata) {
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

  /** Verifies credentials against the registry named by auth.serverAddress. */
  async login(auth: AuthConfig, signal?: AbortSignal): Promise<void> {
    const client = new RegistryClient(registryHostOf(auth.serverAddress), auth, { ...this.#registry, ...(signal ? { signal } : {}) });
    await client.login();
  }
}
