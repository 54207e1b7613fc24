// What the benchmarks share: medians, timed commands, options, and a berthd of their own.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, rmdirSync } from 'node:fs';
import { request } from 'node:http';
import { join, resolve } from 'node:path';

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Runs a command to completion; throws with its output when it fails. */
export function sh(file: string, argv: string[], env: Record<string, string> = {}): void {
  const r = spawnSync(file, argv, { env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${file} ${argv.join(' ')} failed (${r.status}): ${r.stderr}${(r.stdout ?? '').slice(-2000)}`);
}

/** Milliseconds a command takes. */
export function timed(file: string, argv: string[], env: Record<string, string> = {}): number {
  const t0 = process.hrtime.bigint();
  sh(file, argv, env);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** Removes the (empty) parent cgroup a benchmark's berthd created, in every hierarchy. */
export function removeCgroupParent(name: string): void {
  const base = '/sys/fs/cgroup';
  const dirs = [`${base}/${name}`, ...readdirSync(base).map((c) => `${base}/${c}/${name}`)];
  for (const d of dirs) {
    if (!existsSync(d)) continue;
    try {
      rmdirSync(d);
    } catch {
      // Not empty or not a cgroup: left as it is.
    }
  }
}

/** A number given as `--name N` on the command line, else the default. */
export function numberOption(name: string, dflt: number): number {
  const args = process.argv.slice(2);
  const i = args.indexOf(name);
  const v = i >= 0 ? Number(args[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : dflt;
}

export interface BenchDaemon {
  /** The temporary directory of this run (data and exec roots, socket), removed by stop(). */
  dir: string;
  sock: string;
  /** `unix://…`, for BERTH_HOST. */
  host: string;
  pid(): number;
  /** Stops berthd (SIGTERM; containers keep running). */
  halt(): Promise<void>;
  /** Starts berthd again on the same roots; resolves once it answers. */
  start(): Promise<void>;
  /** Stops berthd, removes the temporary directory and berthd's parent cgroup. */
  stop(): Promise<void>;
}

/** Whether a daemon answers /_ping on the socket. */
function ping(socketPath: string): Promise<boolean> {
  return new Promise((res) => {
    const req = request({ socketPath, path: '/_ping' }, (r) => {
      let body = '';
      r.on('data', (c: Buffer) => (body += c.toString()));
      r.on('end', () => res(r.statusCode === 200 && body === 'OK'));
    });
    req.on('error', () => res(false));
    req.end();
  });
}

/** A berthd of the checkout on temporary roots (`/tmp/berth-bench-<name>-…`), ready to answer. */
export async function startBenchDaemon(name: string): Promise<BenchDaemon> {
  const root = resolve(import.meta.dirname, '..');
  const dir = mkdtempSync(`/tmp/berth-bench-${name}-`);
  const sock = join(dir, 'berth.sock');
  const host = `unix://${sock}`;
  const argv = ['--data-root', join(dir, 'data'), '--exec-root', join(dir, 'run'), '-H', host, '--cgroup-parent', '/berth-bench', '--bridge-name', 'berth-bench'];
  let daemon: ChildProcess;
  const start = async (): Promise<void> => {
    daemon = spawn(join(root, 'bin/berthd'), argv, { stdio: 'ignore' });
    for (let i = 0; i < 200; i++) {
      if (existsSync(sock) && (await ping(sock))) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`berthd did not answer on ${sock}`);
  };
  const halt = async (): Promise<void> => {
    if (daemon.exitCode !== null || daemon.signalCode !== null) return;
    daemon.kill('SIGTERM');
    await new Promise((r) => daemon.once('exit', r));
  };
  await start();
  return {
    dir,
    sock,
    host,
    pid: () => daemon.pid!,
    halt,
    start,
    stop: async () => {
      await halt();
      rmSync(dir, { recursive: true, force: true });
      removeCgroupParent('berth-bench');
    },
  };
}
