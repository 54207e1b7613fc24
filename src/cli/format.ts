// Human-readable output as the docker CLI prints it: durations, sizes (docker/go-units rules),
import { humanDuration } from '../core/human.ts';

export { humanDuration };
// IDs, ports and tab-aligned tables.

/** Go's `%.<precision>g`: shortest form, exponent when the exponent is < -4 or ≥ precision. */
export function formatG(value: number, precision: number): string {
  if (value === 0) return '0';
  if (!Number.isFinite(value)) return String(value);
  const [mantissa, expStr] = value.toExponential(precision - 1).split('e') as [string, string];
  const exp = Number(expStr);
  const trim = (s: string): string => (s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s);
  if (exp < -4 || exp >= precision) {
    const sign = exp < 0 ? '-' : '+';
    return `${trim(mantissa)}e${sign}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  return trim(value.toFixed(Math.max(0, precision - 1 - exp)));
}

const DECIMAL_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
const BINARY_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

function scale(size: number, base: number, units: string[]): [number, string] {
  let i = 0;
  while (size >= base && i < units.length - 1) {
    size /= base;
    i++;
  }
  return [size, units[i] as string];
}

/** go-units HumanSizeWithPrecision: decimal units (1000), `precision` significant digits. */
export function humanSize(bytes: number, precision = 3): string {
  const [v, unit] = scale(bytes, 1000, DECIMAL_UNITS);
  return `${formatG(v, precision)}${unit}`;
}

/** go-units BytesSize: binary units (1024), 4 significant digits. */
export function bytesSize(bytes: number): string {
  const [v, unit] = scale(bytes, 1024, BINARY_UNITS);
  return `${formatG(v, 4)}${unit}`;
}

/** "2 minutes ago" from a Unix time (seconds) or an RFC 3339 string. */
export function timeAgo(when: number | string, now = Date.now()): string {
  const ms = typeof when === 'number' ? when * 1000 : Date.parse(when);
  if (Number.isNaN(ms)) return '';
  return `${humanDuration(Math.max(0, (now - ms) / 1000))} ago`;
}

const ZERO_TIME = '0001-01-01T00:00:00Z';

export interface StateForStatus {
  Status?: string;
  Running?: boolean;
  Paused?: boolean;
  Restarting?: boolean;
  Dead?: boolean;
  ExitCode?: number;
  StartedAt?: string;
  FinishedAt?: string;
  Health?: { Status?: string };
}

/** The STATUS column text ("Up 3 seconds", "Exited (0) 2 minutes ago", "Created") from a container's state. */
export function describeState(state: StateForStatus, now = Date.now()): string {
  const since = (t: string | undefined): string =>
    t && t !== ZERO_TIME && !Number.isNaN(Date.parse(t)) ? humanDuration(Math.max(0, (now - Date.parse(t)) / 1000)) : '';
  if (state.Running || state.Status === 'running' || state.Status === 'paused' || state.Status === 'restarting') {
    if (state.Paused || state.Status === 'paused') return `Up ${since(state.StartedAt)} (Paused)`;
    if (state.Restarting || state.Status === 'restarting') return `Restarting (${state.ExitCode ?? 0}) ${since(state.FinishedAt)} ago`;
    const health = state.Health?.Status;
    const suffix = health === 'starting' ? ' (health: starting)' : health === 'healthy' || health === 'unhealthy' ? ` (${health})` : '';
    return `Up ${since(state.StartedAt)}${suffix}`;
  }
  if (state.Status === 'removing') return 'Removal In Progress';
  if (state.Dead || state.Status === 'dead') return 'Dead';
  if (state.Status === 'created' || !state.StartedAt || state.StartedAt === ZERO_TIME) return 'Created';
  const finished = since(state.FinishedAt);
  return finished ? `Exited (${state.ExitCode ?? 0}) ${finished} ago` : `Exited (${state.ExitCode ?? 0})`;
}

/** The 12-character short ID, without any `sha256:` prefix. */
export function shortId(id: string): string {
  const bare = id.includes(':') ? id.slice(id.indexOf(':') + 1) : id;
  return bare.slice(0, 12);
}

/** Cuts `s` to `max` characters, the last one replaced by an ellipsis. */
export function ellipsis(s: string, max: number): string {
  const chars = [...s];
  if (chars.length <= max) return s;
  if (max <= 0) return '';
  return `${chars.slice(0, max - 1).join('')}…`;
}

/** Go's strconv.Quote for the text docker shows in the COMMAND column. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

export interface PortEntry {
  IP?: string;
  PrivatePort: number;
  PublicPort?: number;
  Type: string;
}

/**
 * The PORTS column as docker prints it: ports sorted by private port, unpublished ports and ports
 * published on the same number folded into ranges, other mappings listed after them.
 */
export function displayablePorts(ports: readonly PortEntry[]): string {
  const sorted = [...ports].sort(
    (a, b) =>
      a.PrivatePort - b.PrivatePort ||
      cmp(a.IP ?? '', b.IP ?? '') ||
      (a.PublicPort ?? 0) - (b.PublicPort ?? 0) ||
      cmp(a.Type, b.Type),
  );
  const groups = new Map<string, { ip: string; type: string; first: number; last: number }>();
  const folded: string[] = [];
  const mappings: string[] = [];
  const render = (g: { ip: string; type: string; first: number; last: number }): string => {
    const range = g.first === g.last ? `${g.first}` : `${g.first}-${g.last}`;
    return g.ip === '' ? `${range}/${g.type}` : `${joinHostPort(g.ip, range)}->${range}/${g.type}`;
  };
  for (const p of sorted) {
    const ip = p.IP ?? '';
    if (ip !== '' && p.PublicPort !== p.PrivatePort) {
      mappings.push(`${joinHostPort(ip, String(p.PublicPort ?? 0))}->${p.PrivatePort}/${p.Type}`);
      continue;
    }
    const key = `${ip}/${p.Type}`;
    const g = groups.get(key);
    if (g && p.PrivatePort === g.last + 1) {
      g.last = p.PrivatePort;
      continue;
    }
    if (g) folded.push(render(g));
    groups.set(key, { ip, type: p.Type, first: p.PrivatePort, last: p.PrivatePort });
  }
  for (const g of groups.values()) folded.push(render(g));
  return [...folded, ...mappings].join(', ');
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `ip:port`, with IPv6 addresses in brackets. */
export function joinHostPort(ip: string, port: string): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

export interface TableOptions {
  /** Minimum cell width including padding (docker: 10 for lists, 20 for `top`). */
  minWidth?: number;
  padding?: number;
}

/** Aligns rows like Go's tabwriter: every column but the last is padded to its widest cell. */
export function renderTable(rows: readonly (readonly string[])[], opts: TableOptions = {}): string {
  const minWidth = opts.minWidth ?? 10;
  const padding = opts.padding ?? 3;
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      if (i === row.length - 1) return;
      const w = Math.max([...cell].length + padding, minWidth);
      widths[i] = Math.max(widths[i] ?? 0, w);
    });
  }
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - [...cell].length)))
        .join(''),
    )
    .map((line) => `${line}\n`)
    .join('');
}

/** Rows as columns three spaces apart, the last column unpadded (docker's plain tables). */
export function columns(rows: readonly (readonly string[])[]): string {
  if (rows.length === 0) return '';
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('').trimEnd()).join('\n') + '\n';
}
