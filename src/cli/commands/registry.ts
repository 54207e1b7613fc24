// berth registry serve | gc: berth's own OCI distribution registry. It runs in the foreground,
// on its own storage root, and needs no berthd.
import { readFile } from 'node:fs/promises';
import { CliError, type CommandSpec, type Context } from '../cli.ts';
import { FlagError, type Flags } from '../flags.ts';

export const DEFAULT_REGISTRY_ROOT = '/var/lib/berth-registry';

type RegistryModule = typeof import('../../registry/index.ts');

async function takeRoot(reg: RegistryModule, root: string, what: string, opts: { readOnly?: boolean; besideReadOnly?: boolean } = {}): Promise<() => Promise<void>> {
  try {
    return await reg.lockRoot(root, opts.readOnly === undefined ? {} : { readOnly: opts.readOnly });
  } catch (err) {
    if (!(err instanceof reg.RootLockedError)) throw err;
    // Beside a read-only server nothing changes under gc; beside a writable one a push could lose its blobs.
    if (opts.besideReadOnly && err.holder.readOnly) return async () => {};
    throw new CliError(`${what}: ${err.message}${opts.besideReadOnly ? '; stop it, or restart it with --read-only, first' : ''}`);
  }
}

export const serve: CommandSpec = {
  name: 'registry serve',
  usage: '[OPTIONS]',
  summary: 'Run an OCI distribution registry in the foreground',
  flags: [
    { long: 'addr', type: 'string', help: 'Address to listen on (host:port; ":5000" for all interfaces)', default: '127.0.0.1:5000' },
    { long: 'root', type: 'string', help: 'Storage directory', default: DEFAULT_REGISTRY_ROOT },
    { long: 'htpasswd', type: 'string', help: 'Require HTTP Basic auth against this htpasswd file (bcrypt entries)' },
    { long: 'realm', type: 'string', help: 'Realm of the Basic auth challenge', default: 'berth-registry' },
    { long: 'tls-cert', type: 'string', help: 'Serve HTTPS with this PEM certificate (chain)' },
    { long: 'tls-key', type: 'string', help: 'PEM private key of --tls-cert' },
    { long: 'read-only', type: 'bool', help: 'Refuse pushes and deletes' },
    { long: 'log-level', type: 'string', help: 'Log level ("debug", "info", "warn", "error")', default: 'info' },
  ],
  maxArgs: 0,
  async run(ctx, flags) {
    const reg = await import('../../registry/index.ts');
    const root = flags.string('root');
    const unlock = await takeRoot(reg, root, 'registry serve', { readOnly: flags.bool('read-only') });
    try {
      return await runServer(reg, ctx, flags, root);
    } finally {
      await unlock();
    }
  },
};

async function runServer(reg: RegistryModule, ctx: Context, flags: Flags, root: string): Promise<number> {
  const level = flags.string('log-level');
  if (!reg.isLogLevel(level)) throw new FlagError(`invalid log level: ${level}`);
  const logger = reg.streamLogger(ctx.stderr, level);
  let addr: { host: string; port: number };
  try {
    addr = reg.parseListenAddress(flags.string('addr'));
  } catch (err) {
    throw new FlagError(err instanceof Error ? err.message : String(err));
  }
  const certPath = flags.optString('tls-cert');
  const keyPath = flags.optString('tls-key');
  if ((certPath === undefined) !== (keyPath === undefined)) throw new FlagError('--tls-cert and --tls-key go together');
  const tls = certPath !== undefined && keyPath !== undefined ? { cert: await readFile(certPath), key: await readFile(keyPath) } : undefined;
  let auth: InstanceType<RegistryModule['HtpasswdAuth']> | undefined;
  const htpasswd = flags.optString('htpasswd');
  if (htpasswd !== undefined) {
    const loaded = await reg.HtpasswdAuth.load(htpasswd, flags.string('realm'));
    for (const u of loaded.ignored) logger.log('warn', `htpasswd: user ${u} has no bcrypt hash and cannot log in (use htpasswd -B)`);
    auth = loaded.auth;
  }
  if (!tls && !reg.isLoopbackHost(addr.host)) {
    logger.log('warn', `serving plain HTTP on ${addr.host === '' ? 'all interfaces' : addr.host}: clients must treat this registry as insecure${auth ? ', and passwords cross the network in clear text' : ''}`);
  }
  const storage = await reg.RegistryStorage.open({ root });
  const purge = setInterval(() => {
    storage.purgeUploads().then(
      (ids) => void (ids.length > 0 && logger.log('info', `removed ${ids.length} stale upload(s)`)),
      (err: unknown) => logger.log('warn', `purging uploads: ${err instanceof Error ? err.message : String(err)}`),
    );
  }, 60 * 60 * 1000);
  purge.unref();
  try {
    const server = new reg.RegistryServer({ storage, auth, readOnly: flags.bool('read-only'), tls, logger });
    let listening;
    try {
      listening = await server.listen(addr.host, addr.port);
    } catch (err) {
      throw new CliError(`registry serve: listen on ${flags.string('addr')}: ${err instanceof Error ? err.message : String(err)}`);
    }
    ctx.out(`listening on ${listening.url}\n`);
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGTERM', () => resolve('SIGTERM'));
      process.once('SIGINT', () => resolve('SIGINT'));
    });
    logger.log('info', `${signal}: shutting down`);
    await server.close();
    return 0;
  } finally {
    clearInterval(purge);
  }
}

export const gc: CommandSpec = {
  name: 'registry gc',
  usage: '[OPTIONS]',
  summary: "Remove blobs no manifest refers to from a registry's storage",
  flags: [
    { long: 'root', type: 'string', help: 'Storage directory', default: DEFAULT_REGISTRY_ROOT },
    { long: 'dry-run', type: 'bool', help: 'Only list what would be removed' },
    { long: 'delete-untagged', type: 'bool', help: 'Also remove manifests no tag refers to' },
  ],
  maxArgs: 0,
  async run(ctx, flags) {
    const reg = await import('../../registry/index.ts');
    const root = flags.string('root');
    const dryRun = flags.bool('dry-run');
    const unlock = await takeRoot(reg, root, 'registry gc', { besideReadOnly: true });
    try {
      const storage = await reg.RegistryStorage.open({ root });
      const verb = dryRun ? 'would remove' : 'removed';
      const r = await reg.collectGarbage(storage, {
        dryRun,
        deleteUntagged: flags.bool('delete-untagged'),
        onEvent(e) {
          if (e.kind === 'manifest-removed') ctx.out(`${verb} manifest ${e.repository}@${e.digest}\n`);
          else if (e.kind === 'blob-removed') ctx.out(`${verb} blob ${e.digest} (${reg.formatBytes(e.size)})\n`);
          else ctx.err(`warning: ${e.message}\n`);
        },
      });
      ctx.out(`${r.marked} blob(s) in use; ${verb} ${r.removedBlobs.length} blob(s), ${r.removedManifests.length} manifest(s), ${reg.formatBytes(r.reclaimedBytes)}\n`);
      return 0;
    } finally {
      await unlock();
    }
  },
};
