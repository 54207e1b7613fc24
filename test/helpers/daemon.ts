// Starts a throwaway berthd on temporary data and exec roots and a private socket, and cleans
// up everything it made: containers (through the API), mounts, cgroups, processes by PID.
import { spawn, type ChildProcess, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { request } from 'node:http';

export const ROOT = resolve(import.meta.dirname, '../..');
export const BERTHD = join(ROOT, 'bin/berthd');
export const BERTH = join(ROOT, 'bin/berth');

export interface TestDaemon {
  dir: string;
  dataRoot: string;
  execRoot: string;
  socket: string;
  host: string;
  proc: ChildProcess;
  log: () => string;
  cgroupParent: string;
  stop(opts?: { signal?: NodeJS.Signals }): Promise<void>;
  restart(): Promise<void>;
  cleanup(): Promise<void>;
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  json<T = any>(): T;
  text(): string;
}

/** One HTTP request over the daemon's Unix socket. */
export function api(d: { socket: string }, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> {
  return new Promise((resolvep, reject) => {
    const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : typeof body === 'string' ? Buffer.from(body) : Buffer.from(JSON.stringify(body));
    const req = request(
      { socketPath: d.socket, method, path, headers: { ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': payload.length } : {}), ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const buf = Buffer.concat(chunks);
          resolvep({ status: res.statusCode ?? 0, headers: res.headers, body: buf, json: () => JSON.parse(buf.toString()), text: () => buf.toString() });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

async function waitForSocket(socket: string, proc: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`berthd exited with ${proc.exitCode}:\n${log()}`);
    if (existsSync(socket)) {
      try {
        const r = await api({ socket }, 'GET', '/_ping');
        if (r.status === 200) return;
      } catch {}
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`berthd did not come up:\n${log()}`);
}

export async function startDaemon(opts: { extraArgs?: string[] } = {}): Promise<TestDaemon> {
  const dir = mkdtempSync('/tmp/berth-it-');
  const dataRoot = join(dir, 'data');
  const execRoot = join(dir, 'run');
  const socket = join(dir, 'berth.sock');
  const cgroupParent = `/berth-test-${dir.slice(-6)}`;
  // Each test daemon's default bridge gets its own subnet and Linux bridge.
  const bridgeName = `bt${dir.slice(-6).toLowerCase()}`;
  const bip = `10.${150 + Math.floor(Math.random() * 50)}.${Math.floor(Math.random() * 250)}.1/24`;
  let logText = '';
  const t: TestDaemon = {
    dir,
    dataRoot,
    execRoot,
    socket,
    host: `unix://${socket}`,
    proc: undefined as unknown as ChildProcess,
    log: () => logText,
    cgroupParent,
    async stop({ signal = 'SIGTERM' } = {}) {
      const p = t.proc;
      if (p.exitCode !== null || p.signalCode !== null) return;
      const exited = new Promise<void>((r) => p.once('exit', () => r()));
      p.kill(signal);
      await exited;
    },
    async restart() {
      await t.stop();
      await launch();
    },
    async cleanup() {
      // A daemon that died on its own is a bug: its log is the evidence.
      if (t.proc.exitCode !== null || t.proc.signalCode !== null) {
        process.stderr.write(`berthd exited by itself (${t.proc.exitCode ?? t.proc.signalCode}); its log ends:\n${logText.slice(-4000)}\n`);
      }
      try {
        if (t.proc.exitCode === null && t.proc.signalCode === null) {
          const list = await api(t, 'GET', '/containers/json?all=1').then((r) => r.json<Array<{ Id: string }>>()).catch(() => []);
          await Promise.all(list.map((c) => api(t, 'DELETE', `/containers/${c.Id}?force=1`).catch(() => {})));
        }
      } finally {
        await t.stop().catch(() => {});
        killLeftovers(t);
        rmSync(dir, { recursive: true, force: true });
      }
      // A test that leaks network objects is a failing test.
      const net = bip.split('.').slice(0, 3).join('.') + '.';
      const leaked = execFileSync('iptables-save', { encoding: 'utf8' }).split('\n').filter((l) => l.includes(net));
      const links = execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(bridgeName));
      if (leaked.length > 0 || links.length > 0) throw new Error(`berthd left network objects behind:\n${[...leaked, ...links].join('\n')}`);
    },
  };
  async function launch(): Promise<void> {
    const args = ['--data-root', dataRoot, '--exec-root', execRoot, '-H', `unix://${socket}`, '--cgroup-parent', cgroupParent, '--bip', bip, '--bridge-name', bridgeName, ...(opts.extraArgs ?? [])];
    if (process.env.BERTH_TEST_DEBUG) args.push('--log-level', 'debug');
    const proc = spawn(BERTHD, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout!.on('data', (b: Buffer) => (logText += b.toString()));
    proc.stderr!.on('data', (b: Buffer) => (logText += b.toString()));
    t.proc = proc;
    await waitForSocket(socket, proc, t.log);
  }
  await launch();
  return t;
}

/** Last-resort cleanup: conmon processes, mounts and cgroups under this test's roots. */
function killLeftovers(t: TestDaemon): void {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmd.includes(t.execRoot) || cmd.includes(t.dataRoot)) process.kill(Number(pid), 'SIGKILL');
    } catch {}
  }
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).filter((m): m is string => !!m && m.startsWith(t.dir));
  for (const m of mounts.reverse()) {
    try {
      execFileSync('umount', ['-l', m]);
    } catch {}
  }
  for (const ctl of readdirSync('/sys/fs/cgroup')) {
    const base = join('/sys/fs/cgroup', ctl, t.cgroupParent);
    if (!existsSync(base)) continue;
    try {
      for (const sub of readdirSync(base, { withFileTypes: true })) if (sub.isDirectory()) rmSync(join(base, sub.name), { recursive: false, force: true });
    } catch {}
    try {
      execFileSync('rmdir', [base]);
    } catch {}
  }
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the berth CLI against the daemon. */
export function berth(d: { host: string }, args: string[], opts: { input?: string | Buffer; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliResult> {
  return runProgram(BERTH, args, { ...opts, env: { ...opts.env, BERTH_HOST: d.host } });
}

export function runProgram(file: string, args: string[], opts: { input?: string | Buffer; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolvep) => {
    const p = spawn(file, args, { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    p.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolvep({ code: code ?? -1, stdout, stderr });
    });
    p.stdin.on('error', () => {});
    p.stdin.end(opts.input ?? '');
  });
}

export const isRoot = process.getuid?.() === 0;

/**
 * Stops a helper process (a registry, a server) and waits until it has exited, so that a
 * directory it writes to can be removed after this resolves without the process racing the removal.
 */
export async function stopProcess(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
