// Validation of everything a request can turn into a path component: repository names, tags,
// digests and upload IDs. Each check bounds the length first and then scans in linear time; the
// distribution grammar's component regex nests quantifiers and backtracks exponentially on
// near-misses, so it is not used as a regex here.
import { registryError } from './errors.ts';

export const MAX_NAME_LENGTH = 255;
export const MAX_TAG_LENGTH = 128;

const ALGORITHMS: Record<string, number> = { sha256: 64, sha512: 128 };

export type DigestAlgorithm = 'sha256' | 'sha512';

export interface ParsedDigest {
  algorithm: DigestAlgorithm;
  hex: string;
}

function isAlnum(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39);
}

/** One path component: lowercase alphanumeric runs joined by `.`, `_`, `__` or any number of `-`. */
export function isNameComponent(s: string): boolean {
  if (s.length === 0 || !isAlnum(s.charCodeAt(0)) || !isAlnum(s.charCodeAt(s.length - 1))) return false;
  let i = 0;
  while (i < s.length) {
    if (isAlnum(s.charCodeAt(i))) {
      i++;
      continue;
    }
    let j = i;
    while (j < s.length && !isAlnum(s.charCodeAt(j))) j++;
    const sep = s.slice(i, j);
    if (sep !== '.' && sep !== '_' && sep !== '__' && !/^-+$/.test(sep)) return false;
    i = j;
  }
  return true;
}

export function isRepositoryName(s: string): boolean {
  if (typeof s !== 'string' || s.length === 0 || s.length > MAX_NAME_LENGTH) return false;
  return s.split('/').every(isNameComponent);
}

/** Returns the name, or throws NAME_INVALID. */
export function validateRepositoryName(s: string): string {
  if (!isRepositoryName(s)) throw registryError('NAME_INVALID', 'invalid repository name', { name: String(s).slice(0, 300) });
  return s;
}

const TAG = /^[\w][\w.-]*$/;

export function isTag(s: string): boolean {
  return typeof s === 'string' && s.length > 0 && s.length <= MAX_TAG_LENGTH && TAG.test(s);
}

export function parseDigest(s: string): ParsedDigest | undefined {
  if (typeof s !== 'string' || s.length > 7 + 128) return undefined;
  const colon = s.indexOf(':');
  if (colon < 0) return undefined;
  const algorithm = s.slice(0, colon);
  const hex = s.slice(colon + 1);
  const want = Object.hasOwn(ALGORITHMS, algorithm) ? ALGORITHMS[algorithm] : undefined;
  if (want === undefined || hex.length !== want || !/^[0-9a-f]+$/.test(hex)) return undefined;
  return { algorithm: algorithm as DigestAlgorithm, hex };
}

/** Parses a digest, or throws DIGEST_INVALID. */
export function validateDigest(s: string): ParsedDigest {
  const d = parseDigest(s);
  if (!d) throw registryError('DIGEST_INVALID', 'invalid digest', { digest: String(s).slice(0, 200) });
  return d;
}

export function isDigest(s: string): boolean {
  return parseDigest(s) !== undefined;
}

const UPLOAD_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isUploadId(s: string): boolean {
  return typeof s === 'string' && s.length === 36 && UPLOAD_ID.test(s);
}
