// bench/compose: `compose up -d` and `compose down` of a 5-service app — berth compose against its
// own berthd, and docker-compose (v1, Debian's) against a Docker daemon when DOCKER_HOST names one
// that has a busybox image; medians and ratios.
// Usage: bench/compose [--runs N]   (root; starts its own berthd on temp roots)
import { spawnSync } from 'node:child_process';
import { writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { median, numberOption, timed, startBenchDaemon } from './lib.ts';

const ROOT = resolve(import.meta.dirname, '..');
const RUNS = numberOption('--runs', 5);

const COMPOSE = ['services:', ...['a', 'b', 'c', 'd', 'e'].flatMap((s) => [`  ${s}:`, '    image: busybox', '    command: ["sleep", "300"]', '    stop_signal: SIGKILL']), ''].join('\n');

async function main(): Promise<void> {
  const daemon = await startBenchDaemon('compose');
  const { dir, host } = daemon;
  try {
    const berth = join(ROOT, 'bin/berth');
    spawnSync(berth, ['bootstrap', 'busybox'], { env: { ...process.env, BERTH_HOST: host } });
    const file = join(dir, 'compose.yaml');
    writeFileSync(file, COMPOSE);
    const engines: Array<{ name: string; up: [string, string[]]; down: [string, string[]]; env: Record<string, string> }> = [
      { name: 'berth', up: [berth, ['compose', '-f', file, '-p', 'bench', 'up', '-d']], down: [berth, ['compose', '-f', file, '-p', 'bench', 'down', '-t', '0']], env: { BERTH_HOST: host } },
    ];
    const dockerHost = process.env.DOCKER_HOST;
    if (dockerHost && existsSync('/usr/bin/docker-compose') && spawnSync('docker', ['image', 'inspect', 'busybox'], { encoding: 'utf8' }).status === 0) {
      engines.push({ name: 'docker', up: ['/usr/bin/docker-compose', ['-f', file, '-p', 'bench', 'up', '-d']], down: ['/usr/bin/docker-compose', ['-f', file, '-p', 'bench', 'down', '-t', '0']], env: { DOCKER_HOST: dockerHost } });
    }
    const results: Record<string, { up: number; down: number }> = {};
    for (const e of engines) {
      const up: number[] = [];
      const down: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        up.push(timed(e.up[0], e.up[1], e.env));
        down.push(timed(e.down[0], e.down[1], e.env));
      }
      results[e.name] = { up: median(up), down: median(down) };
    }
    console.log(`medians over ${RUNS} runs, 5 services:`);
    for (const k of ['up', 'down'] as const) {
      const b = results.berth![k];
      const d = results.docker?.[k];
      console.log(`  ${k.padEnd(5)} berth ${(b / 1000).toFixed(2)} s${d !== undefined ? `   docker-compose/docker ${(d / 1000).toFixed(2)} s   ratio ${(b / d).toFixed(2)}×` : ''}`);
    }
  } finally {
    await daemon.stop();
  }
}

void main().catch((err) => {
  console.error(err);
  process.exit(1);
});
