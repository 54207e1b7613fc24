// HTTP downloads for the engine (ADD <url>, remote build contexts): node's http and https, not
// fetch, which refuses a list of ports (a server on 6000 or 10080, say) that Docker reaches.
import http from 'node:http';
import https from 'node:https';

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
  const lib = url.protocol === 'https:' ? https : http;
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
