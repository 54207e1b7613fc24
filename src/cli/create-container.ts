// Creating a container as `docker run`/`docker create` do: pull a missing image when the policy
// allows, then POST /containers/create.
import { parseReference } from '../core/reference.ts';
import { registryAuthHeader } from './credentials.ts';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { ApiError } from '../client/index.ts';
import { CliError, errorText, type Context } from './cli.ts';
import { FlagError } from './flags.ts';
import { createBody, parseRunOptions, RunOptionsError, type RunOptions, type RunParse } from './run-options.ts';

/** `busybox` → `busybox:latest`; references with a tag or digest are kept. */
export function normalizeReference(ref: string): { name: string; tag: string; full: string } {
  const at = ref.indexOf('@');
  if (at >= 0) return { name: ref.slice(0, at), tag: ref.slice(at + 1), full: ref };
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) return { name: ref.slice(0, colon), tag: ref.slice(colon + 1), full: ref };
  return { name: ref, tag: 'latest', full: `${ref}:latest` };
}

/** Streams POST /images/create progress to stderr, as docker's non-TTY output; throws on a pull error. */
export async function pullImage(ctx: Context, ref: string, platform?: string, quiet = false): Promise<void> {
  const at = ref.indexOf('@');
  const { name, tag } = at >= 0 ? { name: ref.slice(0, at), tag: ref.slice(at + 1) } : normalizeReference(ref);
  const query: Record<string, string> = { fromImage: name, tag };
  if (platform) query['platform'] = platform;
  let host = 'docker.io';
  try {
    host = parseReference(ref).domain;
  } catch {
    // The daemon answers an invalid reference with its own error.
  }
  const headers = { 'X-Registry-Auth': registryAuthHeader(ctx.env, host) };
  for await (const msg of ctx.client.streamJsonLines('/images/create', { method: 'POST', query, headers })) {
    if (msg === null || typeof msg !== 'object') continue;
    const m = msg as { status?: string; id?: string; error?: string; errorDetail?: { message?: string }; progress?: string };
    if (m.error || m.errorDetail) throw new ApiError(500, m.errorDetail?.message ?? m.error ?? 'pull failed');
    if (m.status && !m.progress && !quiet) ctx.err(m.id ? `${m.id}: ${m.status}\n` : `${m.status}\n`);
  }
}

/** A start/create failure's exit status, as docker picks it from the message. */
export function startErrorStatus(message: string): number {
  if (/executable file not found|no such file or directory|system cannot find the file specified/i.test(message)) return 127;
  if (/permission denied/i.test(message)) return 126;
  return 125;
}

export function parseForCommand(ctx: Context, argv: string[], command: 'run' | 'create'): RunParse {
  return parseRunOptions(argv, {
    command,
    env: ctx.env,
    readFile: (path) => {
      try {
        return readFileSync(path, 'utf8');
      } catch (err) {
        throw new RunOptionsError(`open ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : errorText(err)}`);
      }
    },
  });
}

/** docker's `docker: <message>` + hint, exit 125 (or 126/127 for a missing or unrunnable command). */
export function runFailure(command: 'run' | 'create', err: unknown): never {
  if (err instanceof FlagError || err instanceof CliError) throw err;
  if (err instanceof RunOptionsError) throw new CliError(`berth: ${err.message}\n\nRun 'berth ${command} --help' for more information`, 125);
  if (err instanceof Error && err.name === 'DaemonUnreachableError') throw new CliError(err.message, 1);
  const text = err instanceof ApiError ? `Error response from daemon: ${err.message}` : errorText(err);
  throw new CliError(`berth: ${text}\n\nRun 'berth ${command} --help' for more information`, err instanceof ApiError ? startErrorStatus(err.message) : 125);
}

/** Creates the container (pulling first if needed); returns its ID. */
export async function createContainer(ctx: Context, opts: RunOptions): Promise<string> {
  const query: Record<string, string> = {};
  if (opts.name !== undefined) query['name'] = opts.name;
  if (opts.platform !== undefined) query['platform'] = opts.platform;
  const body = createBody(opts);
  // --cidfile refuses a file that is there already, before anything is made (as docker does).
  if (opts.cidfile !== undefined && existsSync(opts.cidfile)) throw new CliError(`container ID file found, make sure the other container isn't running or delete ${opts.cidfile}`, 125);
  if (opts.pull === 'always') await pullImage(ctx, opts.image, opts.platform, opts.quiet);
  const create = (): Promise<{ Id: string; Warnings?: string[] | null }> => ctx.client.json('POST', '/containers/create', { query, body });
  let res: { Id: string; Warnings?: string[] | null };
  try {
    res = await create();
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 404 || !/no such image/i.test(err.message) || opts.pull !== 'missing') throw err;
    if (!opts.quiet) ctx.err(`Unable to find image '${normalizeReference(opts.image).full}' locally\n`);
    await pullImage(ctx, opts.image, opts.platform, opts.quiet);
    res = await create();
  }
  for (const w of res.Warnings ?? []) ctx.err(`WARNING: ${w}\n`);
  if (opts.cidfile !== undefined) writeFileSync(opts.cidfile, res.Id, { flag: 'wx' });
  return res.Id;
}
