// Gzip for pushed layers, faster than one deflate stream: the tar is cut into segments compressed
// side by side in the thread pool, each written as gzip members (RFC 1952 allows a file of several
// members; Go's, zlib's and Python's readers all read them as one stream). Within a segment, runs
// of 64 KiB pieces that deflate cannot shrink (compressed files, random data — told apart by the
// byte entropy of a sample) are written as stored blocks, which costs a CRC instead of a deflate
// running at a tenth of its usual speed over such data. The output depends only on the input, so a
// layer pushed twice gets the same digest.
import { promisify } from 'node:util';
import type * as Zlib from 'node:zlib';
import { zlib } from '../lib/lazy-modules.ts';

const SEGMENT = 1 << 20;
const IN_FLIGHT = 4;
const PIECE = 64 * 1024;
const SAMPLE = 4096;
/** Order-0 entropy (bits per byte) of a sample above which a piece is stored; random bytes score ~7.95. */
const INCOMPRESSIBLE_BITS = 7.8;
const LEVEL = 6;
const MAX_STORED_BLOCK = 65535;

type GzipAsync = (b: Buffer, o: Zlib.ZlibOptions) => Promise<Buffer>;
let gzipPromised: GzipAsync | undefined;
const gzipAsync: GzipAsync = (b, o) => (gzipPromised ??= promisify(zlib().gzip) as GzipAsync)(b, o);
const LOG2 = new Float64Array(SAMPLE + 1).map((_, n) => (n === 0 ? 0 : n * Math.log2(n)));

/** Whether a piece looks incompressible: the byte entropy of a sample from its middle. */
export function incompressible(piece: Buffer): boolean {
  if (piece.length < SAMPLE) return false;
  const at = (piece.length - SAMPLE) >> 1;
  const counts = new Uint16Array(256);
  for (let i = at; i < at + SAMPLE; i++) counts[piece[i]!]!++;
  // H = log2(N) - (1/N) * sum(c * log2 c)
  let sum = 0;
  for (let b = 0; b < 256; b++) sum += LOG2[counts[b]!]!;
  return Math.log2(SAMPLE) - sum / SAMPLE > INCOMPRESSIBLE_BITS;
}

/** A gzip member holding seg in stored (uncompressed) deflate blocks. */
export function storedMember(seg: Buffer): Buffer {
  const blocks = Math.max(1, Math.ceil(seg.length / MAX_STORED_BLOCK));
  const out = Buffer.alloc(10 + blocks * 5 + seg.length + 8);
  // ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL=0 OS=3 (Unix), as zlib writes them.
  out.set([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3], 0);
  let o = 10;
  for (let i = 0; i < blocks; i++) {
    const part = seg.subarray(i * MAX_STORED_BLOCK, (i + 1) * MAX_STORED_BLOCK);
    out[o] = i === blocks - 1 ? 1 : 0;
    out.writeUInt16LE(part.length, o + 1);
    out.writeUInt16LE(~part.length & 0xffff, o + 3);
    out.set(part, o + 5);
    o += 5 + part.length;
  }
  out.writeUInt32LE(zlib().crc32(seg) >>> 0, o);
  out.writeUInt32LE(seg.length >>> 0, o + 4);
  return out;
}

/** A segment as gzip members: runs of compressible pieces deflated, the others stored. */
async function members(seg: Buffer): Promise<Buffer[]> {
  const runs: Array<{ start: number; end: number; stored: boolean }> = [];
  for (let at = 0; at < seg.length || at === 0; at += PIECE) {
    const end = Math.min(seg.length, at + PIECE);
    const stored = incompressible(seg.subarray(at, end));
    const last = runs.at(-1);
    if (last !== undefined && last.stored === stored) last.end = end;
    else runs.push({ start: at, end, stored });
    if (end === seg.length) break;
  }
  return Promise.all(runs.map((r) => {
    const part = seg.subarray(r.start, r.end);
    return r.stored ? storedMember(part) : gzipAsync(part, { level: LEVEL, chunkSize: SEGMENT });
  }));
}

/** Gzips a byte stream as a sequence of members, several segments at a time. */
export async function* parallelGzip(input: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const queue: Array<Promise<Buffer[]>> = [];
  let pending: Buffer[] = [];
  let pendingLen = 0;
  let total = 0;
  const cut = (): void => {
    const seg = Buffer.concat(pending, pendingLen);
    pending = [];
    pendingLen = 0;
    const p = members(seg);
    p.catch(() => {});
    queue.push(p);
  };
  for await (const chunk of input) {
    let c = chunk;
    total += c.length;
    while (c.length > 0) {
      const take = Math.min(c.length, SEGMENT - pendingLen);
      pending.push(c.subarray(0, take));
      pendingLen += take;
      c = c.subarray(take);
      if (pendingLen === SEGMENT) cut();
    }
    while (queue.length >= IN_FLIGHT) yield* await queue.shift()!;
  }
  if (pendingLen > 0 || total === 0) cut();
  while (queue.length > 0) yield* await queue.shift()!;
}
