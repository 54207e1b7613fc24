// Container networking: a container's namespace on bridge networks through netavark, published
// ports, extra networks from `network connect`, and teardowns that survive a daemon crash.
import { readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { createHash } from 'node:crypto';
import { BerthError, invalidParameter, notFound, messageOf } from '../../core/errors.ts';
import { shortId } from '../../core/ids.ts';
import { ensureDir, writeJsonAtomic, readJson } from '../../adapters/fs/index.ts';
import type { NetworkBackend, NetworkSetupRequest, BackendPortMapping } from '../../core/ports.ts';
import { Mutex, sleep } from '../../lib/mutex.ts';
import { ipv6Config, ipv6Gateway, type NetworkService, type NetworkRecord } from '../networks/index.ts';
import { liveNet, type ContainerRecord, type NetState, type Logger } from './record.ts';
import { isActive } from './state.ts';
import { PortProxies, type ProxiedPort } from './port-proxy.ts';

export interface NetworkingOptions {
  networks?: NetworkService;
  /** Namespaces, bridges, NAT and DNS (netavark); without it containers get no bridge networking. */
  netavark?: NetworkBackend;
  log: Logger;
  execRoot: string;
  save(rec: ContainerRecord): Promise<void>;
  records(): Iterable<ContainerRecord>;
  onEvent?(action: 'connect' | 'disconnect', networkId: string, attrs: Record<string, string>): void;
}

export class ContainerNetworking {
  readonly #o: NetworkingOptions;
  /** Network setups and teardowns, one at a time and in order. */
  readonly #netQueue = new Mutex();
  readonly #netJobs = new Set<Promise<void>>();
  readonly #portLock = new Mutex();
  /** `ip netns add` runs one at a time (the first one mounts /run/netns), apart from netavark's queue. */
  readonly #nsLock = new Mutex();
  /** Teardowns not yet done, by container: a new start of the same container waits for its own. */
  readonly #pendingTeardown = new Map<string, Promise<void>>();
  #anchor: { state: NetState; journal: string } | undefined;
  /** Published ports on IPv6 host addresses, relayed by berthd (port-proxy.ts). */
  readonly #proxies = new PortProxies();
  /** Set once binding an IPv6 address failed for want of IPv6 on the host: `-p PORT` is then IPv4 only. */
  #noIpv6 = false;

  constructor(opts: NetworkingOptions) {
    this.#o = opts;
  }

  /** The bridge network a container joins: its named network, or "bridge" for the default. */
  userNetwork(mode: string): NetworkRecord | undefined {
    if (mode === 'none' || mode === 'host' || mode.startsWith('container:')) return undefined;
    return this.#o.networks?.tryFind(mode === 'default' ? 'bridge' : mode);
  }

  /** Joins a user-defined network: netns, address, veth on the bridge, DNS, published ports. */
  async setup(rec: ContainerRecord): Promise<{ netns: string; wired: Promise<void> } | undefined> {
    const net = this.userNetwork(rec.HostConfig.NetworkMode);
    const { networks, netavark } = this.#o;
    if (!net || !networks || !netavark) return undefined;
    const id = rec.Id;
    const name = `berth-${shortId(id)}`;
    if (rec.berth.primaryDetached) {
      // Left its create-time network: a namespace of its own (loopback, and the networks it joined).
      rec.berth.net = { ...detachedState(net), netns: name };
      await this.#o.save(rec);
      const netns = await this.#newNetns(rec.Id, name);
      return { netns, wired: Promise.resolve() };
    }
    const { ip, ip6 } = networks.allocateEndpoint(net.Id, { ip: rec.berth.endpoint?.ip, ip6: rec.berth.endpoint?.ip6 });
    try {
      // Host ports are chosen and recorded under one lock, so two starts cannot take the same one.
      const { request } = await this.#portLock.run(async () => {
        const p = await this.#primary(rec, net, ip, name, ip6);
        // Recorded before anything is made, so a daemon killed half-way tears it down at restart.
        rec.berth.net = p.state;
        return p;
      });
      await this.#o.save(rec);
      const netns = await this.#newNetns(rec.Id, name);
      const wired = this.#netQueue.run(async () => {
        if (net.Name === 'bridge') await this.#ensureAnchor(net);
        const result = await netavark.setup(netns, request);
        if (rec.berth.net) rec.berth.net.mac = Object.values(result)[0]?.interfaces.eth0?.mac_address ?? '';
      });
      wired.catch(() => {});
      return { netns, wired };
    } catch (err) {
      // Rolled back before the error is answered: nothing of a failed start stays wired.
      if (rec.berth.net) await this.teardown(rec, { wait: true });
      else networks.release(net.Id, ip, ip6);
      throw err;
    }
  }

  /**
   * The container's namespace. Not in netavark's queue: a start does not wait for other
   * containers' setups and teardowns, only for a teardown of its own earlier run (same name).
   */
  async #newNetns(id: string, name: string): Promise<string> {
    await this.#pendingTeardown.get(id)?.catch(() => {});
    return this.#nsLock.run(() => this.#o.netavark!.createNetns(name));
  }

  /** The create-time network's netavark request (eth0, aliases, published ports) and its state. */
  async #primary(rec: ContainerRecord, net: NetworkRecord, ip: string, netns: string, ip6?: string): Promise<{ request: NetworkSetupRequest; state: NetState }> {
    const id = rec.Id;
    const info = this.#o.networks!.netavarkInfo(net);
    const { mappings, ports } = await this.#portMappings(rec, net.EnableIPv6);
    const request: NetworkSetupRequest = {
      container_id: id,
      container_name: rec.Name.slice(1),
      networks: { [info.name]: { interface_name: 'eth0', static_ips: ip6 ? [ip, ip6] : [ip], ...(rec.berth.endpoint?.mac ? { static_mac: rec.berth.endpoint.mac } : {}), aliases: net.Name === 'bridge' ? [] : [rec.Name.slice(1), shortId(id), ...(rec.Config.Hostname && rec.Config.Hostname !== shortId(id) ? [rec.Config.Hostname] : []), ...(rec.berth.endpoint?.aliases ?? [])] } },
      network_info: { [info.name]: info },
      port_mappings: mappings.length > 0 ? mappings : null,
    };
    const cfg = net.IPAM.Config[0]!;
    return { request, state: { netns, networkId: net.Id, networkName: net.Name, ip, prefix: Number(cfg.Subnet.split('/')[1]), gateway: cfg.Gateway, ...v6State(net, ip6), mac: '', request, ports } };
  }

  /**
   * A host port for a mapping: free on the host (nothing bound to it) and not published by
   * another container — netavark's forwarding rules hold no socket, so berth keeps that account.
   */
  async #claim(id: string, hostIp: string, port: number, protocol: string, alsoIpv6 = false): Promise<{ port: number; ipv6: boolean }> {
    const taken = new Set<string>();
    const ipsOf = new Map<string, string[]>();
    for (const r of this.#o.records()) {
      if (r.Id === id) continue;
      for (const [key, binds] of Object.entries(liveNet(r)?.ports ?? {})) {
        if (!key.endsWith(`/${protocol}`)) continue;
        for (const b of binds) {
          taken.add(b.HostPort);
          ipsOf.set(b.HostPort, [...(ipsOf.get(b.HostPort) ?? []), b.HostIp]);
        }
      }
    }
    const clash = (p: number): boolean => {
      const any = (ip: string): boolean => ip === '' || ip === '0.0.0.0' || ip === '::';
      return (ipsOf.get(String(p)) ?? []).some((ip) => any(ip) || any(hostIp) || ip === hostIp);
    };
    // With all addresses asked for, the same port on IPv6 too (as Docker's `0.0.0.0:P` and `[::]:P`).
    const withIpv6 = async (p: number, strict: boolean): Promise<{ port: number; ipv6: boolean } | undefined> => {
      if (!alsoIpv6 || this.#noIpv6) return { port: p, ipv6: false };
      try {
        await claimPort('::', p, protocol);
        return { port: p, ipv6: true };
      } catch (err) {
        if (noIpv6(err)) {
          this.#noIpv6 = true;
          return { port: p, ipv6: false };
        }
        if (strict) throw err;
        return undefined;
      }
    };
    if (port !== 0) {
      if (taken.has(String(port)) && clash(port)) throw new BerthError('Internal', `Bind for ${displayIp(hostIp)}:${port} failed: port is already allocated`);
      return (await withIpv6(await claimPort(hostIp, port, protocol), true))!;
    }
    for (let i = 0; i < 20; i++) {
      const p = await claimPort(hostIp, 0, protocol);
      if (clash(p)) continue;
      const got = await withIpv6(p, false);
      if (got) return got;
    }
    throw new BerthError('Internal', 'no free host port found for a published port');
  }

  /** Docker's PortBindings as netavark mappings; a free host port is picked where none is given. */
  async #portMappings(rec: ContainerRecord, ipv6Network = false): Promise<{ mappings: BackendPortMapping[]; ports: NetState['ports'] }> {
    const mappings: BackendPortMapping[] = [];
    const ports: NetState['ports'] = {};
    const bindings: Record<string, Array<{ HostIp?: string; HostPort?: string }> | null> = { ...(rec.HostConfig.PortBindings ?? {}) };
    if (rec.HostConfig.PublishAllPorts) {
      // -P: every exposed port not bound explicitly gets a free host port.
      for (const key of Object.keys(rec.Config.ExposedPorts ?? {})) {
        const norm = key.includes('/') ? key : `${key}/tcp`;
        if (!(norm in bindings) && !(key in bindings)) bindings[norm] = [{ HostIp: '', HostPort: '' }];
      }
    }
    for (const [key, binds] of Object.entries(bindings)) {
      const m = /^(\d+)(?:\/(tcp|udp|sctp))?$/.exec(key);
      if (!m) throw invalidParameter(`invalid port specification: "${key}"`);
      const containerPort = Number(m[1]);
      const protocol = (m[2] ?? 'tcp') as BackendPortMapping['protocol'];
      ports[`${containerPort}/${protocol}`] = [];
      for (const b of binds ?? [{}]) {
        const hostIp = b.HostIp ?? '';
        const wanted = Number(b.HostPort || 0);
        if (!Number.isInteger(wanted) || wanted < 0 || wanted > 65535) throw invalidParameter(`invalid host port: ${b.HostPort}`);
        const list = ports[`${containerPort}/${protocol}`]!;
        if (hostIp.includes(':') && !ipv6Network) {
          // An IPv6 host address for an IPv4 network: berthd's relay, not netavark (which forwards
          // only to a container address of the same family).
          if (protocol === 'sctp') throw invalidParameter(`cannot publish SCTP on the IPv6 address ${hostIp}`);
          const { port } = await this.#claim(rec.Id, hostIp, wanted, protocol);
          list.push({ HostIp: hostIp, HostPort: String(port) });
          continue;
        }
        const { port, ipv6 } = await this.#claim(rec.Id, hostIp, wanted, protocol, hostIp === '' && protocol !== 'sctp');
        mappings.push({ host_ip: hostIp, container_port: containerPort, host_port: port, range: 1, protocol });
        list.push({ HostIp: hostIp || '0.0.0.0', HostPort: String(port) });
        if (ipv6) list.push({ HostIp: '::', HostPort: String(port) });
      }
    }
    return { mappings, ports };
  }

  /** Containers whose start announced its networks (`connect` events): their exit says `disconnect`. */
  readonly #announced = new Set<string>();

  /** Docker's network events of a start: `connect` for each network the container is on now. */
  announceStart(rec: ContainerRecord): void {
    const joined = this.#joined(rec);
    if (joined.length === 0) return;
    for (const n of joined) this.#o.onEvent?.('connect', n.id, { container: rec.Id, name: n.name, type: 'bridge' });
    this.#announced.add(rec.Id);
  }

  #joined(rec: ContainerRecord): Array<{ id: string; name: string }> {
    const out: Array<{ id: string; name: string }> = [];
    const primary = rec.berth.net;
    if (primary && !primary.detached) out.push({ id: primary.networkId, name: primary.networkName });
    for (const x of rec.berth.extraNets ?? []) out.push({ id: x.networkId, name: x.networkName });
    return out;
  }

  /**
   * The `disconnect` events a stop owes (one per network the start announced), to be sent when
   * the caller says: an exit sends them after its `die`, as Docker orders them. Taken once.
   */
  takeDisconnects(rec: ContainerRecord): () => void {
    if (!this.#announced.delete(rec.Id)) return () => undefined;
    const joined = this.#joined(rec);
    return () => {
      for (const n of joined) this.#o.onEvent?.('disconnect', n.id, { container: rec.Id, name: n.name, type: 'bridge' });
    };
  }

  /**
   * Tears a container's network down. netavark's teardown (up to ~250 ms when it removes a
   * bridge) runs in the network queue after the caller goes on, unless `wait`; a journal entry in
   * the exec root finishes it after a daemon crash. The queue also orders it before any later
   * setup, which may reuse the netns name.
   */
  async teardown(rec: ContainerRecord, opts: { wait?: boolean; after?: Promise<void> } = {}): Promise<void> {
    this.#proxies.stop(rec.Id);
    if (rec.berth.net?.ip6 && Object.keys(rec.berth.net.ports).length > 0) {
      await this.#o.netavark?.unexemptLoopback6?.(rec.Id).catch((err) => this.#o.log.warn('cannot remove the [::1] exemption', { id: rec.Id, error: messageOf(err) }));
    }
    const net = rec.berth.net;
    if (!net) return;
    this.takeDisconnects(rec)();
    const extras = rec.berth.extraNets ?? [];
    const journal = join(this.#o.execRoot, 'teardown', `${rec.Id}.json`);
    await ensureDir(join(this.#o.execRoot, 'teardown'));
    await writeJsonAtomic(journal, { ...net, extras }, { volatile: true });
    delete rec.berth.net;
    delete rec.berth.extraNets;
    const after = opts.after;
    const job = (async () => {
      // Starting netavark forks the daemon (a few ms on its main thread): not while `after` is due.
      if (after) await after;
      await this.#netQueue.run(async () => {
        for (const x of extras) await this.#unwire(rec.Id, x);
        await this.#runTeardown(rec.Id, net, journal);
      });
    })();
    this.#netJobs.add(job);
    this.#pendingTeardown.set(rec.Id, job);
    void job
      .finally(() => {
        this.#netJobs.delete(job);
        if (this.#pendingTeardown.get(rec.Id) === job) this.#pendingTeardown.delete(rec.Id);
      })
      .catch(() => {});
    if (opts.wait) await job;
  }

  async #runTeardown(id: string, net: NetState, journal: string): Promise<void> {
    if (net.detached) {
      await this.#o.netavark?.deleteNetns(net.netns);
      await unlink(journal).catch(() => {});
      return;
    }
    if (this.#o.netavark) {
      await this.#o.netavark.teardown(`/run/netns/${net.netns}`, net.request).catch((err) => this.#o.log.warn('network teardown failed', { id, error: messageOf(err) }));
    }
    await this.#o.netavark?.deleteNetns(net.netns);
    this.#o.networks?.release(net.networkId, net.ip, net.ip6);
    await unlink(journal).catch(() => {});
  }

  /** netavark teardown of one extra network, leaving the namespace to the primary network's teardown. */
  async #unwire(id: string, x: NetState): Promise<void> {
    await this.#o.netavark?.teardown(`/run/netns/${x.netns}`, x.request).catch((err) => this.#o.log.warn('network teardown failed', { id, error: messageOf(err) }));
    this.#o.networks?.release(x.networkId, x.ip, x.ip6);
  }

  /** Wires one more network into a running container's namespace. */
  async wireExtra(rec: ContainerRecord, c: { networkId: string; ip?: string; ip6?: string; aliases: string[] }): Promise<void> {
    const { networks, netavark } = this.#o;
    const primary = rec.berth.net;
    if (!networks || !netavark || !primary) return;
    const net = networks.find(c.networkId);
    const info = networks.netavarkInfo(net);
    const { ip, ip6 } = networks.allocateEndpoint(net.Id, c);
    const iface = `eth${1 + (rec.berth.extraNets?.length ?? 0)}`;
    const request: NetworkSetupRequest = {
      container_id: rec.Id,
      container_name: rec.Name.slice(1),
      networks: { [info.name]: { interface_name: iface, static_ips: ip6 ? [ip, ip6] : [ip], aliases: [rec.Name.slice(1), shortId(rec.Id), ...c.aliases] } },
      network_info: { [info.name]: info },
      port_mappings: null,
    };
    const cfg = net.IPAM.Config[0]!;
    const state: NetState = { netns: primary.netns, networkId: net.Id, networkName: net.Name, ip, prefix: Number(cfg.Subnet.split('/')[1]), gateway: cfg.Gateway, ...v6State(net, ip6), mac: '', request, ports: {} };
    (rec.berth.extraNets ??= []).push(state);
    await this.#o.save(rec);
    try {
      // A container started with IPv6 turned off (it was on no IPv6 network) gets it on its new interface.
      if (ip6) await netavark.allowIpv6(`/run/netns/${primary.netns}`);
      const result = await this.#netQueue.run(() => netavark.setup(`/run/netns/${primary.netns}`, request));
      state.mac = result[info.name]?.interfaces[iface]?.mac_address ?? '';
    } catch (err) {
      rec.berth.extraNets = rec.berth.extraNets!.filter((x) => x !== state);
      networks.release(net.Id, ip, ip6);
      await this.#o.save(rec);
      throw err;
    }
  }

  /** `network connect`: joins now if running (also at every later start). */
  async connect(rec: ContainerRecord, networkRef: string, opts: { ip?: string; ip6?: string; aliases: string[] }): Promise<void> {
    const networks = this.#o.networks;
    if (!networks) throw new BerthError('NotImplemented', 'networks are not available');
    const net = networks.find(networkRef);
    const mode = rec.HostConfig.NetworkMode;
    if (mode === 'host' || mode.startsWith('container:')) throw invalidParameter('container sharing network namespace with another container or host cannot be connected to any other network');
    if (mode === 'none') throw invalidParameter('container cannot be connected to multiple networks with one of the networks in private (none) mode');
    if (this.userNetwork(mode)?.Id === net.Id && rec.berth.primaryDetached) {
      // Back on the create-time network, with the endpoint settings given now.
      const endpoint = { ...(opts.ip ? { ip: opts.ip } : {}), ...(opts.ip6 ? { ip6: opts.ip6 } : {}), ...(rec.berth.endpoint?.mac ? { mac: rec.berth.endpoint.mac } : {}), aliases: opts.aliases };
      const held = rec.berth.net;
      if (isActive(rec.State.Status) && held?.detached) await this.#rewirePrimary(rec, net, held, endpoint);
      delete rec.berth.primaryDetached;
      rec.berth.endpoint = endpoint;
      await this.#o.save(rec);
      this.#o.onEvent?.('connect', net.Id, { container: rec.Id, name: net.Name, type: 'bridge' });
      return;
    }
    if (this.userNetwork(mode)?.Id === net.Id || rec.berth.connected?.some((c) => c.networkId === net.Id)) {
      throw new BerthError('Forbidden', `endpoint with name ${rec.Name.slice(1)} already exists in network ${net.Name}`);
    }
    const entry = { networkId: net.Id, ...(opts.ip ? { ip: opts.ip } : {}), ...(opts.ip6 ? { ip6: opts.ip6 } : {}), aliases: opts.aliases };
    if (isActive(rec.State.Status)) await this.wireExtra(rec, entry);
    (rec.berth.connected ??= []).push(entry);
    await this.#o.save(rec);
    this.#o.onEvent?.('connect', net.Id, { container: rec.Id, name: net.Name, type: 'bridge' });
  }

  /** `network disconnect` of a network joined with `network connect`. */
  async disconnect(rec: ContainerRecord, networkRef: string): Promise<void> {
    const networks = this.#o.networks;
    if (!networks) throw new BerthError('NotImplemented', 'networks are not available');
    const net = networks.find(networkRef);
    if (this.userNetwork(rec.HostConfig.NetworkMode)?.Id === net.Id) {
      if (rec.berth.primaryDetached) throw notFound(`container ${rec.Id} is not connected to network ${net.Name}`);
      const wired = liveNet(rec);
      if (isActive(rec.State.Status) && wired) {
        // eth0 and its published ports go; the namespace stays for the container and its other networks.
        this.#proxies.stop(rec.Id);
        await this.#netQueue.run(async () => {
          await this.#o.netavark?.teardown(`/run/netns/${wired.netns}`, wired.request);
        });
        networks.release(wired.networkId, wired.ip, wired.ip6);
        rec.berth.net = { ...detachedState(net), netns: wired.netns };
      }
      rec.berth.primaryDetached = true;
      await this.#o.save(rec);
      this.#o.onEvent?.('disconnect', net.Id, { container: rec.Id, name: net.Name, type: 'bridge' });
      return;
    }
    if (!rec.berth.connected?.some((c) => c.networkId === net.Id)) throw notFound(`container ${rec.Id} is not connected to network ${net.Name}`);
    rec.berth.connected = rec.berth.connected.filter((c) => c.networkId !== net.Id);
    const live = rec.berth.extraNets?.find((x) => x.networkId === net.Id);
    if (live) {
      rec.berth.extraNets = rec.berth.extraNets!.filter((x) => x !== live);
      await this.#netQueue.run(() => this.#unwire(rec.Id, live));
    }
    await this.#o.save(rec);
    this.#o.onEvent?.('disconnect', net.Id, { container: rec.Id, name: net.Name, type: 'bridge' });
  }

  /** `network connect` of a running container to the network it left: eth0 again, with its ports. */
  async #rewirePrimary(rec: ContainerRecord, net: NetworkRecord, held: NetState, endpoint: NonNullable<ContainerRecord['berth']['endpoint']>): Promise<void> {
    const networks = this.#o.networks!;
    const netavark = this.#o.netavark!;
    const { ip, ip6 } = networks.allocateEndpoint(net.Id, endpoint);
    const saved = rec.berth.endpoint;
    rec.berth.endpoint = endpoint;
    try {
      const { request, state } = await this.#portLock.run(async () => {
        const p = await this.#primary(rec, net, ip, held.netns, ip6);
        rec.berth.net = p.state;
        return p;
      });
      await this.#o.save(rec);
      const result = await this.#netQueue.run(() => netavark.setup(`/run/netns/${held.netns}`, request));
      state.mac = Object.values(result)[0]?.interfaces.eth0?.mac_address ?? '';
      await this.startProxies(rec);
    } catch (err) {
      networks.release(net.Id, ip, ip6);
      rec.berth.net = held;
      if (saved) rec.berth.endpoint = saved;
      else delete rec.berth.endpoint;
      await this.#o.save(rec);
      throw err;
    }
  }

  /** Finishes teardowns a crashed daemon left in the journal. */
  async resume(): Promise<void> {
    // Exemptions for [::1] are made again by the running containers' proxies (startProxies).
    await this.#o.netavark?.resetLoopback6?.().catch((err) => this.#o.log.warn('cannot reset the [::1] exemptions', { error: messageOf(err) }));
    const dir = join(this.#o.execRoot, 'teardown');
    const files = await readdir(dir).catch(() => [] as string[]);
    for (const f of files) {
      if (!/^[0-9a-f]{64}\.json$/.test(f)) continue;
      const net = await readJson<NetState & { extras?: NetState[] }>(join(dir, f)).catch(() => undefined);
      if (!net) {
        await unlink(join(dir, f)).catch(() => {});
        continue;
      }
      this.#o.networks?.reserve(net.networkId, net.ip, net.ip6);
      for (const x of net.extras ?? []) this.#o.networks?.reserve(x.networkId, x.ip, x.ip6);
      await this.#netQueue.run(async () => {
        for (const x of net.extras ?? []) await this.#unwire(f.slice(0, 64), x);
        await this.#runTeardown(f.slice(0, 64), net, join(dir, f));
      });
    }
  }

  /**
   * Opens the container's published ports on IPv6 host addresses (after its network is wired,
   * and again for a running container when the daemon starts). A port that cannot be bound fails
   * the start, as Docker's proxy does.
   */
  async startProxies(rec: ContainerRecord): Promise<void> {
    const net = liveNet(rec);
    if (!net?.ip) return;
    const wanted: ProxiedPort[] = [];
    for (const [key, binds] of Object.entries(net.ports)) {
      const [port, protocol] = key.split('/') as [string, string];
      if (protocol !== 'tcp' && protocol !== 'udp') continue;
      for (const b of binds) {
        if (!b.HostIp.includes(':')) continue;
        if (!net.ip6) wanted.push({ hostIp: b.HostIp, hostPort: Number(b.HostPort), protocol, containerIp: net.ip, containerPort: Number(port) });
        // On a network with IPv6 netavark forwards both families itself, but not from [::1]
        // (a packet from there cannot leave the host): that one is exempted and relayed.
        else if (b.HostIp === '::' || b.HostIp === '::1') wanted.push({ hostIp: '::1', hostPort: Number(b.HostPort), protocol, containerIp: net.ip6, containerPort: Number(port) });
      }
    }
    const backend = this.#o.netavark;
    if (net.ip6 && wanted.length > 0 && backend?.exemptLoopback6) {
      await backend.exemptLoopback6(rec.Id, wanted.map((w) => ({ port: w.hostPort, protocol: w.protocol })));
    }
    await this.#proxies.start(rec.Id, wanted);
  }

  /** Closes every port proxy (the daemon is stopping; a restarted daemon opens them again). */
  closeProxies(): void {
    this.#proxies.stopAll();
  }

  /** Waits (bounded) for queued network teardowns, e.g. before the daemon exits. */
  async drain(timeoutMs = 10_000): Promise<void> {
    await Promise.race([Promise.all([...this.#netJobs]), sleep(timeoutMs)]);
  }

  /**
   * netavark creates a network's bridge with its first container and deletes it (with its
   * firewall rules, ~250 ms) with its last, so back-to-back `run --rm` on the default network
   * would pay both every time. An endpoint in a namespace of berth's own keeps the default
   * bridge up while the daemon runs; it is recorded in the teardown journal like a container's.
   */
  async #ensureAnchor(net: NetworkRecord): Promise<void> {
    if (this.#anchor || !this.#o.networks || !this.#o.netavark) return;
    const id = createHash('sha256').update(`berth-anchor:${net.Id}`).digest('hex');
    const name = `berth-a-${net.Id.slice(0, 12)}`;
    const info = this.#o.networks.netavarkInfo(net);
    const ip = this.#o.networks.allocate(net.Id);
    const cfg = net.IPAM.Config[0]!;
    const request: NetworkSetupRequest = {
      container_id: id,
      container_name: 'berth-anchor',
      networks: { [info.name]: { interface_name: 'eth0', static_ips: [ip], aliases: [] } },
      network_info: { [info.name]: info },
      port_mappings: null,
    };
    const state: NetState = { netns: name, networkId: net.Id, networkName: net.Name, ip, prefix: Number(cfg.Subnet.split('/')[1]), gateway: cfg.Gateway, mac: '', request, ports: {} };
    const journal = join(this.#o.execRoot, 'teardown', `${id}.json`);
    try {
      await ensureDir(join(this.#o.execRoot, 'teardown'));
      await writeJsonAtomic(journal, state, { volatile: true });
      await this.#o.netavark.setup(await this.#o.netavark.createNetns(name), request);
      this.#anchor = { state, journal };
    } catch (err) {
      this.#o.log.warn('default bridge anchor not set up; each container will create the bridge', { error: messageOf(err) });
      await this.#runTeardown(id, state, journal).catch(() => {});
    }
  }

  /** At daemon shutdown: queued teardowns finish, then the default bridge's anchor goes. */
  async shutdown(timeoutMs = 10_000): Promise<void> {
    this.#o.log.debug('network shutdown', { pending: this.#netJobs.size, anchor: this.#anchor?.state.netns ?? '' });
    await this.drain(timeoutMs);
    const a = this.#anchor;
    if (!a) return;
    this.#anchor = undefined;
    await this.#netQueue.run(() => this.#runTeardown('anchor', a.state, a.journal));
    this.#o.log.debug('default bridge anchor removed', { netns: a.state.netns });
  }

  /** Network IDs with running endpoints, for network removal. */
  endpointsOn(networkId: string): string[] {
    return [...this.#o.records()]
      .filter((r) => liveNet(r)?.networkId === networkId || r.berth.extraNets?.some((x) => x.networkId === networkId) || r.berth.connected?.some((c) => c.networkId === networkId) || (r.HostConfig.NetworkMode === networkId && isActive(r.State.Status)))
      .map((r) => r.Id);
  }
}

/** An endpoint's IPv6 part of its state, on a network with IPv6. */
function v6State(net: NetworkRecord, ip6: string | undefined): Pick<NetState, 'ip6' | 'prefix6' | 'gateway6'> {
  const cfg = ipv6Config(net);
  if (!ip6 || !cfg) return {};
  return { ip6, prefix6: Number(cfg.Subnet.split('/')[1]), gateway6: ipv6Gateway(net)! };
}

/** A held namespace with no endpoint on the create-time network. */
function detachedState(net: NetworkRecord): NetState {
  return { netns: '', networkId: net.Id, networkName: net.Name, ip: '', prefix: 0, gateway: '', mac: '', request: { container_id: '', container_name: '', networks: {}, network_info: {}, port_mappings: null }, ports: {}, detached: true };
}

/** A host address as Docker's messages show it: `0.0.0.0` for all, IPv6 in brackets. */
function displayIp(hostIp: string): string {
  if (hostIp === '') return '0.0.0.0';
  return hostIp.includes(':') ? `[${hostIp}]` : hostIp;
}

/** The host has no IPv6 to bind (not built in, turned off, or no such address). */
function noIpv6(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'EAFNOSUPPORT' || code === 'EADDRNOTAVAIL' || code === 'EPROTONOSUPPORT';
}

/**
 * Checks that a host port is free (or picks one) by binding it briefly, as Docker's allocator
 * does. An IPv6 address is bound IPv6-only: it is checked apart from IPv4's.
 */
function claimPort(hostIp: string, port: number, protocol: string): Promise<number> {
  const v6 = hostIp.includes(':');
  if (protocol === 'udp') {
    return new Promise((resolve, reject) => {
      const sock = createSocket(v6 ? { type: 'udp6', ipv6Only: true } : { type: 'udp4' });
      sock.once('error', (err: NodeJS.ErrnoException) => {
        sock.close();
        if (err.code === 'EADDRINUSE') reject(new BerthError('Internal', `Bind for ${displayIp(hostIp)}:${port} failed: port is already allocated`));
        else reject(err);
      });
      sock.bind({ port, address: hostIp || undefined, exclusive: true }, () => {
        const got = sock.address().port;
        sock.close(() => resolve(got));
      });
    });
  }
  if (protocol !== 'tcp') return Promise.resolve(port === 0 ? 30000 + Math.floor(Math.random() * 20000) : port);
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') reject(new BerthError('Internal', `Bind for ${displayIp(hostIp)}:${port} failed: port is already allocated`));
      else reject(err);
    });
    srv.listen({ port, host: hostIp || '0.0.0.0', exclusive: true, ...(v6 ? { ipv6Only: true } : {}) }, () => {
      const got = (srv.address() as { port: number }).port;
      srv.close(() => resolve(got));
    });
  });
}

