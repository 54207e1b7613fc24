// The numbers `docker stats` shows, computed from a stats JSON sample the way the docker CLI does.
import { bytesSize, humanSize, shortId } from './format.ts';

export interface StatsSample {
  id?: string;
  name?: string;
  cpu_stats?: { cpu_usage?: { total_usage?: number; percpu_usage?: number[] | null }; system_cpu_usage?: number; online_cpus?: number };
  precpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number };
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> | null };
  networks?: Record<string, { rx_bytes?: number; tx_bytes?: number }> | null;
  blkio_stats?: { io_service_bytes_recursive?: Array<{ op?: string; value?: number }> | null };
  pids_stats?: { current?: number };
}

export interface StatsRow {
  ID: string;
  Name: string;
  Container: string;
  CPUPerc: string;
  MemUsage: string;
  MemPerc: string;
  NetIO: string;
  BlockIO: string;
  PIDs: string;
}

export function cpuPercent(s: StatsSample): number {
  const cpuDelta = (s.cpu_stats?.cpu_usage?.total_usage ?? 0) - (s.precpu_stats?.cpu_usage?.total_usage ?? 0);
  const systemDelta = (s.cpu_stats?.system_cpu_usage ?? 0) - (s.precpu_stats?.system_cpu_usage ?? 0);
  const online = s.cpu_stats?.online_cpus || s.cpu_stats?.cpu_usage?.percpu_usage?.length || 0;
  return systemDelta > 0 && cpuDelta > 0 ? (cpuDelta / systemDelta) * online * 100 : 0;
}

/** Memory in use without the page cache (cgroup v1 total_inactive_file, v2 inactive_file). */
export function memoryUsed(s: StatsSample): number {
  const usage = s.memory_stats?.usage ?? 0;
  const stats = s.memory_stats?.stats ?? {};
  const v1 = stats['total_inactive_file'];
  if (v1 !== undefined && v1 < usage) return usage - v1;
  const v2 = stats['inactive_file'];
  if (v2 !== undefined && v2 < usage) return usage - v2;
  return usage;
}

export function statsRow(s: StatsSample, opts: { container?: string; trunc?: boolean } = {}): StatsRow {
  const used = memoryUsed(s);
  const limit = s.memory_stats?.limit ?? 0;
  let rx = 0;
  let tx = 0;
  for (const n of Object.values(s.networks ?? {})) {
    rx += n.rx_bytes ?? 0;
    tx += n.tx_bytes ?? 0;
  }
  let read = 0;
  let write = 0;
  for (const e of s.blkio_stats?.io_service_bytes_recursive ?? []) {
    const op = (e.op ?? '').toLowerCase();
    if (op === 'read') read += e.value ?? 0;
    else if (op === 'write') write += e.value ?? 0;
  }
  const id = s.id ?? '';
  return {
    ID: opts.trunc === false ? id : shortId(id),
    Name: (s.name ?? '').replace(/^\//, ''),
    Container: opts.container ?? (opts.trunc === false ? id : shortId(id)),
    CPUPerc: `${cpuPercent(s).toFixed(2)}%`,
    MemUsage: `${bytesSize(used)} / ${bytesSize(limit)}`,
    MemPerc: `${(limit > 0 ? (used / limit) * 100 : 0).toFixed(2)}%`,
    NetIO: `${humanSize(rx)} / ${humanSize(tx)}`,
    BlockIO: `${humanSize(read)} / ${humanSize(write)}`,
    PIDs: String(s.pids_stats?.current ?? 0),
  };
}

export const STATS_HEADERS: Record<string, string> = {
  ID: 'CONTAINER ID',
  Name: 'NAME',
  Container: 'CONTAINER',
  CPUPerc: 'CPU %',
  MemUsage: 'MEM USAGE / LIMIT',
  MemPerc: 'MEM %',
  NetIO: 'NET I/O',
  BlockIO: 'BLOCK I/O',
  PIDs: 'PIDS',
};

export const STATS_TABLE = 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';
