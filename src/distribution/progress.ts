// Docker's JSON progress messages: what `docker pull` / `docker push` and the SDKs render as
// per-layer bars. One message per line; `progress` is the pre-rendered bar for old clients.

export interface ProgressMessage {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  progress?: string;
  aux?: unknown;
  error?: string;
  errorDetail?: { message: string };
}

export type ProgressSink = (msg: ProgressMessage) => void;

/** Decimal sizes with four significant digits, as Docker prints them ("2.151MB"). */
export function humanSize(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(4))}${units[i]}`;
}

/** The `[====>    ]  1.2MB/3.4MB` string. */
export function progressBar(current: number, total: number): string {
  const width = 50;
  if (total <= 0) return `${humanSize(current)}`.padStart(8);
  const filled = Math.min(width, Math.floor((current / total) * width));
  const bar = '='.repeat(Math.max(0, filled - 1)) + (filled > 0 ? (filled === width ? '=' : '>') : '') + ' '.repeat(width - filled);
  return `[${bar}] ${humanSize(current).padStart(8)}/${humanSize(total)}`;
}

/** Rate-limits a layer's progress messages to one per interval, always passing the final one. */
export function throttledProgress(sink: ProgressSink, id: string, status: string, total: number, intervalMs = 100): (current: number) => void {
  let last = 0;
  return (current) => {
    const now = Date.now();
    if (current < total && now - last < intervalMs) return;
    last = now;
    sink({ status, progressDetail: { current, total }, progress: progressBar(current, total), id });
  };
}

/** Docker's short ID of a digest: its first 12 hex digits. */
export function shortDigest(digest: string): string {
  return digest.slice(digest.indexOf(':') + 1, digest.indexOf(':') + 13);
}
