// Content digests: validated before they ever become a path component (CVE-2021-21285 came from a
// digest used as a path before validation), and computed while data streams past.
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { invalidParameter } from './errors.ts';

const DIGEST_LENGTH = 'sha256:'.length + 64;
const HEX64 = /^[0-9a-f]{64}$/;

export function isDigest(s: string): boolean {
  return typeof s === 'string' && s.length === DIGEST_LENGTH && s.startsWith('sha256:') && HEX64.test(s.slice(7));
}

/** Returns s when it is `sha256:` and 64 lowercase hex digits; throws InvalidParameter otherwise. */
export function validateDigest(s: string): string {
  if (!isDigest(s)) {
    const shown = typeof s === 'string' ? s.slice(0, 80) : typeof s;
    throw invalidParameter(`invalid digest format: ${shown}`);
  }
  return s;
}

/** The 64 hex digits of a validated digest. */
export function digestHex(digest: string): string {
  return validateDigest(digest).slice(7);
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function sha256Digest(data: string | Uint8Array): string {
  return `sha256:${sha256Hex(data)}`;
}

export interface DigestingStreamOptions {
  /** Fail once more than this many bytes have passed (a decompression-bomb budget). */
  maxBytes?: number;
}

/** A pass-through stream that hashes and counts what flows through it. */
export class DigestingStream extends Transform {
  #hash: Hash = createHash('sha256');
  #bytes = 0;
  #maxBytes: number;
  #digest: string | undefined;

  constructor(opts: DigestingStreamOptions = {}) {
    super();
    this.#maxBytes = opts.maxBytes ?? Number.POSITIVE_INFINITY;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.#bytes += chunk.length;
    if (this.#bytes > this.#maxBytes) {
      cb(invalidParameter(`archive exceeds the size limit of ${this.#maxBytes} bytes`));
      return;
    }
    this.#hash.update(chunk);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    this.#digest = `sha256:${this.#hash.digest('hex')}`;
    cb();
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** The digest of everything that passed; only once the stream has ended. */
  digest(): string {
    if (this.#digest === undefined) throw new Error('DigestingStream: digest read before the end of the stream');
    return this.#digest;
  }
}
