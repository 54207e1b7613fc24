// Tar-split: what it takes to rebuild a layer's uncompressed tar byte for byte from its unpacked
// directory. A layer's diff ID is the digest of the exact tar it came in, so push and save must
// reproduce that tar, not make a new one. While a layer is extracted, a TarSplitter passes the
// stream through and records every byte that is not regular-file content (headers, PAX and GNU
// long-name records, padding, the end-of-archive blocks and anything after them) plus, for each
// regular file, its entry name and size. Rebuilding reads those records back and takes file
// content from the unpacked layer.
//
// Record format (gzip-compressed as a whole): tag byte 1 = raw bytes (u32 length, bytes);
// tag 2 = file content (u48 size, u16 name length, name bytes as they were in the archive).
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type * as Zlib from 'node:zlib';
import { zlib } from '../../lib/lazy-modules.ts';
import { invalidParameter } from '../../core/errors.ts';
import { cField, numericField, paxRecords } from './raw.ts';

const BLOCK = 512;
const TAG_RAW = 1;
const TAG_FILE = 2;
const MAX_META = 1 << 20;
const RECORD_BATCH = 1 << 18;

/** Types whose content the extractor writes to a regular file. */
const FILE_TYPES = new Set(['0', '\0', '7']);
const NAME_TYPES = new Set(['L', 'x', 'g']);

type State = 'header' | 'meta' | 'file' | 'skip' | 'tail';

/**
 * A pass-through stream that writes the tar-split records of the tar flowing through it to a file.
 * `exact` turns false when an archive names the same file twice with content (the unpacked layer
 * keeps only the last), so the tar cannot be rebuilt from it.
 */
export class TarSplitter extends Transform {
  exact = true;
  #out: Zlib.Gzip;
  #file: WriteStream;
  #done: Promise<void>;
  #raw: Buffer[] = [];
  #rawLen = 0;
  /** Finished records, written to gzip in large pieces: a write per record costs a thread-pool trip. */
  #records: Buffer[] = [];
  #recordsLen = 0;
  #pending = Buffer.alloc(0);
  #state: State = 'header';
  #left = 0;
  #pad = 0;
  #metaType = '';
  #meta: Buffer[] = [];
  #longName: Buffer | undefined;
  #paxName: Buffer | undefined;
  #globalName: Buffer | undefined;
  #seen = new Set<string>();

  constructor(path: string) {
    super();
    this.#out = zlib().createGzip({ level: 6 });
    this.#file = createWriteStream(path, { mode: 0o600 });
    this.#done = pipeline(this.#out, this.#file);
    this.#done.catch(() => {});
  }

  #emitRaw(buf: Buffer): void {
    if (buf.length === 0) return;
    this.#raw.push(Buffer.from(buf));
    this.#rawLen += buf.length;
    if (this.#rawLen >= 1 << 16) this.#flushRaw();
  }

  #record(...parts: Buffer[]): void {
    for (const p of parts) {
      this.#records.push(p);
      this.#recordsLen += p.length;
    }
    if (this.#recordsLen >= RECORD_BATCH) this.#writeRecords();
  }

  #writeRecords(): void {
    if (this.#recordsLen === 0) return;
    this.#out.write(Buffer.concat(this.#records, this.#recordsLen));
    this.#records = [];
    this.#recordsLen = 0;
  }

  #flushRaw(): void {
    if (this.#rawLen === 0) return;
    const head = Buffer.alloc(5);
    head[0] = TAG_RAW;
    head.writeUInt32LE(this.#rawLen, 1);
    this.#record(head, ...this.#raw);
    this.#raw = [];
    this.#rawLen = 0;
  }

  #emitFile(name: Buffer, size: number): void {
    this.#flushRaw();
    if (name.length > 0xffff) throw invalidParameter('invalid archive: entry name too long');
    const head = Buffer.alloc(9);
    head[0] = TAG_FILE;
    head.writeUIntLE(size, 1, 6);
    head.writeUInt16LE(name.length, 7);
    this.#record(head, Buffer.from(name));
  }

  #header(h: Buffer): void {
    if (h.every((b) => b === 0)) {
      // End-of-archive: whatever follows is kept as it is.
      this.#emitRaw(h);
      this.#state = 'tail';
      return;
    }
    this.#emitRaw(h);
    const type = String.fromCharCode(h[156]!);
    const size = numericField(h.subarray(124, 136));
    this.#pad = (BLOCK - (size % BLOCK)) % BLOCK;
    this.#left = size;
    if (NAME_TYPES.has(type)) {
      if (size > MAX_META) throw invalidParameter('invalid archive: extended header too large');
      this.#metaType = type;
      this.#meta = [];
      this.#state = 'meta';
      return;
    }
    let name = cField(h.subarray(0, 100));
    if (h.toString('latin1', 257, 262) === 'ustar') {
      const prefix = cField(h.subarray(345, 500));
      if (prefix.length > 0 && type !== 'L') name = Buffer.concat([prefix, Buffer.from('/'), name]);
    }
    name = this.#paxName ?? this.#longName ?? this.#globalName ?? name;
    this.#paxName = undefined;
    this.#longName = undefined;
    if (FILE_TYPES.has(type) && size > 0) {
      const key = name.toString('latin1').replace(/^\/+|\/+$/g, '');
      if (this.#seen.has(key)) this.exact = false;
      this.#seen.add(key);
      this.#emitFile(name, size);
      this.#state = 'file';
    } else {
      this.#state = 'skip';
    }
  }

  #endEntry(): void {
    this.#state = 'header';
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.#consume(chunk);
    } catch (err) {
      cb(err as Error);
      return;
    }
    cb(null, chunk);
  }

  #consume(chunk: Buffer): void {
    let buf = this.#pending.length > 0 ? Buffer.concat([this.#pending, chunk]) : chunk;
    this.#pending = Buffer.alloc(0);
    while (buf.length > 0) {
      switch (this.#state) {
        case 'tail':
          this.#emitRaw(buf);
          return;
        case 'header':
          if (buf.length < BLOCK) {
            this.#pending = Buffer.from(buf);
            return;
          }
          this.#header(buf.subarray(0, BLOCK));
          buf = buf.subarray(BLOCK);
          const now = this.#state as State;
          if (now !== 'tail' && this.#left === 0 && this.#pad === 0) {
            if (now === 'meta') this.#finishMeta();
            this.#endEntry();
          }
          break;
        case 'meta':
        case 'file':
        case 'skip': {
          if (this.#left > 0) {
            const n = Math.min(this.#left, buf.length);
            const part = buf.subarray(0, n);
            if (this.#state === 'meta') {
              this.#meta.push(Buffer.from(part));
              this.#emitRaw(part);
            } else if (this.#state === 'skip') {
              this.#emitRaw(part);
            }
            this.#left -= n;
            buf = buf.subarray(n);
            if (this.#left > 0) return;
            if (this.#state === 'meta') this.#finishMeta();
          }
          if (this.#pad > 0) {
            const n = Math.min(this.#pad, buf.length);
            this.#emitRaw(buf.subarray(0, n));
            this.#pad -= n;
            buf = buf.subarray(n);
            if (this.#pad > 0) return;
          }
          this.#endEntry();
          break;
        }
      }
    }
  }

  #finishMeta(): void {
    const data = Buffer.concat(this.#meta);
    this.#meta = [];
    if (this.#metaType === 'L') this.#longName = cField(data);
    else if (this.#metaType === 'x') this.#paxName = paxRecords(data).get('path') ?? this.#paxName;
    else if (this.#metaType === 'g') this.#globalName = paxRecords(data).get('path') ?? this.#globalName;
    this.#metaType = '';
  }

  override _flush(cb: TransformCallback): void {
    if (this.#pending.length > 0) this.#emitRaw(this.#pending);
    this.#flushRaw();
    cb();
  }

  /** Finishes the record file; call after the stream has ended. */
  async close(): Promise<void> {
    this.#flushRaw();
    this.#writeRecords();
    this.#out.end();
    await this.#done;
  }

  /** Stops writing the record file (after a failure). */
  abort(): void {
    this.#out.destroy();
    this.#file.destroy();
  }
}

export type SplitRecord = { kind: 'raw'; data: Buffer } | { kind: 'file'; name: string; size: number };

/** Reads tar-split records back. */
export async function* readSplit(path: string): AsyncGenerator<SplitRecord> {
  const input = createReadStream(path).pipe(zlib().createGunzip());
  let buf: Buffer = Buffer.alloc(0);
  for await (const chunk of input) {
    buf = buf.length === 0 ? (chunk as Buffer) : Buffer.concat([buf, chunk as Buffer]);
    for (;;) {
      if (buf.length < 1) break;
      const tag = buf[0];
      if (tag === TAG_RAW) {
        if (buf.length < 5) break;
        const len = buf.readUInt32LE(1);
        if (buf.length < 5 + len) break;
        yield { kind: 'raw', data: buf.subarray(5, 5 + len) };
        buf = buf.subarray(5 + len);
      } else if (tag === TAG_FILE) {
        if (buf.length < 9) break;
        const size = buf.readUIntLE(1, 6);
        const len = buf.readUInt16LE(7);
        if (buf.length < 9 + len) break;
        yield { kind: 'file', name: buf.toString('latin1', 9, 9 + len), size };
        buf = buf.subarray(9 + len);
      } else {
        throw new Error(`tar-split: corrupt record file ${path}`);
      }
    }
  }
  if (buf.length > 0) throw new Error(`tar-split: truncated record file ${path}`);
}

/** Rebuilds the tar: raw records as they are, file records from openFile(name). */
export function rebuildTar(path: string, openFile: (name: string, size: number) => Promise<NodeJS.ReadableStream>): Readable {
  return Readable.from(
    (async function* () {
      for await (const r of readSplit(path)) {
        if (r.kind === 'raw') {
          yield r.data;
          continue;
        }
        let got = 0;
        for await (const chunk of await openFile(r.name, r.size)) {
          const b = chunk as Buffer;
          got += b.length;
          if (got > r.size) throw new Error(`layer file ${r.name} is larger than when it was unpacked`);
          yield b;
        }
        if (got !== r.size) throw new Error(`layer file ${r.name} is smaller than when it was unpacked`);
      }
    })(),
    { objectMode: false },
  );
}
