// The attach/exec/logs stream multiplexing used without a TTY: each frame is an 8-byte header
// [stream, 0, 0, 0, length as big-endian uint32] followed by `length` bytes of payload.
import type { Readable, Writable } from 'node:stream';

export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
/** Stream 3 carries a daemon-side error message (the `systemErr` stream in Docker). */
export const SYSTEMERR = 3;

export interface Frame {
  stream: number;
  data: Buffer;
}

export function encodeFrame(stream: number, data: Buffer | string): Buffer {
  const payload = typeof data === 'string' ? Buffer.from(data) : data;
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

/** Incremental decoder: feed any chunking of a framed stream, get whole frames back in order. */
export class FrameDecoder {
  #pending: Buffer[] = [];
  #pendingLength = 0;

  push(chunk: Buffer): Frame[] {
    if (chunk.length > 0) {
      this.#pending.push(chunk);
      this.#pendingLength += chunk.length;
    }
    const frames: Frame[] = [];
    if (this.#pendingLength < 8) return frames;
    let buf = this.#pending.length === 1 ? (this.#pending[0] as Buffer) : Buffer.concat(this.#pending);
    let offset = 0;
    while (buf.length - offset >= 8) {
      const length = buf.readUInt32BE(offset + 4);
      if (buf.length - offset - 8 < length) break;
      frames.push({ stream: buf[offset] as number, data: buf.subarray(offset + 8, offset + 8 + length) });
      offset += 8 + length;
    }
    buf = buf.subarray(offset);
    this.#pending = buf.length > 0 ? [buf] : [];
    this.#pendingLength = buf.length;
    return frames;
  }

  /** Bytes of an incomplete frame still held (non-zero at end of stream means truncation). */
  get buffered(): number {
    return this.#pendingLength;
  }
}

export interface DemultiplexOptions {
  stdout: Writable;
  stderr: Writable;
}

function writeWithBackpressure(out: Writable, data: Buffer): Promise<void> | undefined {
  if (out.write(data)) return undefined;
  return new Promise((resolve) => {
    const done = (): void => {
      out.off('drain', done);
      out.off('close', done);
      out.off('error', done);
      resolve();
    };
    out.on('drain', done);
    out.on('close', done);
    out.on('error', done);
  });
}

/**
 * Copies a framed stream to stdout/stderr until it ends. Returns the daemon's error text if it
 * sent any on stream 3, else an empty string.
 */
export async function demultiplex(source: Readable, opts: DemultiplexOptions): Promise<string> {
  const decoder = new FrameDecoder();
  let systemErr = '';
  for await (const chunk of source as AsyncIterable<Buffer | string>) {
    for (const frame of decoder.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)) {
      if (frame.stream === SYSTEMERR) {
        systemErr += frame.data.toString();
        continue;
      }
      const out = frame.stream === STDERR ? opts.stderr : opts.stdout;
      const wait = writeWithBackpressure(out, frame.data);
      if (wait) await wait;
    }
  }
  return systemErr;
}

/** Copies a raw (TTY) stream to one writable, honouring backpressure. */
export async function copyRaw(source: Readable, out: Writable): Promise<void> {
  for await (const chunk of source as AsyncIterable<Buffer | string>) {
    const wait = writeWithBackpressure(out, typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    if (wait) await wait;
  }
}
