// Containers: create, start, stop, kill, pause, remove, wait, attach, reconcile after restart.
// Lock order: a container's own mutex only; the name table is changed synchronously.
import { readFile, readdir, mkdir, writeFile, open, unlink, access, stat, rename } from 'node:fs/promises';
import { constants as fsc, watch, type FSWatcher } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import { BerthError, conflict, internal, invalidParameter, isKind, notFound, notModified, messageOf } from '../../core/errors.ts';
import type { HostConfig } from '../../core/types.ts';
import { newId, shortId, randomName, validateContainerName, isFullId } from '../../core/ids.ts';
import { writeJsonAtomic, readJson, ensureDir, removeAll, removeSmallTree, directorySize, copyTree } from '../../adapters/fs/index.ts';
import { MonitorError, type OciRuntime, type NetworkBackend, type ContainerMonitor, type PreparedMonitor, type Mounter, type Cgroups } from '../../core/ports.ts';
import type { Runtimes } from './runtimes.ts';
import { Mutex, sleep } from '../../lib/mutex.ts';
import { allSettledOrThrow } from '../../lib/settle.ts';
import { formatPlatform, parsePlatform, platformMatches, type Platform } from '../../distribution/manifest.ts';
import type { EventBus } from '../events/index.ts';
import { decodeCreateBody, mergeImageConfig, processArgs, checkWorkingDir, checkHostResources, checkCgroupLimits } from './config.ts';
import { parseSignal } from '../../core/signals.ts';
import { initialState, setStatus, isActive, checkCanPause, checkCanUnpause } from './state.ts';
import { attachHeldBack, connectAttach, releaseAttachStreams, type AttachRequest } from './attach.ts';
import { ContainerNetworking } from './network.ts';
import { HealthMonitor } from './health.ts';
import { ContainerFiles, type CommitOptions } from './files.ts';
import { ContainerFs, fileNotFound, type PathStat, type PutOptions } from './archive.ts';
import type { Readable } from 'node:stream';
import { noSuchImage, type ImageRecord } from '../../stores/images.ts';
import { liveNet, type Logger, type ContainerPaths, type ContainerRecord, type MountPoint, type NetState } from './record.ts';
import { buildSpec, resolveUser, applyCapChanges, defaultCapabilities, defaultMaskedPaths, defaultReadonlyPaths, parseSecurityOpts, resolveDevice, resolveBlockIo, hostDevices, updatableResources } from '../spec/index.ts';
import type { ImageStore } from '../../stores/index.ts';
import { parseLogOptions, compressRotated, LogRotator, removeLogs } from '../logs/index.ts';
import type { NetworkService } from '../networks/index.ts';
import type { VolumeService } from '../volumes/index.ts';
import { collectMounts } from './mounts.ts';
import { resolveInRoot } from '../../adapters/tar/index.ts';
import { processEnded } from '../../adapters/proc/index.ts';
import { limiter } from '../../core/limit.ts';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';

export type { Logger, ContainerPaths, ContainerRecord, MountPoint, NetState } from './record.ts';
export { liveNet } from './record.ts';

export interface EngineOptions {
  paths: ContainerPaths;
  runtimes: Runtimes;
  /** The per-container monitor (conmon). */
  monitor: ContainerMonitor;
  /** Overlay roots and tmpfs (mount(8)). */
  mounts: Mounter;
  cgroups: Cgroups;
  images: ImageStore;
  events: EventBus;
  log: Logger;
  cgroupParent: string;
  initPath?: string;
  hostRlimitNofile: { soft: number; hard: number };
  /** The host kernel has IPv6 (its sysctls exist), so containers' namespaces can have it turned off. */
  hostIpv6?: boolean;
  /** Whether the kernel runs x32-ABI programs (see x32AbiAvailable); asked at the first start. */
  x32Abi?: () => boolean;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  networks?: NetworkService;
  netavark?: NetworkBackend;
  volumes?: VolumeService;
}

interface Waiter {
  condition: 'next-exit' | 'removed' | 'not-running';
  resolve: (r: { StatusCode: number; Error: { Message: string } | null }) => void;
}

interface Live {
  mutex: Mutex;
  waiters: Waiter[];
  pendingAttach: AttachRequest[];
  rotator?: LogRotator;
  restartTimer?: NodeJS.Timeout;
  restartDelayMs: number;
  exitHandled?: Promise<void>;
  /** Runtime state (runc, cgroups, mount, bundle) already removed since the last start. */
  runtimeClean?: boolean;
  /** conmon's PID as the monitor poll last confirmed it (from its pid file, checked to be conmon). */
  conmonPid?: number;
  /** The record's last write, which the next write and the removal of its directory follow. */
  saving?: Promise<void>;
}

const BACKOFF_START = 100;
const BACKOFF_MAX = 60_000;

export class ContainerService {
  readonly #o: EngineOptions;
  #pollRound = 0;
  readonly #records = new Map<string, ContainerRecord>();
  readonly #live = new Map<string, Live>();
  readonly #names = new Map<string, string>();
  #watcher?: FSWatcher;
  readonly #net: ContainerNetworking;
  readonly #health: HealthMonitor;
  readonly #files: ContainerFiles;
  #monitorTimer?: NodeJS.Timeout;
  #closed = false;

  constructor(opts: EngineOptions) {
    this.#o = opts;
    this.#net = new ContainerNetworking({
      ...(opts.networks ? { networks: opts.networks } : {}),
      ...(opts.netavark ? { netavark: opts.netavark } : {}),
      log: opts.log,
      execRoot: opts.paths.execRoot,
      save: (rec) => this.#save(rec),
      records: () => this.#records.values(),
      onEvent: (action, networkId, attrs) => opts.events.emit('network', action, networkId, attrs),
    });
    this.#files = new ContainerFiles({
      images: opts.images,
      mounts: opts.mounts,
      dir: (id) => this.dir(id),
      rootfs: (id) => this.rootfs(id),
      pause: (id) => this.pause(id),
      unpause: (id) => this.unpause(id),
    });
    this.#health = new HealthMonitor({ runtimeOf: (rec) => this.runtimeOf(rec), save: (rec) => this.#save(rec), emit: (rec, status) => this.#emit(rec, `health_status: ${status}`) });
  }

  get containersDir(): string {
    return join(this.#o.paths.dataRoot, 'containers');
  }
  get exitDir(): string {
    return join(this.#o.paths.execRoot, 'exits');
  }
  dir(id: string): string {
    return join(this.containersDir, id);
  }
  /** Removed containers' directories, deleted behind the removal's answer (a new start empties it). */
  get #trashDir(): string {
    return join(this.containersDir, '.trash');
  }
  /** Bundles live under the exec root with short names: conmon's attach socket path must fit sun_path. */
  bundle(id: string): string {
    return join(this.#o.paths.execRoot, 'c', shortId(id));
  }
  rootfs(id: string): string {
    return join(this.dir(id), 'merged');
  }
  cgroupsPath(id: string, rec?: ContainerRecord): string {
    const parent = rec?.HostConfig.CgroupParent || this.#o.cgroupParent;
    return `${parent.startsWith('/') ? parent : `/${parent}`}/${id}`;
  }

  // ---- loading and reconciling ------------------------------------------------------------

  async load(): Promise<void> {
    await ensureDir(this.containersDir);
    // Left by a daemon stopped while it deleted them; emptied in the background.
    for (const f of await readdir(this.#trashDir).catch(() => [] as string[])) {
      void removeAll(join(this.#trashDir, f)).catch((err) => this.#o.log.warn('cannot empty the container trash', { error: messageOf(err) }));
    }
    await ensureDir(this.exitDir);
    await ensureDir(join(this.#o.paths.execRoot, 'c'));
    for (const id of await readdir(this.containersDir)) {
      if (!isFullId(id)) continue;
      let rec: ContainerRecord | undefined;
      try {
        rec = await readJson<ContainerRecord>(join(this.dir(id), 'config.v2.json'));
      } catch (err) {
        this.#o.log.warn('skipping unreadable container record', { id, error: messageOf(err) });
        continue;
      }
      if (!rec) {
        // Created half-way before a crash: no record was committed.
        await removeAll(this.dir(id));
        continue;
      }
      // Records from before runtimes were selectable all ran on runc.
      rec.HostConfig.Runtime ||= 'runc';
      this.#records.set(id, rec);
      this.#names.set(rec.Name.slice(1), id);
      this.#live.set(id, this.#newLive());
      for (const n of [liveNet(rec), ...(rec.berth.extraNets ?? [])]) if (n) this.#o.networks?.reserve(n.networkId, n.ip, n.ip6);
    }
    this.#watcher = watch(this.exitDir, (_ev, file) => {
      if (typeof file === 'string' && this.#records.has(file)) void this.#checkExit(file);
    });
    this.#watcher.on('error', () => {});
    await this.#net.resume();
    // Containers are independent here; a few at once (each is mostly waits on small files) keeps a
    // daemon with a thousand running from taking seconds to answer again.
    const limit = limiter(16);
    await Promise.all(
      [...this.#records.values()].map((rec) => limit(() => this.#reconcile(rec)).catch((err) => this.#o.log.error('reconcile failed', { id: rec.Id, error: messageOf(err) }))),
    );
    // A conmon killed without writing an exit file is noticed here.
    this.#monitorTimer = setInterval(() => void this.#pollMonitors(), 2000);
    this.#monitorTimer.unref();
  }

  #newLive(): Live {
    return { mutex: new Mutex(), waiters: [], pendingAttach: [], restartDelayMs: BACKOFF_START };
  }

  async #reconcile(rec: ContainerRecord): Promise<void> {
    if (rec.berth.removing) {
      await this.#removeFiles(rec);
      return;
    }
    const s = rec.State.Status;
    if (s === 'running' || s === 'paused' || s === 'restarting') {
      const conmon = await this.#o.monitor.livingPid(join(this.bundle(rec.Id), 'conmon.pid'));
      const exitFile = join(this.exitDir, rec.Id);
      const exited = await access(exitFile).then(() => true, () => false);
      if (conmon !== undefined && !exited) {
        this.#startRotator(rec);
        await this.#net.startProxies(rec).catch((err) => this.#o.log.warn('cannot publish ports on IPv6 again', { id: rec.Id, error: messageOf(err) }));
        if (rec.State.Status === 'running') this.#health.start(rec, { fresh: false });
        this.#o.log.info('container still running, reattached', { id: rec.Id });
        return;
      }
      await this.#handleExit(rec.Id);
    }
    if ((rec.State.Status === 'created' || rec.State.Status === 'exited') && (rec.berth.net || (await access(this.bundle(rec.Id)).then(() => true, () => false)))) {
      // A start whose record the daemon did not write before it stopped: the container runs.
      if (await this.#adoptStarted(rec)) return;
      // A start cut short by a daemon crash: whatever it made (runc container, netns, mount) goes.
      await this.#cleanupRuntime(rec);
      await this.#save(rec);
    }
    if (rec.State.Status === 'exited' && rec.HostConfig.AutoRemove) {
      await this.remove(rec.Id, { force: true });
      return;
    }
    // Containers that should be running (restart policy) are started again, e.g. after a reboot.
    if (rec.State.Status === 'exited' && !rec.berth.manuallyStopped && this.#shouldRestart(rec)) this.#scheduleRestart(rec.Id);
  }

  /**
   * A container whose start finished (its process runs: runc says so, conmon watches it) while
   * its record still says created or exited: the record is brought up to date and kept.
   */
  async #adoptStarted(rec: ContainerRecord): Promise<boolean> {
    const conmon = await this.#o.monitor.livingPid(join(this.bundle(rec.Id), 'conmon.pid'));
    if (conmon === undefined || (await access(join(this.exitDir, rec.Id)).then(() => true, () => false))) return false;
    const state = await this.runtimeOf(rec)
      .state(rec.Id)
      .catch(() => undefined);
    if (state?.status !== 'running' || !(state.pid > 0)) return false;
    setStatus(rec.State, 'running');
    rec.State.Pid = state.pid;
    rec.State.ExitCode = 0;
    rec.State.Error = '';
    rec.State.OOMKilled = false;
    rec.State.StartedAt = (await stat(join(this.bundle(rec.Id), 'conmon.pid')).catch(() => undefined))?.mtime.toISOString() ?? new Date().toISOString();
    rec.berth.hasBeenStarted = true;
    rec.berth.lastStartMs = Date.parse(rec.State.StartedAt);
    await this.#save(rec);
    this.#startRotator(rec);
    await this.#net.startProxies(rec).catch((err) => this.#o.log.warn('cannot publish ports on IPv6 again', { id: rec.Id, error: messageOf(err) }));
    this.#health.start(rec, { fresh: false });
    this.#o.log.info('container started before the daemon stopped, kept running', { id: rec.Id });
    return true;
  }

  /**
   * The fallback for a conmon killed without writing an exit file. Each container's conmon is
   * identified once (pid file, comm, state); later rounds only ask the kernel whether that PID
   * lives (no file reads: thousands of containers cost little), and every 15th round identifies
   * them all again in case a PID was reused.
   */
  async #pollMonitors(): Promise<void> {
    const full = ++this.#pollRound % 15 === 0;
    for (const rec of this.#records.values()) {
      if (!isActive(rec.State.Status)) continue;
      // A container whose process ended while a client held its output back: conmon, blocked on
      // that client, cannot see the exit until the stream is let go.
      if (attachHeldBack(rec.Id) && rec.State.Pid > 0 && processEnded(rec.State.Pid)) releaseAttachStreams(rec.Id);
      const live = this.#live.get(rec.Id);
      if (!live || live.mutex.held) continue;
      if (!full && live.conmonPid !== undefined && pidAlive(live.conmonPid)) continue;
      const conmon = await this.#o.monitor.livingPid(join(this.bundle(rec.Id), 'conmon.pid'));
      if (conmon === undefined) {
        delete live.conmonPid;
        await this.#checkExit(rec.Id, true);
      } else live.conmonPid = conmon;
    }
  }

  async #checkExit(id: string, monitorGone = false): Promise<void> {
    const rec = this.#records.get(id);
    if (!rec || !isActive(rec.State.Status)) return;
    const exists = await access(join(this.exitDir, id)).then(() => true, () => false);
    if (exists || monitorGone) await this.#handleExit(id);
  }

  close(): void {
    this.#closed = true;
    this.#net.closeProxies();
    this.#watcher?.close();
    this.#health.stopAll();
    if (this.#monitorTimer) clearInterval(this.#monitorTimer);
    for (const live of this.#live.values()) {
      live.rotator?.stop();
      if (live.restartTimer) clearTimeout(live.restartTimer);
    }
  }

  // ---- lookup -----------------------------------------------------------------------------

  /** Full ID, name (with or without '/'), or a unique ID prefix. */
  find(ref: string): ContainerRecord {
    const rec = this.tryFind(ref);
    if (!rec) throw notFound(`No such container: ${ref}`);
    return rec;
  }

  tryFind(ref: string): ContainerRecord | undefined {
    if (ref === '') return undefined;
    const byId = this.#records.get(ref);
    if (byId) return byId;
    const name = ref.startsWith('/') ? ref.slice(1) : ref;
    const byName = this.#names.get(name);
    if (byName) return this.#records.get(byName);
    if (!/^[0-9a-f]+$/.test(ref)) return undefined;
    let found: ContainerRecord | undefined;
    for (const [id, rec] of this.#records) {
      if (id.startsWith(ref)) {
        if (found) throw invalidParameter(`multiple IDs found with provided prefix: ${ref}`);
        found = rec;
      }
    }
    return found;
  }

  list(): ContainerRecord[] {
    return [...this.#records.values()].sort((a, b) => Date.parse(b.Created) - Date.parse(a.Created));
  }

  usesImage(imageId: string): ContainerRecord | undefined {
    for (const rec of this.#records.values()) if (rec.Image === imageId) return rec;
    return undefined;
  }

  #liveOf(id: string): Live {
    let l = this.#live.get(id);
    if (!l) {
      l = this.#newLive();
      this.#live.set(id, l);
    }
    return l;
  }

  /** Writes the record (atomically, synced); a container's writes happen one at a time, in order. */
  #save(rec: ContainerRecord): Promise<void> {
    const write = (): Promise<void> => writeJsonAtomic(join(this.dir(rec.Id), 'config.v2.json'), rec);
    const live = this.#live.get(rec.Id);
    if (!live) return write();
    const p = (live.saving ?? Promise.resolve()).then(write, write);
    live.saving = p;
    p.then(
      () => {
        if (live.saving === p) delete live.saving;
      },
      () => {
        if (live.saving === p) delete live.saving;
      },
    );
    return p;
  }

  #attrs(rec: ContainerRecord, extra: Record<string, string> = {}): Record<string, string> {
    return { ...rec.Config.Labels, image: rec.Config.Image, name: rec.Name.slice(1), ...extra };
  }

  /** The container joins a network with IPv6 at its start. */
  #onIpv6Network(rec: ContainerRecord): boolean {
    if (liveNet(rec)?.ip6) return true;
    return (rec.berth.connected ?? []).some((c) => this.#o.networks?.tryFind(c.networkId)?.EnableIPv6 === true);
  }

  /** Docker's volume `mount`/`unmount` events, one per named volume the container uses. */
  #emitVolumes(rec: ContainerRecord, action: 'mount' | 'unmount'): void {
    for (const m of rec.berth.mounts ?? []) {
      if (m.Type !== 'volume' || !m.Name) continue;
      const attrs: Record<string, string> = { container: rec.Id, driver: m.Driver ?? 'local' };
      if (action === 'mount') Object.assign(attrs, { destination: m.Destination, 'read/write': String(m.RW), propagation: m.Propagation ?? '' });
      this.#o.events.emit('volume', action, m.Name, attrs);
    }
  }

  #emit(rec: ContainerRecord, action: string, extra: Record<string, string> = {}): void {
    this.#o.events.emit('container', action, rec.Id, this.#attrs(rec, extra));
  }

  // ---- create -----------------------------------------------------------------------------

  /** `platform` (the API's `os/arch[/variant]`), when given, is one the image must be for. */
  async create(body: Record<string, unknown>, nameParam: string | undefined, platform?: string): Promise<{ Id: string; Warnings: string[] }> {
    const wanted = platform ? parsePlatform(platform) : undefined;
    try {
      return await this.#create(body, nameParam, wanted);
    } catch (err) {
      // As Docker: only a missing image (or none for the platform asked) is a 404 at create.
      // Clients (the docker CLI among them) pull the image on any 404, so a missing network,
      // container or volume is a 400.
      if (isKind(err, 'NotFound') && !messageOf(err).startsWith('No such image: ') && !(err as { platformMismatch?: boolean }).platformMismatch) throw invalidParameter(messageOf(err), err);
      throw err;
    }
  }

  async #create(body: Record<string, unknown>, nameParam: string | undefined, wanted: Platform | undefined): Promise<{ Id: string; Warnings: string[] }> {
    const req = decodeCreateBody(body);
    const image = this.#o.images.resolve(req.config.Image);
    if (!image) throw noSuchImage(req.config.Image);
    if (wanted) {
      const actual: Platform = { os: image.config.os || 'linux', architecture: image.config.architecture || '' };
      if (image.config.variant) actual.variant = image.config.variant;
      if (!platformMatches(wanted, actual)) {
        const err = notFound(`image with reference ${req.config.Image} was found but its platform (${formatPlatform(actual)}) does not match the specified platform (${formatPlatform(wanted)})`);
        throw Object.assign(err, { platformMismatch: true });
      }
    }
    const config = mergeImageConfig(req.config, image.config.config);
    const args = processArgs(config);
    if (args.length === 0) throw invalidParameter('no command specified');
    checkWorkingDir(config.WorkingDir);
    if (req.config.StopSignal) parseSignal(req.config.StopSignal);
    checkHostResources(req.hostConfig, this.#o.cgroups.hostResources());
    const limitWarnings = checkCgroupLimits(req.hostConfig, this.#o.cgroups.features());
    // Docker's default cgroup namespace: the container's own on cgroup v2, the host's on v1.
    req.hostConfig.CgroupnsMode ||= this.#o.cgroups.features().version === 2 ? 'private' : 'host';
    this.#checkNetworkMode(req.hostConfig.NetworkMode);
    for (const mode of [req.hostConfig.PidMode, req.hostConfig.IpcMode]) {
      const from = mode?.startsWith('container:') ? mode.slice('container:'.length) : undefined;
      if (from !== undefined && !this.tryFind(from)) throw notFound(`No such container: ${from}`);
    }
    req.hostConfig.Runtime ||= this.#o.runtimes.defaultName;
    this.#o.runtimes.get(req.hostConfig.Runtime);
    applyCapChanges(defaultCapabilities(), req.hostConfig.CapAdd, req.hostConfig.CapDrop);
    parseSecurityOpts(req.hostConfig.SecurityOpt);
    parseLogOptions(req.hostConfig.LogConfig.Config);
    const mountReqs = collectMounts(req.hostConfig.Binds, req.mounts, config.Volumes);
    for (const m of mountReqs) {
      if (m.type === 'bind' && !m.createSource && !existsSync(m.source)) {
        throw invalidParameter(`invalid mount config for type "bind": bind source path does not exist: ${m.source}`);
      }
    }
    if (mountReqs.some((m) => m.type === 'volume') && !this.#o.volumes) throw new BerthError('NotImplemented', 'volumes are not available');
    const warnings: string[] = [...limitWarnings];
    const userNet = this.#net.userNetwork(req.hostConfig.NetworkMode);
    if (req.endpoint.mac && !userNet) throw invalidParameter('conflicting options: mac-address and the network mode');
    if ((req.endpoint.ip || req.endpoint.aliases.length > 0) && (!userNet || userNet.Name === 'bridge')) {
      throw invalidParameter(req.endpoint.ip ? 'user specified IP address is supported only when connecting to networks with user configured subnets' : 'network-scoped alias is supported only for containers in user defined networks');
    }
    if (req.hostConfig.PublishAllPorts && !userNet && Object.keys(config.ExposedPorts ?? {}).length > 0) {
      throw new BerthError('NotImplemented', 'published ports need a bridge network');
    }
    if (req.hostConfig.PortBindings && Object.keys(req.hostConfig.PortBindings).length > 0 && !userNet) {
      throw new BerthError('NotImplemented', 'published ports need a bridge network: the default network has no bridge yet, use a network from `network create`');
    }

    // Legacy links name running-or-not containers that must exist now (`name[:alias]`).
    const links = (req.hostConfig.Links ?? []).map((l) => {
      const [target = '', alias] = l.replace(/^\//, '').split(':');
      const other = this.tryFind(target);
      if (!other) throw notFound(`could not get container for ${target}: No such container: ${target}`);
      return { target: other.Name.slice(1), alias: (alias ?? target).split('/').filter(Boolean).at(-1) ?? target };
    });
    let id = newId();
    while ([...this.#records.keys()].some((k) => shortId(k) === shortId(id))) id = newId();
    // The name is reserved synchronously so concurrent creates cannot both take it.
    let name: string;
    if (nameParam !== undefined && nameParam !== '') {
      name = validateContainerName(nameParam);
      const holder = this.#names.get(name);
      if (holder) {
        throw conflict(`Conflict. The container name "/${name}" is already in use by container "${holder}". You have to remove (or rename) that container to be able to reuse that name.`);
      }
    } else {
      do name = randomName();
      while (this.#names.has(name));
    }
    this.#names.set(name, id);
    if (links.length > 0) req.hostConfig.Links = links.map((l) => `/${l.target}:/${name}/${l.alias}`);
    const dir = this.dir(id);
    try {
      if (config.Hostname === '') config.Hostname = req.hostConfig.NetworkMode === 'host' ? osHostname() : shortId(id);
      const rec: ContainerRecord = {
        Id: id,
        Created: new Date().toISOString(),
        Path: args[0]!,
        Args: args.slice(1),
        State: initialState(),
        Image: image.id,
        Name: `/${name}`,
        RestartCount: 0,
        Driver: 'overlay2',
        Platform: 'linux',
        LogPath: join(dir, 'ctr.log'),
        ResolvConfPath: join(dir, 'resolv.conf'),
        HostnamePath: join(dir, 'hostname'),
        HostsPath: join(dir, 'hosts'),
        Config: config,
        HostConfig: req.hostConfig,
        berth: { hasBeenStarted: false, manuallyStopped: false, lastStartMs: 0 },
      };
      await mkdir(dir, { mode: 0o710 });
      await Promise.all([mkdir(join(dir, 'upper')), mkdir(join(dir, 'work')), mkdir(join(dir, 'merged'))]);
      const points: MountPoint[] = [];
      for (const m of mountReqs) {
        if (m.type === 'volume') {
          const v = await this.#o.volumes!.create(m.source ? { name: m.source } : { anonymous: true });
          points.push({ Type: 'volume', Name: v.Name, Source: v.Mountpoint, Destination: m.destination, Driver: 'local', Mode: m.readOnly ? 'ro' : '', RW: !m.readOnly, Propagation: '', noCopy: m.noCopy, anonymous: !m.source });
        } else if (m.type === 'bind') {
          points.push({ Type: 'bind', Source: m.source, Destination: m.destination, Mode: m.readOnly ? 'ro' : '', RW: !m.readOnly, Propagation: m.propagation || 'rprivate', createSource: m.createSource });
        } else {
          points.push({ Type: 'tmpfs', Source: '', Destination: m.destination, Mode: '', RW: !m.readOnly, Propagation: '', tmpfsOptions: m.tmpfsOptions });
        }
      }
      points.push(...this.#volumesFrom(req.hostConfig.VolumesFrom ?? [], points));
      if (points.length > 0) rec.berth.mounts = points;
      if (req.endpoint.ip || req.endpoint.ip6 || req.endpoint.mac || req.endpoint.aliases.length > 0) rec.berth.endpoint = req.endpoint;
      await this.#save(rec);
      this.#records.set(id, rec);
      this.#live.set(id, this.#newLive());
      this.#emit(rec, 'create');
      return { Id: id, Warnings: warnings };
    } catch (err) {
      this.#names.delete(name);
      await removeAll(dir).catch(() => {});
      throw err;
    }
  }

  /** The volume and bind mounts of other containers (`--volumes-from c[:ro|:rw]`); explicit mounts win. */
  #volumesFrom(specs: readonly string[], explicit: readonly MountPoint[]): MountPoint[] {
    const out: MountPoint[] = [];
    const taken = new Set(explicit.map((m) => m.Destination));
    for (const spec of specs) {
      const m = /^(.+?)(?::(ro|rw))?$/.exec(spec);
      if (!m || m[1] === '') throw invalidParameter(`invalid volumes-from value: ${spec}`);
      const other = this.tryFind(m[1]!);
      if (!other) throw notFound(`No such container: ${m[1]}`);
      for (const p of other.berth.mounts ?? []) {
        if (p.Type === 'tmpfs' || taken.has(p.Destination)) continue;
        taken.add(p.Destination);
        const rw = m[2] === undefined ? p.RW : m[2] === 'rw';
        const { anonymous: _a, createSource: _c, ...rest } = p;
        out.push({ ...rest, RW: rw, Mode: rw ? '' : 'ro' });
      }
    }
    return out;
  }

  #checkNetworkMode(mode: string): void {
    if (mode === 'default' || mode === 'bridge' || mode === 'none' || mode === 'host') return;
    if (this.#net.userNetwork(mode)) return;
    if (mode.startsWith('container:')) {
      const other = this.tryFind(mode.slice('container:'.length));
      if (!other) throw notFound(`No such container: ${mode.slice('container:'.length)}`);
      return;
    }
    throw notFound(`network ${mode} not found`);
  }

  // ---- start ------------------------------------------------------------------------------

  /**
   * Starts a container. `extraEnv` goes to this run's process only: into the runtime's spec under
   * the exec root (memory), never into the container's record (the builder's secrets as env).
   */
  async start(ref: string, opts: { extraEnv?: string[] } = {}): Promise<void> {
    const rec = this.find(ref);
    const live = this.#liveOf(rec.Id);
    await live.mutex.run(async () => {
      const s = rec.State.Status;
      if (s === 'running') throw notModified('container already started');
      if (s === 'paused') throw conflict('cannot start a paused container, try unpause instead');
      if (s === 'removing' || s === 'dead' || rec.berth.removing) throw conflict(`container ${rec.Id} is marked for removal and cannot be started`);
      if (live.restartTimer) {
        clearTimeout(live.restartTimer);
        delete live.restartTimer;
      }
      rec.berth.manuallyStopped = false;
      await this.#startLocked(rec, opts.extraEnv ?? []);
    }).catch(async (err: unknown) => {
      // As Docker does, a container that was to be removed on exit is removed when it cannot start.
      if (rec.HostConfig.AutoRemove && this.#records.has(rec.Id)) await this.remove(rec.Id, { force: true }).catch(() => {});
      throw err;
    });
  }

  async #startLocked(rec: ContainerRecord, extraEnv: readonly string[] = []): Promise<void> {
    const id = rec.Id;
    const live = this.#liveOf(id);
    const bundle = this.bundle(id);
    const rootfs = this.rootfs(id);
    const o = this.#o;
    const phases: Record<string, number> = {};
    let mark = performance.now();
    const phase = (name: string): void => {
      const now = performance.now();
      phases[name] = Math.round((now - mark) * 10) / 10;
      mark = now;
    };
    let netSetup: ReturnType<ContainerNetworking['setup']> | undefined;
    let monitor: PreparedMonitor | undefined;
    try {
      const image = o.images.get(rec.Image);
      // berth has no device drivers (GPUs and the like): a request for one is refused, as by Docker without one.
      const request = rec.HostConfig.DeviceRequests?.[0];
      if (request) throw new BerthError('Internal', `could not select device driver "${request.Driver}" with capabilities: [${(request.Capabilities ?? []).map((c) => `[${c.join(' ')}]`).join(' ')}]`);
      live.runtimeClean = false;
      delete live.conmonPid;
      // The address and the network namespace are made while the rootfs is mounted; netavark
      // then wires the namespace while runc creates the container; both finish before start.
      netSetup = this.#net.setup(rec);
      netSetup.catch(() => {});
      // The bundle lives on the exec root's tmpfs: cleared and made on this thread, so conmon starts sooner.
      removeSmallTree(bundle);
      rmSync(join(this.exitDir, id), { force: true });
      mkdirSync(join(bundle, 'persist'), { recursive: true, mode: 0o700 });
      // conmon starts now and waits: its own start-up overlaps the mount and the spec.
      const logMax = parseLogOptions(rec.HostConfig.LogConfig.Config).maxSize;
      monitor = o.monitor.prepare({
        runtime: this.runtimeOf(rec).binary,
        runtimeRoot: this.runtimeOf(rec).root,
        containerId: id,
        name: rec.Name.slice(1),
        bundle,
        exitDir: this.exitDir,
        logPath: rec.LogPath,
        ...(rec.HostConfig.LogConfig.Type === 'none' ? { logDriver: 'none' as const } : {}),
        // conmon starts a new file at max-size; the rotator keeps the finished ones.
        ...(logMax > 0 ? { logSizeMax: logMax } : {}),
        stdin: rec.Config.OpenStdin,
        leaveStdinOpen: !rec.Config.StdinOnce,
        tty: rec.Config.Tty,
        ...(o.logLevel ? { logLevel: o.logLevel } : {}),
      });
      let lower = o.images.lowerDirs(image.id);
      if (lower.length === 0) {
        const empty = join(this.dir(id), 'empty');
        await ensureDir(empty);
        lower = [empty];
      }
      if (rec.berth.hasBeenStarted) await o.mounts.unmount(rootfs);
      // An auto-removed container's files are never kept: nothing of them need reach the disk.
      await o.mounts.overlay({ lowerDirs: lower, upper: join(this.dir(id), 'upper'), work: join(this.dir(id), 'work'), target: rootfs, ...(rec.HostConfig.AutoRemove ? { volatile: true } : {}) });
      phase('prepare');
      const network = await netSetup;
      phase('network');
      const netnsPath = network?.netns ?? (await this.#netnsPath(rec));
      const pidMode = rec.HostConfig.PidMode ?? '';
      let pidnsPath: string | undefined;
      if (pidMode.startsWith('container:')) {
        const other = this.find(pidMode.slice('container:'.length));
        if (other.State.Status !== 'running') throw conflict(`cannot join PID of a non running container: ${other.Id}`);
        pidnsPath = `/proc/${other.State.Pid}/ns/pid`;
      }
      // IPC: a shareable container's /dev/shm is a tmpfs on the host, so others can join it.
      const ipcMode = rec.HostConfig.IpcMode ?? '';
      let ipcnsPath: string | undefined;
      let shmPath: string | undefined;
      if (ipcMode === 'shareable') {
        shmPath = join(this.dir(id), 'shm');
        await ensureDir(shmPath, 0o1777);
        if (!(await o.mounts.isMounted(shmPath))) {
          const size = rec.HostConfig.ShmSize && rec.HostConfig.ShmSize > 0 ? rec.HostConfig.ShmSize : 64 * 1024 * 1024;
          await o.mounts.tmpfs(shmPath, ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${size}`]);
        }
      } else if (ipcMode.startsWith('container:')) {
        const other = this.find(ipcMode.slice('container:'.length));
        if (other.State.Status !== 'running') throw conflict(`cannot join IPC of a non running container: ${other.Id}`);
        if (other.HostConfig.IpcMode !== 'shareable') throw conflict(`non-shareable IPC (hint: use IpcMode:shareable for the donor container)`);
        ipcnsPath = `/proc/${other.State.Pid}/ns/ipc`;
        shmPath = join(this.dir(other.Id), 'shm');
      }
      // Independent parts; all are settled before a failure goes on to the clean-up.
      const [, user, userMounts] = await allSettledOrThrow([
        this.#writeEtcFiles(rec),
        resolveUser(rootfs, rec.Config.User, rec.HostConfig.GroupAdd ?? undefined),
        this.#userMounts(rec),
      ] as const);
      const mounts = [
        { destination: '/etc/resolv.conf', source: rec.ResolvConfPath, type: 'bind', options: ['rbind', 'rprivate'] },
        { destination: '/etc/hostname', source: rec.HostnamePath, type: 'bind', options: ['rbind', 'rprivate'] },
        { destination: '/etc/hosts', source: rec.HostsPath, type: 'bind', options: ['rbind', 'rprivate'] },
        ...userMounts,
      ];
      const blockIO = resolveBlockIo(rec.HostConfig);
      const spec = buildSpec({
        id,
        rootfs,
        config: rec.Config,
        hostConfig: rec.HostConfig,
        args: [rec.Path, ...rec.Args],
        user: { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids },
        hostname: rec.Config.Hostname,
        ...(netnsPath !== undefined ? { netnsPath } : {}),
        ...(pidnsPath !== undefined ? { pidnsPath } : {}),
        ...(ipcnsPath !== undefined ? { ipcnsPath } : {}),
        ...(shmPath !== undefined ? { shmPath } : {}),
        cgroupsPath: this.cgroupsPath(id, rec),
        mounts,
        hostRlimitNofile: o.hostRlimitNofile,
        // IPv6 is turned off in the container's namespace unless one of its networks has it.
        ...(o.hostIpv6 && !this.#onIpv6Network(rec) ? { hostIpv6: true } : {}),
        ...(o.x32Abi?.() === false ? { x32Abi: false } : {}),
        ...(rec.HostConfig.Init && o.initPath ? { initPath: o.initPath } : {}),
        // Resolved at each start, as Docker does: the host's devices may have changed.
        devices: rec.HostConfig.Privileged ? hostDevices().map((device) => ({ device, access: 'rwm' })) : (rec.HostConfig.Devices ?? []).flatMap(resolveDevice),
        ...(blockIO ? { blockIO } : {}),
      });
      if (!rec.Config.Env.some((e) => e.startsWith('HOME=')) && user.home) {
        (spec as { process: { env: string[] } }).process.env.push(`HOME=${user.home}`);
      }
      if (extraEnv.length > 0) {
        const env = (spec as { process: { env: string[] } }).process.env;
        for (const e of extraEnv) {
          const k = e.slice(0, e.indexOf('=') + 1);
          const at = env.findIndex((x) => x.startsWith(k));
          if (at >= 0) env[at] = e;
          else env.push(e);
        }
      }
      await writeFile(join(bundle, 'config.json'), JSON.stringify(spec));
      phase('spec');
      const created = await monitor.go();
      phase('create');
      if (rec.Config.Tty && rec.HostConfig.ConsoleSize && rec.HostConfig.ConsoleSize[0] > 0) {
        await this.#writeCtl(id, `1 ${rec.HostConfig.ConsoleSize[0]} ${rec.HostConfig.ConsoleSize[1]}\n`).catch(() => {});
      }
      if (network) {
        await network.wired;
        for (const c of rec.berth.connected ?? []) await this.#net.wireExtra(rec, c);
        await this.#net.startProxies(rec);
        this.#net.announceStart(rec);
      }
      const pending = live.pendingAttach.splice(0);
      await Promise.all(
        pending.map((a) =>
          connectAttach(join(bundle, 'attach'), a, { closeStdinOnEnd: rec.Config.StdinOnce, tty: rec.Config.Tty, owner: id }).catch((err) => {
            o.log.warn('attach failed', { id, error: messageOf(err) });
            a.sink.end();
          }),
        ),
      );
      phase('wire');
      await this.runtimeOf(rec).start(id, created.pid);
      phase('runc-start');
      setStatus(rec.State, 'running');
      rec.State.Pid = created.pid;
      rec.State.StartedAt = new Date().toISOString();
      // A running container's exit code is 0, as Docker has it, until it exits again.
      rec.State.ExitCode = 0;
      rec.State.Error = '';
      rec.State.OOMKilled = false;
      rec.berth.hasBeenStarted = true;
      rec.berth.lastStartMs = Date.now();
      // The start is answered without waiting for the record's write (~2–4 ms of fsync): a daemon
      // stopped before it lands finds the container running at restart and keeps it (#reconcile).
      this.#save(rec).catch((err) => o.log.warn('cannot write container state', { id, error: messageOf(err) }));
      o.log.debug('container started', { id: shortId(id), ...phases });
      this.#startRotator(rec);
      this.#health.start(rec, { fresh: true });
      this.#emitVolumes(rec, 'mount');
      this.#emit(rec, 'start');
      created.exited.then(() => this.#checkExit(id)).catch(() => {});
    } catch (err) {
      monitor?.abort();
      // A namespace still being made would be missed by the teardown.
      await netSetup?.catch(() => {});
      await this.#cleanupRuntime(rec).catch(() => {});
      const msg = err instanceof MonitorError ? `failed to create task for container: failed to create shim task: OCI runtime create failed: ${err.message.trimEnd()}: unknown` : messageOf(err);
      rec.State.Error = msg;
      if (!(err instanceof BerthError)) {
        rec.State.ExitCode = /executable file not found|no such file or directory/.test(msg) ? 127 : /permission denied/.test(msg) ? 126 : 128;
      }
      await this.#save(rec).catch(() => {});
      for (const a of live.pendingAttach.splice(0)) a.sink.end();
      if (err instanceof BerthError) throw err;
      throw internal(msg, err);
    }
  }

  /** OCI mounts for binds, volumes (filled from the image on first use) and tmpfs. */
  async #userMounts(rec: ContainerRecord): Promise<Array<{ destination: string; source: string; type: string; options: string[] }>> {
    const out: Array<{ destination: string; source: string; type: string; options: string[] }> = [];
    for (const m of rec.berth.mounts ?? []) {
      if (m.Type === 'tmpfs') {
        out.push({ destination: m.Destination, source: 'tmpfs', type: 'tmpfs', options: ['nosuid', 'nodev', ...(m.RW ? [] : ['ro']), ...(m.tmpfsOptions ?? [])] });
        continue;
      }
      if (m.Type === 'bind' && m.createSource && !existsSync(m.Source)) await ensureDir(m.Source, 0o755);
      if (m.Type === 'bind') await this.#checkPropagation(m);
      if (m.Type === 'volume' && m.Name) {
        await this.#o.volumes!.ensureMounted(m.Name);
        await this.#populateVolume(rec, m);
      }
      out.push({ destination: m.Destination, source: m.Source, type: 'bind', options: ['rbind', m.RW ? 'rw' : 'ro', m.Propagation || 'rprivate'] });
    }
    return out;
  }

  /** As Docker: a shared bind needs a shared source mount, a slave one a shared or slave source. */
  async #checkPropagation(m: MountPoint): Promise<void> {
    const p = m.Propagation;
    if (p !== 'shared' && p !== 'rshared' && p !== 'slave' && p !== 'rslave') return;
    const on = await this.#o.mounts.propagationOf(m.Source);
    if ((p === 'shared' || p === 'rshared') && !on.shared) throw invalidParameter(`path ${m.Source} is mounted on ${on.mountPoint} but it is not a shared mount`);
    if ((p === 'slave' || p === 'rslave') && !on.shared && !on.slave) throw invalidParameter(`path ${m.Source} is mounted on ${on.mountPoint} but it is not a shared or slave mount`);
  }

  /** Docker's copy-up: an empty volume gets the image's content at its path, once. */
  async #populateVolume(rec: ContainerRecord, m: MountPoint): Promise<void> {
    const vols = this.#o.volumes!;
    const v = vols.tryGet(m.Name!);
    if (!v) throw notFound(`get ${m.Name}: no such volume`);
    if (v.populated || m.noCopy) return;
    if (await vols.isEmpty(v.Name)) {
      let src: string | undefined;
      try {
        // Resolved inside the container's root: an image symlink cannot point the copy elsewhere.
        src = resolveInRoot(this.rootfs(rec.Id), m.Destination.split('/'), { create: false });
      } catch {
        src = undefined;
      }
      if (src && statSync(src).isDirectory()) await copyTree(src, v.Mountpoint);
    }
    await vols.markPopulated(v.Name);
  }

  volumeUsers(name: string): string[] {
    return [...this.#records.values()].filter((r) => r.berth.mounts?.some((m) => m.Type === 'volume' && m.Name === name)).map((r) => r.Id);
  }

  /** `commit`: the container's changes as a new image. */
  async commit(ref: string, opts: CommitOptions): Promise<ImageRecord> {
    const rec = this.find(ref);
    const img = await this.#files.commit(rec, opts);
    this.#emit(rec, 'commit', { comment: opts.comment ?? '' });
    return img;
  }

  /** `export`: the container's root filesystem as a tar stream; call `done` when it is consumed. */
  async exportFs(ref: string): Promise<{ stream: Readable; done: () => Promise<void> }> {
    const rec = this.find(ref);
    const live = this.#liveOf(rec.Id);
    // Held until the tar is read, so a start or removal cannot race the temporary mount.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const ready = new Promise<{ stream: Readable; done: () => Promise<void> }>((resolve, reject) => {
      void live.mutex.run(async () => {
        try {
          const x = await this.#files.export(rec);
          resolve({ stream: x.stream, done: async () => { await x.done(); release(); } });
        } catch (err) {
          reject(err);
          release();
        }
        await held;
      });
    });
    const out = await ready;
    this.#emit(rec, 'export');
    return out;
  }

  /**
   * Opens a container's files for the archive API; call `release` once when done. A running
   * container is reached through /proc/<pid>/root (its mounts included) without its lock; a
   * stopped one has its rootfs mounted meanwhile, under its lock, so start and rm wait.
   */
  async #openFs(rec: ContainerRecord): Promise<{ fs: ContainerFs; release: () => Promise<void> }> {
    const running = (): boolean => isActive(rec.State.Status) && rec.State.Pid > 0;
    const openRunning = (): { fs: ContainerFs; release: () => Promise<void> } => {
      const fs = new ContainerFs(rec, { hostRoot: `/proc/${rec.State.Pid}/root`, hostRootfs: this.rootfs(rec.Id), running: true });
      return { fs, release: async () => fs.close() };
    };
    if (running()) return openRunning();
    const live = this.#liveOf(rec.Id);
    let unlock!: () => void;
    const held = new Promise<void>((r) => (unlock = r));
    return new Promise((resolve, reject) => {
      void live.mutex.run(async () => {
        let unmountLater: (() => Promise<void>) | undefined;
        try {
          if (rec.State.Status === 'removing' || rec.berth.removing) throw conflict(`container ${rec.Id} is being removed`);
          if (running()) {
            resolve(openRunning());
            unlock();
          } else {
            unmountLater = await this.#files.mountRootfs(rec);
            const fs = new ContainerFs(rec, { hostRoot: this.rootfs(rec.Id), hostRootfs: this.rootfs(rec.Id), running: false });
            let released = false;
            resolve({
              fs,
              release: async () => {
                if (released) return;
                released = true;
                fs.close();
                await unmountLater!().catch(() => {});
                unlock();
              },
            });
          }
        } catch (err) {
          await unmountLater?.().catch(() => {});
          reject(err);
          unlock();
        }
        await held;
      });
    });
  }

  /** `HEAD /containers/{id}/archive`: Docker's stat of a path in the container. */
  async archiveStat(ref: string, path: string): Promise<PathStat> {
    const rec = this.find(ref);
    const { fs, release } = await this.#openFs(rec);
    try {
      return fs.stat(path);
    } catch (err) {
      throw fileNotFound(err, path, ref);
    } finally {
      await release();
    }
  }

  /** `GET /containers/{id}/archive`: the tar of a path; call `done` once the stream is consumed. */
  async archiveGet(ref: string, path: string): Promise<{ stat: PathStat; stream: Readable; done: () => Promise<void> }> {
    const rec = this.find(ref);
    const { fs, release } = await this.#openFs(rec);
    try {
      const { stat, stream } = fs.pack(path);
      this.#emit(rec, 'archive-path');
      return { stat, stream, done: release };
    } catch (err) {
      await release();
      throw fileNotFound(err, path, ref);
    }
  }

  /** `PUT /containers/{id}/archive`: extracts a tar into a directory of the container. */
  async archivePut(ref: string, path: string, body: NodeJS.ReadableStream, opts: PutOptions): Promise<void> {
    const rec = this.find(ref);
    const { fs, release } = await this.#openFs(rec);
    try {
      await fs.extract(path, body, opts);
    } catch (err) {
      throw fileNotFound(err, path, ref);
    } finally {
      await release();
    }
    this.#emit(rec, 'extract-to-dir');
  }

  changes(ref: string): Promise<Array<{ Path: string; Kind: 0 | 1 | 2 }>> {
    return this.#files.changes(this.find(ref));
  }

  /** Network IDs with endpoints of containers, for network removal. */
  endpointsOn(networkId: string): string[] {
    return this.#net.endpointsOn(networkId);
  }

  /** Waits (bounded) for queued network teardowns, e.g. before the daemon exits. */
  drainNetwork(timeoutMs = 10_000): Promise<void> {
    return this.#net.shutdown(timeoutMs);
  }

  /** `network connect`: joins now if running (also at every later start). */
  async connect(ref: string, networkRef: string, opts: { ip?: string; ip6?: string; aliases: string[] }): Promise<void> {
    const rec = this.find(ref);
    await this.#liveOf(rec.Id).mutex.run(() => this.#net.connect(rec, networkRef, opts));
  }

  /** `network disconnect` of a network joined with `network connect`. */
  async disconnect(ref: string, networkRef: string): Promise<void> {
    const rec = this.find(ref);
    await this.#liveOf(rec.Id).mutex.run(() => this.#net.disconnect(rec, networkRef));
  }

  async #netnsPath(rec: ContainerRecord): Promise<string | undefined> {
    const mode = rec.HostConfig.NetworkMode;
    if (mode === 'host') return undefined;
    if (mode.startsWith('container:')) {
      const other = this.find(mode.slice('container:'.length));
      if (other.State.Status !== 'running') throw conflict(`cannot join network of a non running container: ${other.Id}`);
      return `/proc/${other.State.Pid}/ns/net`;
    }
    // Without a path the runtime creates a private namespace (loopback only).
    return undefined;
  }

  /** /etc/hosts lines for legacy links: each linked container's address under its alias and name. */
  #linkHosts(rec: ContainerRecord): string {
    let out = '';
    const mine = new Set([liveNet(rec)?.networkId, ...(rec.berth.extraNets ?? []).map((x) => x.networkId)]);
    for (const l of rec.HostConfig.Links ?? []) {
      const m = /^\/([^:]+):\/[^/]+\/(.+)$/.exec(l);
      if (!m) continue;
      const [, target, alias] = m as unknown as [string, string, string];
      const other = this.tryFind(target);
      if (!other || other.State.Status !== 'running') throw conflict(`Cannot link to a non running container: /${target} AS /${rec.Name.slice(1)}/${alias}`);
      const nets = [liveNet(other), ...(other.berth.extraNets ?? [])].filter((x): x is NetState => x !== undefined);
      const shared = nets.find((x) => mine.has(x.networkId)) ?? nets[0];
      if (!shared) continue;
      out += `${shared.ip}\t${alias} ${shortId(other.Id)} ${target}\n`;
    }
    return out;
  }

  async #writeEtcFiles(rec: ContainerRecord): Promise<void> {
    const hostNet = rec.HostConfig.NetworkMode === 'host';
    const hn = rec.Config.Hostname;
    await writeFile(rec.HostnamePath, `${hn}\n`);
    let hosts: string;
    // Docker's order: its block (the host's file with --network host), the --add-host entries and
    // links, then the container's own address and name.
    let own = '';
    if (hostNet) {
      hosts = await readFile('/etc/hosts', 'utf8').catch(() => '127.0.0.1\tlocalhost\n');
    } else {
      hosts = [
        '127.0.0.1\tlocalhost',
        '::1\tlocalhost ip6-localhost ip6-loopback',
        'fe00::0\tip6-localnet',
        'ff00::0\tip6-mcastprefix',
        'ff02::1\tip6-allnodes',
        'ff02::2\tip6-allrouters',
        '',
      ].join('\n');
      // With a domain name the first name is the full one, as Docker writes it.
      const net = liveNet(rec);
      const dn = rec.Config.Domainname;
      const names = dn ? `${hn}.${dn} ${hn}` : hn;
      if (net) own = `${net.ip}\t${names}\n${net.ip6 ? `${net.ip6}\t${names}\n` : ''}`;
    }
    for (const h of rec.HostConfig.ExtraHosts ?? []) {
      const i = h.search(/[:=]/);
      if (i <= 0) continue;
      let ip = h.slice(i + 1);
      // Docker's special value: the host as seen from the container (the default bridge's gateway).
      if (ip === 'host-gateway') ip = this.#o.networks?.tryFind('bridge')?.IPAM.Config[0]?.Gateway ?? '127.0.0.1';
      hosts += `${ip}\t${h.slice(0, i)}\n`;
    }
    hosts += this.#linkHosts(rec);
    hosts += own;
    await writeFile(rec.HostsPath, hosts);
    let resolv = await readFile('/etc/resolv.conf', 'utf8').catch(() => '');
    const wired = liveNet(rec);
    if (!wired || wired.networkName === 'bridge') {
      // As on Docker's default bridge: the host's resolvers, less loopback ones the container cannot reach.
      if (rec.berth.net) resolv = resolv.split('\n').filter((l) => !/^\s*nameserver\s+(127\.|::1)/.test(l)).join('\n');
    } else {
      // aardvark-dns on the gateway answers container names and forwards the rest.
      const opts = resolv.split('\n').filter((l) => /^\s*options/.test(l));
      resolv = [`nameserver ${wired.gateway}`, ...opts, ''].join('\n');
    }
    const dns = rec.HostConfig.Dns ?? [];
    const search = rec.HostConfig.DnsSearch ?? [];
    const opts = rec.HostConfig.DnsOptions ?? [];
    if (dns.length > 0 || search.length > 0 || opts.length > 0) {
      const lines = resolv.split('\n').filter((l) => !(dns.length && /^\s*nameserver/.test(l)) && !(search.length && /^\s*(search|domain)/.test(l)) && !(opts.length && /^\s*options/.test(l)));
      if (search.length) lines.push(`search ${search.join(' ')}`);
      for (const d of dns) lines.push(`nameserver ${d}`);
      if (opts.length) lines.push(`options ${opts.join(' ')}`);
      resolv = lines.filter((l) => l.trim() !== '').join('\n') + '\n';
    }
    await writeFile(rec.ResolvConfPath, resolv);
  }

  #startRotator(rec: ContainerRecord): void {
    const live = this.#liveOf(rec.Id);
    live.rotator?.stop();
    const { maxSize, maxFile } = parseLogOptions(rec.HostConfig.LogConfig.Config);
    if (maxSize <= 0) return;
    const compress = compressRotated(rec.HostConfig.LogConfig.Config, rec.HostConfig.LogConfig.Type);
    live.rotator = new LogRotator({ path: rec.LogPath, maxSize, maxFile, compress });
    live.rotator.start();
  }

  async #writeCtl(id: string, line: string): Promise<void> {
    // Non-blocking: a blocking open of the FIFO hangs forever once conmon is gone.
    const fh = await open(join(this.bundle(id), 'ctl'), fsc.O_WRONLY | fsc.O_NONBLOCK);
    try {
      await fh.write(line);
    } finally {
      await fh.close();
    }
  }

  async resize(ref: string, h: number, w: number): Promise<void> {
    const rec = this.find(ref);
    if (!isActive(rec.State.Status)) throw conflict(`Container ${rec.Id} is not running`);
    if (!rec.Config.Tty) return;
    await this.#writeCtl(rec.Id, `1 ${h} ${w}\n`).catch((err) => {
      throw internal(`cannot resize container ${rec.Id}: ${messageOf(err)}`, err);
    });
  }

  // ---- exit handling ----------------------------------------------------------------------

  async #handleExit(id: string): Promise<void> {
    const live = this.#liveOf(id);
    if (live.exitHandled) return live.exitHandled;
    // The network's teardown (netavark, a process to start) waits until the exit is answered.
    let release = (): void => undefined;
    const answered = new Promise<void>((resolve) => (release = resolve));
    try {
      await this.#exitAndRemove(id, live, answered);
    } finally {
      release();
    }
  }

  async #exitAndRemove(id: string, live: Live, answered: Promise<void>): Promise<void> {
    const t0 = performance.now();
    let finished = false;
    const p = live.mutex.run(async () => {
      const rec = this.#records.get(id);
      if (!rec || !(isActive(rec.State.Status) || rec.State.Status === 'restarting')) return;
      await this.#finishExit(rec, answered);
      finished = true;
    });
    live.exitHandled = p;
    try {
      await p;
    } finally {
      delete live.exitHandled;
    }
    const rec = this.#records.get(id);
    if (!rec) return;
    const ms = (a: number, b: number): number => Math.round((b - a) * 10) / 10;
    const t1 = performance.now();
    if (rec.HostConfig.AutoRemove) {
      await this.remove(id, { force: true, afterExit: true }).catch((err) => this.#o.log.warn('auto-remove failed', { id, error: messageOf(err) }));
      this.#o.log.debug('container exited', { id: shortId(id), exit: ms(t0, t1), remove: ms(t1, performance.now()) });
      return;
    }
    if (finished) this.#o.log.debug('container exited', { id: shortId(id), exit: ms(t0, t1) });
    if (!rec.berth.manuallyStopped && this.#shouldRestart(rec)) this.#scheduleRestart(id);
  }

  async #finishExit(rec: ContainerRecord, answered?: Promise<void>): Promise<void> {
    const id = rec.Id;
    const live = this.#liveOf(id);
    let code = 255;
    let error = '';
    // Small files on the exec root's tmpfs, read on this thread (a thread-pool trip costs more).
    try {
      code = Number(readFileSync(join(this.exitDir, id), 'utf8').trim());
      if (!Number.isInteger(code)) code = 255;
    } catch {
      error = 'container monitor exited unexpectedly';
    }
    const bundle = this.bundle(id);
    const oom =
      existsSync(join(bundle, 'oom')) ||
      existsSync(join(bundle, 'persist', 'oom')) ||
      (code === 137 && (await this.#o.cgroups.oomKillCount(this.cgroupsPath(id, rec)).catch(() => 0)) > 0);
    live.rotator?.stop();
    delete live.rotator;
    this.#health.stop(id);
    const disconnects = this.#net.takeDisconnects(rec);
    await this.#cleanupRuntime(rec, answered);
    setStatus(rec.State, 'exited');
    rec.State.ExitCode = code;
    rec.State.Pid = 0;
    rec.State.OOMKilled = oom;
    rec.State.Error = error;
    rec.State.FinishedAt = new Date().toISOString();
    // An auto-removed container is saved as removing next; a crash before that finds its
    // monitor gone and removes it then.
    if (!rec.HostConfig.AutoRemove) await this.#save(rec);
    if (oom) this.#emit(rec, 'oom');
    this.#emit(rec, 'die', { exitCode: String(code) });
    disconnects();
    this.#emitVolumes(rec, 'unmount');
    const done = live.waiters.filter((w) => w.condition !== 'removed');
    live.waiters = live.waiters.filter((w) => w.condition === 'removed');
    for (const w of done) w.resolve({ StatusCode: code, Error: error ? { Message: error } : null });
  }

  /**
   * Removes what a started container holds on the host: runc state, cgroups, rootfs mount, bundle.
   * The network goes in the background, not before `networkAfter` (e.g. the exit's answer).
   */
  async #cleanupRuntime(rec: ContainerRecord, networkAfter?: Promise<void>): Promise<void> {
    const id = rec.Id;
    const live = this.#liveOf(id);
    if (live.runtimeClean) return;
    // Three independent parts: runc's record and the cgroups, the network, the rootfs and bundle.
    await Promise.all([
      (async () => {
        await this.runtimeOf(rec).forget(id).catch((err) => this.#o.log.warn('runc delete failed', { id, error: messageOf(err) }));
        await this.#o.cgroups.remove(this.cgroupsPath(id, rec)).catch(() => {});
      })(),
      this.#net.teardown(rec, networkAfter ? { after: networkAfter } : {}),
      (async () => {
        await this.#o.mounts.unmount(this.rootfs(id)).catch((err) => this.#o.log.warn('unmount failed', { id, error: messageOf(err) }));
        // Only a shareable IPC namespace has its /dev/shm mounted on the host.
        if (rec.HostConfig.IpcMode === 'shareable') await this.#o.mounts.unmount(join(this.dir(id), 'shm')).catch(() => {});
        // A handful of small files on the exec root's tmpfs: at once, not a thread-pool trip each.
        removeSmallTree(this.bundle(id));
      })(),
    ]);
    await unlink(join(this.exitDir, id)).catch(() => {});
    live.runtimeClean = true;
  }

  #shouldRestart(rec: ContainerRecord): boolean {
    const p = rec.HostConfig.RestartPolicy;
    switch (p.Name) {
      case 'always':
      case 'unless-stopped':
        return true;
      case 'on-failure':
        return rec.State.ExitCode !== 0 && (!p.MaximumRetryCount || rec.RestartCount < p.MaximumRetryCount);
      default:
        return false;
    }
  }

  #scheduleRestart(id: string): void {
    if (this.#closed) return;
    const rec = this.#records.get(id);
    if (!rec) return;
    const live = this.#liveOf(id);
    // Backoff doubles from 100 ms to a minute and resets after 10 s of running.
    if (rec.berth.lastStartMs && Date.now() - rec.berth.lastStartMs >= 10_000) live.restartDelayMs = BACKOFF_START;
    const delay = live.restartDelayMs;
    live.restartDelayMs = Math.min(BACKOFF_MAX, live.restartDelayMs * 2);
    setStatus(rec.State, 'restarting');
    void this.#save(rec).catch(() => {});
    live.restartTimer = setTimeout(() => {
      delete live.restartTimer;
      void live.mutex
        .run(async () => {
          if (rec.State.Status !== 'restarting' || rec.berth.manuallyStopped || this.#closed) return;
          rec.RestartCount++;
          try {
            await this.#startLocked(rec);
          } catch (err) {
            setStatus(rec.State, 'exited');
            await this.#save(rec).catch(() => {});
            this.#o.log.warn('restart failed', { id, error: messageOf(err) });
            if (this.#shouldRestart(rec)) this.#scheduleRestart(id);
          }
        })
        .catch(() => {});
    }, delay);
    live.restartTimer.unref();
  }

  // ---- stop, kill, pause ------------------------------------------------------------------

  async stop(ref: string, opts: { signal?: string; timeout?: number }): Promise<void> {
    const rec = this.find(ref);
    if (opts.signal) parseSignal(opts.signal);
    const live = this.#liveOf(rec.Id);
    if (rec.State.Status === 'restarting') {
      await live.mutex.run(async () => {
        rec.berth.manuallyStopped = true;
        if (live.restartTimer) clearTimeout(live.restartTimer);
        delete live.restartTimer;
        setStatus(rec.State, 'exited');
        await this.#save(rec);
      });
      return;
    }
    if (!isActive(rec.State.Status)) throw notModified('container already stopped');
    rec.berth.manuallyStopped = true;
    await this.#save(rec);
    const signal = opts.signal || rec.Config.StopSignal || 'SIGTERM';
    const timeout = opts.timeout ?? rec.Config.StopTimeout ?? 10;
    const exited = this.#waitExit(rec.Id);
    if (rec.State.Status === 'paused') {
      await this.runtimeOf(rec).kill(rec.Id, signal).catch(() => {});
      await this.runtimeOf(rec).resume(rec.Id).catch(() => {});
    } else {
      await this.runtimeOf(rec).kill(rec.Id, signal).catch(() => {});
    }
    if (timeout < 0) {
      await exited;
    } else if (!(await Promise.race([exited.then(() => true), sleep(timeout * 1000).then(() => false)]))) {
      await this.runtimeOf(rec).kill(rec.Id, 'KILL').catch(() => {});
      releaseAttachStreams(rec.Id);
      await Promise.race([exited, sleep(10_000)]);
    }
    await this.#checkExit(rec.Id);
    this.#emit(rec, 'stop');
  }

  /** Resolves at the container's next exit (handled and saved). */
  #waitExit(id: string): Promise<void> {
    const live = this.#liveOf(id);
    return new Promise((resolve) => live.waiters.push({ condition: 'next-exit', resolve: () => resolve() }));
  }

  async kill(ref: string, signal = 'KILL'): Promise<void> {
    const rec = this.find(ref);
    parseSignal(signal);
    if (!isActive(rec.State.Status)) throw conflict(`Cannot kill container: ${ref}: Container ${rec.Id} is not running`);
    const sig = signal.toUpperCase();
    const killing = sig === 'KILL' || sig === 'SIGKILL' || sig === '9';
    if (killing) {
      rec.berth.manuallyStopped = true;
      await this.#save(rec);
    }
    try {
      await this.runtimeOf(rec).kill(rec.Id, sig);
    } catch (err) {
      throw invalidParameter(`Cannot kill container: ${ref}: ${messageOf(err)}`, err);
    }
    if (killing) releaseAttachStreams(rec.Id);
    if (rec.State.Status === 'paused' && killing) await this.runtimeOf(rec).resume(rec.Id).catch(() => {});
    this.#emit(rec, 'kill', { signal: sig.replace(/^SIG/, '') });
  }

  async restart(ref: string, opts: { signal?: string; timeout?: number }): Promise<void> {
    const rec = this.find(ref);
    if (isActive(rec.State.Status) || rec.State.Status === 'restarting') await this.stop(rec.Id, opts).catch((err) => {
      if (!(err instanceof BerthError && err.kind === 'NotModified')) throw err;
    });
    await this.start(rec.Id).catch((err) => {
      if (!(err instanceof BerthError && err.kind === 'NotModified')) throw err;
    });
    this.#emit(rec, 'restart');
  }

  async pause(ref: string): Promise<void> {
    const rec = this.find(ref);
    await this.#liveOf(rec.Id).mutex.run(async () => {
      checkCanPause(rec.Id, rec.State.Status);
      await this.runtimeOf(rec).pause(rec.Id);
      setStatus(rec.State, 'paused');
      await this.#save(rec);
      this.#emit(rec, 'pause');
    });
  }

  async unpause(ref: string): Promise<void> {
    const rec = this.find(ref);
    await this.#liveOf(rec.Id).mutex.run(async () => {
      checkCanUnpause(rec.Id, rec.State.Status);
      await this.runtimeOf(rec).resume(rec.Id);
      setStatus(rec.State, 'running');
      await this.#save(rec);
      this.#emit(rec, 'unpause');
    });
  }

  // ---- wait -------------------------------------------------------------------------------

  /** Registers a waiter synchronously and returns the promise of its result. */
  wait(ref: string, condition: string): Promise<{ StatusCode: number; Error: { Message: string } | null }> {
    const cond = condition === '' ? 'not-running' : condition;
    if (cond !== 'not-running' && cond !== 'next-exit' && cond !== 'removed') {
      throw invalidParameter(`invalid condition: "${condition}"`);
    }
    const rec = this.find(ref);
    if (cond === 'not-running' && !isActive(rec.State.Status) && rec.State.Status !== 'restarting') {
      return Promise.resolve({ StatusCode: rec.State.ExitCode, Error: rec.State.Error ? { Message: rec.State.Error } : null });
    }
    const live = this.#liveOf(rec.Id);
    return new Promise((resolve) => live.waiters.push({ condition: cond, resolve }));
  }

  // ---- attach -----------------------------------------------------------------------------

  /** Streams the container's live output to the client; before start, it waits for the start. */
  async attach(ref: string, req: AttachRequest): Promise<void> {
    const rec = this.find(ref);
    const live = this.#liveOf(rec.Id);
    this.#emit(rec, 'attach');
    await live.mutex.run(async () => {
      if (isActive(rec.State.Status)) {
        await connectAttach(join(this.bundle(rec.Id), 'attach'), req, { closeStdinOnEnd: rec.Config.StdinOnce, tty: rec.Config.Tty, owner: rec.Id });
        return;
      }
      live.pendingAttach.push(req);
      req.sink.onClose(() => {
        const i = live.pendingAttach.indexOf(req);
        if (i >= 0) live.pendingAttach.splice(i, 1);
      });
    });
  }

  // ---- remove, rename ---------------------------------------------------------------------

  async remove(ref: string, opts: { force: boolean; volumes?: boolean; afterExit?: boolean }): Promise<void> {
    const rec = this.find(ref);
    const live = this.#liveOf(rec.Id);
    if (rec.berth.removing) throw conflict(`removal of container ${rec.Id} is already in progress`);
    if (isActive(rec.State.Status) || rec.State.Status === 'restarting') {
      if (!opts.force) {
        throw conflict(`You cannot remove a ${rec.State.Status === 'restarting' ? 'restarting' : rec.State.Status === 'paused' ? 'paused' : 'running'} container ${rec.Id}. Stop the container before attempting removal or force remove`);
      }
      rec.berth.manuallyStopped = true;
      if (live.restartTimer) clearTimeout(live.restartTimer);
      delete live.restartTimer;
      if (rec.State.Status === 'restarting') setStatus(rec.State, 'exited');
      else {
        const exited = this.#waitExit(rec.Id);
        await this.runtimeOf(rec).kill(rec.Id, 'KILL').catch(() => {});
        releaseAttachStreams(rec.Id);
        if (rec.State.Status === 'paused') await this.runtimeOf(rec).resume(rec.Id).catch(() => {});
        await Promise.race([exited, sleep(10_000)]);
        await this.#checkExit(rec.Id, true);
      }
    }
    await live.mutex.run(async () => {
      if (!this.#records.has(rec.Id)) return;
      if (rec.berth.removing) throw conflict(`removal of container ${rec.Id} is already in progress`);
      if (isActive(rec.State.Status)) throw conflict(`You cannot remove a running container ${rec.Id}. Stop the container before attempting removal or force remove`);
      rec.berth.removing = true;
      setStatus(rec.State, 'removing');
      // The mark lets a restart finish a removal a crash cut short. An auto-removal after an
      // exit needs none: the record on disk still says running, and a restart removes it for that.
      if (!opts.afterExit) await this.#save(rec);
      await this.#removeFiles(rec);
    });
    // Anonymous volumes go with the container on `rm -v` and for auto-removed containers.
    if ((opts.volumes || rec.HostConfig.AutoRemove) && this.#o.volumes) {
      for (const m of rec.berth.mounts ?? []) {
        if (m.Type === 'volume' && m.anonymous && m.Name) await this.#o.volumes.remove(m.Name, { force: true, usedBy: (n) => this.volumeUsers(n) }).catch(() => {});
      }
    }
  }

  async #removeFiles(rec: ContainerRecord): Promise<void> {
    const id = rec.Id;
    const live = this.#liveOf(id);
    live.rotator?.stop();
    await this.#cleanupRuntime(rec);
    await live.saving?.catch(() => {});
    if (!rec.LogPath.startsWith(`${this.dir(id)}/`)) await removeLogs(rec.LogPath).catch(() => {});
    await this.#discard(this.dir(id));
    this.#records.delete(id);
    if (this.#names.get(rec.Name.slice(1)) === id) this.#names.delete(rec.Name.slice(1));
    this.#emit(rec, 'destroy');
    for (const w of live.waiters.splice(0)) w.resolve({ StatusCode: rec.State.ExitCode, Error: null });
    for (const a of live.pendingAttach.splice(0)) a.sink.end();
    this.#live.delete(id);
  }

  /**
   * Takes a directory away at once (a rename into the trash) and deletes it after: a removal is
   * answered without waiting for its files (~1–2 ms for a small container, more for a big one).
   */
  async #discard(dir: string): Promise<void> {
    const to = join(this.#trashDir, `${newId().slice(0, 16)}`);
    try {
      await ensureDir(this.#trashDir);
      await rename(dir, to);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') await removeAll(dir);
      return;
    }
    void removeAll(to).catch((err) => this.#o.log.warn('cannot delete a removed container\'s files', { path: to, error: messageOf(err) }));
  }

  /**
   * `update`: new resource limits and restart policy, applied to the running container's cgroups
   * and kept for later starts. As Docker, a zero (or absent) value leaves a setting as it is.
   */
  async update(ref: string, body: Record<string, unknown>): Promise<{ Warnings: string[] }> {
    const rec = this.find(ref);
    const live = this.#liveOf(rec.Id);
    const num = (k: string): number | undefined => {
      const v = body[k];
      if (v === undefined || v === null) return undefined;
      if (typeof v !== 'number' || !Number.isFinite(v)) throw invalidParameter(`invalid JSON: field ${k} must be a number, not ${typeof v}`);
      return v;
    };
    const str = (k: string): string | undefined => {
      const v = body[k];
      if (v === undefined || v === null) return undefined;
      if (typeof v !== 'string') throw invalidParameter(`invalid JSON: field ${k} must be a string, not ${typeof v}`);
      return v;
    };
    return live.mutex.run(async () => {
      if (rec.berth.removing || rec.State.Status === 'removing') throw conflict(`container ${rec.Id} is marked for removal and cannot be "update"`);
      const next: HostConfig = { ...rec.HostConfig };
      for (const k of ['Memory', 'MemorySwap', 'MemoryReservation', 'NanoCpus', 'CpuShares', 'CpuPeriod', 'CpuQuota', 'PidsLimit'] as const) {
        const v = num(k);
        if (v !== undefined && v !== 0) (next as unknown as Record<string, number>)[k] = v;
      }
      for (const k of ['CpusetCpus', 'CpusetMems'] as const) {
        const v = str(k);
        if (v !== undefined && v !== '') next[k] = v;
      }
      // Block I/O weight, real-time CPU and kernel memory: checked (and warned about) as at create.
      const asked: Partial<HostConfig> = {};
      for (const k of ['BlkioWeight', 'CpuRealtimePeriod', 'CpuRealtimeRuntime', 'KernelMemory'] as const) {
        const v = num(k);
        if (v !== undefined && v !== 0) asked[k] = v;
      }
      const warnings = checkCgroupLimits({ ...asked, CpuRealtimePeriod: asked.CpuRealtimePeriod ?? next.CpuRealtimePeriod, CpuRealtimeRuntime: asked.CpuRealtimeRuntime ?? next.CpuRealtimeRuntime } as HostConfig, this.#o.cgroups.features());
      if ((asked.BlkioWeight ?? 0) > 0 && this.#o.cgroups.features().blkioWeight) next.BlkioWeight = asked.BlkioWeight!;
      if (asked.CpuRealtimePeriod) next.CpuRealtimePeriod = asked.CpuRealtimePeriod;
      if (asked.CpuRealtimeRuntime) next.CpuRealtimeRuntime = asked.CpuRealtimeRuntime;
      if (asked.KernelMemory) next.KernelMemory = asked.KernelMemory;
      // NanoCpus and CPU period/quota exclude each other: the one given now wins.
      if (num('NanoCpus')) {
        next.CpuPeriod = 0;
        next.CpuQuota = 0;
      } else if (num('CpuPeriod') || num('CpuQuota')) next.NanoCpus = 0;
      checkHostResources(next, this.#o.cgroups.hostResources());
      // Docker's rule, also for an unset (0) or unlimited (-1) swap: a new memory limit above the
      // current memory+swap limit needs a new swap limit with it. Records from before create
      // filled in MemorySwap count as the 2 x Memory their containers run with.
      const curSwap = rec.HostConfig.MemorySwap === 0 && rec.HostConfig.Memory > 0 ? 2 * rec.HostConfig.Memory : rec.HostConfig.MemorySwap;
      if (num('Memory') && !num('MemorySwap') && next.Memory > curSwap) {
        throw conflict(`Cannot update container ${rec.Id}: Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time`);
      }
      const rp = body.RestartPolicy;
      if (rp !== undefined && rp !== null) {
        if (typeof rp !== 'object' || Array.isArray(rp)) throw invalidParameter('invalid JSON: field RestartPolicy must be an object');
        const name = (rp as { Name?: unknown }).Name;
        const max = (rp as { MaximumRetryCount?: unknown }).MaximumRetryCount;
        if (name !== undefined && typeof name !== 'string') throw invalidParameter('invalid JSON: field RestartPolicy.Name must be a string');
        if (name !== undefined && name !== '') {
          if (!['no', 'always', 'unless-stopped', 'on-failure'].includes(name)) throw invalidParameter(`invalid restart policy '${name}'`);
          if (rec.HostConfig.AutoRemove && name !== 'no') throw invalidParameter('Restart policy cannot be updated because AutoRemove is enabled for the container');
          next.RestartPolicy = { Name: name as HostConfig['RestartPolicy']['Name'], MaximumRetryCount: typeof max === 'number' ? max : 0 };
        }
      }
      // Checked as create checks it (limits, conflicts), before anything changes.
      const resources = updatableResources(next);
      if (isActive(rec.State.Status)) {
        try {
          await this.runtimeOf(rec).update(rec.Id, resources);
        } catch (err) {
          throw internal(`Cannot update container ${rec.Id}: ${messageOf(err)}`, err);
        }
      }
      rec.HostConfig = next;
      await this.#save(rec);
      this.#emit(rec, 'update');
      return { Warnings: warnings };
    });
  }

  async rename(ref: string, newName: string): Promise<void> {
    const rec = this.find(ref);
    const name = validateContainerName(newName);
    const old = rec.Name.slice(1);
    if (name === old) throw invalidParameter('Renaming a container with the same name as its current name');
    const holder = this.#names.get(name);
    if (holder) throw conflict(`Conflict. The container name "/${name}" is already in use by container "${holder}". You have to remove (or rename) that container to be able to reuse that name.`);
    this.#names.set(name, rec.Id);
    this.#names.delete(old);
    rec.Name = `/${name}`;
    await this.#save(rec);
    this.#emit(rec, 'rename', { oldName: `/${old}` });
  }

  async prune(filters: Record<string, string[]>): Promise<{ ContainersDeleted: string[]; SpaceReclaimed: number }> {
    const until = pruneUntil(filters);
    const deleted: string[] = [];
    let space = 0;
    for (const rec of this.list()) {
      if (isActive(rec.State.Status) || rec.State.Status === 'restarting') continue;
      if (!matchLabels(rec.Config.Labels, filters)) continue;
      if (until !== undefined && Date.parse(rec.Created) / 1000 >= until) continue;
      space += await this.sizeRw(rec.Id).catch(() => 0);
      await this.remove(rec.Id, { force: false }).then(
        () => deleted.push(rec.Id),
        () => {},
      );
    }
    return { ContainersDeleted: deleted, SpaceReclaimed: space };
  }

  /** The bytes the container wrote (its upper dir), counted as Docker counts them. */
  async sizeRw(id: string): Promise<number> {
    return directorySize(join(this.dir(id), 'upper'));
  }

  // ---- inspect ----------------------------------------------------------------------------

  /** The container's endpoints by network name, as inspect and the container list show them. */
  endpoints(rec: ContainerRecord): Record<string, unknown> {
    const networks: Record<string, unknown> = {};
    const mode = rec.HostConfig.NetworkMode;
    if (mode === 'host' || mode === 'none') {
      networks[mode] = { ...emptyEndpoint(), NetworkID: this.#o.networks?.findPredefined(mode)?.Id ?? '', ...(isActive(rec.State.Status) ? { EndpointID: rec.Id } : {}) };
    }
    const net = liveNet(rec);
    const userNet = rec.berth.primaryDetached ? undefined : this.#net.userNetwork(mode);
    for (const c of rec.berth.connected ?? []) {
      const n = this.#o.networks?.tryFind(c.networkId);
      if (!n) continue;
      const x = rec.berth.extraNets?.find((e) => e.networkId === c.networkId);
      networks[n.Name] = {
        ...emptyEndpoint(),
        NetworkID: n.Id,
        Aliases: c.aliases.length > 0 ? [...c.aliases] : null,
        ...(c.ip || c.ip6 ? { IPAMConfig: { ...(c.ip ? { IPv4Address: c.ip } : {}), ...(c.ip6 ? { IPv6Address: c.ip6 } : {}) } } : {}),
        ...(x ? { EndpointID: `${rec.Id.slice(0, 32)}${n.Id.slice(0, 32)}`, Gateway: x.gateway, IPAddress: x.ip, IPPrefixLen: x.prefix, MacAddress: x.mac, ...ipv6Fields(x), DNSNames: dnsNames(rec, c.aliases, false) } : {}),
      };
    }
    if (userNet) {
      networks[userNet.Name] = {
        ...emptyEndpoint(),
        NetworkID: userNet.Id,
        // As Docker (API 1.45): the aliases asked for; every name the network resolves is in DNSNames.
        Aliases: rec.berth.endpoint?.aliases?.length ? [...rec.berth.endpoint.aliases] : null,
        ...(rec.berth.endpoint?.ip || rec.berth.endpoint?.ip6 ? { IPAMConfig: { ...(rec.berth.endpoint.ip ? { IPv4Address: rec.berth.endpoint.ip } : {}), ...(rec.berth.endpoint.ip6 ? { IPv6Address: rec.berth.endpoint.ip6 } : {}) } } : {}),
        ...(net ? { EndpointID: rec.Id, Gateway: net.gateway, IPAddress: net.ip, IPPrefixLen: net.prefix, MacAddress: net.mac, ...ipv6Fields(net), DNSNames: userNet.Name === 'bridge' ? null : dnsNames(rec, rec.berth.endpoint?.aliases ?? [], true) } : {}),
      };
    }
    return networks;
  }

  inspect(ref: string): Record<string, unknown> {
    const rec = this.find(ref);
    const { berth: _b, ...pub } = rec;
    const networks = this.endpoints(rec);
    const net = liveNet(rec);
    const held = rec.berth.net;
    const userNet = rec.berth.primaryDetached ? undefined : this.#net.userNetwork(rec.HostConfig.NetworkMode);
    return {
      ...pub,
      // As Docker shows them: no volumes is null, and OnBuild (an image-only setting) is null.
      Config: { ...rec.Config, Volumes: rec.Config.Volumes && Object.keys(rec.Config.Volumes).length > 0 ? rec.Config.Volumes : null, OnBuild: null },
      HostConfig: hostConfigView(rec.HostConfig),
      ResolvConfPath: rec.ResolvConfPath,
      MountLabel: '',
      ProcessLabel: '',
      AppArmorProfile: '',
      ExecIDs: null,
      GraphDriver: {
        Name: 'overlay2',
        Data: { LowerDir: this.#lowerDirsOf(rec), UpperDir: join(this.dir(rec.Id), 'upper'), WorkDir: join(this.dir(rec.Id), 'work'), MergedDir: this.rootfs(rec.Id) },
      },
      Mounts: (rec.berth.mounts ?? []).map((m) => ({ Type: m.Type, ...(m.Name ? { Name: m.Name } : {}), Source: m.Source, Destination: m.Destination, ...(m.Driver ? { Driver: m.Driver } : {}), Mode: m.Mode, RW: m.RW, Propagation: m.Propagation })),
      NetworkSettings: {
        Bridge: '',
        SandboxID: '',
        SandboxKey: held ? `/run/netns/${held.netns}` : '',
        Ports: net?.ports ?? {},
        HairpinMode: false,
        LinkLocalIPv6Address: '',
        LinkLocalIPv6PrefixLen: 0,
        SecondaryIPAddresses: null,
        SecondaryIPv6Addresses: null,
        EndpointID: '',
        Gateway: net && userNet?.Name === 'bridge' ? net.gateway : '',
        GlobalIPv6Address: net && userNet?.Name === 'bridge' ? (net.ip6 ?? '') : '',
        GlobalIPv6PrefixLen: net?.ip6 && userNet?.Name === 'bridge' ? (net.prefix6 ?? 64) : 0,
        IPAddress: net && userNet?.Name === 'bridge' ? net.ip : '',
        IPPrefixLen: net && userNet?.Name === 'bridge' ? net.prefix : 0,
        IPv6Gateway: net && userNet?.Name === 'bridge' ? (net.gateway6 ?? '') : '',
        MacAddress: net && userNet?.Name === 'bridge' ? net.mac : '',
        Networks: networks,
      },
    };
  }

  /** The image layers under the container's root, top first and `:`-joined, as overlay2 shows them. */
  #lowerDirsOf(rec: ContainerRecord): string {
    try {
      return this.#o.images.lowerDirs(this.#o.images.get(rec.Image).id).join(':');
    } catch {
      return '';
    }
  }

  /** The OCI runtime a container was created with. */
  runtimeOf(rec: ContainerRecord): OciRuntime {
    return this.#o.runtimes.get(rec.HostConfig.Runtime);
  }
}

function emptyEndpoint(): Record<string, unknown> {
  return { IPAMConfig: null, Links: null, Aliases: null, DNSNames: null, NetworkID: '', EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, MacAddress: '', DriverOpts: null };
}

/**
 * HostConfig as Docker's inspect shows it: every field, unset ones with Docker's defaults (what
 * berth applies for them), and the optional ones Docker leaves out when empty left out.
 */
function hostConfigView(hc: HostConfig): Record<string, unknown> {
  const privileged = hc.Privileged === true;
  const defaults: Record<string, unknown> = {
    ContainerIDFile: '', VolumeDriver: '', ConsoleSize: [0, 0], CgroupnsMode: 'host', Cgroup: '', OomScoreAdj: 0, PublishAllPorts: false,
    UTSMode: '', UsernsMode: '', Isolation: '', BlkioWeight: 0, BlkioWeightDevice: [], BlkioDeviceReadBps: [], BlkioDeviceWriteBps: [],
    BlkioDeviceReadIOps: [], BlkioDeviceWriteIOps: [], CpuRealtimePeriod: 0, CpuRealtimeRuntime: 0, Devices: [], DeviceCgroupRules: null,
    DeviceRequests: null, MemorySwappiness: null, OomKillDisable: false, CpuCount: 0, CpuPercent: 0, IOMaximumIOps: 0, IOMaximumBandwidth: 0,
    MaskedPaths: privileged ? null : defaultMaskedPaths(), ReadonlyPaths: privileged ? null : defaultReadonlyPaths(),
  };
  const out: Record<string, unknown> = { ...defaults };
  for (const [k, v] of Object.entries(hc)) if (v !== undefined && !(v === null && k in defaults && defaults[k] !== null)) out[k] = v;
  // Docker's "not set" values: no swappiness of its own (-1), no PIDs limit (0 or -1).
  if (out['MemorySwappiness'] === -1) out['MemorySwappiness'] = null;
  if (typeof out['PidsLimit'] === 'number' && (out['PidsLimit'] as number) <= 0) out['PidsLimit'] = null;
  // The default IPC namespace is a private one, /dev/shm 64 MiB.
  if (!out['IpcMode']) out['IpcMode'] = 'private';
  if (!out['ShmSize']) out['ShmSize'] = 64 * 1024 * 1024;
  for (const k of ['Tmpfs', 'Sysctls']) if (out[k] === null || (typeof out[k] === 'object' && Object.keys(out[k] as object).length === 0)) delete out[k];
  if (out['Init'] === null || out['Init'] === undefined) delete out['Init'];
  return out;
}

/** An endpoint's IPv6 address as inspect shows it (nothing for an IPv4-only network). */
function ipv6Fields(n: NetState): Record<string, unknown> {
  return n.ip6 ? { GlobalIPv6Address: n.ip6, GlobalIPv6PrefixLen: n.prefix6 ?? 64, IPv6Gateway: n.gateway6 ?? '' } : {};
}

export function matchLabels(labels: Record<string, string>, filters: Record<string, string[]>): boolean {
  for (const f of filters.label ?? []) {
    const i = f.indexOf('=');
    if (i < 0) {
      if (!(f in labels)) return false;
    } else if (labels[f.slice(0, i)] !== f.slice(i + 1)) return false;
  }
  for (const f of filters['label!'] ?? []) {
    const i = f.indexOf('=');
    if (i < 0 ? f in labels : labels[f.slice(0, i)] === f.slice(i + 1)) return false;
  }
  return true;
}

/** The filters of a prune (`until`, `label`, `label!`) checked before anything is removed; the `until` time. */
export function pruneUntil(filters: Record<string, string[]>): number | undefined {
  for (const k of Object.keys(filters)) if (k !== 'until' && k !== 'label' && k !== 'label!') throw invalidParameter(`invalid filter '${k}'`);
  const values = filters.until ?? [];
  if (values.length > 1) throw invalidParameter('more than one until filter specified');
  return values.length === 1 ? parseTime(values[0]!) : undefined;
}

/** The names a network resolves to the container, in Docker's order: name, aliases, short ID, hostname. */
function dnsNames(rec: ContainerRecord, aliases: readonly string[], withHostname: boolean): string[] {
  const names = [rec.Name.slice(1), ...aliases, shortId(rec.Id)];
  if (withHostname && rec.Config.Hostname) names.push(rec.Config.Hostname);
  return [...new Set(names)];
}

/** Docker's time filter values: unix seconds (fractional), RFC 3339, or a duration like 10m ago. */
export function parseTime(v: string, now = Date.now()): number {
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v);
  const d = /^(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)$/.exec(v);
  if (d) {
    const mult: Record<string, number> = { ns: 1e-9, us: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
    return now / 1000 - Number(d[1]) * mult[d[2]!]!;
  }
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw invalidParameter(`invalid time value: ${v}`);
  return t / 1000;
}

/** Whether a process with this PID exists (signal 0: no signal is sent). */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

