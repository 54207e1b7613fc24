// Named network namespaces through iproute2 (/run/netns/<name>).
import { access, readFile } from 'node:fs/promises';
import { run, ExecError } from '../exec/index.ts';

export function netnsPath(name: string): string {
  return `/run/netns/${name}`;
}

export async function createNetns(name: string): Promise<string> {
  try {
    await run(['ip', 'netns', 'add', name]);
  } catch (err) {
    if (!(err instanceof ExecError && /File exists/.test(err.stderr))) throw err;
  }
  await run(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
  return netnsPath(name);
}

export async function deleteNetns(name: string): Promise<void> {
  if (!(await access(netnsPath(name)).then(() => true, () => false))) return;
  await run(['ip', 'netns', 'del', name]).catch(() => {});
}

export interface InterfaceCounters {
  rx_bytes: number;
  rx_packets: number;
  rx_errors: number;
  rx_dropped: number;
  tx_bytes: number;
  tx_packets: number;
  tx_errors: number;
  tx_dropped: number;
}

/** A process's network interfaces' counters as its namespace sees them (/proc/<pid>/net/dev), loopback left out. */
export async function interfaceCounters(pid: number): Promise<Record<string, InterfaceCounters>> {
  const text = await readFile(`/proc/${pid}/net/dev`, 'utf8');
  return parseNetDev(text);
}

/** Pure: the table of /proc/net/dev. */
export function parseNetDev(text: string): Record<string, InterfaceCounters> {
  const out: Record<string, InterfaceCounters> = {};
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    if (name === 'lo' || name === '') continue;
    const f = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    if (f.length < 16 || f.some((x) => !Number.isFinite(x))) continue;
    out[name] = { rx_bytes: f[0]!, rx_packets: f[1]!, rx_errors: f[2]!, rx_dropped: f[3]!, tx_bytes: f[8]!, tx_packets: f[9]!, tx_errors: f[10]!, tx_dropped: f[11]! };
  }
  return out;
}
