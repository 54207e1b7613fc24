// A client for one registry (OCI distribution spec / Docker registry API v2): endpoint and scheme
// choice, the token and Basic auth flows, bounded reads, retries of idempotent requests, and
// registry errors turned into berth's error kinds with Docker's wording.
import { BerthError, invalidParameter, messageOf, unavailable } from '../core/errors.ts';
import { sleep } from '../lib/mutex.ts';
import { parseChallenges, type AuthConfig } from './auth.ts';
import type { Agent } from 'node:http';
import { httpFetch, type HttpRequestInit, type HttpResponse } from '../adapters/http/index.ts';

export interface RegistryOptions {
  /** Whether plain HTTP may be used for this host (insecure-registries, loopback). */
  insecure(host: string): boolean;
  /** Mirror base URLs tried first for docker.io pulls. */
  mirrors?: readonly string[];
  /** Whether this client may use the mirrors (pulls only). */
  useMirrors?: boolean;
  userAgent?: string;
  signal?: AbortSignal;
  /** The connection pool for a host with its own TLS material (certs.d), if any. */
  tls?: (host: string) => Agent | undefined;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: AsyncIterable<Uint8Array> | Uint8Array | string;
  /** The token scope the request needs, e.g. `repository:library/busybox:pull`. */
  scope: string;
  /** Statuses returned to the caller instead of raised; 2xx always are. */
  accept?: readonly number[];
  /** Retries on connection errors and 5xx (idempotent requests only). */
  retries?: number;
  /** Where to send it: a path under the endpoint, or an absolute URL (upload locations). */
  url?: string;
}

const DOCKER_HUB = 'registry-1.docker.io';
const MAX_TOKEN_BODY = 1 << 20;
const RETRY_BASE_MS = 200;

/** Reads a response body into memory, refusing more than max bytes. */
export async function readBounded(res: HttpResponse, max: number, what: string): Promise<Buffer> {
  const len = Number(res.headers.get('content-length') ?? '-1');
  if (len > max) {
    await res.body?.cancel().catch(() => {});
    throw invalidParameter(`${what} is too large: ${len} bytes (limit ${max})`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  if (res.body === null) return Buffer.alloc(0);
  for await (const chunk of res.body) {
    total += chunk.byteLength;
    if (total > max) {
      await res.body.cancel().catch(() => {});
      throw invalidParameter(`${what} is too large: more than ${max} bytes`);
    }
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

function isLoopback(host: string): boolean {
  const h = host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** Default rule for plain HTTP: loopback registries and those listed as insecure (host[:port] or CIDR). */
export function insecureMatcher(list: readonly string[]): (host: string) => boolean {
  return (host) => {
    if (isLoopback(host)) return true;
    const bare = host.replace(/:\d+$/, '');
    for (const entry of list) {
      const e = entry.replace(/^[a-z]+:\/\//i, '').replace(/\/$/, '');
      if (e === host || e === bare) return true;
      const cidr = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(e);
      if (cidr && /^\d+\.\d+\.\d+\.\d+$/.test(bare)) {
        const toNum = (ip: string): number => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
        const bits = Number(cidr[2]);
        const mask = bits === 0 ? 0 : 2 ** 32 - 2 ** (32 - bits);
        if (((toNum(bare) & mask) >>> 0) === ((toNum(cidr[1]!) & mask) >>> 0)) return true;
      }
    }
    return false;
  };
}

interface RegistryErrorBody {
  errors?: Array<{ code?: string; message?: string }>;
}

/** `code: message` of a registry error body, as Docker shows it ("manifest unknown: manifest unknown"). */
async function registryErrorText(res: HttpResponse): Promise<string> {
  let text = '';
  try {
    const buf = await readBounded(res, 64 * 1024, 'error body');
    const body = JSON.parse(buf.toString('utf8')) as RegistryErrorBody;
    const first = body.errors?.[0];
    if (first) text = `${(first.code ?? 'unknown').toLowerCase().replace(/_/g, ' ')}: ${first.message ?? ''}`.trim();
  } catch {
    // Not a registry error body.
  }
  return text || `${res.status} ${res.statusText}`.trim();
}

export class RegistryError extends BerthError {
  readonly status: number;
  readonly code: string;
  constructor(kind: BerthError['kind'], message: string, status: number, code: string) {
    super(kind, message);
    this.status = status;
    this.code = code;
  }
}

export class RegistryClient {
  readonly host: string;
  #opts: RegistryOptions;
  #auth: AuthConfig;
  #base: string | undefined;
  #tokens = new Map<string, string>();
  #basic = false;

  constructor(host: string, auth: AuthConfig, opts: RegistryOptions) {
    this.host = host;
    this.#auth = auth;
    this.#opts = opts;
  }

  /** Whether requests go to one of the mirrors (decided by the first request). */
  get viaMirror(): boolean {
    return this.#base !== undefined && (this.#opts.mirrors ?? []).some((m) => m.replace(/\/+$/, '') === this.#base);
  }

  /** https://host (or http:// for insecure hosts that do not speak TLS), probed once with GET /v2/. */
  async base(): Promise<string> {
    if (this.#base !== undefined) return this.#base;
    const host = this.host === 'docker.io' ? DOCKER_HUB : this.host;
    const candidates = [`https://${host}`];
    if (this.#opts.insecure(this.host)) candidates.push(`http://${host}`);
    if (this.host === 'docker.io' && this.#opts.useMirrors) candidates.unshift(...(this.#opts.mirrors ?? []).map((m) => m.replace(/\/+$/, '')));
    // As Docker, when every endpoint fails the last one's error is told (for an insecure
    // registry the plain-http attempt, after https) — unless a server answered TLS with a
    // certificate berth refused: that is what the user must hear about, not the http attempt's
    // hang-up from the same TLS server.
    const errors: unknown[] = [];
    for (const base of candidates) {
      try {
        const res = await httpFetch(`${base}/v2/`, { headers: this.#headers(), ...this.#signal() });
        await res.body?.cancel().catch(() => {});
        this.#base = base;
        this.#learnChallenge(res);
        return base;
      } catch (err) {
        errors.push(err);
      }
    }
    const told = errors.findIndex(isCertificateError);
    const i = told >= 0 ? told : errors.length - 1;
    throw unavailable(`Get "${candidates[i]}/v2/": ${describeFetchError(errors[i])}`, errors[i]);
  }

  #agent: Agent | undefined | null = null;

  /** The abort signal and, for a host with certs.d material, its connection pool: for every request. */
  #signal(): Pick<HttpRequestInit, 'signal' | 'agent'> {
    if (this.#agent === null) this.#agent = this.#opts.tls?.(this.host === 'docker.io' ? DOCKER_HUB : this.host);
    return { ...(this.#opts.signal ? { signal: this.#opts.signal } : {}), ...(this.#agent ? { agent: this.#agent } : {}) };
  }

  #headers(extra: Record<string, string> = {}): Record<string, string> {
    return { 'User-Agent': this.#opts.userAgent ?? 'berth', ...extra };
  }

  #learnChallenge(res: HttpResponse): void {
    if (res.status !== 401) return;
    const ch = parseChallenges(res.headers.get('www-authenticate'));
    if (ch.some((c) => c.scheme === 'basic') && !ch.some((c) => c.scheme === 'bearer')) this.#basic = true;
  }

  #authorization(scope: string): string | undefined {
    if (this.#auth.registryToken) return `Bearer ${this.#auth.registryToken}`;
    const token = this.#tokens.get(scope);
    if (token !== undefined) return `Bearer ${token}`;
    if (this.#basic && this.#auth.username !== undefined) return basicHeader(this.#auth);
    return undefined;
  }

  /** Fetches a bearer token for scope from the challenge's realm. */
  async #fetchToken(params: Record<string, string>, scope: string): Promise<void> {
    const realm = params.realm;
    if (!realm || !/^https?:\/\//.test(realm)) throw unauthorizedError(this.host, 'the registry sent a token challenge without a usable realm');
    const url = new URL(realm);
    if (params.service) url.searchParams.set('service', params.service);
    for (const s of new Set([...scope.split(' '), ...(params.scope ? params.scope.split(' ') : [])].filter((s) => s !== ''))) url.searchParams.append('scope', s);
    const headers = this.#headers();
    let res: HttpResponse;
    try {
      if (this.#auth.identityToken) {
        const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: this.#auth.identityToken, service: params.service ?? '', scope, client_id: 'berth' });
        res = await httpFetch(realm, { method: 'POST', headers: { ...headers, 'Content-Type': 'application/x-www-form-urlencoded' }, body: form.toString(), ...this.#signal() });
      } else {
        if (this.#auth.username !== undefined) headers.Authorization = basicHeader(this.#auth);
        res = await httpFetch(url, { headers, ...this.#signal() });
      }
    } catch (err) {
      throw unavailable(`Get "${url.origin}${url.pathname}": ${describeFetchError(err)}`, err);
    }
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel().catch(() => {});
      throw unauthorizedError(this.host, 'incorrect username or password');
    }
    if (!res.ok) throw unavailable(`token request to ${url.origin} failed: ${res.status} ${res.statusText}`);
    const body = await readBounded(res, MAX_TOKEN_BODY, 'token response');
    let token: unknown;
    try {
      const json = JSON.parse(body.toString('utf8')) as { token?: unknown; access_token?: unknown };
      token = json.token ?? json.access_token;
    } catch {
      token = undefined;
    }
    if (typeof token !== 'string' || token === '') throw unavailable(`token response from ${url.origin} has no token`);
    this.#tokens.set(scope, token);
  }

  /**
   * Sends a request, answering one auth challenge. Non-2xx statuses not in `accept` become errors;
   * 5xx and connection errors are retried when `retries` is set.
   */
  async request(path: string, opts: RequestOptions): Promise<HttpResponse> {
    const base = await this.base();
    const url = opts.url ?? `${base}${path}`;
    const retries = opts.retries ?? 0;
    let challenged = false;
    for (let attempt = 0; ; attempt++) {
      const headers = this.#headers(opts.headers);
      const auth = this.#authorization(opts.scope);
      if (auth !== undefined) headers.Authorization = auth;
      let res: HttpResponse;
      try {
        res = await httpFetch(url, { method: opts.method ?? 'GET', headers, ...(opts.body !== undefined ? { body: opts.body } : {}), ...this.#signal() });
      } catch (err) {
        if (this.#opts.signal?.aborted) throw err;
        if (attempt < retries) {
          await sleep(RETRY_BASE_MS * 2 ** attempt);
          continue;
        }
        throw unavailable(`${opts.method ?? 'GET'} "${url}": ${describeFetchError(err)}`, err);
      }
      if (res.status === 401 && !challenged) {
        const challenges = parseChallenges(res.headers.get('www-authenticate'));
        const bearer = challenges.find((c) => c.scheme === 'bearer');
        const basic = challenges.find((c) => c.scheme === 'basic');
        if (bearer !== undefined && !this.#auth.registryToken) {
          await res.body?.cancel().catch(() => {});
          await this.#fetchToken(bearer.params, opts.scope);
          challenged = true;
          if (opts.body === undefined || typeof opts.body === 'string' || opts.body instanceof Uint8Array) {
            attempt--;
            continue;
          }
        } else if (basic !== undefined && this.#auth.username !== undefined && !this.#basic) {
          await res.body?.cancel().catch(() => {});
          this.#basic = true;
          challenged = true;
          if (opts.body === undefined || typeof opts.body === 'string' || opts.body instanceof Uint8Array) {
            attempt--;
            continue;
          }
        }
      }
      if (res.status >= 500 && attempt < retries) {
        await res.body?.cancel().catch(() => {});
        await sleep(RETRY_BASE_MS * 2 ** attempt);
        continue;
      }
      if ((res.status >= 200 && res.status < 300) || opts.accept?.includes(res.status)) return res;
      throw await this.error(res, opts.method ?? 'GET', url);
    }
  }

  /** Checks credentials: GET /v2/ answered, with a token obtained when the registry asks for one. */
  async login(): Promise<void> {
    const res = await this.request('/v2/', { scope: '', accept: [401] });
    await res.body?.cancel().catch(() => {});
    if (res.status === 401) throw unauthorizedError(this.host, 'incorrect username or password');
  }

  /** A registry error response as berth's error kind with the registry's code and message. */
  async error(res: HttpResponse, method: string, url: string): Promise<RegistryError> {
    const text = await registryErrorText(res);
    const code = text.split(':')[0] ?? '';
    if (res.status === 401) return new RegistryError('Unauthorized', text.startsWith('unauthorized') ? text : `unauthorized: ${text}`, 401, code);
    if (res.status === 403) return new RegistryError('Forbidden', text.startsWith('denied') ? text : `denied: ${text}`, 403, code);
    if (res.status === 404) return new RegistryError('NotFound', text, 404, code);
    if (res.status === 429) return new RegistryError('Unavailable', `toomanyrequests: ${text}`, 429, code);
    return new RegistryError('Internal', `${method} ${url}: ${text}`, res.status, code);
  }
}

function basicHeader(auth: AuthConfig): string {
  return `Basic ${Buffer.from(`${auth.username ?? ''}:${auth.password ?? ''}`).toString('base64')}`;
}

function unauthorizedError(host: string, detail: string): RegistryError {
  return new RegistryError('Unauthorized', `unauthorized: ${detail} (registry ${host})`, 401, 'unauthorized');
}

/** A fetch failure's root cause in a line ("connect ECONNREFUSED 127.0.0.1:5000"). */
export function describeFetchError(err: unknown): string {
  let e: unknown = err;
  for (let i = 0; i < 5; i++) {
    const cause = (e as { cause?: unknown } | undefined)?.cause;
    if (cause === undefined) break;
    e = cause;
  }
  return goDialError(e as NodeJS.ErrnoException & { address?: string; port?: number; hostname?: string }) ?? messageOf(e);
}

/** A TLS peer whose certificate was refused (unknown authority, self-signed, wrong name, expired). */
function isCertificateError(err: unknown): boolean {
  for (let e = err, i = 0; e !== undefined && e !== null && i < 5; e = (e as { cause?: unknown }).cause, i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS_CERT/.test(code)) return true;
  }
  return false;
}

/** A connection failure in the words of Go's net package, as Docker's messages carry them. */
function goDialError(e: NodeJS.ErrnoException & { address?: string; port?: number; hostname?: string }): string | undefined {
  if (e === null || typeof e !== 'object') return undefined;
  const addr = e.address !== undefined && e.port !== undefined ? `${e.address.includes(':') ? `[${e.address}]` : e.address}:${e.port}` : undefined;
  switch (e.code) {
    case 'ECONNREFUSED':
      return addr ? `dial tcp ${addr}: connect: connection refused` : undefined;
    case 'EHOSTUNREACH':
      return addr ? `dial tcp ${addr}: connect: no route to host` : undefined;
    case 'ENETUNREACH':
      return addr ? `dial tcp ${addr}: connect: network is unreachable` : undefined;
    case 'ETIMEDOUT':
      return addr ? `dial tcp ${addr}: i/o timeout` : undefined;
    case 'ENOTFOUND': {
      if (!e.hostname) return undefined;
      // Go names the resolver it asked (the first of resolv.conf's).
      const server = (process.getBuiltinModule('node:dns') as typeof import('node:dns')).getServers()[0];
      const on = server === undefined ? '' : ` on ${server.includes(':') && !server.startsWith('[') ? `[${server}]` : server}:53`;
      return `dial tcp: lookup ${e.hostname}${on}: no such host`;
    }
    default:
      return undefined;
  }
}

