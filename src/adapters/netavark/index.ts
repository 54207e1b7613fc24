// netavark: one-shot setup/teardown of bridges, veths, addresses, NAT and port forwarding, and
// aardvark-dns for name resolution. berth owns IPAM and hands netavark static addresses.
import { ensureDir } from '../fs/index.ts';
import { run } from '../exec/index.ts';

export const NETAVARK = '/usr/lib/podman/netavark';
export const AARDVARK = '/usr/lib/podman/aardvark-dns';

export interface NetavarkNetwork {
  name: string;
  id: string;
  driver: 'bridge';
  network_interface: string;
  subnets: Array<{ subnet: string; gateway: string }>;
  ipv6_enabled: false;
  internal: boolean;
  dns_enabled: boolean;
  ipam_options: { driver: 'host-local' };
  options?: Record<string, string>;
}

export interface PortMapping {
  host_ip: string;
  container_port: number;
  host_port: number;
  range: number;
  protocol: 'tcp' | 'udp' | 'sctp';
}

export interface NetavarkRequest {
  container_id: string;
  container_name: string;
  networks: Record<string, { interface_name: string; static_ips: string[]; aliases: string[]; static_mac?: string }>;
  network_info: Record<string, NetavarkNetwork>;
  port_mappings: PortMapping[] | null;
  dns_servers?: string[];
}

export interface NetavarkResult {
  [network: string]: {
    dns_search_domains?: string[];
    dns_server_ips?: string[];
    interfaces: Record<string, { mac_address: string; subnets: Array<{ ipnet: string; gateway: string }> }>;
  };
}

export class Netavark {
  readonly configDir: string;
  readonly binary: string;
  constructor(opts: { configDir: string; binary?: string }) {
    this.configDir = opts.configDir;
    this.binary = opts.binary ?? NETAVARK;
  }

  #argv(cmd: 'setup' | 'teardown', netns: string): string[] {
    return [this.binary, '--config', this.configDir, '--aardvark-binary', AARDVARK, cmd, netns];
  }

  /** Runs netavark; it reports failures as `{"error": …}` on stdout with a non-zero exit. */
  async #call(cmd: 'setup' | 'teardown', netns: string, req: NetavarkRequest): Promise<string> {
    await ensureDir(this.configDir);
    const r = await run(this.#argv(cmd, netns), { input: JSON.stringify(req), okCodes: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255] });
    if (r.exitCode !== 0) {
      let msg = r.stdout.trim() || r.stderr.trim();
      try {
        msg = (JSON.parse(r.stdout) as { error?: string }).error ?? msg;
      } catch {}
      throw new Error(`netavark ${cmd}: ${msg}`);
    }
    return r.stdout;
  }

  async setup(netns: string, req: NetavarkRequest): Promise<NetavarkResult> {
    return JSON.parse(await this.#call('setup', netns, req)) as NetavarkResult;
  }

  async teardown(netns: string, req: NetavarkRequest): Promise<void> {
    await this.#call('teardown', netns, req);
  }
}
