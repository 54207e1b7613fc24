// Narrowing helpers for YAML values, with compose-style messages naming the file and the key.

import { invalidParameter } from '../core/errors.ts';
import { duration } from '../dockerfile/index.ts';

export type Raw = Record<string, unknown>;

/** Where a value sits: the file it came from and its dotted key, for error messages. */
export interface At {
  file: string;
  key: string;
}

export const at = (where: At, key: string | number): At => ({ file: where.file, key: `${where.key}.${key}` });

/** The list an item sits in (`services.web.ports.0` → `services.web.ports`). */
export const listOf = (where: At): At => ({ file: where.file, key: where.key.replace(/\.\d+$/u, '') });

export function fail(where: At, message: string): Error {
  return invalidParameter(`validating ${where.file}: ${where.key} ${message}`);
}

export function isMap(v: unknown): v is Raw {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function asMap(v: unknown, where: At): Raw {
  if (v === null || v === undefined) return {};
  if (!isMap(v)) throw fail(where, 'must be a mapping');
  return v;
}

export function asList(v: unknown, where: At): unknown[] {
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v)) throw fail(where, 'must be a array');
  return v;
}

export function asString(v: unknown, where: At): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw fail(where, 'must be a string');
}

/** A string or a list of strings, as `dns:` and `tmpfs:` take. */
export function asStrings(v: unknown, where: At): string[] {
  if (v === null || v === undefined) return [];
  if (typeof v === 'string') return [v];
  return asList(v, where).map((x, i) => asString(x, at(where, i)));
}

export function asBool(v: unknown, where: At): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    const s = v.toLowerCase();
    if (['true', 'yes', 'y', 'on', '1'].includes(s)) return true;
    if (['false', 'no', 'n', 'off', '0'].includes(s)) return false;
  }
  throw fail(where, 'must be a boolean');
}

export function asNumber(v: unknown, where: At): number {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  throw fail(where, 'must be a number');
}

export function asInteger(v: unknown, where: At): number {
  const n = asNumber(v, where);
  if (!Number.isInteger(n)) throw fail(where, 'must be a integer');
  return n;
}

/** Nanoseconds of a Go duration (`1m30s`); a bare number is missing its unit, as in compose. */
export function asDuration(v: unknown, where: At): number {
  const s = asString(v, where);
  try {
    return duration(s);
  } catch (err: unknown) {
    throw invalidParameter(`validating ${where.file}: ${where.key} ${err instanceof Error ? err.message : String(err)}`, err);
  }
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** Bytes in a size like `512m`, `1g`, `1.5GB`, `1024` (binary multiples, as docker's RAMInBytes). */
export function asBytes(v: unknown, where: At): number {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return Math.floor(v);
  const s = asString(v, where).trim().toLowerCase();
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)(?:i?b)?$/u.exec(s);
  if (m === null) throw fail(where, `invalid size: ${JSON.stringify(s)}`);
  return Math.floor(Number(m[1]) * (SIZE_UNITS[m[2] ?? ''] ?? 1));
}

/** A mapping or a `KEY=VALUE` list; `KEY` alone gives null. Values become strings. */
export function asKeyValues(v: unknown, where: At): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  if (v === null || v === undefined) return out;
  if (Array.isArray(v)) {
    v.forEach((item, i) => {
      const s = asString(item, at(where, i));
      const eq = s.indexOf('=');
      if (eq === -1) out[s] = null;
      else out[s.slice(0, eq)] = s.slice(eq + 1);
    });
    return out;
  }
  if (!isMap(v)) throw fail(where, 'must be a mapping or a list');
  for (const [k, val] of Object.entries(v)) {
    if (val === null || val === undefined) out[k] = null;
    else if (typeof val === 'string' || typeof val === 'number' || typeof val === 'boolean') out[k] = String(val);
    else throw fail(at(where, k), 'contains an invalid type, it should be a string, number, boolean or null');
  }
  return out;
}

/** Like asKeyValues, for labels and build args where a bare key means an empty string. */
export function asStringMap(v: unknown, where: At): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(asKeyValues(v, where))) out[k] = val ?? '';
  return out;
}

/** Rejects keys outside `allowed`; `x-*` extension keys always pass. */
export function checkKeys(map: Raw, allowed: ReadonlySet<string>, where: At): void {
  for (const k of Object.keys(map)) {
    if (!allowed.has(k) && !k.startsWith('x-')) throw fail(where, `Additional property ${k} is not allowed`);
  }
}
