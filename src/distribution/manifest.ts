// Image manifests and indexes in OCI and Docker schema2 form: media types, validation of what a
// registry or an archive hands us, and platform choice in an index.
import { invalidParameter, notFound, notImplemented } from '../core/errors.ts';
import { isDigest } from '../core/digest.ts';

export const MT = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerForeignLayer: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  schema1: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

export const MANIFEST_ACCEPT = [MT.ociIndex, MT.dockerList, MT.ociManifest, MT.dockerManifest].join(', ');

/** Manifests bigger than this are refused (the distribution spec's registries cap them at 4 MiB). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
export const MAX_CONFIG_BYTES = 8 * 1024 * 1024;
const MAX_LAYERS = 1000;

const LAYER_TYPES = new Set<string>([MT.dockerLayer, MT.ociLayer, MT.ociLayerGzip, MT.ociLayerZstd, 'application/vnd.docker.image.rootfs.diff.tar', 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip']);

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
  urls?: string[];
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface ImageManifest {
  kind: 'manifest';
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
}

export interface ImageIndex {
  kind: 'index';
  mediaType: string;
  manifests: Descriptor[];
}

function descriptor(v: unknown, what: string): Descriptor {
  if (typeof v !== 'object' || v === null) throw invalidParameter(`invalid manifest: ${what} is not an object`);
  const d = v as Record<string, unknown>;
  if (typeof d.digest !== 'string' || !isDigest(d.digest)) throw invalidParameter(`invalid manifest: ${what} has an invalid or unsupported digest`);
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) throw invalidParameter(`invalid manifest: ${what} has an invalid size`);
  const out: Descriptor = { mediaType: typeof d.mediaType === 'string' ? d.mediaType : '', digest: d.digest, size: d.size };
  const p = d.platform as Record<string, unknown> | undefined;
  if (typeof p === 'object' && p !== null && typeof p.os === 'string' && typeof p.architecture === 'string') {
    out.platform = { os: p.os, architecture: p.architecture };
    if (typeof p.variant === 'string') out.platform.variant = p.variant;
  }
  if (typeof d.annotations === 'object' && d.annotations !== null) {
    out.annotations = Object.fromEntries(Object.entries(d.annotations).filter((e): e is [string, string] => typeof e[1] === 'string'));
  }
  if (Array.isArray(d.urls)) out.urls = d.urls.filter((u): u is string => typeof u === 'string');
  return out;
}

/** Parses manifest bytes; `contentType` is the registry's Content-Type when there is one. */
export function parseManifest(bytes: Buffer, contentType?: string): ImageManifest | ImageIndex {
  if (bytes.length > MAX_MANIFEST_BYTES) throw invalidParameter(`manifest too large: ${bytes.length} bytes`);
  let v: unknown;
  try {
    v = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw invalidParameter(`invalid manifest: ${(err as Error).message}`);
  }
  if (typeof v !== 'object' || v === null) throw invalidParameter('invalid manifest: not a JSON object');
  const m = v as Record<string, unknown>;
  const declared = typeof m.mediaType === 'string' ? m.mediaType : (contentType ?? '').split(';')[0]!.trim();
  if (m.schemaVersion === 1 || declared === MT.schema1 || declared === 'application/vnd.docker.distribution.manifest.v1+json') {
    throw notImplemented('Docker Image Format v1 and Docker Image manifest version 2, schema 1 support has been removed; the image must be pushed again in a newer format');
  }
  if (m.schemaVersion !== 2) throw invalidParameter('invalid manifest: unsupported schemaVersion');
  if (Array.isArray(m.manifests)) {
    if (m.manifests.length > MAX_LAYERS) throw invalidParameter('invalid manifest: too many entries in the index');
    return { kind: 'index', mediaType: declared || MT.ociIndex, manifests: m.manifests.map((d, i) => descriptor(d, `manifests[${i}]`)) };
  }
  if (!Array.isArray(m.layers) || m.config === undefined) throw invalidParameter('invalid manifest: neither an image manifest nor an index');
  if (m.layers.length > MAX_LAYERS) throw invalidParameter('invalid manifest: too many layers');
  const config = descriptor(m.config, 'config');
  const layers = m.layers.map((d, i) => descriptor(d, `layers[${i}]`));
  for (const l of layers) {
    if (l.mediaType === MT.dockerForeignLayer) throw notImplemented('foreign (Windows) layers are not supported');
    if (l.mediaType !== '' && !LAYER_TYPES.has(l.mediaType)) throw invalidParameter(`unsupported layer media type ${l.mediaType}`);
  }
  return { kind: 'manifest', mediaType: declared || MT.ociManifest, config, layers };
}

export function formatPlatform(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

const ARCH_ALIASES: Record<string, string> = { x86_64: 'amd64', 'x86-64': 'amd64', aarch64: 'arm64', armhf: 'arm', armel: 'arm', i386: '386' };

/** `os/arch[/variant]`, with the architecture's other names (x86_64, aarch64, …) as OCI spells them. */
export function parsePlatform(s: string): Platform {
  const parts = s.toLowerCase().split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((x) => !/^[a-z0-9_.-]{1,32}$/.test(x))) {
    throw invalidParameter(`invalid platform ${JSON.stringify(s)}: expected os/arch[/variant]`);
  }
  const out: Platform = { os: parts[0]!, architecture: ARCH_ALIASES[parts[1]!] ?? parts[1]! };
  if (parts[2]) out.variant = parts[2];
  return out;
}

/** Whether an image for `actual` serves `wanted`: same OS and architecture, and the variant when one is asked (arm64's default is v8). */
export function platformMatches(wanted: Platform, actual: Platform): boolean {
  const arch = (a: string): string => ARCH_ALIASES[a] ?? a;
  if (wanted.os !== actual.os || arch(wanted.architecture) !== arch(actual.architecture)) return false;
  if (wanted.variant === undefined) return true;
  const variant = (p: Platform): string | undefined => p.variant ?? (arch(p.architecture) === 'arm64' ? 'v8' : undefined);
  return variant(wanted) === variant(actual);
}

/** The index entry for a platform: same OS and architecture, and the variant when one is wanted. */
export function selectPlatform(index: ImageIndex, want: Platform): Descriptor {
  const usable = index.manifests.filter((d) => d.platform !== undefined && d.platform.os === want.os && d.platform.architecture === want.architecture);
  const exact = want.variant !== undefined ? usable.find((d) => d.platform?.variant === want.variant) : undefined;
  const pick = exact ?? (want.variant === undefined ? (usable.find((d) => d.platform?.variant === undefined || d.platform.variant === 'v8') ?? usable[0]) : undefined);
  if (pick === undefined) throw notFound(`no matching manifest for ${formatPlatform(want)} in the manifest list entries`);
  return pick;
}

/** A Docker schema2 manifest for a config and gzip layers, serialized the way it will be hashed. */
export function dockerManifest(config: Descriptor, layers: Descriptor[]): Buffer {
  const m = {
    schemaVersion: 2,
    mediaType: MT.dockerManifest,
    config: { mediaType: MT.dockerConfig, size: config.size, digest: config.digest },
    layers: layers.map((l) => ({ mediaType: l.mediaType, size: l.size, digest: l.digest })),
  };
  return Buffer.from(JSON.stringify(m, null, 3));
}
