// bench/build: a 10-step Dockerfile with a COPY of a 2,000-file context and RUN steps, built cold,
// rebuilt fully cached, and rebuilt after one source file changes — berth, and docker's classic
// builder when DOCKER_HOST names a Docker daemon that has a busybox image; medians and ratios.
// Usage: bench/build [--runs N]   (root; starts its own berthd on temp roots)
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { median, numberOption, timed, startBenchDaemon } from './lib.ts';

const ROOT = resolve(import.meta.dirname, '..');
const RUNS = numberOption('--runs', 5);



const DOCKERFILE = [
  'FROM busybox',
  'ENV APP=/app',
  'WORKDIR /app',
  'RUN mkdir -p /app/cache && echo base > /app/cache/base',
  'COPY src/ /app/src/',
  'RUN find /app/src -type f | wc -l > /app/count',
  'RUN cat /app/src/d0/f0.txt > /app/first',
  'LABEL bench=build',
  'EXPOSE 8080',
  'CMD ["cat", "/app/count"]',
  '',
].join('\n');

function makeContext(dir: string): void {
  for (let d = 0; d < 40; d++) {
    mkdirSync(join(dir, 'src', `d${d}`), { recursive: true });
    for (let f = 0; f < 50; f++) writeFileSync(join(dir, 'src', `d${d}`, `f${f}.txt`), `file ${d}/${f}\n`.repeat(20));
  }
  writeFileSync(join(dir, 'Dockerfile'), DOCKERFILE);
}

interface Engine {
  name: string;
  cli: string;
  env: Record<string, string>;
}

function measure(e: Engine, ctx: string): Record<string, number> {
  const t: Record<string, number[]> = { cold: [], cached: [], changed: [] };
  for (let i = 0; i < RUNS; i++) {
    const tag = `bench-build:${i}`;
    t.cold!.push(timed(e.cli, ['build', '--no-cache', '-q', '-t', tag, ctx], e.env));
    t.cached!.push(timed(e.cli, ['build', '-q', '-t', tag, ctx], e.env));
    writeFileSync(join(ctx, 'src', 'd7', 'f7.txt'), `changed ${Date.now()} ${i}\n`);
    t.changed!.push(timed(e.cli, ['build', '-q', '-t', tag, ctx], e.env));
  }
  return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, median(v)]));
}

async function main(): Promise<void> {
  const daemon = await startBenchDaemon('build');
  const { dir, host } = daemon;
  try {
    const berth = join(ROOT, 'bin/berth');
    spawnSync(berth, ['bootstrap', 'busybox'], { env: { ...process.env, BERTH_HOST: host } });
    const ctx = join(dir, 'ctx');
    makeContext(ctx);
    const engines: Engine[] = [{ name: 'berth', cli: berth, env: { BERTH_HOST: host } }];
    const dockerHost = process.env.DOCKER_HOST;
    if (dockerHost && spawnSync('docker', ['image', 'inspect', 'busybox'], { encoding: 'utf8' }).status === 0) {
      engines.push({ name: 'docker', cli: 'docker', env: { DOCKER_HOST: dockerHost, DOCKER_BUILDKIT: '0' } });
    }
    const results: Record<string, Record<string, number>> = {};
    for (const e of engines) results[e.name] = measure(e, ctx);
    console.log(`medians over ${RUNS} runs; 10-step Dockerfile, COPY of 2,000 files:`);
    for (const k of ['cold', 'cached', 'changed']) {
      const b = results.berth![k]!;
      const d = results.docker?.[k];
      console.log(`  ${k.padEnd(8)} berth ${(b / 1000).toFixed(2)} s${d !== undefined ? `   docker ${(d / 1000).toFixed(2)} s   ratio ${(b / d).toFixed(2)}×` : ''}`);
    }
  } finally {
    await daemon.stop();
  }
}

void main().catch((err) => {
  console.error(err);
  process.exit(1);
});
