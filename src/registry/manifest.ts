// Manifest parsing for the registry: which media types it accepts, what a manifest refers to
// (blobs, child manifests, a subject), and the checks made before a manifest is stored.
import { registryError } from './errors.ts';
import { isDigest } from './names.ts';

export const MAX_MANIFEST_SIZE = 4 * 1024 * 1024;

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';

const IMAGE_TYPES = new Set([OCI_MANIFEST, DOCKER_MANIFEST]);
const INDEX_TYPES = new Set([OCI_INDEX, DOCKER_MANIFEST_LIST]);

export function isIndexType(mediaType: string): boolean {
  return INDEX_TYPES.has(mediaType);
}

export function isManifestType(mediaType: string): boolean {
  return IMAGE_TYPES.has(mediaType) || INDEX_TYPES.has(mediaType);
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  urls?: string[];
}

export interface ParsedManifest {
  mediaType: string;
  /** Blobs the manifest needs in the repository (config and layers without external URLs). */
  blobs: string[];
  /** Child manifests of an index. */
  manifests: string[];
  /** Every layer digest, external ones included (gc keeps what it can). */
  allBlobs: string[];
  subject?: string;
  artifactType?: string;
  annotations?: Record<string, string>;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function descriptor(v: unknown, where: string): Descriptor {
  if (!isRecord(v)) throw registryError('MANIFEST_INVALID', `${where}: not a descriptor`);
  const { mediaType, digest, size } = v;
  if (typeof mediaType !== 'string' || mediaType === '') throw registryError('MANIFEST_INVALID', `${where}: mediaType missing`);
  if (typeof digest !== 'string' || !isDigest(digest)) throw registryError('MANIFEST_INVALID', `${where}: invalid digest`);
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw registryError('MANIFEST_INVALID', `${where}: invalid size`);
  const d: Descriptor = { mediaType, digest, size };
  if (typeof v['artifactType'] === 'string') d.artifactType = v['artifactType'];
  if (isRecord(v['annotations'])) d.annotations = v['annotations'] as Record<string, string>;
  if (Array.isArray(v['urls']) && v['urls'].length > 0) d.urls = v['urls'].filter((u): u is string => typeof u === 'string');
  return d;
}

/**
 * Parses manifest bytes pushed with Content-Type `contentType` (may be empty). The media type is
 * the header's or, without one, the document's; when both are present they must agree.
 */
export function parseManifest(bytes: Uint8Array, contentType: string): ParsedManifest {
  if (bytes.byteLength > MAX_MANIFEST_SIZE) {
    throw registryError('SIZE_INVALID', `manifest exceeds the limit of ${MAX_MANIFEST_SIZE} bytes`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (err) {
    throw registryError('MANIFEST_INVALID', `manifest is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!isRecord(doc)) throw registryError('MANIFEST_INVALID', 'manifest is not a JSON object');
  const header = contentType.split(';')[0]!.trim().toLowerCase();
  const inner = typeof doc['mediaType'] === 'string' ? doc['mediaType'] : undefined;
  if (header !== '' && inner !== undefined && header !== inner) {
    throw registryError('MANIFEST_INVALID', `Content-Type ${header} does not match the manifest's mediaType ${inner}`);
  }
  let mediaType = header !== '' ? header : inner;
  if (mediaType === undefined) {
    // An OCI document without mediaType: its shape says which.
    mediaType = Array.isArray(doc['manifests']) ? OCI_INDEX : OCI_MANIFEST;
  }
  if (!isManifestType(mediaType)) throw registryError('MANIFEST_INVALID', `unsupported manifest media type: ${mediaType.slice(0, 200)}`);
  if (doc['schemaVersion'] !== 2) throw registryError('MANIFEST_INVALID', 'schemaVersion must be 2');

  const out: ParsedManifest = { mediaType, blobs: [], manifests: [], allBlobs: [] };
  if (isIndexType(mediaType)) {
    if (!Array.isArray(doc['manifests'])) throw registryError('MANIFEST_INVALID', 'index has no manifests array');
    doc['manifests'].forEach((m, i) => out.manifests.push(descriptor(m, `manifests[${i}]`).digest));
  } else {
    const config = descriptor(doc['config'], 'config');
    out.blobs.push(config.digest);
    out.allBlobs.push(config.digest);
    if (!Array.isArray(doc['layers'])) throw registryError('MANIFEST_INVALID', 'manifest has no layers array');
    doc['layers'].forEach((l, i) => {
      const d = descriptor(l, `layers[${i}]`);
      out.allBlobs.push(d.digest);
      // Layers with external URLs (Windows foreign layers) need not be in the registry.
      if (d.urls === undefined) out.blobs.push(d.digest);
    });
  }
  if (doc['subject'] !== undefined) out.subject = descriptor(doc['subject'], 'subject').digest;
  if (typeof doc['artifactType'] === 'string') out.artifactType = doc['artifactType'];
  else if (!isIndexType(mediaType) && isRecord(doc['config']) && typeof doc['config']['mediaType'] === 'string') {
    // The referrers API reports an image manifest's config media type when it has no artifactType.
    out.artifactType = doc['config']['mediaType'];
  }
  if (isRecord(doc['annotations'])) out.annotations = doc['annotations'] as Record<string, string>;
  return out;
}
