// IPv6 addresses and subnets for IPAM, as 128-bit integers. Text goes through the WHATWG URL
// parser, which validates an address and writes it in its canonical short form (RFC 5952:
// lower case, no leading zeros, the longest run of zero groups as `::`).
import { createHash } from 'node:crypto';
import { invalidParameter } from '../../core/errors.ts';

export interface Cidr6 {
  base: bigint;
  prefix: number;
}

const ALL = (1n << 128n) - 1n;

/** The canonical form of an IPv6 address; throws for anything else. */
export function canonicalIpv6(text: string): string {
  if (!text.includes(':') || /[[\]/%]/.test(text)) throw invalidParameter(`invalid IPv6 address: ${text}`);
  let host: string;
  try {
    host = new URL(`http://[${text}]/`).hostname;
  } catch {
    throw invalidParameter(`invalid IPv6 address: ${text}`);
  }
  return host.slice(1, -1);
}

export function ipv6ToBigInt(text: string): bigint {
  const canon = canonicalIpv6(text);
  const [head, tail] = canon.includes('::') ? (canon.split('::') as [string, string]) : [canon, undefined];
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n);
}

export function bigIntToIpv6(n: bigint): string {
  const groups: string[] = [];
  for (let i = 7; i >= 0; i--) groups.push(((n >> BigInt(i * 16)) & 0xffffn).toString(16));
  return canonicalIpv6(groups.join(':'));
}

/** An IPv6 subnet such as fd00:1::/64: prefix /8–/124, no host bits set. */
export function parseCidr6(cidr: string): Cidr6 {
  const m = /^([0-9a-fA-F:.]+)\/(\d{1,3})$/.exec(cidr);
  if (!m || !m[1]!.includes(':')) throw invalidParameter(`invalid subnet ${cidr}: expected IPv6 CIDR like fd00:1::/64`);
  const prefix = Number(m[2]);
  if (prefix < 8 || prefix > 124) throw invalidParameter(`invalid subnet ${cidr}: prefix must be between /8 and /124`);
  const ip = ipv6ToBigInt(m[1]!);
  const hostMask = (1n << BigInt(128 - prefix)) - 1n;
  const base = ip & (ALL ^ hostMask);
  if (base !== ip) throw invalidParameter(`invalid subnet ${cidr}: host bits set (did you mean ${bigIntToIpv6(base)}/${prefix}?)`);
  return { base, prefix };
}

export function cidr6Size(c: Cidr6): bigint {
  return 1n << BigInt(128 - c.prefix);
}

export function formatCidr6(c: Cidr6): string {
  return `${bigIntToIpv6(c.base)}/${c.prefix}`;
}

export function contains6(c: Cidr6, ip: bigint): boolean {
  return ip >= c.base && ip < c.base + cidr6Size(c);
}

export function overlaps6(a: Cidr6, b: Cidr6): boolean {
  return a.base < b.base + cidr6Size(b) && b.base < a.base + cidr6Size(a);
}

/**
 * The daemon's own unique local /48 (RFC 4193: `fd` and a 40-bit Global ID), the Global ID taken
 * from a hash of the engine ID: stable for a data root, unlikely to meet another host's. Networks
 * with IPv6 and no subnet of their own get /64s from it, as from Docker 27's default pool.
 */
export function ulaBase(engineId: string): Cidr6 {
  const globalId = BigInt(`0x${createHash('sha256').update(engineId).digest('hex').slice(0, 10)}`);
  return { base: ((0xfdn << 40n) | globalId) << 80n, prefix: 48 };
}

/** The first /64 of the base that meets none of `taken`; undefined when all 65,536 are used. */
export function freeSubnet64(base: Cidr6, taken: readonly Cidr6[]): Cidr6 | undefined {
  for (let i = 0n; i < 1n << BigInt(64 - base.prefix); i++) {
    const c = { base: base.base + (i << 64n), prefix: 64 };
    if (!taken.some((t) => overlaps6(t, c))) return c;
  }
  return undefined;
}
