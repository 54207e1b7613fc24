// bench/run-latency: `berth run --rm busybox echo hi` against `docker run --rm` on a Docker
// daemon when DOCKER_HOST names one, interleaved; medians and the ratio; the same for `exec` into a
// running container. Also berthd's idle RSS and the memory each running `sleep` container adds
// (berthd growth + its conmon).
// Usage: bench/run-latency [--runs N] [--containers N]   (root; starts its own berthd on temp roots)
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { median, numberOption, startBenchDaemon } from './lib.ts';

const ROOT = resolve(import.meta.dirname, '..');
const RUNS = numberOption('--runs', 20);
const CONTAINERS = numberOption('--containers', 50);

function statusKiB(pid: number, field: string): number {
  const m = new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}
const rssKiB = (pid: number): number => statusKiB(pid, 'VmRSS');

/** Proportional set size: shared pages (the node binary, libc) split among the processes mapping them. */
function pssKiB(pid: number): number {
  const m = /^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

function timeCmd(file: string, argv: string[], env: Record<string, string>): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(file, argv, { env: { ...process.env, ...env }, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0 || r.stdout.trim() !== 'hi') throw new Error(`${file} ${argv.join(' ')} failed: ${r.status} ${r.stderr}`);
  return ms;
}

async function main(): Promise<void> {
  const daemon = await startBenchDaemon('latency');
  const { dir, host } = daemon;
  const berth = join(ROOT, 'bin/berth');
  const env = { BERTH_HOST: host };
  try {
    // Idle RSS of a fresh daemon (the figure the target names), then after its first image.
    await new Promise((r) => setTimeout(r, 1000));
    const fresh = rssKiB(daemon.pid());
    console.log(`berthd idle RSS, fresh ${(fresh / 1024).toFixed(1)} MiB (anonymous ${(statusKiB(daemon.pid(), 'RssAnon') / 1024).toFixed(1)} MiB; the rest is the mapped node binary, shared)`);
    spawnSync(berth, ['bootstrap', 'busybox'], { env: { ...process.env, ...env } });
    const docker = process.env.DOCKER_HOST && spawnSync('docker', ['version'], { encoding: 'utf8' }).status === 0 ? process.env.DOCKER_HOST : undefined;
    console.log(`berthd RSS after bootstrapping busybox ${(rssKiB(daemon.pid()) / 1024).toFixed(1)} MiB`);
    // Warm up both.
    timeCmd(berth, ['run', '--rm', '--network', 'none', 'busybox', 'echo', 'hi'], env);
    if (docker) timeCmd('docker', ['run', '--rm', '--network', 'none', 'busybox', 'echo', 'hi'], { DOCKER_HOST: docker });
    const b: number[] = [];
    const dk: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      b.push(timeCmd(berth, ['run', '--rm', '--network', 'none', 'busybox', 'echo', 'hi'], env));
      if (docker) dk.push(timeCmd('docker', ['run', '--rm', '--network', 'none', 'busybox', 'echo', 'hi'], { DOCKER_HOST: docker }));
    }
    console.log(`run --rm --network none busybox echo hi (${RUNS} runs, interleaved)`);
    console.log(`  berth  median ${median(b).toFixed(1)} ms  (min ${Math.min(...b).toFixed(1)}, max ${Math.max(...b).toFixed(1)})`);
    if (docker) {
      console.log(`  docker median ${median(dk).toFixed(1)} ms`);
      console.log(`  ratio berth/docker ${(median(b) / median(dk)).toFixed(2)}`);
    } else {
      console.log('  docker: not measured (set DOCKER_HOST to a Docker daemon to compare)');
    }
    // The same on the default bridge network (netavark setup and teardown on the path).
    const bb: number[] = [];
    const db: number[] = [];
    timeCmd(berth, ['run', '--rm', 'busybox', 'echo', 'hi'], env);
    for (let i = 0; i < RUNS; i++) {
      bb.push(timeCmd(berth, ['run', '--rm', 'busybox', 'echo', 'hi'], env));
      if (docker) db.push(timeCmd('docker', ['run', '--rm', 'busybox', 'echo', 'hi'], { DOCKER_HOST: docker }));
    }
    console.log(`run --rm busybox echo hi on the default bridge (${RUNS} runs, interleaved)`);
    console.log(`  berth  median ${median(bb).toFixed(1)} ms  (min ${Math.min(...bb).toFixed(1)}, max ${Math.max(...bb).toFixed(1)})`);
    if (docker) {
      console.log(`  docker median ${median(db).toFixed(1)} ms`);
      console.log(`  ratio berth/docker ${(median(bb) / median(db)).toFixed(2)}`);
    }
    // exec into a running container (runc exec joins its namespaces and cgroups).
    const target = (file: string, argv: string[], e: Record<string, string>): string => {
      const r = spawnSync(file, argv, { env: { ...process.env, ...e }, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`${file} ${argv.join(' ')} failed: ${r.stderr}`);
      return r.stdout.trim();
    };
    const bTarget = target(berth, ['run', '-d', '--network', 'none', 'busybox', 'sleep', '600'], env);
    const dTarget = docker ? target('docker', ['run', '-d', '--network', 'none', 'busybox', 'sleep', '600'], { DOCKER_HOST: docker }) : undefined;
    const be: number[] = [];
    const de: number[] = [];
    timeCmd(berth, ['exec', bTarget, 'echo', 'hi'], env);
    if (docker && dTarget) timeCmd('docker', ['exec', dTarget, 'echo', 'hi'], { DOCKER_HOST: docker });
    for (let i = 0; i < RUNS; i++) {
      be.push(timeCmd(berth, ['exec', bTarget, 'echo', 'hi'], env));
      if (docker && dTarget) de.push(timeCmd('docker', ['exec', dTarget, 'echo', 'hi'], { DOCKER_HOST: docker }));
    }
    console.log(`exec CONTAINER echo hi (${RUNS} runs, interleaved)`);
    console.log(`  berth  median ${median(be).toFixed(1)} ms  (min ${Math.min(...be).toFixed(1)}, max ${Math.max(...be).toFixed(1)})`);
    if (docker) {
      console.log(`  docker median ${median(de).toFixed(1)} ms`);
      console.log(`  ratio berth/docker ${(median(be) / median(de)).toFixed(2)}`);
    }
    spawnSync(berth, ['rm', '-f', bTarget], { env: { ...process.env, ...env } });
    if (docker && dTarget) spawnSync('docker', ['rm', '-f', dTarget], { env: { ...process.env, DOCKER_HOST: docker } });
    await new Promise((r) => setTimeout(r, 1000));
    const idle = rssKiB(daemon.pid());
    console.log(`berthd idle RSS after the runs ${(idle / 1024).toFixed(1)} MiB (anonymous ${(statusKiB(daemon.pid(), 'RssAnon') / 1024).toFixed(1)} MiB)`);
    const ids: string[] = [];
    for (let i = 0; i < CONTAINERS; i++) {
      const r = spawnSync(berth, ['run', '-d', '--network', 'none', 'busybox', 'sleep', '600'], { env: { ...process.env, ...env }, encoding: 'utf8' });
      ids.push(r.stdout.trim());
    }
    await new Promise((r) => setTimeout(r, 1000));
    const after = rssKiB(daemon.pid());
    const conmons = spawnSync('pgrep', ['-f', `conmon.*${join(dir, 'run')}`], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean).map(Number);
    const conmonRss = conmons.reduce((s, p) => s + rssKiB(p), 0);
    const conmonPss = conmons.reduce((s, p) => s + pssKiB(p), 0);
    const per = ((after - idle) + conmonPss) / CONTAINERS / 1024;
    console.log(`${CONTAINERS} running sleep containers: berthd +${((after - idle) / 1024).toFixed(1)} MiB; conmon RSS ${(conmonRss / conmons.length / 1024).toFixed(2)} MiB, PSS ${(conmonPss / conmons.length / 1024).toFixed(2)} MiB each`);
    console.log(`memory added per container (berthd growth + conmon PSS): ${per.toFixed(2)} MiB`);
    spawnSync(berth, ['rm', '-f', ...ids], { env: { ...process.env, ...env } });
  } finally {
    await daemon.stop();
  }
}

await main();
