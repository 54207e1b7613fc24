// netavark: one-shot setup/teardown of bridges, veths, addresses, NAT and port forwarding, and
// aardvark-dns for name resolution. berth owns IPAM and hands netavark static addresses.
import { createHash } from 'node:crypto';
import { ensureDir } from '../fs/index.ts';
import { run } from '../exec/index.ts';
import { Mutex } from '../../lib/mutex.ts';
import type { NetworkBackend, NetworkSetupRequest, NetworkSetupResult } from '../../core/ports.ts';
import { createNetns, deleteNetns } from '../netns/index.ts';

export const NETAVARK = '/usr/lib/podman/netavark';
export const AARDVARK = '/usr/lib/podman/aardvark-dns';

export class Netavark implements NetworkBackend {
  readonly configDir: string;
  readonly binary: string;
  // netavark decides from its config dir whether a network's last container is going; two runs
  // at once both see the other's container and leave the network's rules behind.
  readonly #lock = new Mutex();
  readonly #loopbackLock = new Mutex();
  /** This daemon's mark on its [::1] exemptions: another berthd's (other roots) are not its own. */
  readonly #tag: string;
  constructor(opts: { configDir: string; binary?: string }) {
    this.configDir = opts.configDir;
    this.binary = opts.binary ?? NETAVARK;
    this.#tag = createHash('sha256').update(opts.configDir).digest('hex').slice(0, 8);
  }

  #argv(cmd: 'setup' | 'teardown', netns: string): string[] {
    return [this.binary, '--config', this.configDir, '--aardvark-binary', AARDVARK, cmd, netns];
  }

  /** Runs netavark; it reports failures as `{"error": …}` on stdout with a non-zero exit. */
  async #call(cmd: 'setup' | 'teardown', netns: string, req: NetworkSetupRequest): Promise<string> {
    await ensureDir(this.configDir);
    const r = await this.#lock.run(() => run(this.#argv(cmd, netns), { input: JSON.stringify(req), okCodes: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255] }));
    if (r.exitCode !== 0) {
      let msg = r.stdout.trim() || r.stderr.trim();
      try {
        msg = (JSON.parse(r.stdout) as { error?: string }).error ?? msg;
      } catch {}
      throw new Error(`netavark ${cmd}: ${msg}`);
    }
    return r.stdout;
  }

  createNetns(name: string): Promise<string> {
    return createNetns(name);
  }

  deleteNetns(name: string): Promise<void> {
    return deleteNetns(name);
  }

  async setup(netns: string, req: NetworkSetupRequest): Promise<NetworkSetupResult> {
    return JSON.parse(await this.#call('setup', netns, req)) as NetworkSetupResult;
  }

  async allowIpv6(netns: string): Promise<void> {
    // /proc/sys/net is the namespace's own for a process inside it.
    await run(['ip', 'netns', 'exec', netns.replace(/^\/run\/netns\//, ''), 'sysctl', '-qw', 'net.ipv6.conf.default.disable_ipv6=0']);
  }

  exemptLoopback6(id: string, ports: ReadonlyArray<{ port: number; protocol: 'tcp' | 'udp' }>): Promise<void> {
    return this.#loopbackLock.run(async () => {
      const { stdout } = await run(['ip6tables', '-w', '-t', 'nat', '-S']);
      const lines = stdout.split('\n');
      // Another berthd (other roots) may make the chain at the same moment: "exists" is no error.
      if (!lines.includes(`-N ${LOOPBACK6}`)) await run(['ip6tables', '-w', '-t', 'nat', '-N', LOOPBACK6], { okCodes: [1] });
      if (!lines.some((l) => l.startsWith('-A OUTPUT') && l.includes(`-j ${LOOPBACK6}`))) await run(['ip6tables', '-w', '-t', 'nat', '-I', 'OUTPUT', '1', '-d', '::1/128', '-j', LOOPBACK6]);
      for (const p of ports) {
        const rule = ['-p', p.protocol, '-m', p.protocol, '--dport', String(p.port), '-m', 'comment', '--comment', `berth ${this.#tag} ${id}`, '-j', 'ACCEPT'];
        const have = await run(['ip6tables', '-w', '-t', 'nat', '-C', LOOPBACK6, ...rule], { okCodes: [1] });
        if (have.exitCode !== 0) await run(['ip6tables', '-w', '-t', 'nat', '-A', LOOPBACK6, ...rule]);
      }
    });
  }

  unexemptLoopback6(id: string): Promise<void> {
    return this.#loopbackLock.run(() => dropLoopback6((l) => l.includes(`"berth ${this.#tag} ${id}"`)));
  }

  resetLoopback6(): Promise<void> {
    return this.#loopbackLock.run(() => dropLoopback6((l) => l.includes(`"berth ${this.#tag} `)));
  }

  async teardown(netns: string, req: NetworkSetupRequest): Promise<void> {
    await this.#call('teardown', netns, req);
    if (req.port_mappings) {
      await dropEmptyDnatChains('iptables').catch(() => {});
      if (Object.values(req.network_info).some((n) => n.ipv6_enabled)) await dropEmptyDnatChains('ip6tables').catch(() => {});
    }
  }
}

type Iptables = 'iptables' | 'ip6tables';

/** berth's ip6tables nat chain of exemptions from netavark's forwarding for [::1] (exemptLoopback6). */
export const LOOPBACK6 = 'BERTH-LOOPBACK6';

/** Deletes the exemptions `which` picks; the chain and its jump go once it is empty. */
async function dropLoopback6(which: (rule: string) => boolean): Promise<void> {
  const r = await run(['ip6tables', '-w', '-t', 'nat', '-S', LOOPBACK6], { okCodes: [1, 2, 3] });
  if (r.exitCode !== 0) return;
  const rules = r.stdout.split('\n').filter((l) => l.startsWith(`-A ${LOOPBACK6} `));
  const gone = rules.filter(which);
  for (const l of gone) await run(['ip6tables', '-w', '-t', 'nat', ...splitRule(l.replace(/^-A /, '-D '))]).catch(() => {});
  if (gone.length < rules.length) return;
  // Every jump (two daemons starting together may each have added one), then the chain.
  for (let i = 0; i < 8; i++) {
    const d = await run(['ip6tables', '-w', '-t', 'nat', '-D', 'OUTPUT', '-d', '::1/128', '-j', LOOPBACK6], { okCodes: [1, 2] }).catch(() => undefined);
    if (d?.exitCode !== 0) break;
  }
  await run(['ip6tables', '-w', '-t', 'nat', '-X', LOOPBACK6], { okCodes: [1] }).catch(() => {});
}

/** An `iptables -S` line as arguments (a quoted comment stays one). */
function splitRule(rule: string): string[] {
  return rule.match(/(?:[^\s"]+|"[^"]*")+/g)!.map((t) => t.replace(/^"|"$/g, ''));
}

/** netavark can leave an empty NETAVARK-DN-* nat chain behind when several containers publish ports. */
async function dropEmptyDnatChains(ipt: Iptables): Promise<void> {
  const { stdout } = await run([ipt, '-t', 'nat', '-S']);
  const lines = stdout.split('\n');
  const chains = lines.filter((l) => l.startsWith('-N NETAVARK-DN-')).map((l) => l.slice(3).trim());
  for (const c of chains) {
    const used = lines.some((l) => (l.startsWith(`-A ${c} `) || l.includes(`-j ${c}`)) && !l.startsWith(`-N`));
    if (!used) await run([ipt, '-t', 'nat', '-X', c]).catch(() => {});
  }
}

/**
 * netavark creates shared base chains on first use and never removes them (as with Podman, they
 * stay while the host runs containers). This removes them once no netavark network of anyone has
 * chains left; the test suite calls it at the end. Concurrent netavark users must be idle.
 */
export async function dropIdleNetavarkBase(): Promise<void> {
  await dropIdleBase('iptables');
  // IPv6 networks leave the same base chains in ip6tables (and may leave an empty DN chain).
  await dropEmptyDnatChains('ip6tables').catch(() => {});
  await dropIdleBase('ip6tables').catch(() => {});
}

async function dropIdleBase(ipt: Iptables): Promise<void> {
  const filter = (await run([ipt, '-t', 'filter', '-S'])).stdout.split('\n');
  const nat = (await run([ipt, '-t', 'nat', '-S'])).stdout.split('\n');
  const rulesIn = (lines: string[], chain: string): string[] => lines.filter((l) => l.startsWith(`-A ${chain} `));
  if (rulesIn(filter, 'NETAVARK_FORWARD').length > 0 || rulesIn(nat, 'NETAVARK-HOSTPORT-DNAT').length > 0) return;
  if (nat.some((l) => /^-N NETAVARK-(DN|[0-9A-F])/.test(l)) || filter.some((l) => /^-N NETAVARK-[0-9A-F]/.test(l))) return;
  const del = (table: string, rule: string): Promise<unknown> => run([ipt, '-t', table, ...splitRule(rule.replace(/^-A /, '-D '))]).catch(() => {});
  for (const l of filter.filter((x) => x.startsWith('-A ') && x.includes('-j NETAVARK_'))) await del('filter', l);
  for (const l of nat.filter((x) => x.startsWith('-A ') && x.includes('-j NETAVARK-HOSTPORT-') && !x.startsWith('-A NETAVARK-'))) await del('nat', l);
  for (const c of ['NETAVARK_FORWARD', 'NETAVARK_INPUT']) {
    if (filter.some((l) => l === `-N ${c}`)) {
      await run([ipt, '-t', 'filter', '-F', c]).catch(() => {});
      await run([ipt, '-t', 'filter', '-X', c]).catch(() => {});
    }
  }
  for (const c of ['NETAVARK-HOSTPORT-DNAT', 'NETAVARK-HOSTPORT-MASQ', 'NETAVARK-HOSTPORT-SETMARK']) {
    if (nat.some((l) => l === `-N ${c}`)) {
      await run([ipt, '-t', 'nat', '-F', c]).catch(() => {});
      await run([ipt, '-t', 'nat', '-X', c]).catch(() => {});
    }
  }
}
