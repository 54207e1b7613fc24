// Health checks run by berthd itself: the image's or container's HEALTHCHECK, run in the
// container on an interval, with Docker's defaults, states and events.
import type { OciRuntime } from '../../core/ports.ts';
import type { HealthConfig, HealthState } from '../../core/types.ts';
import { messageOf } from '../../core/errors.ts';
import type { ContainerRecord } from './record.ts';

const NS = 1_000_000;
const DEFAULT_INTERVAL_MS = 30_000;
const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_RETRIES = 3;
const LOG_KEEP = 5;
const OUTPUT_MAX = 4096;

/** The argv a check runs, or undefined when the container has no (or a disabled) check. */
export function healthArgv(hc: HealthConfig | undefined): string[] | undefined {
  const test = hc?.Test;
  if (!test || test.length === 0 || test[0] === 'NONE') return undefined;
  if (test[0] === 'CMD-SHELL') return test[1] ? ['/bin/sh', '-c', test[1]] : undefined;
  if (test[0] === 'CMD') return test.length > 1 ? test.slice(1) : undefined;
  return undefined;
}

export interface HealthOptions {
  runtimeOf(rec: ContainerRecord): OciRuntime;
  save(rec: ContainerRecord): Promise<void>;
  emit(rec: ContainerRecord, status: 'healthy' | 'unhealthy'): void;
}

export class HealthMonitor {
  readonly #o: HealthOptions;
  readonly #timers = new Map<string, { timer: NodeJS.Timeout; abort: AbortController }>();

  constructor(opts: HealthOptions) {
    this.#o = opts;
  }

  /** Starts checking a running container; a fresh start resets its health to "starting". */
  start(rec: ContainerRecord, opts: { fresh: boolean }): void {
    this.stop(rec.Id);
    const argv = healthArgv(rec.Config.Healthcheck);
    if (!argv) {
      delete rec.State.Health;
      return;
    }
    if (opts.fresh || !rec.State.Health) rec.State.Health = { Status: 'starting', FailingStreak: 0, Log: [] };
    const hc = rec.Config.Healthcheck ?? {};
    const interval = hc.Interval ? hc.Interval / NS : DEFAULT_INTERVAL_MS;
    const startedAt = Date.parse(rec.State.StartedAt);
    const abort = new AbortController();
    const tick = (): void => {
      void this.#check(rec, argv, startedAt, abort.signal).finally(() => {
        const entry = this.#timers.get(rec.Id);
        if (entry && !abort.signal.aborted) entry.timer = setTimeout(tick, interval).unref();
      });
    };
    this.#timers.set(rec.Id, { timer: setTimeout(tick, interval).unref(), abort });
  }

  stop(id: string): void {
    const e = this.#timers.get(id);
    if (!e) return;
    clearTimeout(e.timer);
    e.abort.abort();
    this.#timers.delete(id);
  }

  stopAll(): void {
    for (const id of [...this.#timers.keys()]) this.stop(id);
  }

  async #check(rec: ContainerRecord, argv: string[], startedAt: number, signal: AbortSignal): Promise<void> {
    const hc = rec.Config.Healthcheck ?? {};
    const timeout = hc.Timeout ? hc.Timeout / NS : DEFAULT_TIMEOUT_MS;
    const retries = hc.Retries && hc.Retries > 0 ? hc.Retries : DEFAULT_RETRIES;
    const startPeriod = hc.StartPeriod ? hc.StartPeriod / NS : 0;
    const start = new Date();
    let exitCode: number;
    let output: string;
    const t = AbortSignal.timeout(timeout);
    try {
      const r = await this.#o.runtimeOf(rec).exec(rec.Id, argv, { signal: AbortSignal.any([t, signal]) });
      exitCode = r.exitCode;
      output = r.output;
    } catch (err) {
      if (signal.aborted) return;
      exitCode = -1;
      output = t.aborted ? `Health check exceeded timeout (${timeout / 1000}s)` : messageOf(err);
    }
    const health: HealthState = rec.State.Health ?? { Status: 'starting', FailingStreak: 0, Log: [] };
    health.Log = [...health.Log, { Start: start.toISOString(), End: new Date().toISOString(), ExitCode: exitCode, Output: output.slice(0, OUTPUT_MAX) }].slice(-LOG_KEEP);
    const before = health.Status;
    if (exitCode === 0) {
      health.FailingStreak = 0;
      health.Status = 'healthy';
    } else if (Date.now() - startedAt >= startPeriod || before !== 'starting') {
      // Failures during the start period do not count, as in Docker.
      health.FailingStreak++;
      if (health.FailingStreak >= retries) health.Status = 'unhealthy';
    }
    rec.State.Health = health;
    if (rec.State.Status !== 'running') return;
    await this.#o.save(rec).catch(() => {});
    if (health.Status !== before && (health.Status === 'healthy' || health.Status === 'unhealthy')) this.#o.emit(rec, health.Status);
  }
}
