// Networks: user-defined bridge networks, their definitions and IPAM. berth picks addresses and
// hands them to netavark as static IPs.
import { byteOrder } from '../../core/order.ts';
import { readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError, conflict, invalidParameter, notFound } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import { ensureDir, writeJsonAtomic } from '../../adapters/fs/index.ts';
import type { EventBus } from '../events/index.ts';
import type { BackendNetwork } from '../../core/ports.ts';
import { bigIntToIpv6, canonicalIpv6, contains6, cidr6Size, formatCidr6, freeSubnet64, ipv6ToBigInt, overlaps6, parseCidr6, ulaBase, type Cidr6 } from './ipv6.ts';

export interface NetworkRecord {
  Name: string;
  Id: string;
  Created: string;
  Scope: 'local';
  Driver: 'bridge';
  EnableIPv6: boolean;
  /** The IPv4 subnet first, then the IPv6 one (whose Gateway is shown only when it was given). */
  IPAM: { Driver: 'default'; Options: Record<string, string>; Config: Array<{ Subnet: string; Gateway: string; IPRange?: string }> };
  Internal: boolean;
  Attachable: boolean;
  Ingress: false;
  ConfigFrom: { Network: string };
  ConfigOnly: false;
  Options: Record<string, string>;
  Labels: Record<string, string>;
  bridge: string;
}

/**
 * Docker's pre-defined `host` and `none` networks: always there, nothing to set up (a container on
 * them uses the host's namespace, or one with loopback only). Their IDs are made once per data root.
 */
export interface PredefinedNetwork {
  Name: 'host' | 'none';
  Id: string;
  Created: string;
  Driver: 'host' | 'null';
}

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const BRIDGE_OPT = 'com.docker.network.bridge.name';
const PREDEFINED = new Set(['bridge', 'host', 'none', 'default']);
const PREDEFINED_FILE = 'predefined.json';

export function ipToInt(ip: string): number {
  const p = ip.split('.');
  if (p.length !== 4 || p.some((x) => !/^\d{1,3}$/.test(x) || Number(x) > 255)) throw invalidParameter(`invalid IPv4 address: ${ip}`);
  return ((Number(p[0]) << 24) >>> 0) + (Number(p[1]) << 16) + (Number(p[2]) << 8) + Number(p[3]);
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export interface Cidr {
  base: number;
  prefix: number;
  size: number;
}

export function parseCidr(cidr: string): Cidr {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(cidr);
  if (!m) throw invalidParameter(`invalid subnet ${cidr}: expected IPv4 CIDR like 10.90.0.0/24`);
  const prefix = Number(m[2]);
  if (prefix < 8 || prefix > 30) throw invalidParameter(`invalid subnet ${cidr}: prefix must be between /8 and /30`);
  const size = 2 ** (32 - prefix);
  const ip = ipToInt(m[1]!);
  const base = ip - (ip % size);
  if (base !== ip) throw invalidParameter(`invalid subnet ${cidr}: host bits set (did you mean ${intToIp(base)}/${prefix}?)`);
  return { base, prefix, size };
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.base < b.base + b.size && b.base < a.base + a.size;
}

type IpamConfig = NetworkRecord['IPAM']['Config'][number];

/** A network's IPv6 subnet, when it has IPv6 turned on (`--ipv6`). */
export function ipv6Config(n: NetworkRecord): IpamConfig | undefined {
  return n.EnableIPv6 ? n.IPAM.Config.find((c) => c.Subnet.includes(':')) : undefined;
}

/** The IPv6 gateway containers route through: the one given, else the subnet's first address. */
export function ipv6Gateway(n: NetworkRecord): string | undefined {
  const cfg = ipv6Config(n);
  if (!cfg) return undefined;
  return cfg.Gateway || bigIntToIpv6(parseCidr6(cfg.Subnet).base + 1n);
}

/** IPv4 routes on the host, so new subnets avoid them (a Docker daemon's 172.17.0.0/16, say). */
async function hostRoutes(): Promise<Cidr[]> {
  const text = await readFile('/proc/net/route', 'utf8').catch(() => '');
  const out: Cidr[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const le = (h: string): number => {
      const n = parseInt(h, 16);
      return (((n & 255) << 24) >>> 0) + (((n >>> 8) & 255) << 16) + (((n >>> 16) & 255) << 8) + ((n >>> 24) & 255);
    };
    const dest = le(f[1]!);
    const mask = le(f[7]!);
    if (mask === 0) continue;
    const prefix = 32 - Math.log2(2 ** 32 - mask);
    if (!Number.isInteger(prefix)) continue;
    out.push({ base: dest, prefix, size: 2 ** (32 - prefix) });
  }
  return out;
}

/** The host's IPv6 routes (/proc/net/ipv6_route), but the default one. */
async function hostRoutes6(): Promise<Cidr6[]> {
  const text = await readFile('/proc/net/ipv6_route', 'utf8').catch(() => '');
  const out: Cidr6[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 2 || !/^[0-9a-f]{32}$/.test(f[0]!)) continue;
    const prefix = parseInt(f[1]!, 16);
    if (prefix === 0) continue;
    out.push({ base: BigInt(`0x${f[0]}`), prefix });
  }
  return out;
}

export class NetworkService {
  readonly #dir: string;
  readonly #events: EventBus;
  /** The unique local /48 that IPv6 networks without a subnet take theirs from (see ulaBase). */
  readonly #ula: Cidr6 | undefined;
  readonly #nets = new Map<string, NetworkRecord>();
  /** network id → allocated addresses (as integers). */
  readonly #alloc = new Map<string, Set<number>>();
  /** network id → allocated IPv6 addresses. */
  readonly #alloc6 = new Map<string, Set<bigint>>();
  #predefined: PredefinedNetwork[] = [];

  constructor(opts: { dataRoot: string; events: EventBus; engineId?: string }) {
    this.#dir = join(opts.dataRoot, 'networks');
    this.#events = opts.events;
    this.#ula = opts.engineId ? ulaBase(opts.engineId) : undefined;
  }

  async load(): Promise<void> {
    await ensureDir(this.#dir);
    for (const f of await readdir(this.#dir)) {
      if (!/^[0-9a-f]{64}\.json$/.test(f)) continue;
      const rec = JSON.parse(await readFile(join(this.#dir, f), 'utf8')) as NetworkRecord;
      rec.EnableIPv6 ??= false;
      this.#nets.set(rec.Id, rec);
      this.#alloc.set(rec.Id, new Set());
      this.#alloc6.set(rec.Id, new Set());
    }
    const file = join(this.#dir, PREDEFINED_FILE);
    const parsed: unknown = await readFile(file, 'utf8').then((t) => JSON.parse(t) as unknown).catch(() => undefined);
    const saved = Array.isArray(parsed) ? (parsed as PredefinedNetwork[]) : [];
    const created = new Date().toISOString();
    this.#predefined = (['host', 'none'] as const).map((name) => saved.find((n) => n.Name === name && /^[0-9a-f]{64}$/.test(n.Id)) ?? { Name: name, Id: newId(), Created: created, Driver: name === 'host' ? 'host' : 'null' });
    if (this.#predefined.some((n) => !saved.includes(n))) await writeJsonAtomic(file, this.#predefined);
  }

  /** `host` and `none`. */
  predefined(): PredefinedNetwork[] {
    return [...this.#predefined];
  }

  /** A pre-defined network by name, ID or unique ID prefix, when no bridge network answers to ref. */
  findPredefined(ref: string): PredefinedNetwork | undefined {
    if (ref === '' || this.tryFind(ref) !== undefined) return undefined;
    const exact = this.#predefined.find((n) => n.Name === ref || n.Id === ref);
    if (exact) return exact;
    const byPrefix = this.#predefined.filter((n) => n.Id.startsWith(ref));
    return byPrefix.length === 1 ? byPrefix[0] : undefined;
  }

  list(): NetworkRecord[] {
    return [...this.#nets.values()].sort((a, b) => byteOrder(a.Name, b.Name));
  }

  tryFind(ref: string): NetworkRecord | undefined {
    const byId = this.#nets.get(ref);
    if (byId) return byId;
    for (const n of this.#nets.values()) if (n.Name === ref) return n;
    const byPrefix = [...this.#nets.values()].filter((n) => n.Id.startsWith(ref));
    return byPrefix.length === 1 ? byPrefix[0] : undefined;
  }

  find(ref: string): NetworkRecord {
    const n = this.tryFind(ref);
    if (!n) throw notFound(`network ${ref} not found`);
    return n;
  }

  async create(body: Record<string, unknown>): Promise<{ Id: string; Warning: string }> {
    const name = body.Name;
    if (typeof name !== 'string' || !NAME_RE.test(name)) throw invalidParameter(`invalid network name: ${String(name)}`);
    if (PREDEFINED.has(name)) throw Object.assign(conflict(`${name} is a pre-defined network and cannot be created`), {});
    if ([...this.#nets.values()].some((n) => n.Name === name)) throw conflict(`network with name ${name} already exists`);
    const driver = body.Driver ?? 'bridge';
    if (driver === 'host' || driver === 'null') throw new BerthError('Forbidden', `only one instance of "${driver}" network is allowed`);
    if (driver !== 'bridge' && driver !== '') throw invalidParameter(`network driver ${String(driver)} is not supported; berth supports bridge`);
    const options = (body.Options && typeof body.Options === 'object' ? body.Options : {}) as Record<string, string>;
    const labels = (body.Labels && typeof body.Labels === 'object' ? body.Labels : {}) as Record<string, string>;
    const ipam = (body.IPAM && typeof body.IPAM === 'object' ? body.IPAM : {}) as { Config?: Array<{ Subnet?: string; Gateway?: string; IPRange?: string }> };
    if (body.EnableIPv6 !== undefined && body.EnableIPv6 !== null && typeof body.EnableIPv6 !== 'boolean') throw invalidParameter(`invalid JSON: field EnableIPv6 must be a boolean, not ${typeof body.EnableIPv6}`);
    const configs = Array.isArray(ipam.Config) ? ipam.Config : [];
    const isV6 = (c: { Subnet?: string; Gateway?: string; IPRange?: string }): boolean => (c.Subnet ?? c.IPRange ?? c.Gateway ?? '').includes(':');
    const v4Configs = configs.filter((c) => !isV6(c));
    const v6Configs = configs.filter(isV6);
    if (v4Configs.length > 1 || v6Configs.length > 1) throw invalidParameter('berth networks have one IPv4 subnet and at most one IPv6 subnet');
    const cfg = v4Configs[0] ?? {};
    const taken = [...this.#nets.values()].map((n) => parseCidr(n.IPAM.Config[0]!.Subnet));
    let subnet: Cidr;
    if (cfg.Subnet) {
      subnet = parseCidr(cfg.Subnet);
      if (taken.some((t) => overlaps(t, subnet))) throw conflict(`invalid pool request: Pool overlaps with other one on this address space`);
    } else {
      const avoid = [...taken, ...(await hostRoutes())];
      let found: Cidr | undefined;
      for (let i = 0; i < 256 && !found; i++) {
        const c = { base: ipToInt(`10.89.${i}.0`), prefix: 24, size: 256 };
        if (!avoid.some((t) => overlaps(t, c))) found = c;
      }
      if (!found) throw conflict('could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network');
      subnet = found;
    }
    const gateway = cfg.Gateway ?? intToIp(subnet.base + 1);
    const gw = ipToInt(gateway);
    if (gw <= subnet.base || gw >= subnet.base + subnet.size - 1) throw invalidParameter(`gateway ${gateway} is not in subnet ${intToIp(subnet.base)}/${subnet.prefix}`);
    if (cfg.IPRange) {
      const r = parseCidr(cfg.IPRange);
      if (r.base < subnet.base || r.base + r.size > subnet.base + subnet.size) throw invalidParameter(`ip-range ${cfg.IPRange} is not in the subnet`);
    }
    let v6 = v6Configs[0] ? this.#checkIpv6Config(v6Configs[0]) : undefined;
    // As Docker 27: IPv6 without a subnet takes a free /64 of the daemon's unique local /48.
    if (body.EnableIPv6 === true && !v6) {
      v6 = await this.#poolSubnet6([...this.#nets.values()]);
      if (!v6) throw new BerthError('Forbidden', 'could not find an available, non-overlapping IPv6 address pool among the defaults to assign to the network');
    }
    return this.#add({ name, subnet, gateway, ipRange: cfg.IPRange, ...(v6 ? { v6 } : {}), enableIpv6: body.EnableIPv6 === true, internal: body.Internal === true, attachable: body.Attachable === true, options, labels });
  }

  /**
   * A free /64 of the daemon's unique local /48, meeting neither these networks' IPv6 subnets nor
   * a host route, with its first address as gateway; undefined when none is left (or no /48).
   */
  async #poolSubnet6(nets: readonly NetworkRecord[]): Promise<IpamConfig | undefined> {
    if (!this.#ula) return undefined;
    const taken = [...nets.flatMap((n) => n.IPAM.Config.filter((x) => x.Subnet.includes(':')).map((x) => parseCidr6(x.Subnet))), ...(await hostRoutes6())];
    const free = freeSubnet64(this.#ula, taken);
    return free ? { Subnet: formatCidr6(free), Gateway: bigIntToIpv6(free.base + 1n) } : undefined;
  }

  /** An IPv6 IPAM entry checked: a subnet (required) not used by another network, its gateway and range inside it. */
  #checkIpv6Config(c: { Subnet?: string; Gateway?: string; IPRange?: string }): IpamConfig {
    if (!c.Subnet) throw invalidParameter('an IPv6 gateway or ip-range needs an IPv6 subnet');
    const sub = parseCidr6(c.Subnet);
    for (const n of this.#nets.values()) {
      const other = n.IPAM.Config.find((x) => x.Subnet.includes(':'));
      if (other && overlaps6(parseCidr6(other.Subnet), sub)) throw conflict('invalid pool request: Pool overlaps with other one on this address space');
    }
    const out: IpamConfig = { Subnet: formatCidr6(sub), Gateway: '' };
    if (c.Gateway) {
      const gw = ipv6ToBigInt(c.Gateway);
      if (!contains6(sub, gw) || gw === sub.base) throw invalidParameter(`gateway ${c.Gateway} is not in subnet ${out.Subnet}`);
      out.Gateway = canonicalIpv6(c.Gateway);
    }
    if (c.IPRange) {
      const r = parseCidr6(c.IPRange);
      if (r.base < sub.base || r.base + cidr6Size(r) > sub.base + cidr6Size(sub)) throw invalidParameter(`ip-range ${c.IPRange} is not in the subnet`);
      out.IPRange = formatCidr6(r);
    }
    return out;
  }

  async #add(o: { name: string; subnet: Cidr; gateway: string; ipRange?: string | undefined; v6?: IpamConfig; enableIpv6?: boolean; internal: boolean; attachable: boolean; options: Record<string, string>; labels: Record<string, string>; bridge?: string }): Promise<{ Id: string; Warning: string }> {
    const { name, subnet, gateway, options, labels } = o;
    const cfg = { IPRange: o.ipRange };
    const id = newId();
    const bridge = o.bridge ?? options[BRIDGE_OPT] ?? `br-${id.slice(0, 12)}`;
    if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(bridge)) throw invalidParameter(`invalid bridge name ${bridge}: at most 15 characters`);
    const rec: NetworkRecord = {
      Name: name,
      Id: id,
      Created: new Date().toISOString(),
      Scope: 'local',
      Driver: 'bridge',
      EnableIPv6: o.enableIpv6 === true,
      IPAM: { Driver: 'default', Options: {}, Config: [{ Subnet: `${intToIp(subnet.base)}/${subnet.prefix}`, Gateway: gateway, ...(cfg.IPRange ? { IPRange: cfg.IPRange } : {}) }, ...(o.v6 ? [o.v6] : [])] },
      Internal: o.internal,
      Attachable: o.attachable,
      Ingress: false,
      ConfigFrom: { Network: '' },
      ConfigOnly: false,
      Options: options,
      Labels: labels,
      bridge,
    };
    await writeJsonAtomic(join(this.#dir, `${id}.json`), rec);
    this.#nets.set(id, rec);
    this.#alloc.set(id, new Set());
    this.#alloc6.set(id, new Set());
    this.#events.emit('network', 'create', id, { name, type: 'bridge' });
    return { Id: id, Warning: '' };
  }

  /**
   * The default network, "bridge", as Docker has it: no DNS by name. Created at first start from
   * `--bip` (gateway/prefix) or a free 10.88–10.99 /16; `--bip` given later replaces its subnet.
   */
  async ensureDefault(opts: { bip?: string; bridgeName: string; ipv6?: boolean; fixedCidrV6?: string }): Promise<NetworkRecord> {
    const existing = [...this.#nets.values()].find((n) => n.Name === 'bridge');
    const others = [...this.#nets.values()].filter((n) => n !== existing);
    // IPv6: the subnet given, else the one it has, else a free /64 of the daemon's own /48.
    let v6: IpamConfig | undefined;
    if (opts.ipv6) {
      const had = existing ? ipv6Config(existing) : undefined;
      if (opts.fixedCidrV6) {
        const sub = parseCidr6(opts.fixedCidrV6);
        v6 = { Subnet: formatCidr6(sub), Gateway: bigIntToIpv6(sub.base + 1n) };
      } else if (had) {
        v6 = had;
      } else {
        v6 = await this.#poolSubnet6(others);
        if (!v6) throw conflict('could not find a free IPv6 subnet for the default bridge network: set --fixed-cidr-v6');
      }
      const sub = parseCidr6(v6.Subnet);
      if (others.some((n) => n.IPAM.Config.some((x) => x.Subnet.includes(':') && overlaps6(parseCidr6(x.Subnet), sub)))) throw conflict(`--fixed-cidr-v6 ${v6.Subnet} overlaps another network`);
    }
    let subnet: Cidr | undefined;
    let gateway: string | undefined;
    if (opts.bip) {
      const m = /^([\d.]+)\/(\d{1,2})$/.exec(opts.bip);
      if (!m) throw invalidParameter(`invalid --bip ${opts.bip}: expected gateway/prefix like 10.88.0.1/16`);
      const prefix = Number(m[2]);
      const size = 2 ** (32 - prefix);
      const gw = ipToInt(m[1]!);
      subnet = parseCidr(`${intToIp(gw - (gw % size))}/${prefix}`);
      gateway = m[1]!;
    }
    if (existing) {
      const cur = existing.IPAM.Config[0]!;
      const sameV4 = !subnet || (cur.Subnet === `${intToIp(subnet.base)}/${subnet.prefix}` && cur.Gateway === gateway && existing.bridge === opts.bridgeName);
      const had = ipv6Config(existing);
      const sameV6 = existing.EnableIPv6 === (opts.ipv6 === true) && had?.Subnet === v6?.Subnet;
      if (sameV4 && sameV6) return existing;
      // A new definition (subnets) for the same bridge: the IPv4 one kept unless --bip changed it.
      if (!subnet) {
        subnet = parseCidr(cur.Subnet);
        gateway = cur.Gateway;
      }
      await unlink(join(this.#dir, `${existing.Id}.json`));
      this.#nets.delete(existing.Id);
    }
    if (!subnet) {
      const avoid = [...[...this.#nets.values()].map((n) => parseCidr(n.IPAM.Config[0]!.Subnet)), ...(await hostRoutes())];
      for (let i = 88; i < 100 && !subnet; i++) {
        const c = parseCidr(`10.${i}.0.0/16`);
        if (!avoid.some((t) => overlaps(t, c))) subnet = c;
      }
      if (!subnet) throw conflict('could not find a free subnet for the default bridge network: set --bip');
      gateway = intToIp(subnet.base + 1);
    }
    const { Id } = await this.#add({ name: 'bridge', subnet, gateway: gateway!, ...(v6 ? { v6, enableIpv6: true } : {}), internal: false, attachable: false, options: {}, labels: {}, bridge: opts.bridgeName });
    return this.#nets.get(Id)!;
  }

  async remove(ref: string, inUseBy: (id: string) => string[]): Promise<void> {
    const pre = this.findPredefined(ref);
    if (pre) throw new BerthError('Forbidden', `${pre.Name} is a pre-defined network and cannot be removed`);
    const n = this.find(ref);
    if (n.Name === 'bridge') throw new BerthError('Forbidden', 'bridge is a pre-defined network and cannot be removed');
    const users = inUseBy(n.Id);
    if (users.length > 0) throw conflict(`error while removing network: network ${n.Name} id ${n.Id} has active endpoints`);
    await unlink(join(this.#dir, `${n.Id}.json`));
    this.#nets.delete(n.Id);
    this.#alloc.delete(n.Id);
    this.#alloc6.delete(n.Id);
    this.#events.emit('network', 'destroy', n.Id, { name: n.Name, type: 'bridge' });
  }

  /** Marks an endpoint's addresses used (at load, from container records). */
  reserve(networkId: string, ip: string, ip6?: string): void {
    if (ip) this.#alloc.get(networkId)?.add(ipToInt(ip));
    if (ip6) this.#alloc6.get(networkId)?.add(ipv6ToBigInt(ip6));
  }

  allocate(networkId: string, requested?: string): string {
    const n = this.#nets.get(networkId);
    if (!n) throw notFound(`network ${networkId} not found`);
    const used = this.#alloc.get(networkId)!;
    const cfg = n.IPAM.Config[0]!;
    const sub = parseCidr(cfg.Subnet);
    const gw = ipToInt(cfg.Gateway);
    const range = cfg.IPRange ? parseCidr(cfg.IPRange) : sub;
    if (requested) {
      const ip = ipToInt(requested);
      if (ip <= sub.base || ip >= sub.base + sub.size - 1) throw invalidParameter(`no configured subnet or ip-range contain the IP address ${requested}`);
      // The gateway is taken, as any address in use.
      if (used.has(ip) || ip === gw) throw conflict(`Address already in use: ${requested}`);
      used.add(ip);
      return requested;
    }
    for (let ip = Math.max(range.base, sub.base + 1); ip < Math.min(range.base + range.size, sub.base + sub.size - 1); ip++) {
      if (ip === gw || used.has(ip)) continue;
      used.add(ip);
      return intToIp(ip);
    }
    throw conflict(`no available IPv4 addresses on network ${n.Name}`);
  }

  /**
   * An IPv6 address on a network with IPv6 (`requested`, or the next free one); undefined for a
   * network without. A request on a network without IPv6 is refused.
   */
  allocate6(networkId: string, requested?: string): string | undefined {
    const n = this.#nets.get(networkId);
    if (!n) throw notFound(`network ${networkId} not found`);
    const cfg = ipv6Config(n);
    if (!cfg) {
      if (requested) throw invalidParameter(`invalid IPv6 address ${requested}: network ${n.Name} has no IPv6 subnet (create it with --ipv6 --subnet)`);
      return undefined;
    }
    const used = this.#alloc6.get(networkId)!;
    const sub = parseCidr6(cfg.Subnet);
    const gw = ipv6ToBigInt(ipv6Gateway(n)!);
    const last = sub.base + cidr6Size(sub) - 1n;
    if (requested) {
      const ip = ipv6ToBigInt(requested);
      if (!contains6(sub, ip) || ip === sub.base) throw invalidParameter(`no configured subnet or ip-range contain the IP address ${requested}`);
      if (used.has(ip) || ip === gw) throw conflict(`Address already in use: ${requested}`);
      used.add(ip);
      return bigIntToIpv6(ip);
    }
    const range: Cidr6 = cfg.IPRange ? parseCidr6(cfg.IPRange) : sub;
    const from = range.base > sub.base ? range.base : sub.base + 1n;
    const end = range.base + cidr6Size(range) - 1n < last ? range.base + cidr6Size(range) - 1n : last;
    for (let ip = from; ip <= end; ip++) {
      if (ip === gw || used.has(ip)) continue;
      used.add(ip);
      return bigIntToIpv6(ip);
    }
    throw conflict(`no available IPv6 addresses on network ${n.Name}`);
  }

  /** An endpoint's addresses: IPv4, and IPv6 on a network with it; nothing stays taken on a failure. */
  allocateEndpoint(networkId: string, want: { ip?: string | undefined; ip6?: string | undefined } = {}): { ip: string; ip6?: string } {
    const ip = this.allocate(networkId, want.ip);
    try {
      const ip6 = this.allocate6(networkId, want.ip6);
      return ip6 ? { ip, ip6 } : { ip };
    } catch (err) {
      this.release(networkId, ip);
      throw err;
    }
  }

  release(networkId: string, ip: string, ip6?: string): void {
    if (ip) this.#alloc.get(networkId)?.delete(ipToInt(ip));
    if (ip6) this.#alloc6.get(networkId)?.delete(ipv6ToBigInt(ip6));
  }

  netavarkInfo(n: NetworkRecord): BackendNetwork {
    const cfg = n.IPAM.Config[0]!;
    return {
      // netavark derives iptables chain names from the network name: a name unique to this
      // network keeps two daemons' (or Podman's) same-named networks from sharing chains.
      name: `berth-${n.Id.slice(0, 12)}`,
      id: n.Id,
      driver: 'bridge',
      network_interface: n.bridge,
      subnets: [{ subnet: cfg.Subnet, gateway: cfg.Gateway }, ...(ipv6Config(n) ? [{ subnet: ipv6Config(n)!.Subnet, gateway: ipv6Gateway(n)! }] : [])],
      ipv6_enabled: n.EnableIPv6,
      internal: n.Internal,
      // Docker's default bridge resolves no container names.
      dns_enabled: n.Name !== 'bridge',
      ipam_options: { driver: 'host-local' },
      ...(n.Options['com.docker.network.driver.mtu'] ? { options: { mtu: n.Options['com.docker.network.driver.mtu'] } } : {}),
    };
  }
}
