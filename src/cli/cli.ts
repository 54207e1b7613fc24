// What every command shares: its definition shape, the context it runs in, and docker's way of
// reporting errors and exit statuses.
import type { Client } from '../client/index.ts';
import { FlagError, parseArgs, renderFlagHelp, type FlagSpec, type Flags } from './flags.ts';
import { limiter } from '../core/limit.ts';

export interface Context {
  /** The API client (created on first use, so `--help` never touches the daemon). */
  readonly client: Client;
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
  readonly stdin: NodeJS.ReadStream;
  readonly env: NodeJS.ProcessEnv;
  out(text: string): void;
  err(text: string): void;
}

export interface CommandSpec {
  /** The command path after `berth`, e.g. `run` or `container prune`. */
  name: string;
  /** Usage after the command path, e.g. `[OPTIONS] IMAGE [COMMAND] [ARG...]`. */
  usage: string;
  summary: string;
  aliases?: string[];
  flags: FlagSpec[];
  /** False stops flag parsing at the first argument (everything after is passed through). */
  interspersed?: boolean;
  minArgs?: number;
  maxArgs?: number;
  run(ctx: Context, flags: Flags, args: string[]): Promise<number>;
  /** Commands that parse their own argv (run, create). */
  runRaw?(ctx: Context, argv: string[]): Promise<number>;
}

/** An error printed as it is, with a chosen exit status. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

export function usageLine(spec: CommandSpec): string {
  return `Usage:  berth ${spec.name} ${spec.usage}`.trimEnd();
}

export function renderHelp(spec: CommandSpec): string {
  const parts = [`${usageLine(spec)}\n`, `${spec.summary}\n`];
  if (spec.aliases && spec.aliases.length > 0) parts.push(`Aliases:\n  ${spec.aliases.join(', ')}\n`);
  parts.push(`Options:\n${renderFlagHelp(spec.flags)}\n`);
  return parts.join('\n');
}

/** The argument-count error, worded as docker's; `see` marks the ones docker ends with "See ...". */
export function checkArgCount(spec: CommandSpec, args: readonly string[]): { message: string; see: boolean } | undefined {
  const { minArgs = 0, maxArgs = Number.POSITIVE_INFINITY } = spec;
  const plural = (n: number): string => `${n} argument${n === 1 ? '' : 's'}`;
  const name = `'berth ${spec.name}'`;
  if (args.length >= minArgs && args.length <= maxArgs) return undefined;
  if (maxArgs === 0) return { message: `${name} accepts no arguments`, see: false };
  if (minArgs === maxArgs) return { message: `${name} requires ${plural(minArgs)}`, see: false };
  if (maxArgs === Number.POSITIVE_INFINITY) return { message: `${name} requires at least ${plural(minArgs)}`, see: true };
  if (minArgs === 0) return { message: `${name} requires at most ${plural(maxArgs)}`, see: false };
  return { message: `${name} requires at least ${minArgs} and at most ${plural(maxArgs)}`, see: false };
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Daemon errors read `Error response from daemon: <message>`, like docker's. */
export function daemonErrorText(err: unknown): string {
  if (err instanceof Error && err.name === 'ApiError') return `Error response from daemon: ${err.message}`;
  return errorText(err);
}

/**
 * Runs `fn` for each target, printing what `fn` returns (the name, by default) on success and
 * each failure on stderr; the status is 1 when any failed. docker's rm/stop/kill/start shape.
 */
export async function forEachTarget(
  ctx: Context,
  targets: readonly string[],
  fn: (target: string) => Promise<string | undefined | void>,
  opts: { parallel?: number } = {},
): Promise<number> {
  // As docker's CLI: several at once where it does so (rm, stop, kill, pause), results printed in
  // the order the targets were given.
  const limit = limiter(Math.max(1, opts.parallel ?? 1));
  const results = targets.map((target) =>
    limit(async () => {
      try {
        return { ok: true as const, printed: await fn(target) };
      } catch (err) {
        return { ok: false as const, err };
      }
    }),
  );
  const errors: string[] = [];
  for (let i = 0; i < targets.length; i++) {
    const r = await results[i]!;
    if (r.ok) {
      if (r.printed === undefined) ctx.out(`${targets[i]}\n`);
      else if (r.printed !== '') ctx.out(`${r.printed}\n`);
    } else {
      if (r.err instanceof Error && r.err.name === 'DaemonUnreachableError') throw r.err;
      errors.push(daemonErrorText(r.err));
    }
  }
  if (errors.length > 0) {
    ctx.err(`${errors.join('\n')}\n`);
    return 1;
  }
  return 0;
}

/** How many containers docker's CLI removes, stops, kills or pauses at once. */
export const PARALLEL_TARGETS = 50;

/** A path component for the API: names and IDs go in as they are, escaped. */
export function seg(s: string): string {
  return encodeURIComponent(s);
}

/** Runs one command with docker's error reporting and exit statuses. */
export async function runCommand(spec: CommandSpec, ctx: Context, argv: string[]): Promise<number> {
  try {
    if (spec.runRaw) return await spec.runRaw(ctx, argv);
    const { flags, args, help } = parseArgs(argv, spec.flags, { interspersed: spec.interspersed ?? true });
    if (help) {
      ctx.out(renderHelp(spec));
      return 0;
    }
    const countError = checkArgCount(spec, args);
    if (countError) {
      const hint = countError.see ? 'See' : 'Run';
      ctx.err(`berth: ${countError.message}\n\n${usageLine(spec)}\n\n${hint} 'berth ${spec.name} --help' for more information\n`);
      return 1;
    }
    return await spec.run(ctx, flags, args);
  } catch (err) {
    if (err instanceof FlagError) {
      if (err.exitCode === 1) {
        ctx.err(`berth: ${err.message}\n\n${usageLine(spec)}\n\nSee 'berth ${spec.name} --help' for more information\n`);
      } else {
        ctx.err(`${err.message}\n\n${usageLine(spec)}\n\nRun 'berth ${spec.name} --help' for more information\n`);
      }
      return err.exitCode;
    }
    if (err instanceof CliError) {
      if (err.message !== '') ctx.err(`${err.message}\n`);
      return err.exitCode;
    }
    ctx.err(`${daemonErrorText(err)}\n`);
    return 1;
  }
}

