// What the benchmarks share: medians and timed commands.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmdirSync } from 'node:fs';

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
