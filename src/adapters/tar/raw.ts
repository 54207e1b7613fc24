// Raw tar header fields, for the readers that need byte offsets tar-stream does not give
// (tar-split, the in-place build context): numeric fields in octal or GNU base-256, NUL-ended
// strings, PAX extended-header records.
import { invalidParameter } from '../../core/errors.ts';

/** A numeric header field: octal text, or GNU base-256 when the first byte's high bit is set. */
export function numericField(field: Buffer): number {
  if ((field[0]! & 0x80) !== 0) {
    let n = (field[0]! & 0x7f) * 256 ** (field.length - 1);
    for (let i = 1; i < field.length; i++) n += field[i]! * 256 ** (field.length - 1 - i);
    if (!Number.isSafeInteger(n)) throw invalidParameter('invalid archive: numeric field out of range');
    return n;
  }
  const s = field.toString('latin1').replace(/\0.*$/s, '').trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw invalidParameter('invalid archive: malformed numeric field');
  return parseInt(s, 8);
}

/** The bytes of a NUL-terminated header field. */
export function cField(buf: Buffer): Buffer {
  const nul = buf.indexOf(0);
  return nul < 0 ? buf : buf.subarray(0, nul);
}

/** PAX records "len key=value\n" as raw values (Buffers: names need not be UTF-8). */
export function paxRecords(data: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let i = 0;
  while (i < data.length) {
    const sp = data.indexOf(0x20, i);
    if (sp < 0) break;
    const len = parseInt(data.toString('latin1', i, sp), 10);
    if (!Number.isFinite(len) || len <= 0 || i + len > data.length) break;
    const rec = data.subarray(sp + 1, i + len - 1);
    const eq = rec.indexOf(0x3d);
    if (eq > 0) out.set(rec.toString('latin1', 0, eq), Buffer.from(rec.subarray(eq + 1)));
    i += len;
  }
  return out;
}
