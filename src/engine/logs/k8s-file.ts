// conmon's k8s-file log format: one record per line, `<RFC3339Nano time> <stdout|stderr> <P|F> <bytes>\n`.
// A `P` record is a piece of a line (its `\n` is only the record separator); an `F` record ends the line
// and its `\n` is the line's own newline. Records never contain a newline inside their data.

export type LogStream = 'stdout' | 'stderr';

export interface LogEntry {
  stream: LogStream;
  time: Date;
  /** The record's own RFC3339Nano text, with conmon's offset. */
  timeNano: string;
  /** Includes the trailing '\n' for complete lines. */
  data: Buffer;
}

export interface LogRecord {
  stream: LogStream;
  partial: boolean;
  timeNano: string;
  time: Date;
  /** Unix time in nanoseconds, for exact since/until comparisons. */
  ns: bigint;
  /** Without the record separator; an `F` record's newline is added by the assembler. */
  data: Buffer;
}

/** Docker splits long lines into messages of this many bytes (moby's 16 KiB log buffer). */
export const MAX_ENTRY_BYTES = 16 * 1024;

const TIME_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

export function parseTimestamp(text: string): { time: Date; ns: bigint } | undefined {
  const m = TIME_RE.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac = '', zone = 'Z'] = m;
  let offsetSec = 0;
  if (zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    offsetSec = sign * (Number(zone.slice(1, 3)) * 3600 + Number(zone.slice(4, 6)) * 60);
  }
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  if (Number.isNaN(ms)) return undefined;
  const sec = ms / 1000 - offsetSec;
  const fracNs = Number(frac.padEnd(9, '0'));
  return { time: new Date(sec * 1000 + Math.floor(fracNs / 1e6)), ns: BigInt(sec) * 1_000_000_000n + BigInt(fracNs) };
}

/** Unix seconds (possibly fractional, as the API's since/until) to nanoseconds. */
export function secondsToNs(seconds: number): bigint {
  const whole = Math.floor(seconds);
  return BigInt(whole) * 1_000_000_000n + BigInt(Math.round((seconds - whole) * 1e9));
}

/** Docker's `--timestamps` form: UTC, nine fraction digits (moby's RFC3339NanoFixed). */
export function formatTimestamp(timeNano: string): string {
  const t = parseTimestamp(timeNano);
  if (t === undefined) return timeNano;
  const ns = t.ns;
  const sec = ns / 1_000_000_000n;
  const frac = ns % 1_000_000_000n;
  const base = new Date(Number(sec) * 1000).toISOString().slice(0, 19);
  return `${base}.${frac.toString().padStart(9, '0')}Z`;
}

const SPACE = 0x20;

/** Parses one record (without its separator); undefined for anything that is not a well-formed record. */
export function parseRecord(line: Buffer): LogRecord | undefined {
  const s1 = line.indexOf(SPACE);
  if (s1 <= 0) return undefined;
  const s2 = line.indexOf(SPACE, s1 + 1);
  if (s2 < 0) return undefined;
  const stream = line.toString('latin1', s1 + 1, s2);
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  const tag = line[s2 + 1];
  if (tag !== 0x50 /* P */ && tag !== 0x46 /* F */) return undefined;
  const after = line[s2 + 2];
  if (after !== undefined && after !== SPACE) return undefined;
  const timeNano = line.toString('latin1', 0, s1);
  const t = parseTimestamp(timeNano);
  if (t === undefined) return undefined;
  return { stream, partial: tag === 0x50, timeNano, time: t.time, ns: t.ns, data: line.subarray(Math.min(s2 + 3, line.length)) };
}

/** Only the header fields, from the first bytes of a record (used when scanning a file backwards). */
export function parseRecordHead(head: Buffer): { stream: LogStream; partial: boolean } | undefined {
  const s1 = head.indexOf(SPACE);
  if (s1 <= 0) return undefined;
  const s2 = head.indexOf(SPACE, s1 + 1);
  if (s2 < 0) return undefined;
  const stream = head.toString('latin1', s1 + 1, s2);
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  const tag = head[s2 + 1];
  if (tag !== 0x50 && tag !== 0x46) return undefined;
  return { stream, partial: tag === 0x50 };
}

export interface AssembledEntry extends LogEntry {
  ns: bigint;
  /** True for the piece that ends a line (an `F` record): entries are counted per line. */
  ends: boolean;
}

interface Pending {
  parts: Buffer[];
  len: number;
  timeNano: string;
  time: Date;
  ns: bigint;
  /** Order of the stream's latest record, so unfinished lines flush in the order they were last written. */
  last: number;
}

/**
 * Joins `P` records of a stream until its `F`, and cuts lines longer than MAX_ENTRY_BYTES into pieces
 * so that no line is ever held whole. At most MAX_ENTRY_BYTES plus one record is buffered per stream.
 */
export class LineAssembler {
  #pending: Partial<Record<LogStream, Pending>> = {};
  #seq = 0;

  push(rec: LogRecord): AssembledEntry[] {
    const out: AssembledEntry[] = [];
    let p = this.#pending[rec.stream];
    if (p === undefined) {
      p = { parts: [], len: 0, timeNano: rec.timeNano, time: rec.time, ns: rec.ns, last: 0 };
      this.#pending[rec.stream] = p;
    }
    p.last = this.#seq++;
    if (rec.data.length > 0) {
      // Copy: the record's bytes alias a read buffer that is reused.
      p.parts.push(Buffer.from(rec.data));
      p.len += rec.data.length;
    }
    while (p.len > MAX_ENTRY_BYTES) {
      const all = Buffer.concat(p.parts, p.len);
      out.push(this.#entry(rec.stream, p, all.subarray(0, MAX_ENTRY_BYTES), false));
      const rest = all.subarray(MAX_ENTRY_BYTES);
      p.parts = rest.length > 0 ? [rest] : [];
      p.len = rest.length;
      p.timeNano = rec.timeNano;
      p.time = rec.time;
      p.ns = rec.ns;
    }
    if (!rec.partial) {
      p.parts.push(Buffer.from('\n'));
      out.push(this.#entry(rec.stream, p, Buffer.concat(p.parts, p.len + 1), true));
      delete this.#pending[rec.stream];
    }
    return out;
  }

  /** Unfinished lines at the end of the log (the program wrote no final newline), without a newline. */
  flush(): AssembledEntry[] {
    const out: Array<AssembledEntry & { last: number }> = [];
    for (const stream of ['stdout', 'stderr'] as const) {
      const p = this.#pending[stream];
      if (p !== undefined && p.len > 0) out.push({ ...this.#entry(stream, p, Buffer.concat(p.parts, p.len), false), last: p.last });
      delete this.#pending[stream];
    }
    return out.sort((a, b) => a.last - b.last).map(({ last: _, ...e }) => e);
  }

  #entry(stream: LogStream, p: Pending, data: Buffer, ends: boolean): AssembledEntry {
    return { stream, time: p.time, timeNano: p.timeNano, ns: p.ns, data, ends };
  }
}
