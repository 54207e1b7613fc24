// HTTP Basic authentication against an htpasswd file. Only bcrypt entries ($2a$, $2b$, $2y$) are
// accepted, as the reference registry does: the other htpasswd formats (MD5-crypt, SHA-1, crypt,
// plain text) are weak. bcrypt is slow on purpose, so a verified user:password pair is remembered
// (as a hash of both) for a few minutes rather than re-checked on every request of a push.
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { compare } from 'bcryptjs';

const CACHE_TTL_MS = 5 * 60 * 1000;
const CACHE_MAX = 1000;
// Compared against when the user is unknown, so a miss costs as much as a wrong password.
const DUMMY_HASH = '$2y$10$CwTycUXWue0Thq9StjUM0uJ8.y2Vt8Ab6EuQQzVSbqg3jFZnwBDwS';

export interface HtpasswdParse {
  users: Map<string, string>;
  /** Users whose entries are not bcrypt, and so can never log in. */
  ignored: string[];
}

export function isBcryptHash(h: string): boolean {
  return /^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/.test(h);
}

/** Parses `user:hash` lines; blank lines and `#` comments are skipped. */
export function parseHtpasswd(text: string): HtpasswdParse {
  const users = new Map<string, string>();
  const ignored: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const user = line.slice(0, colon);
    const hash = line.slice(colon + 1);
    if (isBcryptHash(hash)) users.set(user, hash);
    else ignored.push(user);
  }
  return { users, ignored };
}

/** The user and password of an `Authorization: Basic ...` header, or undefined. */
export function parseBasicAuthorization(header: string | undefined): { user: string; password: string } | undefined {
  if (header === undefined || header.length > 8192) return undefined;
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export class HtpasswdAuth {
  readonly realm: string;
  readonly #users: Map<string, string>;
  readonly #verified = new Map<string, number>();

  constructor(users: Map<string, string>, realm: string) {
    this.#users = users;
    this.realm = realm;
  }

  static async load(path: string, realm: string): Promise<{ auth: HtpasswdAuth; ignored: string[] }> {
    const { users, ignored } = parseHtpasswd(await readFile(path, 'utf8'));
    return { auth: new HtpasswdAuth(users, realm), ignored };
  }

  /** The `WWW-Authenticate` value of a 401. */
  challenge(): string {
    return `Basic realm=${JSON.stringify(this.realm)}`;
  }

  /** The authenticated user, or undefined when the header is missing or wrong. */
  async verify(header: string | undefined, now = Date.now()): Promise<string | undefined> {
    const creds = parseBasicAuthorization(header);
    if (!creds) return undefined;
    const hash = this.#users.get(creds.user);
    const key = createHash('sha256').update(`${creds.user}\0${creds.password}\0${hash ?? ''}`).digest();
    const cacheKey = key.toString('hex');
    const until = this.#verified.get(cacheKey);
    if (until !== undefined && until > now && hash !== undefined) return creds.user;
    const ok = await compare(creds.password, hash ?? DUMMY_HASH);
    if (!ok || hash === undefined) return undefined;
    if (this.#verified.size >= CACHE_MAX) this.#verified.clear();
    this.#verified.set(cacheKey, now + CACHE_TTL_MS);
    return creds.user;
  }
}


/**
 * Counts wrong passwords per client address; an address with too many in a window is refused
 * (429) until the window ends, without spending bcrypt time on it. Requests without credentials
 * do not count: every client's first request has none.
 */
export class FailureLimiter {
  readonly #max: number;
  readonly #windowMs: number;
  readonly #entries = new Map<string, { count: number; until: number }>();

  constructor(opts: { max?: number; windowMs?: number } = {}) {
    this.#max = opts.max ?? 10;
    this.#windowMs = opts.windowMs ?? 60_000;
  }

  /** Seconds until the address may try again, or 0 when it may now. */
  retryAfter(key: string, now = Date.now()): number {
    const e = this.#entries.get(key);
    if (!e || e.until <= now) return 0;
    return e.count >= this.#max ? Math.ceil((e.until - now) / 1000) : 0;
  }

  fail(key: string, now = Date.now()): void {
    let e = this.#entries.get(key);
    if (!e || e.until <= now) {
      if (this.#entries.size >= 10_000) this.#prune(now);
      e = { count: 0, until: now + this.#windowMs };
      this.#entries.set(key, e);
    }
    e.count++;
  }

  succeed(key: string): void {
    this.#entries.delete(key);
  }

  #prune(now: number): void {
    for (const [k, e] of this.#entries) if (e.until <= now) this.#entries.delete(k);
    if (this.#entries.size >= 10_000) this.#entries.clear();
  }
}
