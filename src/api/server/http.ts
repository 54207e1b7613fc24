// Request/response helpers shared by every route: JSON bodies with limits, JSON replies,
// streaming replies and connection hijacking (attach, exec).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { BerthError, invalidParameter } from '../../core/errors.ts';

export interface Ctx {
  req: IncomingMessage;
  /** Present for ordinary requests. */
  res?: ServerResponse;
  /** Present when the client asked to upgrade the connection (attach, exec start). */
  upgrade?: { socket: Duplex; head: Buffer };
  params: Record<string, string | undefined>;
  query: URLSearchParams;
  apiVersion: string;
  /** Aborted when the client goes away or the daemon shuts down. */
  signal: AbortSignal;
  /** On upgraded connections the request body is taken off the socket before routing. */
  upgradeBody?: Buffer;
}

export type Handler = (ctx: Ctx) => Promise<void>;

const JSON_LIMIT = 16 << 20;

export async function readBody(ctx: Ctx, limit = JSON_LIMIT): Promise<Buffer> {
  if (ctx.upgrade) return ctx.upgradeBody ?? Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new BerthError('InvalidParameter', `request body too large: more than ${limit} bytes`, { cause: 'too-large' });
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Parses a JSON object body; an empty body gives `{}` when allowed. */
export async function readJsonBody(ctx: Ctx, opts: { allowEmpty?: boolean } = {}): Promise<Record<string, unknown>> {
  const buf = await readBody(ctx);
  if (buf.length === 0) {
    if (opts.allowEmpty) return {};
    throw invalidParameter('invalid JSON: request body is empty');
  }
  const ct = ctx.req.headers['content-type'];
  if (ct !== undefined && ct !== '' && !/^application\/(json|x-tar)|^text\/plain/i.test(ct)) {
    throw invalidParameter(`unsupported Content-Type header (${ct}): must be 'application/json'`);
  }
  let value: unknown;
  try {
    value = JSON.parse(buf.toString('utf8'));
  } catch (err) {
    throw invalidParameter(`invalid JSON: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalidParameter('invalid JSON: expected an object');
  return value as Record<string, unknown>;
}

export function sendJson(ctx: Ctx, status: number, body: unknown): void {
  const res = ctx.res;
  if (!res) throw new Error('sendJson on an upgraded connection');
  const text = JSON.stringify(body) + '\n';
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendEmpty(ctx: Ctx, status: number): void {
  const res = ctx.res;
  if (!res) throw new Error('sendEmpty on an upgraded connection');
  res.writeHead(status);
  res.end();
}

export function sendText(ctx: Ctx, status: number, text: string, type = 'text/plain; charset=utf-8'): void {
  const res = ctx.res!;
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** A byte stream to the client: the hijacked socket or a chunked response body. */
export interface ClientStream {
  write(data: Buffer): boolean;
  end(): void;
  /** Bytes the client sends (stdin); only on hijacked connections. */
  input?: Duplex;
  onClose(fn: () => void): void;
  onDrain(fn: () => void): void;
  /** Resolves once what the client has not read yet has drained, or the client is gone. */
  drained(): Promise<void>;
  closed: boolean;
}

/**
 * Resolves once a stream the client reads too slowly has drained, or is gone. Both listeners go
 * when either fires: a long stream paused often must not gather `close` listeners.
 */
export function drainedOrClosed(stream: NodeJS.EventEmitter): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}

export function hijack(ctx: Ctx, contentType = 'application/vnd.docker.raw-stream'): ClientStream {
  if (ctx.upgrade) {
    const { socket, head } = ctx.upgrade;
    socket.write(
      `HTTP/1.1 101 UPGRADED\r\nContent-Type: ${contentType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`,
    );
    if (head.length > 0) socket.unshift(head);
    const s: ClientStream = {
      closed: false,
      write: (d) => (s.closed ? false : socket.write(d)),
      end: () => {
        if (s.closed) return;
        s.closed = true;
        socket.end();
      },
      input: socket,
      onClose: (fn) => socket.once('close', fn),
      onDrain: (fn) => socket.once('drain', fn),
      drained: () => drainedOrClosed(socket),
    };
    socket.once('close', () => (s.closed = true));
    socket.on('error', () => {});
    return s;
  }
  const res = ctx.res!;
  res.writeHead(200, { 'Content-Type': contentType });
  res.flushHeaders();
  const s: ClientStream = {
    closed: false,
    write: (d) => (s.closed ? false : res.write(d)),
    end: () => {
      if (s.closed) return;
      s.closed = true;
      res.end();
    },
    onClose: (fn) => res.once('close', fn),
    onDrain: (fn) => res.once('drain', fn),
    drained: () => drainedOrClosed(res),
  };
  res.once('close', () => (s.closed = true));
  return s;
}

/** Starts a streamed JSON-lines response (events, stats, progress). */
export function startJsonStream(ctx: Ctx, status = 200): { send(obj: unknown): boolean; end(): void; res: ServerResponse } {
  const res = ctx.res!;
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.flushHeaders();
  return {
    send: (obj) => (res.writableEnded || res.destroyed ? false : res.write(JSON.stringify(obj) + '\n')),
    end: () => res.end(),
    res,
  };
}

// Query helpers: Docker accepts 1/0, true/false, and an empty value for booleans.
export function qBool(ctx: Ctx, name: string, dflt = false): boolean {
  const v = ctx.query.get(name);
  if (v === null) return dflt;
  if (v === '' || v === '1' || v.toLowerCase() === 'true') return true;
  if (v === '0' || v.toLowerCase() === 'false') return false;
  throw invalidParameter(`invalid value for ${name}: ${v}`);
}

export function qInt(ctx: Ctx, name: string): number | undefined {
  const v = ctx.query.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw invalidParameter(`invalid value for ${name}: ${v}: must be an integer`);
  return n;
}

/** The `filters` query parameter: {"key":["v"]} or the old {"key":{"v":true}} form. */
export function qFilters(ctx: Ctx): Record<string, string[]> {
  const raw = ctx.query.get('filters');
  if (raw === null || raw === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw invalidParameter(`invalid filter: ${raw}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw invalidParameter(`invalid filter: ${raw}`);
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
    if (Array.isArray(v)) out[k] = v.map(String);
    else if (v && typeof v === 'object') out[k] = Object.entries(v as Record<string, unknown>).filter(([, b]) => b === true).map(([s]) => s);
    else throw invalidParameter(`invalid filter: ${k}`);
  }
  return out;
}
