// Docker's multiplexed stdio stream (moby pkg/stdcopy): an 8-byte header [stream, 0, 0, 0, size u32 BE]
// then `size` bytes of payload. Used for attach, exec and logs when the container has no TTY.
import { invalidParameter } from '../../core/errors.ts';

/** 0 stdin, 1 stdout, 2 stderr, 3 systemerr (an engine error reported inside an exec/attach stream). */
export type FrameStream = 0 | 1 | 2 | 3;

export interface Frame {
  stream: FrameStream;
  data: Buffer;
}

export const FRAME_HEADER_SIZE = 8;
const MAX_FRAME = 0xffffffff;

function frameHeader(stream: FrameStream, size: number): Buffer {
  if (size > MAX_FRAME) throw new RangeError(`frame payload too large: ${size} bytes`);
  const header = Buffer.alloc(FRAME_HEADER_SIZE);
  header[0] = stream;
  header.writeUInt32BE(size, 4);
  return header;
}

export function encodeFrame(stream: FrameStream, data: Buffer): Buffer {
  return Buffer.concat([frameHeader(stream, data.length), data]);
}

function isFrameStream(n: number): n is FrameStream {
  return n === 0 || n === 1 || n === 2 || n === 3;
}

/**
 * Incremental decoder: feed chunks as they arrive, split anywhere; get back the complete frames.
 * Buffers at most one header plus the unfinished part of the current frame's payload.
 */
export class FrameDecoder {
  #header = Buffer.alloc(FRAME_HEADER_SIZE);
  #headerLen = 0;
  #stream: FrameStream = 1;
  #remaining = 0;
  #parts: Buffer[] = [];
  #inPayload = false;

  push(chunk: Buffer): Frame[] {
    const frames: Frame[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      if (!this.#inPayload) {
        const n = Math.min(FRAME_HEADER_SIZE - this.#headerLen, chunk.length - pos);
        chunk.copy(this.#header, this.#headerLen, pos, pos + n);
        this.#headerLen += n;
        pos += n;
        if (this.#headerLen < FRAME_HEADER_SIZE) break;
        const stream = this.#header[0] ?? 255;
        if (!isFrameStream(stream)) throw invalidParameter(`Unrecognized input header: ${stream}`);
        this.#stream = stream;
        this.#remaining = this.#header.readUInt32BE(4);
        this.#headerLen = 0;
        // Empty frames carry nothing; stdcopy writes zero bytes for them, so they are dropped.
        if (this.#remaining > 0) this.#inPayload = true;
        continue;
      }
      const n = Math.min(this.#remaining, chunk.length - pos);
      this.#parts.push(chunk.subarray(pos, pos + n));
      this.#remaining -= n;
      pos += n;
      if (this.#remaining === 0) {
        const data = this.#parts.length === 1 ? Buffer.from(this.#parts[0]!) : Buffer.concat(this.#parts);
        frames.push({ stream: this.#stream, data });
        this.#parts = [];
        this.#inPayload = false;
      }
    }
    return frames;
  }

  /** True when the input so far ended exactly on a frame boundary. */
  get idle(): boolean {
    return !this.#inPayload && this.#headerLen === 0;
  }

  /** Call at end of input; throws when the stream stopped inside a frame. */
  end(): void {
    if (!this.idle) throw invalidParameter('unexpected end of multiplexed stream inside a frame');
  }
}
