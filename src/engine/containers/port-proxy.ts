// Published ports on IPv6 host addresses, where netavark's forwarding cannot serve them — what
// Docker's userland proxy does. netavark forwards a host port only to a container address of the
// same family, so for a container on an IPv4 network `-p 8080:80` (all addresses) and
// `-p [::1]:8080:80` are accepted by berthd on the IPv6 address and relayed to the container's
// IPv4 address. On an IPv6 network netavark forwards both families, but a packet from [::1] cannot
// leave the host: [::1] is exempted from its forwarding and relayed to the container's IPv6
// address. TCP connections are piped both ways (a half-close is passed on); UDP datagrams are
// relayed per client, which gets the replies, and a client's relay socket goes after 90 s without
// traffic.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { createSocket, type Socket as UdpSocket, type RemoteInfo } from 'node:dgram';

export interface ProxiedPort {
  /** An IPv6 address of the host, `::` for all of them. */
  hostIp: string;
  hostPort: number;
  protocol: 'tcp' | 'udp';
  containerIp: string;
  containerPort: number;
}

interface Running {
  close(): void;
}

const UDP_IDLE_MS = 90_000;

export class PortProxies {
  readonly #byContainer = new Map<string, Running[]>();

  /** Starts a container's proxies; on a failure none of them stays open. */
  async start(id: string, ports: readonly ProxiedPort[]): Promise<void> {
    this.stop(id);
    if (ports.length === 0) return;
    const running: Running[] = [];
    try {
      for (const p of ports) running.push(p.protocol === 'udp' ? await udpProxy(p) : await tcpProxy(p));
    } catch (err) {
      for (const r of running) r.close();
      throw err;
    }
    this.#byContainer.set(id, running);
  }

  /** Closes a container's proxies and their connections. */
  stop(id: string): void {
    for (const r of this.#byContainer.get(id) ?? []) r.close();
    this.#byContainer.delete(id);
  }

  has(id: string): boolean {
    return this.#byContainer.has(id);
  }

  stopAll(): void {
    for (const id of [...this.#byContainer.keys()]) this.stop(id);
  }
}

function bindError(p: ProxiedPort, err: NodeJS.ErrnoException): Error {
  const addr = `[${p.hostIp}]:${p.hostPort}`;
  if (err.code === 'EADDRINUSE') return new Error(`Bind for ${addr} failed: port is already allocated`);
  return new Error(`cannot publish ${addr}/${p.protocol}: ${err.message}`);
}

function tcpProxy(p: ProxiedPort): Promise<Running> {
  const conns = new Set<Socket>();
  const server: Server = createServer({ allowHalfOpen: true }, (client) => {
    const upstream = connect({ host: p.containerIp, port: p.containerPort, allowHalfOpen: true });
    conns.add(client);
    conns.add(upstream);
    const done = (): void => {
      client.destroy();
      upstream.destroy();
      conns.delete(client);
      conns.delete(upstream);
    };
    client.on('error', done).on('close', done);
    upstream.on('error', done).on('close', done);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(bindError(p, err)));
    server.listen({ host: p.hostIp, port: p.hostPort, ipv6Only: true, exclusive: true }, () => {
      server.removeAllListeners('error');
      server.on('error', () => undefined);
      resolve({
        close: () => {
          server.close();
          for (const c of conns) c.destroy();
          conns.clear();
        },
      });
    });
  });
}

function udpProxy(p: ProxiedPort): Promise<Running> {
  const sock = createSocket({ type: 'udp6', ipv6Only: true });
  const flows = new Map<string, { up: UdpSocket; timer: NodeJS.Timeout }>();
  const endFlow = (key: string): void => {
    const f = flows.get(key);
    if (!f) return;
    clearTimeout(f.timer);
    f.up.close();
    flows.delete(key);
  };
  sock.on('message', (msg: Buffer, from: RemoteInfo) => {
    const key = `${from.address}|${from.port}`;
    let flow = flows.get(key);
    if (!flow) {
      const up = createSocket(p.containerIp.includes(':') ? 'udp6' : 'udp4');
      up.on('message', (reply: Buffer) => {
        sock.send(reply, from.port, from.address);
        const f = flows.get(key);
        f?.timer.refresh();
      });
      up.on('error', () => endFlow(key));
      flow = { up, timer: setTimeout(() => endFlow(key), UDP_IDLE_MS) };
      flow.timer.unref();
      flows.set(key, flow);
    }
    flow.timer.refresh();
    flow.up.send(msg, p.containerPort, p.containerIp);
  });
  return new Promise((resolve, reject) => {
    sock.once('error', (err: NodeJS.ErrnoException) => {
      sock.close();
      reject(bindError(p, err));
    });
    sock.bind({ address: p.hostIp, port: p.hostPort, exclusive: true }, () => {
      sock.removeAllListeners('error');
      sock.on('error', () => undefined);
      resolve({
        close: () => {
          for (const key of [...flows.keys()]) endFlow(key);
          sock.close();
        },
      });
    });
  });
}
