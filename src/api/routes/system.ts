// /_ping, /version, /info, /events.
import { hostname, cpus, totalmem, release, arch } from 'node:os';
import { readFileSync, readdirSync } from 'node:fs';
import { BERTH_COMMIT, BERTH_COMMIT_DATE, BERTH_VERSION } from '../../core/version.ts';
import type { Router } from '../server/index.ts';
import { API_VERSION, MIN_API_VERSION } from '../server/index.ts';
import { sendJson, sendText, startJsonStream, qFilters, readJsonBody, type Ctx } from '../server/http.ts';
import { invalidParameter } from '../../core/errors.ts';
import { authFromObject } from '../../distribution/index.ts';
import { logsSize } from '../../engine/logs/index.ts';
import { directorySize } from '../../adapters/fs/index.ts';
import { summary as containerSummary } from './containers.ts';
import { matchEvent, type EngineEvent } from '../../engine/events/index.ts';
import { parseTime } from '../../engine/containers/service.ts';
import type { Deps } from './deps.ts';

/** Bytes of events waiting for a slow subscriber beyond which its new events are dropped. */
const EVENTS_BACKLOG = 1 << 20;

export function goArch(): string {
  const a = arch();
  return a === 'x64' ? 'amd64' : a;
}

function osName(): string {
  try {
    const text = readFileSync('/etc/os-release', 'utf8');
    const m = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(text);
    if (m) return m[1]!;
  } catch {}
  return 'Linux';
}

export function registerSystem(r: Router, d: Deps): void {
  const ping = async (ctx: Ctx): Promise<void> => {
    const res = ctx.res!;
    res.setHeader('Cache-Control', 'no-cache, no-store, must-revalidate');
    res.setHeader('Pragma', 'no-cache');
    res.setHeader('Builder-Version', '1');
    res.setHeader('Swarm', 'inactive');
    if (ctx.req.method === 'HEAD') {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': '0' });
      res.end();
      return;
    }
    sendText(ctx, 200, 'OK');
  };
  r.on(['GET', 'HEAD'], '/_ping', ping);

  r.on('GET', '/system/df', async (ctx) => {
    const types = ctx.query.getAll('type');
    for (const t of types) if (!['container', 'image', 'volume', 'build-cache'].includes(t)) throw invalidParameter(`invalid type: ${t}`);
    const want = (t: string): boolean => types.length === 0 || types.includes(t);
    const out: Record<string, unknown> = {};
    const containers = d.containers.list();
    if (want('image')) {
      const layerUsers = new Map<string, number>();
      const images = d.images.list();
      for (const img of images) for (const c of img.chainIds) layerUsers.set(c, (layerUsers.get(c) ?? 0) + 1);
      out.LayersSize = d.images.layers.list().reduce((n, l) => n + l.size, 0);
      out.Images = images.map((img) => {
        const s = d.images.summary(img.id) as Record<string, unknown>;
        s.Containers = containers.filter((c) => c.Image === img.id).length;
        s.SharedSize = img.chainIds.filter((c) => (layerUsers.get(c) ?? 0) > 1).reduce((n, c) => n + (d.images.layers.get(c)?.size ?? 0), 0);
        return s;
      });
    }
    if (want('container')) {
      out.Containers = await Promise.all(
        containers.map(async (c) => {
          const rw = await d.containers.sizeRw(c.Id).catch(() => 0);
          return { ...containerSummary(c, d, rw), SizeRootFs: rw + (d.images.resolve(c.Image)?.size ?? 0) };
        }),
      );
      // Not in Docker's answer: the bytes of each container's log files (Docker leaves them out).
      out.ContainerLogs = await Promise.all(containers.map(async (c) => ({ Id: c.Id, Names: [c.Name], Size: await logsSize(c.LogPath).catch(() => 0) })));
    }
    if (want('volume')) {
      out.Volumes = await Promise.all(
        d.volumes.list().map(async (v) => {
          const view = d.volumes.view(v) as Record<string, unknown>;
          const size = await directorySize(String(view.Mountpoint)).catch(() => -1);
          return { ...view, UsageData: { Size: size, RefCount: d.containers.volumeUsers(v.Name).length } };
        }),
      );
    }
    if (want('build-cache')) out.BuildCache = await d.builder.usage();
    sendJson(ctx, 200, out);
  });

  r.on('POST', '/auth', async (ctx) => {
    const auth = authFromObject(await readJsonBody(ctx));
    if (auth.username === undefined && auth.identityToken === undefined) throw invalidParameter('username is required');
    await d.distribution.login(auth);
    sendJson(ctx, 200, { Status: 'Login Succeeded', IdentityToken: '' });
  });

  r.on('GET', '/version', async (ctx) => {
    const details = { ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION, Os: 'linux', Arch: goArch(), KernelVersion: release(), GitCommit: BERTH_COMMIT, GoVersion: `node${process.versions.node}`, BuildTime: BERTH_COMMIT_DATE, Experimental: 'false' };
    sendJson(ctx, 200, {
      Platform: { Name: 'berth' },
      Components: [
        { Name: 'Engine', Version: BERTH_VERSION, Details: details },
        { Name: 'runc', Version: d.runtimeVersion, Details: { GitCommit: d.runtimeCommit } },
        { Name: 'conmon', Version: d.conmonVersion, Details: { GitCommit: '' } },
        ...(d.initVersion ? [{ Name: 'docker-init', Version: d.initVersion.version, Details: { GitCommit: d.initVersion.commit } }] : []),
      ],
      Version: BERTH_VERSION,
      ApiVersion: API_VERSION,
      MinAPIVersion: MIN_API_VERSION,
      GitCommit: BERTH_COMMIT,
      GoVersion: `node${process.versions.node}`,
      Os: 'linux',
      Arch: goArch(),
      KernelVersion: release(),
      BuildTime: BERTH_COMMIT_DATE,
    });
  });

  r.on('GET', '/info', async (ctx) => {
    const all = d.containers.list();
    const running = all.filter((c) => c.State.Status === 'running').length;
    const paused = all.filter((c) => c.State.Status === 'paused').length;
    sendJson(ctx, 200, {
      ID: d.daemonId,
      Containers: all.length,
      ContainersRunning: running,
      ContainersPaused: paused,
      ContainersStopped: all.length - running - paused,
      Images: d.images.list().length,
      Driver: 'overlay2',
      DriverStatus: [['Backing Filesystem', 'extfs'], ['Supports d_type', 'true']],
      Plugins: { Volume: ['local'], Network: ['bridge', 'host', 'null'], Authorization: null, Log: ['json-file', 'local'] },
      MemoryLimit: true,
      SwapLimit: true,
      KernelMemoryTCP: false,
      CpuCfsPeriod: true,
      CpuCfsQuota: true,
      CPUShares: true,
      CPUSet: true,
      PidsLimit: true,
      IPv4Forwarding: true,
      BridgeNfIptables: false,
      BridgeNfIp6tables: false,
      Debug: d.debug,
      NFd: openDescriptors(),
      // --oom-kill-disable works on cgroup v1 (memory.oom_control); v2 has no such switch.
      OomKillDisable: d.cgroupVersion === 1,
      NGoroutines: 0,
      SystemTime: new Date().toISOString(),
      LoggingDriver: 'json-file',
      CgroupDriver: 'cgroupfs',
      CgroupVersion: String(d.cgroupVersion),
      NEventsListener: 0,
      KernelVersion: release(),
      OperatingSystem: osName(),
      OSVersion: '',
      OSType: 'linux',
      Architecture: arch() === 'x64' ? 'x86_64' : arch(),
      IndexServerAddress: 'https://index.docker.io/v1/',
      RegistryConfig: registryConfig(d.distribution.settings),
      NCPU: cpus().length,
      MemTotal: totalmem(),
      GenericResources: null,
      DockerRootDir: d.dataRoot,
      HttpProxy: '',
      HttpsProxy: '',
      NoProxy: '',
      Name: hostname(),
      Labels: [],
      ExperimentalBuild: false,
      ServerVersion: BERTH_VERSION,
      Runtimes: Object.fromEntries(d.runtimes.map((r) => [r.name, { path: r.path }])),
      DefaultRuntime: d.defaultRuntime,
      Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
      LiveRestoreEnabled: true,
      Isolation: '',
      InitBinary: d.initPath ?? '',
      ContainerdCommit: { ID: '' },
      RuncCommit: { ID: d.runtimeCommit || d.runtimeVersion },
      InitCommit: { ID: d.initVersion?.commit ?? '' },
      SecurityOptions: ['name=seccomp,profile=builtin'],
      CDISpecDirs: [],
      Warnings: d.warnings(),
    });
  });

  r.on('GET', '/events', async (ctx) => {
    const filters = qFilters(ctx);
    const sinceQ = ctx.query.get('since');
    const untilQ = ctx.query.get('until');
    const since = sinceQ ? parseTime(sinceQ) : undefined;
    const until = untilQ ? parseTime(untilQ) : undefined;
    if (since !== undefined && until !== undefined && since > until) {
      throw invalidParameter(`\`since\` time (${Math.floor(since)}) cannot be after \`until\` time (${Math.floor(until)})`);
    }
    const out = startJsonStream(ctx);
    const inWindow = (e: EngineEvent): boolean => {
      const t = e.timeNano / 1e9;
      return (since === undefined || t >= since) && (until === undefined || t <= until);
    };
    if (since !== undefined) for (const e of d.events.history()) if (inWindow(e) && matchEvent(e, filters)) out.send(e);
    if (until !== undefined && until <= Date.now() / 1000) {
      out.end();
      return;
    }
    await new Promise<void>((resolve) => {
      const unsub = d.events.subscribe((e) => {
        if (until !== undefined && e.timeNano / 1e9 > until) return finish();
        // As Docker's publisher, a subscriber that does not keep up loses events rather than
        // making the daemon hold them: past ~1 MiB waiting for it, new ones are dropped.
        if (out.res.writableLength > EVENTS_BACKLOG) return;
        if (inWindow(e) && matchEvent(e, filters)) out.send(e);
      });
      let timer: NodeJS.Timeout | undefined;
      if (until !== undefined) timer = setTimeout(finish, Math.max(0, until * 1000 - Date.now()));
      function finish(): void {
        unsub();
        if (timer) clearTimeout(timer);
        out.end();
        resolve();
      }
      ctx.signal.addEventListener('abort', finish, { once: true });
    });
  });
}

/** The daemon's open file descriptors, as dockerd reports its own. */
function openDescriptors(): number {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return 0;
  }
}

/**
 * Docker's RegistryConfig: insecure registries given as CIDRs join 127.0.0.0/8, the others are
 * index entries that are not secure; mirrors (as URLs ending in `/`) serve docker.io.
 */
export function registryConfig(settings: { insecureRegistries: readonly string[]; mirrors: readonly string[] }): Record<string, unknown> {
  const mirrors = settings.mirrors.map((m) => (m.endsWith('/') ? m : `${m}/`));
  const cidrs = ['127.0.0.0/8'];
  const index: Record<string, unknown> = { 'docker.io': { Name: 'docker.io', Mirrors: mirrors, Secure: true, Official: true } };
  for (const r of settings.insecureRegistries) {
    if (/^[\d.]+\/\d+$|^[0-9a-fA-F:]+\/\d+$/.test(r)) {
      if (!cidrs.includes(r)) cidrs.push(r);
    } else index[r] = { Name: r, Mirrors: [], Secure: false, Official: false };
  }
  return { AllowNondistributableArtifactsCIDRs: [], AllowNondistributableArtifactsHostnames: [], InsecureRegistryCIDRs: cidrs, IndexConfigs: index, Mirrors: mirrors };
}
