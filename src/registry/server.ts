// The OCI Distribution Spec (v1.1) HTTP server over a RegistryStorage: routes, headers, error
// bodies, Basic auth, read-only mode. Blobs stream from and to disk; only manifests (at most
// 4 MiB) are held in memory.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { https } from '../lib/lazy-modules.ts';
import { isIP } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { RegistryError, registryError } from './errors.ts';
import { isTag, validateDigest, validateRepositoryName } from './names.ts';
import { MAX_MANIFEST_SIZE, OCI_INDEX } from './manifest.ts';
import type { RegistryStorage, UploadRef } from './storage.ts';
import { FailureLimiter, type HtpasswdAuth } from './auth.ts';

const MAX_PATH_LENGTH = 4096;

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  log(level: LogLevel, message: string): void;
}

export function isLogLevel(s: string): s is LogLevel {
  return Object.hasOwn(LEVELS, s);
}

/** A logger writing `time level message` lines at or above `min`. */
export function streamLogger(out: { write(s: string): unknown }, min: LogLevel): Logger {
  return {
    log(level, message) {
      if (LEVELS[level] >= LEVELS[min]) out.write(`${new Date().toISOString()} ${level} ${message}\n`);
    },
  };
}

export const silentLogger: Logger = { log() {} };

export type Route =
  | { kind: 'base' }
  | { kind: 'catalog' }
  | { kind: 'tags'; name: string }
  | { kind: 'manifest'; name: string; reference: string }
  | { kind: 'blob'; name: string; digest: string }
  | { kind: 'uploads'; name: string }
  | { kind: 'upload'; name: string; id: string }
  | { kind: 'referrers'; name: string; digest: string };

const ROUTES: [RegExp, (m: RegExpExecArray) => Route][] = [
  [/^(.+)\/tags\/list$/, (m) => ({ kind: 'tags', name: m[1]! })],
  [/^(.+)\/manifests\/([^/]+)$/, (m) => ({ kind: 'manifest', name: m[1]!, reference: m[2]! })],
  [/^(.+)\/blobs\/uploads\/?$/, (m) => ({ kind: 'uploads', name: m[1]! })],
  [/^(.+)\/blobs\/uploads\/([^/]+)$/, (m) => ({ kind: 'upload', name: m[1]!, id: m[2]! })],
  [/^(.+)\/blobs\/([^/]+)$/, (m) => ({ kind: 'blob', name: m[1]!, digest: m[2]! })],
  [/^(.+)\/referrers\/([^/]+)$/, (m) => ({ kind: 'referrers', name: m[1]!, digest: m[2]! })],
];

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * Maps a request path to a route; undefined for paths outside the API. Names, references and
 * digests come back unvalidated (beyond the URL decoding of the last segment).
 */
export function parseRoute(pathname: string): Route | undefined {
  if (pathname.length > MAX_PATH_LENGTH) return undefined;
  if (pathname === '/v2/' || pathname === '/v2') return { kind: 'base' };
  if (!pathname.startsWith('/v2/')) return undefined;
  const rest = pathname.slice(4);
  if (rest === '_catalog') return { kind: 'catalog' };
  for (const [re, make] of ROUTES) {
    const m = re.exec(rest);
    if (!m) continue;
    const r = make(m);
    if (r.kind === 'manifest') r.reference = decodeSegment(r.reference);
    if (r.kind === 'blob' || r.kind === 'referrers') r.digest = decodeSegment(r.digest);
    if (r.kind === 'upload') r.id = decodeSegment(r.id);
    return r;
  }
  return undefined;
}

/** Parses `host:port`, `[v6]:port` or `:port` (all interfaces). */
export function parseListenAddress(addr: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(addr);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new Error(`invalid listen address: ${addr} (want host:port)`);
  return { host: m[1] ?? m[2] ?? '', port };
}

export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

/** One page of a sorted list: entries after `last`, at most `n`; `more` when entries remain. */
export function paginate(list: readonly string[], query: URLSearchParams): { page: string[]; n: number | undefined; more: boolean } {
  const rawN = query.get('n');
  let n: number | undefined;
  if (rawN !== null) {
    if (!/^\d{1,9}$/.test(rawN)) throw registryError('PAGINATION_NUMBER_INVALID', 'invalid number of results requested', { n: rawN.slice(0, 20) });
    n = Number(rawN);
  }
  const last = query.get('last');
  const after = last === null || last === '' ? list : list.filter((x) => x > last);
  if (n === undefined) return { page: [...after], n, more: false };
  return { page: after.slice(0, n), n, more: after.length > n && n > 0 };
}

export interface RegistryServerOptions {
  storage: RegistryStorage;
  auth?: HtpasswdAuth | undefined;
  readOnly?: boolean;
  tls?: { cert: Buffer | string; key: Buffer | string } | undefined;
  logger?: Logger;
  /** Limits wrong passwords per client address (default: 10 a minute). */
  authFailures?: FailureLimiter;
}

export interface ListeningRegistry {
  server: Server;
  host: string;
  port: number;
  /** The base URL, e.g. http://127.0.0.1:5000. */
  url: string;
  close(): Promise<void>;
}

interface Request {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  query: URLSearchParams;
  head: boolean;
}

function send(res: ServerResponse, status: number, headers: Record<string, string | number>, body?: string | Buffer): void {
  const payload = body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body) : body;
  res.writeHead(status, { ...headers, 'Content-Length': payload?.length ?? headers['Content-Length'] ?? 0 });
  res.end(res.req.method === 'HEAD' ? undefined : payload);
}

function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string | number> = {}): void {
  send(res, status, { 'Content-Type': 'application/json', ...headers }, `${JSON.stringify(value)}\n`);
}

function uploadLocation(name: string, id: string): string {
  return `/v2/${name}/blobs/uploads/${id}`;
}

function rangeHeader(size: number): string {
  return `0-${Math.max(0, size - 1)}`;
}

/** `bytes=a-b`, `bytes=a-`, `bytes=-n` against a size; undefined when absent or not a single range. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (m[2] !== '' && Number(m[2]) < start) return undefined;
  }
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}

/** `Content-Range: <start>-<end>` of a chunk (the spec's form; `bytes ` prefix tolerated). */
export function parseContentRange(header: string | undefined): { start: number; end: number } | undefined {
  if (header === undefined) return undefined;
  const m = /^(?:bytes[ =])?(\d{1,15})-(\d{1,15})(?:\/(?:\d+|\*))?$/.exec(header.trim());
  if (!m) throw registryError('BLOB_UPLOAD_INVALID', 'invalid Content-Range header', { 'Content-Range': header.slice(0, 100) });
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (end < start) throw registryError('RANGE_INVALID', 'invalid Content-Range header', { 'Content-Range': header.slice(0, 100) });
  return { start, end };
}

function contentLength(req: IncomingMessage): number | undefined {
  const v = req.headers['content-length'];
  if (v === undefined) return undefined;
  if (!/^\d{1,15}$/.test(v)) throw registryError('SIZE_INVALID', 'invalid Content-Length');
  return Number(v);
}

async function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const declared = contentLength(req);
  if (declared !== undefined && declared > max) throw new RegistryError('SIZE_INVALID', `manifest exceeds the limit of ${max} bytes`, { status: 413 });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) throw new RegistryError('SIZE_INVALID', `manifest exceeds the limit of ${max} bytes`, { status: 413 });
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

const WRITE_METHODS = new Set(['PUT', 'POST', 'PATCH', 'DELETE']);

export class RegistryServer {
  readonly #storage: RegistryStorage;
  readonly #auth: HtpasswdAuth | undefined;
  readonly #readOnly: boolean;
  readonly #log: Logger;
  readonly #tls: boolean;
  readonly #failures: FailureLimiter;
  readonly server: Server;

  constructor(opts: RegistryServerOptions) {
    this.#storage = opts.storage;
    this.#auth = opts.auth;
    this.#readOnly = opts.readOnly ?? false;
    this.#log = opts.logger ?? silentLogger;
    this.#tls = opts.tls !== undefined;
    this.#failures = opts.authFailures ?? new FailureLimiter();
    const handler = (req: IncomingMessage, res: ServerResponse): void => void this.#handle(req, res);
    // Blob uploads may take long: no overall request timeout, but headers must come promptly.
    const serverOpts = { requestTimeout: 0, headersTimeout: 60_000, keepAliveTimeout: 10_000 };
    this.server = opts.tls ? https().createServer({ ...serverOpts, cert: opts.tls.cert, key: opts.tls.key }, handler) : createHttpServer(serverOpts, handler);
  }

  /** Starts listening; port 0 picks a free port. */
  async listen(host: string, port: number): Promise<ListeningRegistry> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host === '' ? undefined : host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const a = this.server.address();
    const boundPort = typeof a === 'object' && a ? a.port : port;
    const shownHost = host === '' ? '0.0.0.0' : host;
    const scheme = this.#tls ? 'https' : 'http';
    return {
      server: this.server,
      host: shownHost,
      port: boundPort,
      url: `${scheme}://${isIP(shownHost) === 6 ? `[${shownHost}]` : shownHost}:${boundPort}`,
      close: () => this.close(),
    };
  }

  /** Stops accepting, lets requests in flight finish for a moment, then drops the rest. */
  async close(graceMs = 2000): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    const timer = setTimeout(() => this.server.closeAllConnections(), graceMs);
    timer.unref();
    await closed;
    clearTimeout(timer);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    res.setHeader('Docker-Distribution-API-Version', 'registry/2.0');
    const method = req.method ?? 'GET';
    let user: string | undefined;
    res.once('close', () => {
      this.#log.log('info', `${req.socket.remoteAddress ?? '-'} ${user ?? '-'} "${method} ${(req.url ?? '').slice(0, 300)}" ${res.statusCode} ${Date.now() - started}ms`);
    });
    try {
      const url = URL.parse(req.url ?? '/', 'http://registry.invalid') ?? new URL('http://registry.invalid/');
      const route = url.host === 'registry.invalid' ? parseRoute(url.pathname) : undefined;
      if (this.#auth) {
        const client = req.socket.remoteAddress ?? '';
        const wait = this.#failures.retryAfter(client);
        if (wait > 0) {
          res.setHeader('Retry-After', String(wait));
          throw registryError('TOOMANYREQUESTS', 'too many failed logins; try again later');
        }
        const given = req.headers.authorization;
        user = await this.#auth.verify(given);
        if (user === undefined) {
          if (given !== undefined) this.#failures.fail(client);
          res.setHeader('WWW-Authenticate', this.#auth.challenge());
          throw registryError('UNAUTHORIZED', 'authentication required');
        }
        this.#failures.succeed(client);
      }
      if (!route) throw new RegistryError('UNSUPPORTED', 'no such endpoint', { status: 404 });
      if (this.#readOnly && WRITE_METHODS.has(method)) throw registryError('UNSUPPORTED', 'the registry is read-only');
      await this.#dispatch(route, { req, res, method, query: url.searchParams, head: method === 'HEAD' });
    } catch (err) {
      this.#sendError(req, res, err);
    }
  }

  #sendError(req: IncomingMessage, res: ServerResponse, err: unknown): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // A request body we did not read would be parsed as the next request: close instead.
    if (!req.complete) res.setHeader('Connection', 'close');
    if (err instanceof RegistryError) {
      sendJson(res, err.status, err.body());
      return;
    }
    if ((err as NodeJS.ErrnoException | undefined)?.code === 'ERR_STREAM_PREMATURE_CLOSE' || (err as NodeJS.ErrnoException | undefined)?.code === 'ECONNRESET') {
      res.destroy();
      return;
    }
    this.#log.log('error', `${req.method} ${(req.url ?? '').slice(0, 300)}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    sendJson(res, 500, { errors: [{ code: 'UNKNOWN', message: 'internal server error' }] });
  }

  async #dispatch(route: Route, r: Request): Promise<void> {
    const { method } = r;
    const allow = (...methods: string[]): void => {
      if (!methods.includes(method)) throw registryError('UNSUPPORTED', `method ${method} not allowed here`);
    };
    switch (route.kind) {
      case 'base':
        allow('GET', 'HEAD');
        return sendJson(r.res, 200, {});
      case 'catalog':
        allow('GET');
        return this.#catalog(r);
      case 'tags':
        allow('GET');
        return this.#tags(r, validateRepositoryName(route.name));
      case 'manifest': {
        allow('GET', 'HEAD', 'PUT', 'DELETE');
        const name = validateRepositoryName(route.name);
        if (route.reference.includes(':')) validateDigest(route.reference);
        else if (!isTag(route.reference)) throw registryError('MANIFEST_INVALID', 'invalid tag', { tag: route.reference.slice(0, 200) });
        if (method === 'PUT') return this.#putManifest(r, name, route.reference);
        if (method === 'DELETE') return this.#deleteManifest(r, name, route.reference);
        return this.#getManifest(r, name, route.reference);
      }
      case 'blob': {
        allow('GET', 'HEAD', 'DELETE');
        const name = validateRepositoryName(route.name);
        validateDigest(route.digest);
        if (method === 'DELETE') {
          await this.#storage.deleteBlob(name, route.digest);
          return send(r.res, 202, { 'Docker-Content-Digest': route.digest });
        }
        return this.#getBlob(r, name, route.digest);
      }
      case 'uploads':
        allow('POST');
        return this.#startUpload(r, validateRepositoryName(route.name));
      case 'upload': {
        allow('GET', 'PATCH', 'PUT', 'DELETE');
        const name = validateRepositoryName(route.name);
        return this.#upload(r, name, route.id);
      }
      case 'referrers':
        allow('GET');
        return this.#referrers(r, validateRepositoryName(route.name), route.digest);
    }
  }

  async #catalog(r: Request): Promise<void> {
    const { page, n, more } = paginate(await this.#storage.repositories(), r.query);
    const headers: Record<string, string> = {};
    if (more) headers['Link'] = `</v2/_catalog?n=${n}&last=${encodeURIComponent(page.at(-1)!)}>; rel="next"`;
    sendJson(r.res, 200, { repositories: page }, headers);
  }

  async #tags(r: Request, name: string): Promise<void> {
    const { page, n, more } = paginate(await this.#storage.tags(name), r.query);
    const headers: Record<string, string> = {};
    if (more) headers['Link'] = `</v2/${name}/tags/list?n=${n}&last=${encodeURIComponent(page.at(-1)!)}>; rel="next"`;
    sendJson(r.res, 200, { name, tags: page }, headers);
  }

  async #getManifest(r: Request, name: string, reference: string): Promise<void> {
    const m = await this.#storage.getManifest(name, reference);
    send(r.res, 200, { 'Content-Type': m.mediaType, 'Docker-Content-Digest': m.digest, ETag: `"${m.digest}"` }, m.bytes);
  }

  async #putManifest(r: Request, name: string, reference: string): Promise<void> {
    const bytes = await readBody(r.req, MAX_MANIFEST_SIZE);
    const { digest, manifest } = await this.#storage.putManifest(name, reference, { bytes, contentType: r.req.headers['content-type'] ?? '' });
    const headers: Record<string, string> = { Location: `/v2/${name}/manifests/${digest}`, 'Docker-Content-Digest': digest };
    if (manifest.subject !== undefined) headers['OCI-Subject'] = manifest.subject;
    send(r.res, 201, headers);
  }

  async #deleteManifest(r: Request, name: string, reference: string): Promise<void> {
    await this.#storage.deleteManifest(name, reference);
    send(r.res, 202, {});
  }

  async #getBlob(r: Request, name: string, digest: string): Promise<void> {
    const size = await this.#storage.blobSize(name, digest);
    const headers: Record<string, string | number> = {
      'Content-Type': 'application/octet-stream',
      'Docker-Content-Digest': digest,
      'Accept-Ranges': 'bytes',
      ETag: `"${digest}"`,
      'Cache-Control': 'max-age=31536000',
    };
    const range = r.head ? undefined : parseRange(r.req.headers.range, size);
    if (range === 'unsatisfiable') {
      sendJson(r.res, 416, registryError('RANGE_INVALID', 'requested range not satisfiable').body(), { 'Content-Range': `bytes */${size}` });
      return;
    }
    if (r.head) {
      r.res.writeHead(200, { ...headers, 'Content-Length': size });
      r.res.end();
      return;
    }
    const start = range?.start ?? 0;
    const end = range?.end ?? size - 1;
    if (range) headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
    if (size === 0) {
      send(r.res, 200, headers);
      return;
    }
    const stream = await this.#storage.openBlob(digest, { start, end });
    r.res.writeHead(range ? 206 : 200, { ...headers, 'Content-Length': end - start + 1 });
    // pipeline destroys the file stream when the client goes away.
    await pipeline(stream, r.res).catch(() => r.res.destroy());
  }

  async #startUpload(r: Request, name: string): Promise<void> {
    const mount = r.query.get('mount');
    const from = r.query.get('from');
    if (mount !== null) {
      validateDigest(mount);
      if (from !== null && (await this.#storage.mountBlob(name, { from: validateRepositoryName(from), digest: mount }))) {
        return send(r.res, 201, { Location: `/v2/${name}/blobs/${mount}`, 'Docker-Content-Digest': mount });
      }
    }
    const digest = r.query.get('digest');
    if (digest !== null) {
      validateDigest(digest);
      const length = contentLength(r.req);
      await this.#storage.putBlob(name, r.req, length === undefined ? { digest } : { digest, length });
      return send(r.res, 201, { Location: `/v2/${name}/blobs/${digest}`, 'Docker-Content-Digest': digest });
    }
    const id = await this.#storage.startUpload(name);
    r.req.resume();
    send(r.res, 202, { Location: uploadLocation(name, id), Range: '0-0', 'Docker-Upload-UUID': id });
  }

  async #upload(r: Request, name: string, id: string): Promise<void> {
    const upload = { repo: name, id };
    const base = { Location: uploadLocation(name, id), 'Docker-Upload-UUID': id };
    try {
      switch (r.method) {
        case 'GET': {
          const size = await this.#storage.uploadSize(upload);
          return send(r.res, 204, { ...base, Range: rangeHeader(size) });
        }
        case 'DELETE':
          await this.#storage.cancelUpload(upload);
          return send(r.res, 204, {});
        case 'PATCH': {
          const size = await this.#appendChunk(r, upload);
          return send(r.res, 202, { ...base, Range: rangeHeader(size) });
        }
        case 'PUT': {
          const digest = r.query.get('digest');
          if (digest === null) throw registryError('DIGEST_INVALID', 'digest query parameter missing');
          validateDigest(digest);
          const length = contentLength(r.req);
          if (length !== 0 || r.req.headers['content-range'] !== undefined) await this.#appendChunk(r, upload);
          await this.#storage.completeUpload(upload, digest);
          return send(r.res, 201, { Location: `/v2/${name}/blobs/${digest}`, 'Docker-Content-Digest': digest });
        }
      }
    } catch (err) {
      if (err instanceof RegistryError && err.code === 'RANGE_INVALID') {
        // Tell the client where the upload stands so it can resume.
        const size = await this.#storage.uploadSize(upload).catch(() => undefined);
        if (size !== undefined) {
          r.res.setHeader('Location', base.Location);
          r.res.setHeader('Docker-Upload-UUID', id);
          r.res.setHeader('Range', rangeHeader(size));
        }
      }
      throw err;
    }
  }

  async #appendChunk(r: Request, upload: UploadRef): Promise<number> {
    const range = parseContentRange(r.req.headers['content-range']);
    const length = contentLength(r.req);
    if (range && length !== undefined && length !== range.end - range.start + 1) {
      throw registryError('BLOB_UPLOAD_INVALID', 'Content-Range and Content-Length disagree');
    }
    const opts: { start?: number; length?: number } = {};
    if (range) opts.start = range.start;
    if (length !== undefined) opts.length = length;
    else if (range) opts.length = range.end - range.start + 1;
    return this.#storage.appendUpload(upload, r.req, opts);
  }

  async #referrers(r: Request, name: string, digest: string): Promise<void> {
    validateDigest(digest);
    let list = await this.#storage.referrers(name, digest);
    const headers: Record<string, string> = { 'Content-Type': OCI_INDEX };
    const filter = r.query.get('artifactType');
    if (filter !== null) {
      list = list.filter((d) => d.artifactType === filter);
      headers['OCI-Filters-Applied'] = 'artifactType';
    }
    send(r.res, 200, headers, `${JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: list })}\n`);
  }
}
