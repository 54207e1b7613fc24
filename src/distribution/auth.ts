// Registry credentials as Docker clients send them (the X-Registry-Auth header and POST /auth
// bodies), and WWW-Authenticate challenges as registries send them.
import { invalidParameter } from '../core/errors.ts';

export interface AuthConfig {
  username?: string;
  password?: string;
  /** An OAuth refresh token from an earlier login, used instead of a password. */
  identityToken?: string;
  /** A bearer token to send as it is. */
  registryToken?: string;
  serverAddress?: string;
}

const MAX_HEADER = 64 * 1024;

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** Reads the JSON object Docker clients send, keys in any case. */
export function authFromObject(obj: unknown): AuthConfig {
  if (typeof obj !== 'object' || obj === null) return {};
  const lower: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) lower[k.toLowerCase()] = v;
  const out: AuthConfig = {};
  let username = str(lower.username);
  let password = str(lower.password);
  const auth = str(lower.auth);
  if (auth !== undefined && username === undefined) {
    const plain = Buffer.from(auth, 'base64').toString('utf8');
    const colon = plain.indexOf(':');
    if (colon > 0) {
      username = plain.slice(0, colon);
      password = plain.slice(colon + 1);
    }
  }
  if (username !== undefined) out.username = username;
  if (password !== undefined) out.password = password;
  const it = str(lower.identitytoken);
  if (it !== undefined) out.identityToken = it;
  const rt = str(lower.registrytoken);
  if (rt !== undefined) out.registryToken = rt;
  const sa = str(lower.serveraddress);
  if (sa !== undefined) out.serverAddress = sa;
  return out;
}

/** Decodes an X-Registry-Auth header (base64url JSON). An empty or `{}` header means anonymous. */
export function decodeRegistryAuth(header: string | undefined): AuthConfig {
  if (header === undefined || header === '') return {};
  if (header.length > MAX_HEADER) throw invalidParameter('X-Registry-Auth header too large');
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(header.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8'));
  } catch {
    throw invalidParameter('invalid X-Registry-Auth header: not base64-encoded JSON');
  }
  return authFromObject(json);
}

/** Encodes credentials the way Docker clients do (base64url JSON). */
export function encodeRegistryAuth(auth: AuthConfig): string {
  const obj: Record<string, string> = {};
  if (auth.username) obj.username = auth.username;
  if (auth.password) obj.password = auth.password;
  if (auth.identityToken) obj.identitytoken = auth.identityToken;
  if (auth.registryToken) obj.registrytoken = auth.registryToken;
  if (auth.serverAddress) obj.serveraddress = auth.serverAddress;
  return Buffer.from(JSON.stringify(obj)).toString('base64url');
}

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses a WWW-Authenticate header: `Bearer realm="…",service="…",scope="…"` or `Basic realm="…"`. */
export function parseChallenges(header: string | null): Challenge[] {
  if (header === null || header === '' || header.length > 16 * 1024) return [];
  const out: Challenge[] = [];
  let i = 0;
  const n = header.length;
  const skipWs = (): void => {
    while (i < n && (header[i] === ' ' || header[i] === '\t' || header[i] === ',')) i++;
  };
  const token = (): string => {
    const start = i;
    while (i < n && /[A-Za-z0-9_.~+\/-]/.test(header[i]!)) i++;
    return header.slice(start, i);
  };
  let current: Challenge | undefined;
  while (i < n) {
    skipWs();
    const start = i;
    const t = token();
    if (t === '') {
      i++;
      continue;
    }
    let j = i;
    while (j < n && header[j] === ' ') j++;
    if (header[j] === '=' && current !== undefined) {
      i = j + 1;
      while (i < n && header[i] === ' ') i++;
      let value = '';
      if (header[i] === '"') {
        i++;
        while (i < n && header[i] !== '"') {
          if (header[i] === '\\' && i + 1 < n) i++;
          value += header[i];
          i++;
        }
        i++;
      } else {
        const vs = i;
        while (i < n && header[i] !== ',' && header[i] !== ' ') i++;
        value = header.slice(vs, i);
      }
      current.params[t.toLowerCase()] = value;
      continue;
    }
    if (i === start) i++;
    current = { scheme: t.toLowerCase(), params: {} };
    out.push(current);
  }
  return out;
}

/** The registry host a login's server address names (`https://index.docker.io/v1/` → docker.io). */
export function registryHostOf(serverAddress: string | undefined): string {
  let s = (serverAddress ?? '').trim();
  if (s === '') return 'docker.io';
  s = s.replace(/^[a-z]+:\/\//i, '');
  s = s.replace(/\/.*$/, '');
  if (s === 'index.docker.io' || s === 'registry-1.docker.io' || s === 'docker.io' || s === 'registry.hub.docker.com') return 'docker.io';
  return s.toLowerCase();
}
