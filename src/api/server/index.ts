// Listeners (unix socket, tcp), the /v1.NN prefix, version negotiation headers, routing and
// the error → status mapping for every request.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { https } from '../../lib/lazy-modules.ts';
import type { Duplex } from 'node:stream';
import { chmod, chown, unlink, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { readFileSync } from 'node:fs';
import FindMyWay from 'find-my-way';
import { statusOf, messageFor } from './errors.ts';
import type { Ctx, Handler } from './http.ts';

export const API_VERSION = '1.47';
export const MIN_API_VERSION = '1.24';
const HEADER_LIMIT = 256 << 10;

type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE';

export interface Logger {
  debug(msg: string, extra?: Record<string, unknown>): void;
  info(msg: string, extra?: Record<string, unknown>): void;
  warn(msg: string, extra?: Record<string, unknown>): void;
  error(msg: string, extra?: Record<string, unknown>): void;
}

export class Router {
  #fmw = FindMyWay({ ignoreTrailingSlash: true, caseSensitive: true, maxParamLength: 1024 });
  on(method: Method | Method[], path: string, handler: Handler): void {
    this.#fmw.on(method, path, () => {}, { handler });
  }
  find(method: string, path: string): { handler: Handler; params: Record<string, string | undefined> } | undefined {
    const found = this.#fmw.find(method as Method, path);
    if (!found) return undefined;
    const store = found.store as { handler: Handler } | undefined;
    if (!store) return undefined;
    return { handler: store.handler, params: found.params };
  }
}

function compareVersions(a: string, b: string): number {
  const [a1 = 0, a2 = 0] = a.split('.').map(Number);
  const [b1 = 0, b2 = 0] = b.split('.').map(Number);
  return a1 !== b1 ? a1 - b1 : a2 - b2;
}

export interface ApiServerOptions {
  router: Router;
  logger: Logger;
  serverHeader: string;
  /** TLS for TCP listeners (Unix sockets never use it): with `verify`, clients need a certificate the CA signed. */
  tls?: { cert: Buffer; key: Buffer; ca?: Buffer; verify: boolean };
}

export class ApiServer {
  #router: Router;
  #log: Logger;
  #serverHeader: string;
  #tls: ApiServerOptions['tls'];
  #servers: http.Server[] = [];
  #socketPaths: string[] = [];
  #live = new Set<Duplex>();
  #shutdown = new AbortController();

  constructor(opts: ApiServerOptions) {
    this.#router = opts.router;
    this.#log = opts.logger;
    this.#serverHeader = opts.serverHeader;
    this.#tls = opts.tls;
  }

  #commonHeaders(): Record<string, string> {
    return { 'Api-Version': API_VERSION, 'Docker-Experimental': 'false', Ostype: 'linux', Server: this.#serverHeader };
  }

  #makeServer(tcp: boolean): http.Server {
    const common = { maxHeaderSize: HEADER_LIMIT, requestTimeout: 0, headersTimeout: 60_000, keepAliveTimeout: 30_000 };
    const tls = tcp ? this.#tls : undefined;
    const server: http.Server = tls
      ? https().createServer({ ...common, allowHalfOpen: true, cert: tls.cert, key: tls.key, ...(tls.ca ? { ca: tls.ca } : {}), requestCert: tls.verify, rejectUnauthorized: tls.verify, minVersion: 'TLSv1.2' })
      : http.createServer(common);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      for (const [k, v] of Object.entries(this.#commonHeaders())) res.setHeader(k, v);
      void this.#dispatch(req, res, undefined);
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => {});
      void this.#dispatch(req, undefined, { socket, head });
    });
    server.on('connection', (sock: Duplex) => {
      this.#live.add(sock);
      sock.once('close', () => this.#live.delete(sock));
    });
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
      if (!socket.writable) return socket.destroy();
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
      socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    });
    return server;
  }

  async #dispatch(req: IncomingMessage, res: ServerResponse | undefined, upgrade: Ctx['upgrade']): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://berth');
    let path = url.pathname;
    let apiVersion = API_VERSION;
    const m = /^\/v(\d+\.\d+)(\/.*)$/.exec(path);
    const ac = new AbortController();
    const onGone = (): void => ac.abort();
    this.#shutdown.signal.addEventListener('abort', onGone, { once: true });
    (res ?? upgrade?.socket)?.once('close', onGone);
    const ctx: Ctx = { req, params: {}, query: url.searchParams, apiVersion, signal: ac.signal };
    if (res) ctx.res = res;
    if (upgrade) ctx.upgrade = upgrade;
    const started = Date.now();
    try {
      if (m) {
        apiVersion = m[1]!;
        path = m[2]!;
        ctx.apiVersion = apiVersion;
        if (compareVersions(apiVersion, API_VERSION) > 0) {
          throw Object.assign(new Error(`client version ${apiVersion} is too new. Maximum supported API version is ${API_VERSION}`), { status: 400 });
        }
        if (compareVersions(apiVersion, MIN_API_VERSION) < 0) {
          throw Object.assign(new Error(`client version ${apiVersion} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`), { status: 400 });
        }
      }
      const method = req.method === 'HEAD' ? 'HEAD' : (req.method ?? 'GET');
      const found = this.#router.find(method, path) ?? (method === 'HEAD' ? this.#router.find('GET', path) : undefined);
      if (!found) {
        throw Object.assign(new Error(`page not found`), { status: 404 });
      }
      ctx.params = found.params;
      if (upgrade) await takeUpgradeBody(ctx, upgrade);
      await found.handler(ctx);
    } catch (err) {
      const status = (err as { status?: number }).status ?? statusOf(err);
      const message = messageFor(err);
      // A client that hung up mid-stream is no failure of the daemon's.
      const hungUp = (req.socket?.destroyed ?? true) && ((err as { code?: string }).code === 'ERR_STREAM_PREMATURE_CLOSE' || (err as Error).name === 'AbortError');
      if (hungUp) this.#log.debug('client went away', { method: req.method, path: url.pathname });
      else if (status >= 500 && status !== 501) this.#log.error('request failed', { method: req.method, path: url.pathname, error: message, cause: String((err as Error).cause ?? '') });
      else this.#log.debug('request refused', { method: req.method, path: url.pathname, status, error: message });
      const tooLarge = (err as Error).cause === 'too-large';
      this.#replyError(req, res, upgrade, tooLarge ? 413 : status, message);
    } finally {
      this.#shutdown.signal.removeEventListener('abort', onGone);
      this.#log.debug('request', { method: req.method, path: url.pathname, ms: Date.now() - started });
    }
  }

  #replyError(req: IncomingMessage, res: ServerResponse | undefined, upgrade: Ctx['upgrade'], status: number, message: string): void {
    const body = JSON.stringify({ message }) + '\n';
    if (res) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (status === 304) {
        res.writeHead(304);
        res.end();
        return;
      }
      res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    if (upgrade) {
      const hdrs = Object.entries(this.#commonHeaders()).map(([k, v]) => `${k}: ${v}\r\n`).join('');
      upgrade.socket.end(
        `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\n${hdrs}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
  }

  /** Listens on `unix:///path` (0660 from the moment it exists) or `tcp://host:port`. */
  async listen(address: string): Promise<void> {
    const server = this.#makeServer(address.startsWith('tcp://'));
    if (address.startsWith('unix://')) {
      const path = address.slice('unix://'.length);
      await mkdir(dirname(path), { recursive: true, mode: 0o755 });
      await unlink(path).catch(() => {});
      const old = process.umask(0o117);
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(path, () => resolve());
        });
      } finally {
        process.umask(old);
      }
      await chmod(path, 0o660);
      const gid = groupId('berth');
      if (gid !== undefined) await chown(path, 0, gid).catch(() => {});
      this.#socketPaths.push(path);
    } else if (address.startsWith('tcp://')) {
      const u = new URL(address.replace(/^tcp:/, 'http:'));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(Number(u.port || 2375), u.hostname.replace(/^\[|\]$/g, ''), () => resolve());
      });
    } else {
      throw new Error(`unsupported host address ${address}: use unix:///path or tcp://host:port`);
    }
    this.#servers.push(server);
  }

  /** Stops accepting, lets ordinary requests finish, ends streams (attach, logs -f, events). */
  async close(graceMs = 5000): Promise<void> {
    const closing = this.#servers.map((s) => new Promise<void>((r) => s.close(() => r())));
    for (const s of this.#servers) s.closeIdleConnections();
    this.#shutdown.abort();
    // Not unref'd: while connections wind down this timer may be all that keeps the event loop
    // going, and node would otherwise exit in the middle of the daemon's shutdown (before the
    // network teardown that follows).
    const timer = setTimeout(() => {
      for (const sock of this.#live) sock.destroy();
    }, graceMs);
    await Promise.all(closing);
    clearTimeout(timer);
    for (const p of this.#socketPaths) await unlink(p).catch(() => {});
  }
}

/** Reads Content-Length bytes of body that arrived with (or after) an upgrade request. */
async function takeUpgradeBody(ctx: Ctx, upgrade: NonNullable<Ctx['upgrade']>): Promise<void> {
  const len = Number(ctx.req.headers['content-length'] ?? 0);
  if (!Number.isInteger(len) || len <= 0) return;
  if (len > 1 << 20) throw Object.assign(new Error('request body too large'), { status: 413 });
  let buf = upgrade.head;
  const socket = upgrade.socket;
  while (buf.length < len) {
    const chunk = await new Promise<Buffer | undefined>((resolve) => {
      const onData = (c: Buffer): void => {
        cleanup();
        socket.pause();
        resolve(c);
      };
      const onEnd = (): void => {
        cleanup();
        resolve(undefined);
      };
      const cleanup = (): void => {
        socket.off('data', onData);
        socket.off('end', onEnd);
        socket.off('close', onEnd);
      };
      socket.on('data', onData);
      socket.once('end', onEnd);
      socket.once('close', onEnd);
    });
    if (!chunk) break;
    buf = Buffer.concat([buf, chunk]);
  }
  ctx.upgradeBody = buf.subarray(0, len);
  upgrade.head = buf.subarray(len);
}

function groupId(name: string): number | undefined {
  try {
    for (const line of readFileSync('/etc/group', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f[0] === name && f[2]) return Number(f[2]);
    }
  } catch {}
  return undefined;
}
