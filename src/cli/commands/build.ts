// berth build: sends the context as a tar (minus what .dockerignore excludes) to POST /build and
// shows the daemon's step output.
import { lstatSync, readFileSync, readdirSync, readlinkSync, writeFileSync, existsSync } from 'node:fs';
import { basename, join, relative, resolve, isAbsolute } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { packEntries, type PackEntry } from '../../adapters/tar/index.ts';
import { compileIgnore, dockerignoreNameFor } from '../../dockerfile/index.ts';
import { CliError, type CommandSpec, type Context } from '../cli.ts';
import { BuildView } from '../build-view.ts';

interface Msg {
  stream?: string;
  aux?: { ID?: string };
  error?: string;
  errorDetail?: { code?: number; message?: string };
}

const SMALL = 256 * 1024;

function* walk(root: string, rel: string, ignored: (p: string) => boolean, keep: Set<string>): Generator<PackEntry> {
  const dir = join(root, rel);
  for (const name of readdirSync(dir).sort()) {
    const r = rel === '' ? name : `${rel}/${name}`;
    const st = lstatSync(join(root, r));
    if (ignored(r) && !keep.has(r)) {
      // An excluded directory may still hold re-included files (`!` patterns): look inside.
      if (!st.isDirectory()) continue;
      const inner = [...walk(root, r, ignored, keep)];
      if (inner.length === 0) continue;
      yield { name: r, type: 'directory', mode: st.mode & 0o7777, mtime: st.mtime };
      yield* inner;
      continue;
    }
    const base = { name: r, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime };
    if (st.isDirectory()) {
      yield { ...base, type: 'directory' };
      yield* walk(root, r, ignored, keep);
    } else if (st.isSymbolicLink()) yield { ...base, type: 'symlink', linkname: readlinkSync(join(root, r)) };
    // Small files are read at once: a stream per file costs more than the file.
    else if (st.isFile()) yield { ...base, type: 'file', content: st.size <= SMALL ? readFileSync(join(root, r)) : { path: join(root, r), size: st.size } };
  }
}

/** The context directory as a tar, without what .dockerignore excludes (the Dockerfile always in). */
export function packContext(root: string, dockerfile: string, extra?: PackEntry): NodeJS.ReadableStream {
  const ignoreFile = [dockerignoreNameFor(dockerfile), '.dockerignore'].map((n) => join(root, n)).find((p) => existsSync(p));
  const matcher = compileIgnore(ignoreFile ? readFileSync(ignoreFile, 'utf8') : '');
  const keep = new Set([dockerfile, '.dockerignore', dockerignoreNameFor(dockerfile)]);
  const entries = (function* () {
    yield* walk(root, '', (p) => matcher.ignores(p), keep);
    if (extra) yield extra;
  })();
  return packEntries(entries);
}

/** A build context for compose: `dockerfile` relative to the context directory. */
export function contextTar(root: string, dockerfile: string, _ctx: Context): { body: NodeJS.ReadableStream; dockerfile: string } {
  const abs = isAbsolute(dockerfile) ? dockerfile : join(root, dockerfile);
  const rel = relative(root, abs);
  if (rel.startsWith('..') || isAbsolute(rel)) {
    const name = `.dockerfile.${randomBytes(10).toString('hex')}`;
    return { body: packContext(root, name, { name, type: 'file', mode: 0o600, content: readFileSync(abs) }), dockerfile: name };
  }
  if (!existsSync(abs)) throw new CliError(`failed to solve: failed to read dockerfile: open ${abs}: no such file or directory`, 1);
  return { body: packContext(root, rel), dockerfile: rel };
}

export const command: CommandSpec = {
  name: 'build',
  usage: '[OPTIONS] PATH | -',
  summary: 'Build an image from a Dockerfile',
  aliases: ['berth image build', 'berth build', 'berth builder build'],
  flags: [
    { long: 'build-arg', type: 'list', help: 'Set build-time variables' },
    { long: 'file', short: 'f', type: 'string', help: "Name of the Dockerfile (Default is 'PATH/Dockerfile')" },
    { long: 'force-rm', type: 'bool', help: 'Always remove intermediate containers' },
    { long: 'iidfile', type: 'string', help: 'Write the image ID to the file' },
    { long: 'label', type: 'list', help: 'Set metadata for an image' },
    { long: 'network', type: 'string', help: 'Set the networking mode for the RUN instructions during build' },
    { long: 'no-cache', type: 'bool', help: 'Do not use cache when building the image' },
    { long: 'progress', type: 'string', help: 'Set type of progress output ("auto", "tty": a compact view on a terminal, "plain": the classic builder\'s full text)' },
    { long: 'pull', type: 'bool', help: 'Always attempt to pull a newer version of the image' },
    { long: 'quiet', short: 'q', type: 'bool', help: 'Suppress the build output and print image ID on success' },
    { long: 'ssh', type: 'list', help: 'SSH agent socket to expose to RUN --mount=type=ssh (format: "default|<id>[=<socket>]"; berth and berthd on one host)' },
    { long: 'secret', type: 'list', help: 'Secret to expose to RUN --mount=type=secret (format: "id=mysecret[,src=/local/secret]" or "id=mysecret,env=VAR")' },
    { long: 'rm', type: 'bool', help: 'Remove intermediate containers after a successful build (default true)' },
    { long: 'tag', short: 't', type: 'list', help: "Name and optionally a tag in the 'name:tag' format" },
    { long: 'target', type: 'string', help: 'Set the target build stage to build.' },
  ],
  minArgs: 1,
  maxArgs: 1,
  async run(ctx, flags, args) {
    const where = args[0]!;
    let body: NodeJS.ReadableStream;
    let dockerfile = flags.changed('file') ? flags.string('file') : 'Dockerfile';
    // A URL or Git repository is fetched by the daemon: nothing to send.
    const remote = /^(https?:\/\/|git:\/\/|git@|github\.com\/)/.test(where) ? where : undefined;
    if (remote !== undefined) {
      body = Readable.from([]);
    } else if (where === '-') {
      if (dockerfile === '-') throw new CliError('invalid argument: can\'t use stdin for both build context and dockerfile', 1);
      body = ctx.stdin;
    } else {
      const root = resolve(where);
      if (!existsSync(root) || !lstatSync(root).isDirectory()) throw new CliError(`unable to prepare context: path "${where}" not found`, 1);
      let extra: PackEntry | undefined;
      if (dockerfile === '-') {
        // A Dockerfile from stdin travels inside the context under a name of its own.
        let text = '';
        for await (const c of ctx.stdin) text += c.toString();
        dockerfile = `.dockerfile.${randomBytes(10).toString('hex')}`;
        extra = { name: dockerfile, type: 'file', mode: 0o600, content: Buffer.from(text) };
      } else {
        const abs = isAbsolute(dockerfile) ? dockerfile : join(root, dockerfile);
        const rel = relative(root, abs);
        if (rel.startsWith('..') || isAbsolute(rel)) {
          // A Dockerfile outside the context is sent inside it, as docker does.
          if (!existsSync(abs)) throw new CliError(`unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat ${abs}: no such file or directory`, 1);
          const name = `.dockerfile.${randomBytes(10).toString('hex')}`;
          extra = { name, type: 'file', mode: 0o600, content: readFileSync(abs) };
          dockerfile = name;
        } else {
          if (!existsSync(abs)) throw new CliError(`unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat ${abs}: no such file or directory`, 1);
          dockerfile = rel;
        }
      }
      body = packContext(root, dockerfile, extra);
    }
    const query: Record<string, string | string[] | undefined> = {
      t: flags.list('tag'),
      dockerfile,
      q: flags.bool('quiet') ? '1' : undefined,
      nocache: flags.bool('no-cache') ? '1' : undefined,
      pull: flags.bool('pull') ? '1' : undefined,
      rm: flags.changed('rm') && !flags.bool('rm') ? '0' : '1',
      forcerm: flags.bool('force-rm') ? '1' : undefined,
      target: flags.changed('target') ? flags.string('target') : undefined,
      networkmode: flags.changed('network') ? flags.string('network') : undefined,
      remote,
    };
    const buildArgs: Record<string, string> = {};
    for (const a of flags.list('build-arg')) {
      const eq = a.indexOf('=');
      if (eq > 0) buildArgs[a.slice(0, eq)] = a.slice(eq + 1);
      else if (ctx.env[a] !== undefined) buildArgs[a] = ctx.env[a]!;
    }
    if (Object.keys(buildArgs).length > 0) query['buildargs'] = JSON.stringify(buildArgs);
    const labels: Record<string, string> = {};
    for (const l of flags.list('label')) {
      const eq = l.indexOf('=');
      labels[eq > 0 ? l.slice(0, eq) : l] = eq > 0 ? l.slice(eq + 1) : '';
    }
    if (Object.keys(labels).length > 0) query['labels'] = JSON.stringify(labels);
    const headers: Record<string, string> = { 'Content-Type': 'application/x-tar' };
    const secrets = readSecrets(flags.list('secret'), ctx.env);
    if (secrets) headers['X-Berth-Build-Secrets'] = secrets;
    const ssh = readSsh(flags.list('ssh'), ctx.env);
    if (ssh) headers['X-Berth-Build-Ssh'] = ssh;
    const mode = flags.changed('progress') ? flags.string('progress') : 'auto';
    if (!['auto', 'tty', 'plain', 'quiet'].includes(mode)) throw new CliError(`invalid --progress value ${JSON.stringify(mode)}: auto, tty, plain or quiet`, 1);
    const view = !flags.bool('quiet') && mode !== 'plain' && mode !== 'quiet' && ctx.stdout.isTTY === true ? new BuildView(ctx.stdout as NodeJS.WriteStream) : undefined;
    const id = await show(ctx, ctx.client.streamJsonLines('/build', { method: 'POST', query, body: body as never, headers }), view);
    if (flags.changed('iidfile') && id) writeFileSync(flags.string('iidfile'), id);
    return 0;
  },
};

/** `--ssh default` ($SSH_AUTH_SOCK) or `--ssh id=/path/to/agent.sock`: the agents' socket paths, for the daemon. */
export function readSsh(specs: string[], env: Record<string, string | undefined>): string | undefined {
  if (specs.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    const id = eq < 0 ? spec : spec.slice(0, eq);
    let path = eq < 0 ? (env.SSH_AUTH_SOCK ?? '') : spec.slice(eq + 1);
    if (id === '') throw new CliError(`invalid --ssh ${JSON.stringify(spec)}: expected default|<id>[=<socket>]`, 1);
    if (path === '') throw new CliError(`--ssh ${id}: SSH_AUTH_SOCK is not set; name the agent's socket: --ssh ${id}=/path/to/agent.sock`, 1);
    if (path.includes(',')) throw new CliError(`--ssh ${id}: key files are not supported, only an agent's socket`, 1);
    path = resolve(path);
    let socket = false;
    try {
      socket = lstatSync(path).isSocket();
    } catch {
      socket = false;
    }
    if (!socket) throw new CliError(`--ssh ${id}: ${path} is not a socket (key files are not supported, only an agent's socket)`, 1);
    out[id] = path;
  }
  return Buffer.from(JSON.stringify(out)).toString('base64');
}

const MAX_SECRETS = 160 << 10;

/**
 * `--secret id=x[,src=file]`, `id=x,env=VAR` (buildx's forms; `type=file|env` accepted): the
 * values, encoded for the daemon's secrets header. With neither src nor env, the environment
 * variable named like the id is used when set, else the file named like it.
 */
export function readSecrets(specs: string[], env: Record<string, string | undefined>): string | undefined {
  if (specs.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const spec of specs) {
    const f: Record<string, string> = {};
    for (const part of spec.split(',')) {
      const eq = part.indexOf('=');
      if (eq <= 0) throw new CliError(`invalid secret ${JSON.stringify(spec)}: expected key=value fields`, 1);
      const k = part.slice(0, eq).trim().toLowerCase();
      if (!['id', 'src', 'source', 'env', 'type', 'required'].includes(k)) throw new CliError(`unexpected key '${k}' in '${part}'`, 1);
      f[k === 'source' ? 'src' : k] = part.slice(eq + 1);
    }
    const type = f.type ?? '';
    if (type !== '' && type !== 'file' && type !== 'env') throw new CliError(`unsupported secret type ${JSON.stringify(type)}`, 1);
    const id = f.id ?? (type === 'env' ? f.env : f.src ? basename(f.src) : undefined);
    if (!id) throw new CliError(`invalid secret ${JSON.stringify(spec)}: id= is required`, 1);
    let value: Buffer;
    const fromEnv = type === 'env' ? (f.env ?? f.src ?? id) : f.env;
    if (fromEnv !== undefined) {
      const v = env[fromEnv];
      if (v === undefined) throw new CliError(`secret ${id}: environment variable ${fromEnv} is not set`, 1);
      value = Buffer.from(v);
    } else {
      const file = f.src ?? (type !== 'file' && env[id] !== undefined ? undefined : id);
      if (file === undefined) value = Buffer.from(env[id]!);
      else {
        try {
          value = readFileSync(file);
        } catch (err) {
          throw new CliError(`secret ${id}: ${(err as Error).message}`, 1);
        }
      }
    }
    out[id] = value.toString('base64');
  }
  const header = Buffer.from(JSON.stringify(out)).toString('base64');
  if (header.length > MAX_SECRETS) throw new CliError(`secrets too large: ${header.length} bytes encoded (at most ${MAX_SECRETS})`, 1);
  return header;
}

async function show(ctx: Context, messages: AsyncIterable<unknown>, view?: BuildView): Promise<string | undefined> {
  let id: string | undefined;
  try {
    for await (const raw of messages) {
      const m = (raw ?? {}) as Msg;
      if (m.error !== undefined || m.errorDetail !== undefined) {
        const code = m.errorDetail?.code;
        throw new CliError(m.errorDetail?.message ?? m.error ?? 'build failed', code !== undefined && code > 0 && code < 256 ? code : 1);
      }
      if (m.aux?.ID) id = m.aux.ID;
      if (m.stream !== undefined) {
        if (view) view.feed(m.stream);
        else ctx.out(m.stream);
      }
    }
  } catch (err) {
    view?.finish(true);
    throw err;
  }
  view?.finish(false);
  return id;
}

