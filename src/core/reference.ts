// Docker image references (`busybox`, `user/app:1`, `localhost:5000/x/y:tag`, `x@sha256:…`),
// parsed with Docker's grammar and normalization rules. Lengths are checked first and every
// component is scanned by hand in one linear pass: backtracking regexes over this grammar have
// hung other engines on inputs such as `-.` repeated ten thousand times.
import { invalidParameter, type BerthError } from './errors.ts';
import { isDigest } from './digest.ts';

export interface Reference {
  /** Registry host, with port when given; `docker.io` for Docker Hub. */
  domain: string;
  /** Repository path, e.g. `library/busybox`. */
  path: string;
  tag?: string;
  digest?: string;
}

export const DEFAULT_DOMAIN = 'docker.io';
export const DEFAULT_TAG = 'latest';
const LEGACY_DOMAIN = 'index.docker.io';
const OFFICIAL_PREFIX = 'library/';
const NAME_MAX = 255;
const TAG_MAX = 128;
const DIGEST_MAX = 'sha256:'.length + 64;
const INPUT_MAX = NAME_MAX + 1 + TAG_MAX + 1 + DIGEST_MAX;

const invalidFormat = (): BerthError => invalidParameter('invalid reference format');

function isLowerAlnum(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39);
}
function isAlnum(c: number): boolean {
  return isLowerAlnum(c) || (c >= 0x41 && c <= 0x5a);
}
function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
function isHex(c: number): boolean {
  return isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

/** A path component: lowercase alphanumeric runs joined by `.`, `_`, `__` or one or more `-`. */
function isPathComponent(s: string): boolean {
  if (s.length === 0 || !isLowerAlnum(s.charCodeAt(0)) || !isLowerAlnum(s.charCodeAt(s.length - 1))) return false;
  let i = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (isLowerAlnum(c)) {
      i++;
      continue;
    }
    // A separator, which must sit between two alphanumerics.
    if (c === 0x2e /* . */) i++;
    else if (c === 0x5f /* _ */) i += s.charCodeAt(i + 1) === 0x5f ? 2 : 1;
    else if (c === 0x2d /* - */) while (s.charCodeAt(i) === 0x2d) i++;
    else return false;
    if (!isLowerAlnum(s.charCodeAt(i))) return false;
  }
  return true;
}

/** A domain label: alphanumerics with inner hyphens. */
function isDomainLabel(s: string): boolean {
  if (s.length === 0 || !isAlnum(s.charCodeAt(0)) || !isAlnum(s.charCodeAt(s.length - 1))) return false;
  for (let i = 1; i < s.length - 1; i++) {
    const c = s.charCodeAt(i);
    if (!isAlnum(c) && c !== 0x2d) return false;
  }
  return true;
}

/** `host[:port]`, where host is dotted labels or a bracketed IPv6 address. */
function isDomain(s: string): boolean {
  let host = s;
  let port: string | undefined;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 2) return false;
    for (let i = 1; i < close; i++) {
      const c = s.charCodeAt(i);
      if (!isHex(c) && c !== 0x3a) return false;
    }
    const after = s.slice(close + 1);
    if (after === '') return true;
    if (!after.startsWith(':')) return false;
    port = after.slice(1);
    host = '';
  } else {
    const colon = s.indexOf(':');
    if (colon >= 0) {
      host = s.slice(0, colon);
      port = s.slice(colon + 1);
    }
    if (!host.split('.').every(isDomainLabel)) return false;
  }
  if (port !== undefined) {
    if (port.length === 0 || port.length > 5) return false;
    for (let i = 0; i < port.length; i++) if (!isDigit(port.charCodeAt(i))) return false;
  }
  return true;
}

/** A tag: a word character, then up to 127 word characters, dots or hyphens. */
function isTag(s: string): boolean {
  if (s.length === 0 || s.length > TAG_MAX) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const word = isAlnum(c) || c === 0x5f;
    if (!word && (i === 0 || (c !== 0x2e && c !== 0x2d))) return false;
  }
  return true;
}

function isHexId(s: string): boolean {
  if (s.length !== 64) return false;
  for (let i = 0; i < 64; i++) {
    const c = s.charCodeAt(i);
    if (!isDigit(c) && !(c >= 0x61 && c <= 0x66)) return false;
  }
  return true;
}

/** Docker's rule for telling a registry host from a Docker Hub namespace. */
function splitDomain(name: string): { domain: string; path: string } {
  const slash = name.indexOf('/');
  if (slash < 0) return { domain: DEFAULT_DOMAIN, path: OFFICIAL_PREFIX + name };
  const first = name.slice(0, slash);
  let domain: string;
  let path: string;
  if (first === 'localhost' || first.includes('.') || first.includes(':') || first.toLowerCase() !== first) {
    domain = first === LEGACY_DOMAIN ? DEFAULT_DOMAIN : first;
    path = name.slice(slash + 1);
  } else {
    domain = DEFAULT_DOMAIN;
    path = name;
  }
  if (domain === DEFAULT_DOMAIN && !path.includes('/')) path = OFFICIAL_PREFIX + path;
  return { domain, path };
}

/** Parses and normalizes a reference; throws InvalidParameter with Docker's wording. */
export function parseReference(s: string): Reference {
  if (typeof s !== 'string' || s.length === 0 || s.length > INPUT_MAX) throw invalidFormat();

  let rest = s;
  let digest: string | undefined;
  const at = s.indexOf('@');
  if (at >= 0) {
    digest = s.slice(at + 1);
    rest = s.slice(0, at);
    if (!isDigest(digest)) throw invalidFormat();
  }

  let name = rest;
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    name = rest.slice(0, colon);
    if (!isTag(tag)) throw invalidFormat();
  }
  if (name.length === 0 || name.length > NAME_MAX) throw invalidFormat();
  if (isHexId(s)) throw invalidParameter(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);

  const { domain, path } = splitDomain(name);
  if (path.toLowerCase() !== path) {
    throw invalidParameter(`invalid reference format: repository name (${path}) must be lowercase`);
  }
  if (domain.length + 1 + path.length > NAME_MAX) throw invalidFormat();
  if (!isDomain(domain) || !path.split('/').every(isPathComponent)) throw invalidFormat();

  const ref: Reference = { domain, path };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/** `domain/path` of a parsed reference. */
export function repositoryName(ref: Reference): string {
  return `${ref.domain}/${ref.path}`;
}

function withSuffix(name: string, ref: Reference): string {
  let out = name;
  if (ref.tag !== undefined) out += `:${ref.tag}`;
  if (ref.digest !== undefined) out += `@${ref.digest}`;
  return out;
}

/** Adds the default tag when a reference has neither tag nor digest. */
export function withDefaultTag(ref: Reference): Reference {
  return ref.tag === undefined && ref.digest === undefined ? { ...ref, tag: DEFAULT_TAG } : ref;
}

/** The fully qualified form: `docker.io/library/busybox:latest`. */
export function normalizeName(s: string): string {
  const ref = withDefaultTag(parseReference(s));
  return withSuffix(repositoryName(ref), ref);
}

/** Docker's short display name of a repository: no `docker.io/`, no `library/` for official images. */
export function familiarRepository(ref: Reference): string {
  if (ref.domain !== DEFAULT_DOMAIN) return repositoryName(ref);
  if (ref.path.startsWith(OFFICIAL_PREFIX)) {
    const rest = ref.path.slice(OFFICIAL_PREFIX.length);
    if (!rest.includes('/')) return rest;
  }
  return ref.path;
}

/** Docker's short display form, keeping the tag and digest as given: `busybox:latest`, `localhost:5000/x:y`. */
export function familiarName(s: string | Reference): string {
  const ref = typeof s === 'string' ? parseReference(s) : s;
  return withSuffix(familiarRepository(ref), ref);
}

/** The textual form of a parsed reference, fully qualified, keeping tag and digest as they are. */
export function formatReference(ref: Reference): string {
  return withSuffix(repositoryName(ref), ref);
}
