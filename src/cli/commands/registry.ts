// berth registry serve | gc: berth's own OCI distribution registry. It runs in the foreground,
// on its own storage root, and needs no berthd.
import { readFile } from 'node:fs/promises';
import { CliError, type CommandSpec } from '../cli.ts';
import { FlagError } from '../flags.ts';

export const DEFAULT_REGISTRY_ROOT = '/var/lib/berth-registry';

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
    const { RegistryServer, RegistryStorage, HtpasswdAuth, parseListenAddress, isLoopbackHost, streamLogger, isLogLevel } = await import('../../registry/index.ts');
    const level = flags.string('log-level');
    if (!isLogLevel(level)) throw new FlagError(`invalid log level: ${level}`);
    const logger = streamLogger(ctx.stderr, level);
    let addr: { host: string; port: number };
    try {
      addr = parseListenAddress(flags.string('addr'));
    } catch (err) {
      throw new FlagError(err instanceof Error ? err.message : String(err));
    }
    const certPath = flags.optString('tls-cert');
    const keyPath = flags.optString('tls-key');
    if ((certPath === undefined) !== (keyPath === undefined)) throw new FlagError('--tls-cert and --tls-key go together');
    const tls = certPath !== undefined && keyPath !== undefined ? { cert: await readFile(certPath), key: await readFile(keyPath) } : undefined;
    let auth: InstanceType<typeof HtpasswdAuth> | undefined;
    const htpasswd = flags.optString('htpasswd');
    if (htpasswd !== undefined) {
      const loaded = await HtpasswdAuth.load(htpasswd, flags.string('realm'));
      for (const u of loaded.ignored) logger.log('warn', `htpasswd: user ${u} has no bcrypt hash and cannot log in (use htpasswd -B)`);
      auth = loaded.auth;
    }
    if (!tls && !isLoopbackHost(addr.host)) {
      logger.log('warn', `serving plain HTTP on ${addr.host === '' ? 'all interfaces' : addr.host}: clients must treat this registry as insecure${auth ? ', and passwords cross the network in clear text' : ''}`);
    }
    const storage = await RegistryStorage.open({ root: flags.string('root') });
    const purge = setInterval(() => {
      storage.purgeUploads().then(
        (ids) => ids.length > 0 && logger.log('info', `removed ${ids.length} stale upload(s)`),
        (err: unknown) => logger.log('warn', `purging uploads: ${err instanceof Error ? err.message : String(err)}`),
      );
    }, 60 * 60 * 1000);
    purge.unref();
    const server = new RegistryServer({ storage, auth, readOnly: flags.bool('read-only'), tls, logger });
    let listening;
    try {
      listening = await server.listen(addr.host, addr.port);
    } catch (err) {
      throw new CliError(`registry: listen on ${flags.string('addr')}: ${err instanceof Error ? err.message : String(err)}`);
    }
    ctx.out(`listening on ${listening.url}\n`);
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGTERM', () => resolve('SIGTERM'));
      process.once('SIGINT', () => resolve('SIGINT'));
    });
    logger.log('info', `${signal}: shutting down`);
    clearInterval(purge);
    await server.close();
    return 0;
  },
};

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
    const { RegistryStorage, collectGarbage, formatBytes } = await import('../../registry/index.ts');
    const dryRun = flags.bool('dry-run');
    const storage = await RegistryStorage.open({ root: flags.string('root') });
    const verb = dryRun ? 'would remove' : 'removed';
    const r = await collectGarbage(storage, {
      dryRun,
      deleteUntagged: flags.bool('delete-untagged'),
      onEvent(e) {
        if (e.kind === 'manifest-removed') ctx.out(`${verb} manifest ${e.repository}@${e.digest}\n`);
        else if (e.kind === 'blob-removed') ctx.out(`${verb} blob ${e.digest} (${formatBytes(e.size)})\n`);
        else ctx.err(`warning: ${e.message}\n`);
      },
    });
    ctx.out(`${r.marked} blob(s) in use; ${verb} ${r.removedBlobs.length} blob(s), ${r.removedManifests.length} manifest(s), ${formatBytes(r.reclaimedBytes)}\n`);
    return 0;
  },
};
