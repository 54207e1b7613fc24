// `ports:` entries: the short syntax `[[host_ip:]published:]target[/protocol]` with ranges, and the
// long syntax mapping.

import type { PortMapping } from './types.ts';
import { type At, asInteger, asString, checkKeys, fail, isMap, listOf } from './values.ts';

const PROTOCOLS = new Set(['tcp', 'udp', 'sctp']);
const LONG_KEYS = new Set(['name', 'mode', 'host_ip', 'target', 'published', 'protocol', 'app_protocol']);

function range(text: string, where: At): [number, number] | undefined {
  if (text === '') return undefined;
  const m = /^(\d+)(?:-(\d+))?$/u.exec(text);
  if (m === null) throw fail(where, `invalid port ${JSON.stringify(text)}`);
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  if (lo < 0 || hi > 65535 || hi < lo) throw fail(where, `invalid port range ${JSON.stringify(text)}`);
  return [lo, hi];
}

function protocolOf(text: string, where: At): PortMapping['protocol'] {
  const p = text.toLowerCase();
  if (!PROTOCOLS.has(p)) throw fail(where, `invalid protocol ${JSON.stringify(text)}`);
  return p as PortMapping['protocol'];
}

function build(target: [number, number], published: [number, number] | undefined, where: At): PortMapping {
  const out: PortMapping = { target: target[0], protocol: 'tcp' };
  if (target[1] !== target[0]) out.targetEnd = target[1];
  if (published !== undefined) {
    out.published = published[0];
    if (published[1] !== published[0]) out.publishedEnd = published[1];
    const tn = target[1] - target[0];
    const pn = published[1] - published[0];
    if (tn !== 0 && tn !== pn) throw fail(where, 'port ranges of different sizes');
  }
  return out;
}

function parseShort(text: string, where: At): PortMapping {
  let spec = text.trim();
  let protocol: PortMapping['protocol'] = 'tcp';
  const slash = spec.lastIndexOf('/');
  if (slash !== -1) {
    protocol = protocolOf(spec.slice(slash + 1), where);
    spec = spec.slice(0, slash);
  }
  let hostIp: string | undefined;
  let rest: string[];
  if (spec.startsWith('[')) {
    const close = spec.indexOf(']');
    if (close === -1 || spec[close + 1] !== ':') throw fail(where, `invalid port ${JSON.stringify(text)}`);
    hostIp = spec.slice(1, close);
    rest = spec.slice(close + 2).split(':');
    if (rest.length !== 2) throw fail(where, `invalid port ${JSON.stringify(text)}`);
  } else {
    const parts = spec.split(':');
    if (parts.length > 3) {
      hostIp = parts.slice(0, -2).join(':');
      rest = parts.slice(-2);
    } else if (parts.length === 3) {
      hostIp = parts[0];
      rest = parts.slice(1);
    } else rest = parts;
  }
  const targetText = rest[rest.length - 1] ?? '';
  const target = range(targetText, where);
  if (target === undefined) throw fail(where, `invalid port ${JSON.stringify(text)}`);
  const published = rest.length === 2 ? range(rest[0] ?? '', where) : undefined;
  const out = build(target, published, where);
  out.protocol = protocol;
  if (hostIp !== undefined && hostIp !== '') out.hostIp = hostIp;
  return out;
}

/** One `ports:` entry, short or long syntax. */
export function parsePort(value: unknown, where: At): PortMapping {
  if (typeof value === 'number') return parseShort(String(value), where);
  if (typeof value === 'string') return parseShort(value, where);
  if (!isMap(value)) throw fail(listOf(where), 'contains an invalid type, it should be a number, or an object');
  checkKeys(value, LONG_KEYS, where);
  if (value['target'] === undefined) throw fail(where, 'target is required');
  const target = asInteger(value['target'], { file: where.file, key: `${where.key}.target` });
  const published =
    value['published'] === undefined || value['published'] === null
      ? undefined
      : range(asString(value['published'], where), { file: where.file, key: `${where.key}.published` });
  const out = build([target, target], published, where);
  if (value['protocol'] !== undefined) out.protocol = protocolOf(asString(value['protocol'], where), where);
  if (value['host_ip'] !== undefined && value['host_ip'] !== '') out.hostIp = asString(value['host_ip'], where);
  return out;
}
