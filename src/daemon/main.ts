// berthd: configuration, wiring of implementations, listeners, signals and shutdown.
import { readFileSync, existsSync, accessSync, statfsSync, constants as fsc } from 'node:fs';
import { readFile, writeFile, unlink, mkdir, chmod } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ApiServer, Router, type Logger } from '../api/server/index.ts';
import { registerSystem } from '../api/routes/system.ts';
import { registerContainers } from '../api/routes/containers.ts';
import { registerExec } from '../api/routes/exec.ts';
import { registerImages } from '../api/routes/images.ts';
import { registerNetworks } from '../api/routes/networks.ts';
import { registerVolumes } from '../api/routes/volumes.ts';
import { VolumeService } from '../engine/volumes/index.ts';
import { NetworkService } from '../engine/networks/index.ts';
import { Netavark } from '../adapters/netavark/index.ts';
import { Conmon } from '../adapters/conmon/index.ts';
import { hostMounts } from '../adapters/mount/index.ts';
import type { Deps } from '../api/routes/deps.ts';
import { EventBus } from '../engine/events/index.ts';
import { ContainerService } from '../engine/containers/service.ts';
import { ExecService } from '../engine/containers/exec.ts';
import { Runtimes } from '../engine/containers/runtimes.ts';
import { Runc } from '../adapters/runc/index.ts';
import { run } from '../adapters/exec/index.ts';
import { ensureDir, writeFileAtomic } from '../adapters/fs/index.ts';
import { detectCgroupVersion, favorDynamicModifications, hostCgroups } from '../adapters/cgroups/index.ts';
import { x32AbiAvailable } from '../adapters/syscalls/index.ts';
import { processEnded } from '../adapters/proc/index.ts';
import { ImageStore } from '../stores/index.ts';
import { bootstrapBusybox } from '../engine/images/bootstrap.ts';
import { newId } from '../core/ids.ts';
import { messageOf } from '../core/errors.ts';
import { BERTH_VERSION, parseProgramVersion } from '../core/version.ts';
import { Distribution } from '../distribution/index.ts';
import { removeLoadLeftovers } from '../engine/images/archive.ts';
import { Builder } from '../engine/build/builder.ts';
import { registerBuild } from '../api/routes/build.ts';

export interface DaemonConfig {
  dataRoot: string;
  execRoot: string;
  hosts: string[];
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  runtime: string;
  /** OCI runtimes by name (`runc` is `runtime`; others from `runtimes` and `--add-runtime`). */
  runtimes: Record<string, string>;
  defaultRuntime: string;
  conmon: string;
  cgroupParent: string;
  /** Remount the host's cgroup2 with favordynmods at start (see favordynmodsRemount). */
  cgroupFavordynmods: boolean;
  initPath: string | undefined;
  bip: string | undefined;
  bridgeName: string;
  /** IPv6 on the default bridge (`--ipv6`), from `--fixed-cidr-v6` or the daemon's unique local /48. */
  ipv6: boolean;
  fixedCidrV6: string | undefined;
  insecureRegistries: string[];
  registryMirrors: string[];
  /** Bytes a pulled layer may unpack to; 0 = max(8 GiB, 100 × its compressed size). */
  maxLayerSize: number;
  /** Bytes the build cache's own layers may take; undefined = 10% of the data root's filesystem. */
  builderCacheMax: number | undefined;
  /** Per-registry TLS material: <dir>/<host[:port]>/{*.crt, *.cert, *.key}. */
  certsDirs: string[];
  /** TLS on TCP listeners (`--tls`, `--tlsverify` with the CA that signs client certificates). */
  tls: { cert: string; key: string; ca?: string; verify: boolean } | undefined;
}

const USAGE = `Usage: berthd [OPTIONS]

A Docker-compatible container engine daemon.

Options:
      --config-file string   Daemon configuration file (JSON; keys: data-root, exec-root, hosts, log-level, runtime, runtimes, default-runtime, conmon, cgroup-parent, cgroup-favordynmods, bip, bridge-name, ipv6, fixed-cidr-v6, insecure-registries, registry-mirrors, max-layer-size)
      --data-root string     Root directory of persistent state (default "/var/lib/berth")
      --exec-root string     Root directory for execution state (default "/run/berth")
  -H, --host list            Daemon socket(s) to listen on (default unix:///run/berth/berth.sock; tcp://127.0.0.1:PORT allowed)
  -l, --log-level string     Set the logging level ("debug"|"info"|"warn"|"error") (default "info")
      --runtime string       Path to runc (default: runc from PATH)
      --add-runtime list     Another OCI runtime, NAME=PATH (e.g. crun=/usr/bin/crun)
      --default-runtime string  Runtime for containers that name none (default "runc")
      --conmon string        Path to conmon (default: conmon from PATH)
      --cgroup-parent string Parent cgroup for containers (default "/berth")
      --cgroup-favordynmods  Remount the host's cgroup2 file system with favordynmods, which makes
                             moving a process into a cgroup (each start and exec) ~5 ms faster;
                             a host-wide kernel setting (default true; =false leaves it alone)
      --bip string           Default bridge network's gateway/prefix (default: a free 10.88-10.99 /16)
      --bridge-name string   Default bridge network's Linux bridge (default "berth0")
      --ipv6                 IPv6 on the default bridge network too
      --fixed-cidr-v6 string The default bridge's IPv6 subnet (default: a /64 of the daemon's
                             own unique local /48)
      --insecure-registry list  Registries (host[:port] or CIDR) that may be reached over plain HTTP
                             (loopback registries always may)
      --registry-mirror list Preferred registry mirrors for Docker Hub pulls
      --max-layer-size bytes Refuse pulled layers that unpack to more (default: 8 GiB or 100x compressed)
      --tls                  Use TLS on TCP listeners (with --tlscert, --tlskey)
      --tlsverify            Use TLS and require client certificates signed by --tlscacert
      --tlscacert string     CA that signs client certificates
      --tlscert string       Server certificate (PEM)
      --tlskey string        Server key (PEM)
      --certs-dir string     Per-registry CAs and client certificates, <dir>/<host[:port]>/*.crt|*.cert|*.key
                             (default: /etc/berth/certs.d, then /etc/docker/certs.d)
      --builder-cache-max bytes  Bound of the build cache; least recently used steps go beyond it
                             (default: 10% of the data root's filesystem; 0 = unbounded)
  -v, --version              Print version information and quit
  -h, --help                 Print usage
`;

function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    const p = join(dir, name);
    try {
      accessSync(p, fsc.X_OK);
      return p;
    } catch {}
  }
  for (const dir of ['/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  return undefined;
}

const KNOWN_FLAGS = new Set(['tls', 'tlsverify', 'tlscacert', 'tlscert', 'tlskey', 'certs-dir', 'builder-cache-max', 'add-runtime', 'runtimes', 'default-runtime', 'max-layer-size', 'insecure-registry', 'insecure-registries', 'registry-mirror', 'registry-mirrors', 'bip', 'bridge-name', 'ipv6', 'fixed-cidr-v6', 'config-file', 'data-root', 'exec-root', 'host', 'hosts', 'log-level', 'runtime', 'conmon', 'cgroup-parent', 'cgroup-favordynmods', 'debug', 'init-path', 'help', 'version']);

/** A size as bytes, or with a k/m/g suffix (binary units). */
function sizeFlag(v: string | undefined): number {
  if (v === undefined || v === '') return 0;
  const m = /^(\d+)([kmg]i?b?)?$/i.exec(v.trim());
  if (!m) throw new Error(`invalid size: ${v}`);
  const unit = (m[2] ?? '').toLowerCase()[0];
  return Number(m[1]) * (unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1);
}

export function parseArgs(argv: string[]): DaemonConfig | 'help' | 'version' {
  const flags: Record<string, string[]> = {};
  const alias: Record<string, string> = { H: 'host', l: 'log-level', h: 'help', v: 'version', D: 'debug' };
  const boolFlags = new Set(['help', 'version', 'debug', 'tls', 'tlsverify', 'cgroup-favordynmods', 'ipv6']);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    let m = /^--([a-z0-9-]+)(?:=(.*))?$/.exec(a);
    let name: string | undefined;
    let value: string | undefined;
    if (m) {
      name = m[1]!;
      value = m[2];
    } else if ((m = /^-([A-Za-z])(.*)$/.exec(a))) {
      name = alias[m[1]!];
      if (!name) throw new Error(`unknown shorthand flag: '${m[1]}' in ${a}`);
      value = m[2] === '' ? undefined : m[2]!.replace(/^=/, '');
    } else {
      throw new Error(`berthd takes no arguments: ${a}`);
    }
    if (!KNOWN_FLAGS.has(name)) throw new Error(`unknown flag: --${name}`);
    if (boolFlags.has(name)) {
      // Go's strconv.ParseBool, as dockerd's flags take them.
      if (value !== undefined && !/^(1|t|T|TRUE|true|True|0|f|F|FALSE|false|False)$/.test(value)) {
        throw new Error(`invalid boolean value "${value}" for --${name}`);
      }
      flags[name] = [value ?? 'true'];
      continue;
    }
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new Error(`flag needs an argument: --${name}`);
    }
    (flags[name] ??= []).push(value);
  }
  if (flags.help) return 'help';
  if (flags.version) return 'version';
  let file: Record<string, unknown> = {};
  const cf = flags['config-file']?.[0];
  if (cf) {
    try {
      file = JSON.parse(readFileSync(cf, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new Error(`unable to configure the daemon with file ${cf}: ${messageOf(err)}`);
    }
  }
  const pick = (key: string): string | undefined => flags[key]?.at(-1) ?? (typeof file[key] === 'string' ? (file[key] as string) : undefined);
  for (const k of Object.keys(file)) if (!KNOWN_FLAGS.has(k) || k === 'help' || k === 'version') throw new Error(`unable to configure the daemon with file ${cf}: unknown key ${k}`);
  const level = flags.debug ? 'debug' : (pick('log-level') ?? 'info');
  if (!['debug', 'info', 'warn', 'error'].includes(level)) throw new Error(`invalid log level: ${level}`);
  const hosts = flags.host ?? (Array.isArray(file.hosts) ? (file.hosts as string[]) : undefined) ?? [];
  const execRoot = resolve(pick('exec-root') ?? '/run/berth');
  const list = (flag: string, key: string): string[] => {
    const fromFile = file[key];
    if (fromFile !== undefined && (!Array.isArray(fromFile) || !fromFile.every((x) => typeof x === 'string'))) {
      throw new Error(`unable to configure the daemon with file ${cf}: ${key} must be a list of strings`);
    }
    return [...((fromFile as string[] | undefined) ?? []), ...(flags[flag] ?? [])];
  };
  const runc = pick('runtime') ?? which('runc') ?? 'runc';
  const runtimes: Record<string, string> = { runc };
  if (file.runtimes !== undefined) {
    if (file.runtimes === null || typeof file.runtimes !== 'object' || Array.isArray(file.runtimes)) throw new Error(`unable to configure the daemon with file ${cf}: runtimes must be an object`);
    for (const [name, def] of Object.entries(file.runtimes as Record<string, unknown>)) {
      const path = (def as { path?: unknown } | null)?.path;
      const extra = def && typeof def === 'object' ? Object.keys(def).filter((k) => k !== 'path') : [];
      if (typeof path !== 'string' || path === '') throw new Error(`unable to configure the daemon with file ${cf}: runtime ${name} needs a "path"`);
      if (extra.length > 0) throw new Error(`unable to configure the daemon with file ${cf}: runtime ${name}: unsupported option ${extra.join(', ')} (only "path")`);
      runtimes[runtimeName(name)] = path;
    }
  }
  for (const def of flags['add-runtime'] ?? []) {
    const eq = def.indexOf('=');
    if (eq <= 0 || eq === def.length - 1) throw new Error(`invalid --add-runtime ${def}: expected NAME=PATH`);
    runtimes[runtimeName(def.slice(0, eq))] = def.slice(eq + 1);
  }
  const truthy = (k: string): boolean => {
    const f = flags[k]?.at(-1);
    if (f !== undefined) return !/^(0|f|false)$/i.test(f);
    return file[k] === true;
  };
  for (const k of ['cgroup-favordynmods', 'tls', 'tlsverify', 'ipv6']) {
    if (file[k] !== undefined && typeof file[k] !== 'boolean') throw new Error(`unable to configure the daemon with file ${cf}: ${k} must be true or false`);
  }
  const verify = truthy('tlsverify');
  let tls: DaemonConfig['tls'];
  if (verify || truthy('tls')) {
    const cert = pick('tlscert');
    const key = pick('tlskey');
    const ca = pick('tlscacert');
    if (!cert || !key) throw new Error('--tls and --tlsverify need --tlscert and --tlskey');
    if (verify && !ca) throw new Error('--tlsverify needs --tlscacert, the CA that signs client certificates');
    tls = { cert: resolve(cert), key: resolve(key), ...(ca ? { ca: resolve(ca) } : {}), verify };
  }
  if (pick('fixed-cidr-v6') !== undefined && !truthy('ipv6')) throw new Error('--fixed-cidr-v6 needs --ipv6');
  const defaultRuntime = pick('default-runtime') ?? 'runc';
  if (!(defaultRuntime in runtimes)) throw new Error(`default runtime ${defaultRuntime} is not a configured runtime (${Object.keys(runtimes).join(', ')})`);
  return {
    dataRoot: resolve(pick('data-root') ?? '/var/lib/berth'),
    execRoot,
    hosts: hosts.length > 0 ? hosts : [`unix://${join(execRoot, 'berth.sock')}`],
    logLevel: level as DaemonConfig['logLevel'],
    runtime: runc,
    runtimes,
    defaultRuntime,
    conmon: pick('conmon') ?? which('conmon') ?? 'conmon',
    cgroupParent: pick('cgroup-parent') ?? '/berth',
    cgroupFavordynmods: flags['cgroup-favordynmods'] !== undefined ? truthy('cgroup-favordynmods') : file['cgroup-favordynmods'] !== false,
    bip: pick('bip'),
    bridgeName: pick('bridge-name') ?? 'berth0',
    ipv6: truthy('ipv6'),
    fixedCidrV6: pick('fixed-cidr-v6'),
    insecureRegistries: list('insecure-registry', 'insecure-registries'),
    registryMirrors: list('registry-mirror', 'registry-mirrors'),
    maxLayerSize: sizeFlag(pick('max-layer-size')),
    builderCacheMax: pick('builder-cache-max') !== undefined ? sizeFlag(pick('builder-cache-max')) : undefined,
    tls,
    certsDirs: pick('certs-dir') !== undefined ? [resolve(pick('certs-dir')!)] : ['/etc/berth/certs.d', '/etc/docker/certs.d'],
    initPath: pick('init-path') ?? ['/usr/bin/tini-static', '/usr/bin/docker-init'].find((p) => existsSync(p)),
  };
}

/** Runtime names become directory names: letters, digits and `._-` only. */
function runtimeName(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) throw new Error(`invalid runtime name: ${JSON.stringify(name)}`);
  return name;
}

function makeLogger(level: DaemonConfig['logLevel']): Logger {
  const order = { debug: 0, info: 1, warn: 2, error: 3 };
  const min = order[level];
  const write = (lvl: keyof typeof order, msg: string, extra?: Record<string, unknown>): void => {
    if (order[lvl] < min) return;
    const kv = extra ? Object.entries(extra).map(([k, v]) => ` ${k}=${JSON.stringify(v)}`).join('') : '';
    process.stderr.write(`time="${new Date().toISOString()}" level=${lvl} msg=${JSON.stringify(msg)}${kv}\n`);
  };
  return {
    debug: (m, e) => write('debug', m, e),
    info: (m, e) => write('info', m, e),
    warn: (m, e) => write('warn', m, e),
    error: (m, e) => write('error', m, e),
  };
}

/** One daemon per data root: a pid lock file, stale when its process is gone. */
async function takeLock(dataRoot: string): Promise<string> {
  const path = join(dataRoot, 'berthd.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(path, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      return path;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      let alive = false;
      if (pid > 0 && pid !== process.pid) {
        try {
          const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8');
          alive = cmd.includes('berthd') || (await readFile(`/proc/${pid}/comm`, 'utf8')).trim() === 'berthd';
          // A killed daemon not yet reaped holds nothing.
          if (alive && processEnded(pid)) alive = false;
        } catch {}
      }
      if (alive) throw new Error(`another berthd (pid ${pid}) is using the data root ${dataRoot}; stop it first or choose another --data-root`);
      await unlink(path).catch(() => {});
    }
  }
  throw new Error(`could not lock the data root ${dataRoot}`);
}

function hostNofile(): { soft: number; hard: number } {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const f = line?.split(/\s{2,}/) ?? [];
    const soft = Number(f[1]);
    const hard = Number(f[2]);
    if (Number.isFinite(soft) && Number.isFinite(hard)) return { soft, hard };
  } catch {}
  return { soft: 1024, hard: 4096 };
}

/** A tenth of the filesystem holding dir (BuildKit's default bound for its cache). */
function tenthOf(dir: string): number {
  try {
    const st = statfsSync(dir);
    return Math.floor((st.blocks * st.bsize) / 10);
  } catch {
    return 0;
  }
}

/** A program's version and commit from its `--version`, undefined when it does not run. */
async function programVersion(argv: string[]): Promise<{ version: string; commit: string } | undefined> {
  try {
    return parseProgramVersion((await run(argv)).stdout);
  } catch {
    return undefined;
  }
}

export async function main(argv: string[]): Promise<void> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs(argv);
  } catch (err) {
    process.stderr.write(`berthd: ${messageOf(err)}\nSee 'berthd --help'.\n`);
    process.exit(125);
  }
  if (parsed === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  if (parsed === 'version') {
    process.stdout.write(`berthd version ${BERTH_VERSION}\n`);
    return;
  }
  const cfg = parsed;
  // Shows as "berthd" in ps and pgrep instead of "node".
  process.title = 'berthd';
  const log = makeLogger(cfg.logLevel);
  if (process.getuid?.() !== 0) {
    log.error('berthd needs root: it mounts filesystems and creates namespaces and cgroups');
    process.exit(1);
  }
  await ensureDir(cfg.dataRoot, 0o710);
  await chmod(cfg.dataRoot, 0o710);
  await ensureDir(cfg.execRoot, 0o711);
  let lockPath: string;
  try {
    lockPath = await takeLock(cfg.dataRoot);
  } catch (err) {
    log.error(messageOf(err));
    process.exit(1);
  }
  const warnings: string[] = [];
  const defaultPath = cfg.runtimes[cfg.defaultRuntime]!;
  const [runtimeVersion, defaultVersion, conmonVersion, initVersion] = await Promise.all([
    programVersion([cfg.runtime, '--version']),
    programVersion([defaultPath, '--version']),
    programVersion([cfg.conmon, '--version']),
    cfg.initPath ? programVersion([cfg.initPath, '--version']) : undefined,
  ]);
  if (!defaultVersion) warnings.push(`WARNING: the OCI runtime ${defaultPath} is missing or does not run: containers cannot start (install Debian's ${cfg.defaultRuntime})`);
  if (!conmonVersion) warnings.push(`WARNING: conmon (${cfg.conmon}) is missing or does not run: containers cannot start (install Debian's conmon)`);
  for (const w of warnings) log.warn(w);
  if (cfg.cgroupFavordynmods) {
    try {
      const target = favorDynamicModifications();
      if (target) log.info(`remounted ${target} with favordynmods: moving a process into a cgroup no longer waits for an RCU grace period (cgroup-favordynmods=false leaves the host's mount alone)`);
    } catch (err) {
      log.debug(`cgroup2 favordynmods not turned on: ${messageOf(err)}`);
    }
  }

  const idPath = join(cfg.dataRoot, 'engine-id');
  let daemonId = (await readFile(idPath, 'utf8').catch(() => '')).trim();
  if (!daemonId) {
    daemonId = newId().slice(0, 36);
    await writeFileAtomic(idPath, daemonId);
  }

  const events = new EventBus();
  const images = await ImageStore.open({ dataRoot: cfg.dataRoot });
  images.on('tag', (id, ref) => events.emit('image', 'tag', id, { name: ref ?? '' }));
  images.on('untag', (id, ref) => events.emit('image', 'untag', id, { name: ref ?? '' }));
  images.on('delete', (id) => events.emit('image', 'delete', id, {}));
  images.on('import', (id, ref) => events.emit('image', 'import', id, { name: ref ?? '' }));
  const distribution = await Distribution.open({
    images,
    dataRoot: cfg.dataRoot,
    insecureRegistries: cfg.insecureRegistries,
    mirrors: cfg.registryMirrors,
    userAgent: `berth/${BERTH_VERSION}`,
    onPulled: (ref, id) => events.emit('image', 'pull', id, { name: ref }),
    onPushed: (ref, id) => events.emit('image', 'push', id, { name: ref }),
    maxLayerSize: cfg.maxLayerSize,
    certsDirs: cfg.certsDirs,
  });
  await removeLoadLeftovers(join(cfg.dataRoot, 'tmp'), hostMounts);
  const networks = new NetworkService({ dataRoot: cfg.dataRoot, events, engineId: daemonId });
  await networks.load();
  try {
    await networks.ensureDefault({ bridgeName: cfg.bridgeName, ...(cfg.bip ? { bip: cfg.bip } : {}), ipv6: cfg.ipv6, ...(cfg.fixedCidrV6 ? { fixedCidrV6: cfg.fixedCidrV6 } : {}) });
  } catch (err) {
    log.error(`default bridge network: ${messageOf(err)}`);
    process.exit(1);
  }
  const volumes = new VolumeService({ dataRoot: cfg.dataRoot, events, mounts: hostMounts });
  await volumes.load();
  const netavark = new Netavark({ configDir: join(cfg.execRoot, 'netavark') });
  const monitor = new Conmon(cfg.conmon);
  // Each runtime's own state root: runc keeps <exec-root>/runc, others <exec-root>/runtimes/<name>.
  const runtimes = new Runtimes(
    Object.fromEntries(Object.entries(cfg.runtimes).map(([name, binary]) => [name, new Runc({ binary, root: name === 'runc' ? join(cfg.execRoot, 'runc') : join(cfg.execRoot, 'runtimes', name) })])),
    cfg.defaultRuntime,
  );
  for (const rt of runtimes.list()) await mkdir(rt.root, { recursive: true, mode: 0o700 });
  let x32Abi: boolean | undefined;
  const containers = new ContainerService({
    paths: { dataRoot: cfg.dataRoot, execRoot: cfg.execRoot },
    runtimes,
    monitor,
    mounts: hostMounts,
    cgroups: hostCgroups,
    images,
    events,
    log,
    cgroupParent: cfg.cgroupParent,
    ...(cfg.initPath ? { initPath: cfg.initPath } : {}),
    hostRlimitNofile: hostNofile(),
    hostIpv6: existsSync('/proc/sys/net/ipv6/conf/all/disable_ipv6'),
    x32Abi: () => (x32Abi ??= x32AbiAvailable() !== false),
    logLevel: cfg.logLevel === 'debug' ? 'debug' : 'warn',
    networks,
    netavark,
    volumes,
  });
  await containers.load();
  const execs = new ExecService({ containers, execRoot: cfg.execRoot, monitor, events });

  const builder = new Builder({
    images,
    containers,
    mounts: hostMounts,
    dataRoot: cfg.dataRoot,
    secretsDir: join(cfg.execRoot, 'build-secrets'),
    cacheMaxBytes: cfg.builderCacheMax ?? tenthOf(cfg.dataRoot),
    pull: (ref, onStatus) =>
      distribution.pull({ ref, auth: {} }, (m) => {
        if (m.status && !m.progress) onStatus(m.id ? `${m.id}: ${m.status}` : m.status);
      }),
  });
  const leftovers = await builder.removeLeftovers();
  if (leftovers > 0) log.info('removed containers of interrupted builds', { count: leftovers });
  const deps: Deps = {
    containers,
    execs,
    images,
    networks,
    volumes,
    distribution,
    builder,
    events,
    daemonId,
    dataRoot: cfg.dataRoot,
    runtimes: runtimes.list().map(({ name, path }) => ({ name, path })),
    defaultRuntime: runtimes.defaultName,
    runtimeVersion: runtimeVersion?.version ?? '',
    runtimeCommit: runtimeVersion?.commit ?? '',
    conmonVersion: conmonVersion?.version ?? '',
    ...(initVersion ? { initVersion } : {}),
    initPath: cfg.initPath,
    cgroupVersion: detectCgroupVersion(),
    debug: cfg.logLevel === 'debug',
    warnings: () => warnings,
    bootstrapBusybox: async (ref) => (await bootstrapBusybox(images, { ref })).id,
  };
  const router = new Router();
  registerSystem(router, deps);
  registerContainers(router, deps);
  registerExec(router, deps);
  registerImages(router, deps);
  registerNetworks(router, deps);
  registerVolumes(router, deps);
  registerBuild(router, deps);
  let tls: { cert: Buffer; key: Buffer; ca?: Buffer; verify: boolean } | undefined;
  if (cfg.tls) {
    try {
      tls = { cert: await readFile(cfg.tls.cert), key: await readFile(cfg.tls.key), ...(cfg.tls.ca ? { ca: await readFile(cfg.tls.ca) } : {}), verify: cfg.tls.verify };
    } catch (err) {
      log.error(`TLS: ${messageOf(err)}`);
      process.exit(1);
    }
  }
  const server = new ApiServer({ router, logger: log, serverHeader: `berth/${BERTH_VERSION} (linux)`, ...(tls ? { tls } : {}) });
  for (const h of cfg.hosts) {
    try {
      await server.listen(h);
      log.info('API listening', { address: h, ...(h.startsWith('tcp://') ? { tls: tls ? (tls.verify ? 'verify' : 'on') : 'off' } : {}) });
      if (h.startsWith('tcp://') && !tls?.verify) log.warn('a TCP listener without --tlsverify: anyone who can connect to it controls this host as root', { address: h });
    } catch (err) {
      log.error(`cannot listen on ${h}: ${messageOf(err)}`);
      await unlink(lockPath).catch(() => {});
      process.exit(1);
    }
  }
  const pidFile = join(cfg.execRoot, 'berthd.pid');
  await writeFileAtomic(pidFile, `${process.pid}\n`, 0o644);
  log.info('berthd ready', { version: BERTH_VERSION, dataRoot: cfg.dataRoot, execRoot: cfg.execRoot });

  let stopping = false;
  const shutdown = async (sig: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down; containers keep running', { signal: sig });
    containers.close();
    await server.close();
    await containers.drainNetwork(10_000);
    await unlink(pidFile).catch(() => {});
    await unlink(lockPath).catch(() => {});
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGPIPE', () => {});
  process.on('unhandledRejection', (err) => log.error('unhandled rejection', { error: messageOf(err) }));
  // A stream error nobody listened for, from a peer that went away, is a bug to fix but no reason
  // to take the daemon down with it; anything else still ends the process (containers live on).
  process.on('uncaughtException', (err) => {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'EPIPE' || code === 'ECONNRESET') {
      log.error('stream error with no listener (peer went away)', { error: messageOf(err), stack: (err as Error).stack ?? '' });
      return;
    }
    process.stderr.write(`berthd: uncaught exception: ${(err as Error).stack ?? messageOf(err)}\n`);
    process.exit(70);
  });
}

void main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`berthd: ${messageOf(err)}\n`);
  process.exit(1);
});
