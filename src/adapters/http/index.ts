// HTTP downloads for the engine (ADD <url>, remote build contexts): node's http and https, not
// fetch, which refuses a list of ports (a server on 6000 or 10080, say) that Docker reaches.
import http from 'node:http';
import { https } from '../../lib/lazy-modules.ts';

const MAX_REDIRECTS = 10;

/** Why a download failed: the network, the server's status, or the size bound. */
export class DownloadError extends Error {
  readonly reason: 'network' | 'status' | 'size';
  constructor(reason: 'network' | 'status' | 'size', message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DownloadError';
    this.reason = reason;
  }
}

export interface Download {
  data: Buffer;
  /** The server's Last-Modified, when it sent one. */
  lastModified?: Date;
}

function get(url: URL, signal: AbortSignal | undefined): Promise<http.IncomingMessage> {
  const lib = url.protocol === 'https:' ? https() : http;
  return new Promise((resolve, reject) => {
    const req = lib.get(url, { headers: { 'User-Agent': 'berth', 'Accept-Encoding': 'identity' }, ...(signal ? { signal } : {}) }, resolve);
    req.on('error', reject);
  });
}

/**
 * GETs url (http or https, following up to ten redirects): the body of the first 2xx answer. A
 * non-2xx answer and a network failure are DownloadErrors.
 */
export async function openUrl(url: string, opts: { signal?: AbortSignal } = {}): Promise<{ body: http.IncomingMessage; lastModified?: Date }> {
  let target: URL;
  try {
    target = new URL(url);
  } catch (err) {
    throw new DownloadError('network', `invalid URL ${url}`, { cause: err });
  }
  for (let hop = 0; ; hop++) {
    if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new DownloadError('network', `unsupported URL scheme ${target.protocol}`);
    let res: http.IncomingMessage;
    try {
      res = await get(target, opts.signal);
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      throw new DownloadError('network', (err as Error).message, { cause: err });
    }
    const status = res.statusCode ?? 0;
    if (status >= 300 && status < 400 && res.headers.location) {
      res.resume();
      if (hop >= MAX_REDIRECTS) throw new DownloadError('network', 'too many redirects');
      target = new URL(res.headers.location, target);
      continue;
    }
    if (status < 200 || status >= 300) {
      res.resume();
      throw new DownloadError('status', `${status} ${res.statusMessage ?? ''}`.trim());
    }
    const lm = Date.parse(res.headers['last-modified'] ?? '');
    return { body: res, ...(Number.isNaN(lm) ? {} : { lastModified: new Date(lm) }) };
  }
}

/** GETs url into memory (see openUrl), refusing more than maxBytes. */
export async function download(url: string, opts: { maxBytes: number; signal?: AbortSignal }): Promise<Download> {
  const { body, lastModified } = await openUrl(url, opts);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const c of body) {
      size += (c as Buffer).length;
      if (size > opts.maxBytes) {
        body.destroy();
        throw new DownloadError('size', `larger than ${opts.maxBytes} bytes`);
      }
      chunks.push(c as Buffer);
    }
  } catch (err) {
    if (err instanceof DownloadError || opts.signal?.aborted) throw err;
    throw new DownloadError('network', (err as Error).message, { cause: err });
  }
  return { data: Buffer.concat(chunks, size), ...(lastModified ? { lastModified } : {}) };
}

export interface HttpRequestInit {
  method?: string;
  headers?: Record<string, string>;
  /** A body to send: bytes or a stream of them (sent chunked). */
  body?: string | Uint8Array | AsyncIterable<Uint8Array>;
  signal?: AbortSignal;
  /** The connection pool (https.Agent with a registry's CAs and client certificate, say). */
  agent?: http.Agent;
}

const NULL_BODY = new Set([101, 103, 204, 205, 304]);

function once(url: URL, init: HttpRequestInit): Promise<http.IncomingMessage> {
  const lib = url.protocol === 'https:' ? https() : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(url, { method: init.method ?? 'GET', headers: init.headers ?? {}, ...(init.agent ? { agent: init.agent } : {}), ...(init.signal ? { signal: init.signal } : {}) }, resolve);
    req.on('error', reject);
    const body = init.body;
    if (body === undefined) req.end();
    else if (typeof body === 'string' || body instanceof Uint8Array) req.end(body);
    else {
      void (async () => {
        try {
          for await (const chunk of body) {
            if (!req.write(chunk)) await new Promise<void>((r) => req.once('drain', r));
          }
          req.end();
        } catch (err) {
          req.destroy(err as Error);
        }
      })();
    }
  });
}

/** A response body: its bytes as they arrive, or cancel() to drop them (and the connection). */
export interface HttpBody extends AsyncIterable<Uint8Array> {
  cancel(): Promise<void>;
}

/** The part of fetch's Response the registry client uses, without a web stream in between. */
export interface HttpResponse {
  status: number;
  statusText: string;
  ok: boolean;
  headers: Headers;
  body: HttpBody | null;
}

/**
 * A request answered as fetch answers (status, headers, a body to iterate) over node's http and
 * https, which reach every port (fetch refuses some). Redirects are followed as fetch follows
 * them — not for a streamed body, which cannot be sent twice — and an Authorization header never
 * crosses to another origin.
 */
export async function httpFetch(url: string | URL, init: HttpRequestInit = {}): Promise<HttpResponse> {
  let target = new URL(url);
  let method = (init.method ?? 'GET').toUpperCase();
  let body = init.body;
  let headers = { ...(init.headers ?? {}) };
  for (let hop = 0; ; hop++) {
    if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new TypeError(`unsupported URL scheme ${target.protocol}`);
    const res = await once(target, { ...init, method, headers, ...(body !== undefined ? { body } : {}) });
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    const replayable = body === undefined || typeof body === 'string' || body instanceof Uint8Array;
    if ([301, 302, 303, 307, 308].includes(status) && location && hop < MAX_REDIRECTS && replayable) {
      res.resume();
      const next = new URL(location, target);
      if (status === 303 || ((status === 301 || status === 302) && method === 'POST')) {
        method = method === 'HEAD' ? 'HEAD' : 'GET';
        body = undefined;
        headers = Object.fromEntries(Object.entries(headers).filter(([k]) => !/^content-/i.test(k)));
      }
      if (next.origin !== target.origin) headers = Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== 'authorization'));
      target = next;
      continue;
    }
    const h = new Headers();
    for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) h.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
    const empty = NULL_BODY.has(status) || method === 'HEAD';
    if (empty) res.resume();
    const answer: HttpBody | null = empty
      ? null
      : {
          [Symbol.asyncIterator]: () => res[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>,
          cancel: async () => {
            res.destroy();
          },
        };
    return { status, statusText: res.statusMessage ?? '', ok: status >= 200 && status < 300, headers: h, body: answer };
  }
}
