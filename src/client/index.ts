// Typed Docker Engine API client over a Unix socket or TCP, used by the CLI, compose and tests.
import http from 'node:http';
import { https } from '../lib/lazy-modules.ts';
import { Readable, Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { parseHost, resolveHost, type HostAddress } from './host.ts';

export { resolveHost, parseHost, DEFAULT_HOST, type HostAddress, type ResolveHostOptions } from './host.ts';
export { FrameDecoder, encodeFrame, demultiplex, copyRaw, STDIN, STDOUT, STDERR, SYSTEMERR, type Frame } from './frames.ts';

export type QueryValue = string | number | boolean | undefined | null | string[] | Record<string, unknown>;
export type Query = Record<string, QueryValue>;

export interface RequestOptions {
  query?: Query;
  /** A plain value is sent as JSON; a Buffer or string as is; a Readable is streamed. */
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /**
   * The reply may last as long as a container does (wait, follow, a stream of stats or events):
   * it gets a connection of its own, outside the pool, so a hundred of them never hold up the
   * short requests of the same command, nor one another.
   */
  longLived?: boolean;
}

export interface ApiResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The response body as it arrives (consume it, or call json()/text(), exactly once). */
  stream: http.IncomingMessage;
  json<T = unknown>(): Promise<T>;
  text(): Promise<string>;
}

const MAX_SOCKETS = 64;

/** An error status (≥ 400) from the daemon, with its `{"message": ...}` text. */
export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}

/** The daemon could not be reached (socket missing, connection refused, permission denied). */
export class DaemonUnreachableError extends Error {
  readonly host: string;
  readonly code: string;
  constructor(host: string, code: string, options?: { cause?: unknown }) {
    const message =
      code === 'EACCES'
        ? `permission denied while trying to connect to the berth daemon socket at ${host}`
        : `Cannot connect to the berth daemon at ${host}. Is berthd running? Start it with: berthd &`;
    super(message, options);
    this.name = 'DaemonUnreachableError';
    this.host = host;
    this.code = code;
  }
}

/** TLS to a tcp:// daemon: verify it against `ca` (or not), present `cert`/`key` when given. */
export interface ClientTls {
  verify: boolean;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

export interface ClientOptions {
  /** Daemon address (`unix:///path` or `tcp://host:port`); defaults by resolveHost(). */
  host?: string;
  tls?: ClientTls;
  /** When set, paths are prefixed with `/v<apiVersion>`. */
  apiVersion?: string;
}

export interface HijackOptions {
  /** Adds `stdin=1` to the query: the caller will write to the returned stream. */
  stdin?: boolean;
  /** JSON body, e.g. `{Detach, Tty}` for exec start. */
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

const UNREACHABLE_CODES = new Set(['ENOENT', 'ECONNREFUSED', 'EACCES', 'ECONNRESET', 'ENOTDIR', 'EHOSTUNREACH', 'ETIMEDOUT']);

function encodeQuery(query: Query | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) {
      for (const v of value) params.append(key, v);
    } else if (typeof value === 'object') {
      params.set(key, JSON.stringify(value));
    } else if (typeof value === 'boolean') {
      params.set(key, value ? '1' : '0');
    } else {
      params.set(key, String(value));
    }
  }
  const s = params.toString();
  return s === '' ? '' : `?${s}`;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer | string>) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}

function errorMessage(status: number, body: string): string {
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed !== null && typeof parsed === 'object' && 'message' in parsed && typeof parsed.message === 'string') return parsed.message.trimEnd();
  } catch {
    // not JSON: fall through to the raw text
  }
  const text = body.trim();
  return text !== '' ? text : `${status} ${http.STATUS_CODES[status] ?? 'error'}`;
}

export class Client {
  readonly host: string;
  readonly #address: HostAddress;
  readonly #agent: http.Agent;
  readonly #prefix: string;
  /** node:http, or node:https for a tcp:// daemon with TLS. */
  readonly #proto: typeof http | ReturnType<typeof https>;
  readonly #tls: ClientTls | undefined;

  constructor(opts: ClientOptions = {}) {
    this.host = opts.host ?? resolveHost();
    this.#address = parseHost(this.host);
    this.#prefix = opts.apiVersion !== undefined ? `/v${opts.apiVersion}` : '';
    this.#tls = this.#address.kind === 'unix' ? undefined : opts.tls;
    this.#proto = this.#tls ? https() : http;
    const tls = this.#tls;
    // Enough connections for the CLI's parallel commands (rm, stop, kill: 50 targets at once).
    this.#agent = tls
      ? new (https().Agent)({ keepAlive: true, maxSockets: MAX_SOCKETS, rejectUnauthorized: tls.verify, ...(tls.ca ? { ca: tls.ca } : {}), ...(tls.cert ? { cert: tls.cert } : {}), ...(tls.key ? { key: tls.key } : {}) })
      : new http.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS });
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.#agent.destroy();
  }

  #target(path: string, query: Query | undefined): http.RequestOptions {
    const base: http.RequestOptions = { path: `${this.#prefix}${path}${encodeQuery(query)}` };
    if (this.#address.kind === 'unix') {
      base.socketPath = this.#address.socketPath;
      base.headers = { Host: 'berth' };
      // No TLS name to derive: skips node's IP check of the Host header (a ~4 ms regex compile).
      (base as { servername?: string }).servername = '';
    } else {
      base.host = this.#address.host;
      base.port = this.#address.port;
    }
    return base;
  }

  #wrapError(err: unknown): unknown {
    const code = (err as NodeJS.ErrnoException | undefined)?.code;
    if (typeof code === 'string' && UNREACHABLE_CODES.has(code) && (err as { syscall?: string }).syscall === 'connect') {
      return new DaemonUnreachableError(this.host, code, { cause: err });
    }
    return err;
  }

  #send(method: string, path: string, opts: RequestOptions, extra: http.RequestOptions): http.ClientRequest {
    const target = this.#target(path, opts.query);
    const headers: Record<string, string> = { ...(target.headers as Record<string, string> | undefined), ...opts.headers };
    let payload: Buffer | string | Readable | undefined;
    const body = opts.body;
    if (body instanceof Readable) {
      payload = body;
      headers['Content-Type'] ??= 'application/x-tar';
    } else if (Buffer.isBuffer(body) || typeof body === 'string') {
      payload = body;
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      headers['Content-Type'] ??= 'application/json';
    }
    if (payload !== undefined && !(payload instanceof Readable)) headers['Content-Length'] = String(Buffer.byteLength(payload));
    // TLS settings go with every request too: a hijacked connection has no pooled agent.
    const tls = this.#tls ? { rejectUnauthorized: this.#tls.verify, ...(this.#tls.ca ? { ca: this.#tls.ca } : {}), ...(this.#tls.cert ? { cert: this.#tls.cert } : {}), ...(this.#tls.key ? { key: this.#tls.key } : {}) } : {};
    const req = this.#proto.request({ ...target, ...tls, ...extra, method, headers, ...(opts.signal ? { signal: opts.signal } : {}) });
    if (payload instanceof Readable) {
      payload.on('error', (err) => req.destroy(err));
      payload.pipe(req);
    } else {
      req.end(payload);
    }
    return req;
  }

  /** Sends a request; throws ApiError on a status ≥ 400 and DaemonUnreachableError when no daemon answers. */
  request(method: string, path: string, opts: RequestOptions = {}): Promise<ApiResponse> {
    return new Promise((resolve, reject) => {
      const req = this.#send(method, path, opts, { agent: opts.longLived ? false : this.#agent });
      req.on('error', (err) => reject(this.#wrapError(err)));
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 400) {
          readAll(res).then(
            (buf) => reject(new ApiError(status, errorMessage(status, buf.toString()))),
            (err: unknown) => reject(err),
          );
          return;
        }
        resolve({
          status,
          headers: res.headers,
          stream: res,
          json: async <T>() => {
            const text = (await readAll(res)).toString();
            return (text.trim() === '' ? null : JSON.parse(text)) as T;
          },
          text: async () => (await readAll(res)).toString(),
        });
      });
    });
  }

  /** Sends a request and parses the JSON reply (null for an empty body). */
  async json<T = unknown>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.request(method, path, opts);
    return res.json<T>();
  }

  /** Sends a request and discards the reply body. */
  async call(method: string, path: string, opts: RequestOptions = {}): Promise<number> {
    const res = await this.request(method, path, opts);
    res.stream.resume();
    await new Promise<void>((resolve) => {
      if (res.stream.readableEnded) resolve();
      else res.stream.on('end', resolve).on('close', resolve);
    });
    return res.status;
  }

  /**
   * POSTs to an attach-style endpoint with `Upgrade: tcp` and returns the raw bidirectional stream
   * once the daemon answers `101 UPGRADED`. A daemon that answers 200 and streams the raw bytes as
   * the response body is handled too: reads come from the body, writes go to the socket.
   * End the returned stream's write side to signal stdin EOF.
   */
  hijack(path: string, query: Query = {}, opts: HijackOptions = {}): Promise<Duplex> {
    const q: Query = opts.stdin ? { ...query, stdin: '1' } : query;
    const headers: Record<string, string> = { Connection: 'Upgrade', Upgrade: 'tcp', ...opts.headers };
    const send: RequestOptions = { query: q, headers, ...(opts.signal ? { signal: opts.signal } : {}) };
    if (opts.body !== undefined) send.body = opts.body;
    return new Promise((resolve, reject) => {
      // A hijacked socket never goes back to a pool.
      const req = this.#send('POST', path, send, { agent: false });
      req.on('error', (err) => reject(this.#wrapError(err)));
      req.on('upgrade', (_res, socket: Socket, head: Buffer) => {
        if (head.length > 0) socket.unshift(head);
        socket.setNoDelay(true);
        resolve(socket);
      });
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 400) {
          readAll(res).then(
            (buf) => reject(new ApiError(status, errorMessage(status, buf.toString()))),
            (err: unknown) => reject(err),
          );
          return;
        }
        const socket = res.socket;
        resolve(rawResponseStream(res, socket));
      });
    });
  }

  /** Streams a JSON-lines reply (events, pull/import progress) as parsed objects. */
  async *streamJsonLines(path: string, opts: RequestOptions & { method?: string } = {}): AsyncGenerator<unknown> {
    const res = await this.request(opts.method ?? 'GET', path, { longLived: true, ...opts });
    yield* jsonLines(res.stream);
  }
}

/** A JSON-lines body (events, progress) as parsed objects. */
export async function* jsonLines(stream: AsyncIterable<Buffer | string>): AsyncGenerator<unknown> {
  let pending = '';
  for await (const chunk of stream) {
    pending += chunk.toString();
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl).trim();
      pending = pending.slice(nl + 1);
      if (line !== '') yield JSON.parse(line);
    }
  }
  if (pending.trim() !== '') yield JSON.parse(pending);
}

/** Reads from an HTTP response body, writes to its socket: a 200-answered hijack. */
function rawResponseStream(res: http.IncomingMessage, socket: Socket): Duplex {
  const duplex = new Duplex({
    read() {
      res.resume();
    },
    write(chunk: Buffer, _enc, cb) {
      socket.write(chunk, cb);
    },
    final(cb) {
      socket.end();
      cb();
    },
    destroy(err, cb) {
      socket.destroy();
      cb(err);
    },
  });
  res.on('data', (chunk: Buffer) => {
    if (!duplex.push(chunk)) res.pause();
  });
  res.on('end', () => duplex.push(null));
  res.on('error', (err) => duplex.destroy(err));
  return duplex;
}
