// POST /build (Docker's classic builder protocol) and POST /build/prune.
import { lstatSync } from 'node:fs';
import type { Router } from '../server/index.ts';
import { qBool, sendJson, startJsonStream, type Ctx } from '../server/http.ts';
import { invalidParameter, messageOf } from '../../core/errors.ts';
import { StepFailed, type BuildMessage, type BuildOptions } from '../../engine/build/builder.ts';
import { checkRemote } from '../../engine/build/remote.ts';
import type { Deps } from './deps.ts';

function jsonParam<T extends Record<string, unknown>>(ctx: Ctx, name: string): T {
  const raw = ctx.query.get(name);
  if (raw === null || raw === '') return {} as T;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw invalidParameter(`invalid ${name}: not a JSON object`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalidParameter(`invalid ${name}: not a JSON object`);
  return v as T;
}

/** A header holding base64 of a JSON object (berth's CLI → its daemon); undefined when absent. */
function headerObject(ctx: Ctx, name: string): Record<string, unknown> | undefined {
  const raw = ctx.req.headers[name];
  if (raw === undefined || raw === '') return undefined;
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(String(raw), 'base64').toString('utf8'));
  } catch {
    v = undefined;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalidParameter(`invalid ${name} header: not base64 of a JSON object`);
  return v as Record<string, unknown>;
}

/**
 * `--secret` values travel from berth's CLI in one header, `X-Berth-Build-Secrets`: base64 of a
 * JSON object mapping each id to its base64 value. (Docker's classic protocol has no place for
 * them; BuildKit sends them over its session.) Never logged, never written to disk.
 */
export const SECRETS_HEADER = 'x-berth-build-secrets';

function buildSecrets(ctx: Ctx): Map<string, Buffer> | undefined {
  const v = headerObject(ctx, SECRETS_HEADER);
  if (!v) return undefined;
  const out = new Map<string, Buffer>();
  for (const [id, value] of Object.entries(v)) {
    if (typeof value !== 'string' || id === '') throw invalidParameter(`invalid ${SECRETS_HEADER} header: secret ${JSON.stringify(id)} is not a base64 string`);
    out.set(id, Buffer.from(value, 'base64'));
  }
  return out;
}

/**
 * `--ssh` agents travel as paths of sockets on this host in `X-Berth-Build-Ssh` (base64 of a JSON
 * object id → path): the agent is bind-mounted for the RUN steps that ask. Only a client on the
 * daemon's host can name one; a path that is not a socket is refused.
 */
export const SSH_HEADER = 'x-berth-build-ssh';

function buildSsh(ctx: Ctx): Map<string, string> | undefined {
  const v = headerObject(ctx, SSH_HEADER);
  if (!v) return undefined;
  const out = new Map<string, string>();
  for (const [id, path] of Object.entries(v)) {
    if (typeof path !== 'string' || !path.startsWith('/')) throw invalidParameter(`invalid ${SSH_HEADER} header: ssh ${JSON.stringify(id)} needs an absolute socket path`);
    let isSocket = false;
    try {
      isSocket = lstatSync(path).isSocket();
    } catch {
      isSocket = false;
    }
    if (!isSocket) throw invalidParameter(`ssh agent ${JSON.stringify(id)}: ${path} is not a socket on the daemon's host (agents are forwarded only when berth and berthd share a host)`);
    out.set(id, path);
  }
  return out;
}

export function registerBuild(r: Router, d: Deps): void {
  r.on('POST', '/build', async (ctx) => {
    const tags = ctx.query.getAll('t').filter((t) => t !== '');
    const buildArgs = jsonParam<Record<string, string | null>>(ctx, 'buildargs');
    for (const [k, v] of Object.entries(buildArgs)) if (v !== null && typeof v !== 'string') throw invalidParameter(`invalid buildargs: ${k} must be a string`);
    const labels = jsonParam<Record<string, string>>(ctx, 'labels');
    const secrets = buildSecrets(ctx);
    const ssh = buildSsh(ctx);
    const ac = new AbortController();
    ctx.res!.on('close', () => {
      if (!ctx.res!.writableFinished) ac.abort(new Error('client disconnected'));
    });
    const opts: BuildOptions = {
      context: ctx.req,
      dockerfile: ctx.query.get('dockerfile') ?? 'Dockerfile',
      tags,
      buildArgs,
      labels,
      noCache: qBool(ctx, 'nocache'),
      pull: qBool(ctx, 'pull'),
      quiet: qBool(ctx, 'q'),
      rm: qBool(ctx, 'rm', true),
      forceRm: qBool(ctx, 'forcerm'),
      signal: ac.signal,
    };
    const target = ctx.query.get('target');
    if (target) opts.target = target;
    const net = ctx.query.get('networkmode');
    if (net) opts.networkMode = net;
    if (secrets) opts.secrets = secrets;
    if (ssh) opts.ssh = ssh;
    const remote = ctx.query.get('remote');
    if (remote) {
      checkRemote(remote);
      opts.remote = remote;
    }
    let out: ReturnType<typeof startJsonStream> | undefined;
    const send = (m: BuildMessage): void => {
      out ??= startJsonStream(ctx);
      out.send(m);
    };
    try {
      await d.builder.build(opts, send);
    } catch (err) {
      // Docker answers errors found before any output (a bad Dockerfile) as a plain error response.
      if (out === undefined) throw err;
      const code = err instanceof StepFailed ? err.code : undefined;
      send({ errorDetail: { ...(code !== undefined ? { code } : {}), message: messageOf(err) }, error: messageOf(err) });
    }
    (out ?? startJsonStream(ctx)).end();
  });

  r.on('POST', '/build/prune', async (ctx) => {
    sendJson(ctx, 200, await d.builder.prune({ all: qBool(ctx, 'all') }));
  });
}
