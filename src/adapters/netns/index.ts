// Named network namespaces at /run/netns/<name>, as iproute2 keeps them: made by system calls
// once iproute2 has set up /run/netns (a shared mount point), else by `ip netns`.
import { access, readFile } from 'node:fs/promises';
import { run, ExecError } from '../exec/index.ts';
import { syscallsAvailable, sysCreateNetns, sysDeleteNetns } from '../syscalls/index.ts';
import { isMounted } from '../mount/index.ts';

const NETNS_DIR = '/run/netns';
let dirReady = false;

export function netnsPath(name: string): string {
  return `${NETNS_DIR}/${name}`;
}

/** True once /run/netns is the mount point `ip netns add` makes of it (kept for the process). */
async function netnsDirReady(): Promise<boolean> {
  dirReady ||= await isMounted(NETNS_DIR).catch(() => false);
  return dirReady;
}

export async function createNetns(name: string): Promise<string> {
  const path = netnsPath(name);
  if (syscallsAvailable() && (await netnsDirReady())) {
    try {
      sysCreateNetns(path);
      return path;
    } catch (err) {
      // A namespace of that name already there (a start after a crash) is `ip netns`'s case.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  try {
    await run(['ip', 'netns', 'add', name]);
  } catch (err) {
    if (!(err instanceof ExecError && /File exists/.test(err.stderr))) throw err;
  }
  await run(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
  return path;
}

export async function deleteNetns(name: string): Promise<void> {
  const path = netnsPath(name);
  if (!(await access(path).then(() => true, () => false))) return;
  if (syscallsAvailable()) {
    // As `ip netns del` below: a namespace that will not go is not the caller's failure.
    try {
      sysDeleteNetns(path);
    } catch {}
    return;
  }
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
