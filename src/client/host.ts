// Where the daemon listens: the -H flag, then BERTH_HOST, then DOCKER_HOST, then the default socket.

export const DEFAULT_HOST = 'unix:///run/berth/berth.sock';

export type HostAddress = { kind: 'unix'; socketPath: string; url: string } | { kind: 'tcp'; host: string; port: number; url: string };

export interface ResolveHostOptions {
  flag?: string | undefined;
  env?: Record<string, string | undefined>;
}

/** The daemon address as a URL string, by precedence: flag > BERTH_HOST > DOCKER_HOST > default. */
export function resolveHost(opts: ResolveHostOptions = {}): string {
  const env = opts.env ?? process.env;
  for (const candidate of [opts.flag, env['BERTH_HOST'], env['DOCKER_HOST']]) {
    if (candidate !== undefined && candidate !== '') return candidate;
  }
  return DEFAULT_HOST;
}

/** Parses `unix:///path`, `/path`, `tcp://host:port`, `http://host:port` or `host:port`. */
export function parseHost(url: string): HostAddress {
  if (url.startsWith('unix://')) {
    const socketPath = url.slice('unix://'.length);
    if (socketPath === '') throw new Error(`invalid host: ${url}: empty socket path`);
    return { kind: 'unix', socketPath, url };
  }
  if (url.startsWith('/')) return { kind: 'unix', socketPath: url, url: `unix://${url}` };
  let rest = url;
  for (const scheme of ['tcp://', 'http://']) {
    if (rest.startsWith(scheme)) rest = rest.slice(scheme.length);
  }
  if (rest.includes('://')) throw new Error(`invalid host: ${url}: unsupported scheme`);
  rest = rest.replace(/\/+$/, '');
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:/]*)(?::(\d+))?$/.exec(rest);
  if (!m) throw new Error(`invalid host: ${url}`);
  const host = (m[1] ?? '').replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
  const port = m[2] !== undefined ? Number(m[2]) : 2375;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`invalid host: ${url}: bad port`);
  return { kind: 'tcp', host, port, url: `tcp://${m[1] || '127.0.0.1'}:${port}` };
}
