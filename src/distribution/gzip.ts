// Gzip for pushed layers, faster than one deflate stream: the tar is cut into segments compressed
// side by side in the thread pool, each a gzip member of its own (RFC 1952 allows a file of several
// members; Go's, zlib's and Python's readers all read them as one stream). A segment that deflate
// cannot shrink (already compressed files, random data) is written as stored blocks, which costs
// a CRC instead of a full deflate. The output depends only on the input, so a layer pushed twice
// gets the same digest.
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';

const SEGMENT = 1 << 20;
const IN_FLIGHT = 4;
const SAMPLE = 16 * 1024;
/** Segments whose sample deflates to more than this fraction are stored. */
const INCOMPRESSIBLE = 0.97;
const LEVEL = 6;
const MAX_STORED_BLOCK = 65535;

const gzipAsync = promisify(zlib.gzip);

function sampleRatio(seg: Buffer): number {
  // Three samples across the segment, so a header before compressed content does not decide.
  let inBytes = 0;
  let outBytes = 0;
  for (const at of [0, (seg.length >> 1) - (SAMPLE >> 1), seg.length - SAMPLE]) {
    const part = seg.subarray(Math.max(0, at), Math.max(0, at) + SAMPLE);
    inBytes += part.length;
    outBytes += zlib.deflateRawSync(part, { level: 1 }).length;
  }
  return outBytes / inBytes;
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
  out.writeUInt32LE(zlib.crc32(seg) >>> 0, o);
  out.writeUInt32LE(seg.length >>> 0, o + 4);
  return out;
}

async function member(seg: Buffer): Promise<Buffer> {
  if (seg.length >= SAMPLE * 3 && sampleRatio(seg) > INCOMPRESSIBLE) return storedMember(seg);
  return gzipAsync(seg, { level: LEVEL, chunkSize: SEGMENT });
}

/** Gzips a byte stream as a sequence of members, several segments at a time. */
export async function* parallelGzip(input: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const queue: Array<Promise<Buffer>> = [];
  let pending: Buffer[] = [];
  let pendingLen = 0;
  let total = 0;
  const cut = (): void => {
    const seg = Buffer.concat(pending, pendingLen);
    pending = [];
    pendingLen = 0;
    const p = member(seg);
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
    while (queue.length >= IN_FLIGHT) yield await queue.shift()!;
  }
  if (pendingLen > 0 || total === 0) cut();
  while (queue.length > 0) yield await queue.shift()!;
}
