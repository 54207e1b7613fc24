// bench/density: many running containers on one host. Starts N detached `sleep` containers from
// P clients at once and reports the start rate, the memory each container adds, how `ps`,
// `stats --no-stream` and `run --rm` fare with N running (against the same with none), how long
// berthd takes to come back with N running, and `rm -f` of all of them. With DOCKER_HOST naming a
// Docker daemon, the same runs against it (its engine: dockerd, containerd, one shim per
// container) and the ratios are printed.
// Usage: bench/density [--containers N] [--parallel P] [--runs R]   (root; its own berthd on temp roots)
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { median, numberOption, startBenchDaemon } from './lib.ts';
import { limiter } from '../src/core/limit.ts';

const ROOT = resolve(import.meta.dirname, '..');
const N = numberOption('--containers', 300);
const P = numberOption('--parallel', 4);
const R = numberOption('--runs', 10);

interface Engine {
  name: string;
  cli: string;
  env: Record<string, string>;
  /** The engine's own processes (not the containers'): their PSS is what the engine costs. */
  pids(): number[];
}

function pssKiB(pid: number): number {
  try {
    const m = /^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function pgrep(pattern: string): number[] {
  return spawnSync('pgrep', ['-f', pattern], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean).map(Number);
}

function cmd(e: Engine, argv: string[]): Promise<{ ms: number; out: string }> {
  return new Promise((res, rej) => {
    const t0 = process.hrtime.bigint();
    const p = spawn(e.cli, argv, { env: { ...process.env, ...e.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (b: Buffer) => (out += b.toString()));
    p.stderr.on('data', (b: Buffer) => (err += b.toString()));
    p.on('error', rej);
    p.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (code !== 0) rej(new Error(`${e.name} ${argv.join(' ')}: exit ${code}: ${err.trim()}`));
      else res({ ms, out });
    });
  });
}

async function medianOf(e: Engine, argv: string[], runs: number): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) ms.push((await cmd(e, argv)).ms);
  return median(ms);
}

interface Figures {
  startS: number;
  engineMiB: number;
  perContainerMiB: number;
  run0: number;
  runN: number;
  ps: number;
  stats: number;
  rmS: number;
}

async function measure(e: Engine): Promise<Figures> {
  const run = ['run', '--rm', '--network', 'none', 'busybox', 'echo', 'hi'];
  await cmd(e, run);
  const run0 = await medianOf(e, run, R);
  const before = e.pids().reduce((s, p) => s + pssKiB(p), 0);
  const limit = limiter(P);
  const t0 = Date.now();
  const ids = await Promise.all(Array.from({ length: N }, () => limit(async () => (await cmd(e, ['run', '-d', '--network', 'none', 'busybox', 'sleep', '3600'])).out.trim())));
  const startS = (Date.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 2000));
  const engine = e.pids().reduce((s, p) => s + pssKiB(p), 0);
  const runN = await medianOf(e, run, R);
  const ps = await medianOf(e, ['ps', '-q'], 5);
  const stats = (await cmd(e, ['stats', '--no-stream'])).ms;
  const t1 = Date.now();
  for (let i = 0; i < ids.length; i += 100) await cmd(e, ['rm', '-f', ...ids.slice(i, i + 100)]);
  const rmS = (Date.now() - t1) / 1000;
  return { startS, engineMiB: engine / 1024, perContainerMiB: (engine - before) / N / 1024, run0, runN, ps, stats, rmS };
}

function report(name: string, f: Figures): void {
  console.log(`${name}:`);
  console.log(`  start ${N} detached containers (${P} clients): ${f.startS.toFixed(1)} s, ${(N / f.startS).toFixed(1)} containers/s`);
  console.log(`  engine memory with ${N} running: ${f.engineMiB.toFixed(0)} MiB PSS, ${f.perContainerMiB.toFixed(2)} MiB per container`);
  console.log(`  run --rm --network none echo hi: ${f.run0.toFixed(0)} ms with none running, ${f.runN.toFixed(0)} ms with ${N}`);
  console.log(`  ps -q with ${N}: ${f.ps.toFixed(0)} ms; stats --no-stream of ${N}: ${f.stats.toFixed(0)} ms`);
  console.log(`  rm -f of ${N} (100 per command): ${f.rmS.toFixed(1)} s`);
}

async function main(): Promise<void> {
  const daemon = await startBenchDaemon('density');
  const berth: Engine = {
    name: 'berth',
    cli: join(ROOT, 'bin/berth'),
    env: { BERTH_HOST: daemon.host },
    pids: () => [daemon.pid(), ...pgrep(`conmon.*${join(daemon.dir, 'run')}`)],
  };
  try {
    await cmd(berth, ['bootstrap', 'busybox']);
    const fb = await measure(berth);
    // berthd stopped and started again with N containers running: until it answers and lists them.
    const limit = limiter(P);
    await Promise.all(Array.from({ length: N }, () => limit(() => cmd(berth, ['run', '-d', '--network', 'none', 'busybox', 'sleep', '3600']))));
    await daemon.halt();
    const t0 = Date.now();
    await daemon.start();
    const listed = (await cmd(berth, ['ps', '-q'])).out.trim().split('\n').length;
    const restartMs = Date.now() - t0;
    const ids = (await cmd(berth, ['ps', '-aq'])).out.trim().split('\n');
    for (let i = 0; i < ids.length; i += 100) await cmd(berth, ['rm', '-f', ...ids.slice(i, i + 100)]);
    report('berth', fb);
    console.log(`  berthd started again with ${N} running: answering and listing ${listed} after ${restartMs} ms`);
    const dockerHost = process.env.DOCKER_HOST && spawnSync('docker', ['version'], { encoding: 'utf8' }).status === 0 ? process.env.DOCKER_HOST : undefined;
    if (!dockerHost) {
      console.log('docker: not measured (set DOCKER_HOST to a Docker daemon to compare)');
      return;
    }
    const docker: Engine = {
      name: 'docker',
      cli: 'docker',
      env: { DOCKER_HOST: dockerHost },
      pids: () => [...pgrep('^/usr/sbin/dockerd|^dockerd'), ...pgrep('^/usr/bin/containerd|^containerd '), ...pgrep('containerd-shim')],
    };
    const fd = await measure(docker);
    report('docker', fd);
    const r = (a: number, b: number): string => (a / b).toFixed(2);
    console.log(`ratios berth/docker: start time ${r(fb.startS, fd.startS)}, memory per container ${r(fb.perContainerMiB, fd.perContainerMiB)}, run with ${N} running ${r(fb.runN, fd.runN)}, ps ${r(fb.ps, fd.ps)}, stats ${r(fb.stats, fd.stats)}, rm ${r(fb.rmS, fd.rmS)}`);
  } finally {
    await daemon.stop();
  }
}

await main();
