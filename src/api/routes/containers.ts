// /containers/*: decode and validate → call the engine → encode.
import type { Router } from '../server/index.ts';
import { pipeline } from 'node:stream/promises';
import { readJsonBody, sendJson, sendEmpty, hijack, drainedOrClosed, qBool, qInt, qFilters, startJsonStream, type Ctx, type ClientStream } from '../server/http.ts';
import { BerthError, invalidParameter, conflict, messageOf } from '../../core/errors.ts';
import { encodeFrame } from '../streams/frames.ts';
import { humanStatus } from '../../engine/containers/state.ts';
import { liveNet, matchLabels, parseTime, type ContainerRecord } from '../../engine/containers/service.ts';
import type { PathStat } from '../../engine/containers/archive.ts';
import { parseDetachKeys, type AttachSink } from '../../engine/containers/attach.ts';
import { readLogs } from '../../engine/logs/index.ts';
import { formatTimestamp } from '../../engine/logs/k8s-file.ts';
import { detailsPrefix, logAttributes } from '../../engine/logs/attrs.ts';
import { readStats, toDockerStats, listPids, type RawStats } from '../../adapters/cgroups/index.ts';
import { top } from '../../engine/top.ts';
import { interfaceCounters } from '../../adapters/netns/index.ts';
import type { Deps } from './deps.ts';

/** Output to a client: multiplexed frames without a TTY, raw bytes with one. */
export function sinkFor(stream: ClientStream, tty: boolean): AttachSink {
  const sink: AttachSink = {
    output: (s, d) => {
      if (d.length === 0) return true;
      return stream.write(tty ? d : encodeFrame(s === 'stdout' ? 1 : 2, d));
    },
    onDrain: (fn) => stream.onDrain(fn),
    end: () => stream.end(),
    onClose: (fn) => stream.onClose(fn),
    get closed() {
      return stream.closed;
    },
  };
  if (stream.input) sink.input = stream.input;
  return sink;
}

function commandOf(rec: ContainerRecord): string {
  return [rec.Path, ...rec.Args].map((a) => (/\s/.test(a) ? `'${a}'` : a)).join(' ');
}

export function summary(rec: ContainerRecord, d: Deps, size?: number): Record<string, unknown> {
  const img = d.images.resolve(rec.Image);
  const out: Record<string, unknown> = {
    Id: rec.Id,
    Names: [rec.Name],
    Image: rec.Config.Image,
    ImageID: rec.Image,
    Command: commandOf(rec),
    Created: Math.floor(Date.parse(rec.Created) / 1000),
    Ports: Object.entries(liveNet(rec)?.ports ?? {}).flatMap(([k, binds]) => {
      const [port, type] = k.split('/') as [string, string];
      return binds.map((b) => ({ IP: b.HostIp, PrivatePort: Number(port), PublicPort: Number(b.HostPort), Type: type }));
    }),
    Labels: rec.Config.Labels,
    State: rec.State.Status,
    Status: humanStatus(rec.State),
    HostConfig: { NetworkMode: rec.HostConfig.NetworkMode },
    NetworkSettings: { Networks: d.containers.endpoints(rec) },
    Mounts: (rec.berth.mounts ?? []).map((m) => ({ Type: m.Type, ...(m.Name ? { Name: m.Name } : {}), ...(m.Driver ? { Driver: m.Driver } : {}), Source: m.Source, Destination: m.Destination, Mode: m.Mode, RW: m.RW, Propagation: m.Propagation })),
  };
  if (!img) out.ImageID = rec.Image;
  if (size !== undefined) {
    // As Docker: no SizeRw for a container that has written nothing.
    if (size > 0) out.SizeRw = size;
    out.SizeRootFs = size + (img?.size ?? 0);
  }
  return out;
}

function matchesFilters(rec: ContainerRecord, f: Record<string, string[]>, d: Deps, all: ContainerRecord[]): boolean {
  const any = (key: string, pred: (v: string) => boolean): boolean => !f[key]?.length || f[key]!.some(pred);
  if (!any('id', (v) => rec.Id.startsWith(v))) return false;
  if (!any('name', (v) => new RegExp(v).test(rec.Name.slice(1)))) return false;
  if (!any('status', (v) => rec.State.Status === v)) return false;
  if (!any('exited', (v) => rec.State.Status === 'exited' && rec.State.ExitCode === Number(v))) return false;
  if (!any('ancestor', (v) => {
    const img = d.images.resolve(v);
    return rec.Config.Image === v || (img !== undefined && img.id === rec.Image);
  })) return false;
  if (!matchLabels(rec.Config.Labels, f)) return false;
  const createdOf = (ref: string): number => {
    const other = all.find((c) => c.Id.startsWith(ref) || c.Name.slice(1) === ref);
    if (!other) throw invalidParameter(`No such container: ${ref}`);
    return Date.parse(other.Created);
  };
  if (f.before?.length && !(Date.parse(rec.Created) < createdOf(f.before[0]!))) return false;
  if (f.since?.length && !(Date.parse(rec.Created) > createdOf(f.since[0]!))) return false;
  if (f.network?.length) {
    // As Docker: a network's name or ID, matched as Docker's filters match (a regular expression).
    const nets = Object.entries((d.containers.inspect(rec.Id).NetworkSettings as { Networks: Record<string, { NetworkID?: string }> }).Networks);
    const names = nets.flatMap(([name, e]) => [name, e.NetworkID ?? '']).filter(Boolean);
    if (!f.network.some((v) => names.some((n) => n === v || safeRegExp(v)?.test(n)))) return false;
  }
  if (!any('health', (v) => (rec.State.Health?.Status ?? 'none') === v)) return false;
  if (!any('isolation', () => true)) return false;
  // A volume by name (a bind by its source) or by the path it is mounted at.
  if (!any('volume', (v) => (rec.berth.mounts ?? []).some((m) => m.Destination === v || (m.Name ? m.Name === v : m.Source === v)))) return false;
  // Container ports (`80`, `80/udp`, `8000-8080/tcp`) published to the host, or exposed.
  if (!any('publish', (v) => portsMatch(v, Object.keys(rec.HostConfig.PortBindings ?? {})))) return false;
  if (!any('expose', (v) => portsMatch(v, Object.keys(rec.Config.ExposedPorts ?? {})))) return false;
  return true;
}

function safeRegExp(src: string): RegExp | undefined {
  try {
    return new RegExp(src);
  } catch {
    return undefined;
  }
}

/** Whether `port[-end][/proto]` (tcp by default) names one of `keys` (`80/tcp`, …). */
function portsMatch(value: string, keys: readonly string[]): boolean {
  const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/.exec(value.trim());
  if (!m) throw invalidParameter(`invalid port filter ${JSON.stringify(value)}: expected <port>[-<port>][/<proto>]`);
  const lo = Number(m[1]);
  const hi = m[2] !== undefined ? Number(m[2]) : lo;
  const proto = m[3] ?? 'tcp';
  return keys.some((k) => {
    const [p, kp = 'tcp'] = k.split('/');
    return kp === proto && Number(p) >= lo && Number(p) <= hi;
  });
}

const KNOWN_FILTERS = new Set(['id', 'name', 'status', 'exited', 'ancestor', 'label', 'label!', 'before', 'since', 'network', 'health', 'isolation', 'is-task', 'volume', 'publish', 'expose']);

export function registerContainers(r: Router, d: Deps): void {
  const C = d.containers;

  r.on('POST', '/containers/create', async (ctx) => {
    const body = await readJsonBody(ctx);
    const name = ctx.query.get('name') ?? undefined;
    sendJson(ctx, 201, await C.create(body, name, ctx.query.get('platform') || undefined));
  });

  r.on('GET', '/containers/json', async (ctx) => {
    const all = qBool(ctx, 'all');
    const limit = qInt(ctx, 'limit');
    const size = qBool(ctx, 'size');
    const filters = qFilters(ctx);
    for (const k of Object.keys(filters)) if (!KNOWN_FILTERS.has(k)) throw invalidParameter(`Invalid filter '${k}'`);
    // Port filters are checked whether or not any container is left to match them.
    for (const v of [...(filters.publish ?? []), ...(filters.expose ?? [])]) portsMatch(v, []);
    const recs = C.list();
    let list = recs.filter((c) => (all || (limit !== undefined && limit > 0) || filters.status?.length ? true : c.State.Status === 'running' || c.State.Status === 'paused' || c.State.Status === 'restarting'));
    list = list.filter((c) => matchesFilters(c, filters, d, recs));
    if (limit !== undefined && limit > 0) list = list.slice(0, limit);
    const out = await Promise.all(list.map(async (c) => summary(c, d, size ? await C.sizeRw(c.Id).catch(() => 0) : undefined)));
    sendJson(ctx, 200, out);
  });

  r.on('GET', '/containers/:id/json', async (ctx) => {
    const info = C.inspect(ctx.params.id!);
    olderNetworkShape(info, ctx.apiVersion);
    info.ExecIDs = d.execs.execIdsOf(info.Id as string);
    if ((info.ExecIDs as string[]).length === 0) info.ExecIDs = null;
    if (qBool(ctx, 'size')) {
      const rw = await C.sizeRw(info.Id as string).catch(() => 0);
      info.SizeRw = rw;
      info.SizeRootFs = rw + (d.images.resolve(info.Image as string)?.size ?? 0);
    }
    sendJson(ctx, 200, info);
  });

  r.on('POST', '/containers/:id/start', async (ctx) => {
    if (ctx.query.get('detachKeys')) parseDetachKeys(ctx.query.get('detachKeys'));
    await C.start(ctx.params.id!);
    sendEmpty(ctx, 204);
  });

  const stopOpts = (ctx: Ctx): { signal?: string; timeout?: number } => {
    const o: { signal?: string; timeout?: number } = {};
    const t = qInt(ctx, 't');
    if (t !== undefined) o.timeout = t;
    const s = ctx.query.get('signal');
    if (s) o.signal = s;
    return o;
  };

  r.on('POST', '/containers/:id/stop', async (ctx) => {
    await C.stop(ctx.params.id!, stopOpts(ctx));
    sendEmpty(ctx, 204);
  });

  r.on('POST', '/containers/:id/restart', async (ctx) => {
    await C.restart(ctx.params.id!, stopOpts(ctx));
    sendEmpty(ctx, 204);
  });

  r.on('POST', '/containers/:id/kill', async (ctx) => {
    await C.kill(ctx.params.id!, ctx.query.get('signal') || 'KILL');
    sendEmpty(ctx, 204);
  });

  r.on('POST', '/containers/:id/pause', async (ctx) => {
    await C.pause(ctx.params.id!);
    sendEmpty(ctx, 204);
  });

  r.on('POST', '/containers/:id/unpause', async (ctx) => {
    await C.unpause(ctx.params.id!);
    sendEmpty(ctx, 204);
  });

  r.on('DELETE', '/containers/:id', async (ctx) => {
    const rec = C.find(ctx.params.id!);
    await C.remove(rec.Id, { force: qBool(ctx, 'force'), volumes: qBool(ctx, 'v') });
    d.execs.forgetContainer(rec.Id);
    sendEmpty(ctx, 204);
  });

  r.on('POST', '/containers/:id/rename', async (ctx) => {
    const name = ctx.query.get('name');
    if (!name) throw invalidParameter('name is required');
    await C.rename(ctx.params.id!, name);
    sendEmpty(ctx, 204);
  });

  r.on('POST', '/containers/:id/resize', async (ctx) => {
    const h = qInt(ctx, 'h') ?? 0;
    const w = qInt(ctx, 'w') ?? 0;
    await C.resize(ctx.params.id!, h, w);
    sendEmpty(ctx, 200);
  });

  r.on('POST', '/containers/:id/wait', async (ctx) => {
    const waiting = C.wait(ctx.params.id!, ctx.query.get('condition') ?? '');
    // Headers go out at once: clients start the container only after the wait is registered.
    const res = ctx.res!;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    const result = await Promise.race([waiting, new Promise<undefined>((r) => ctx.signal.addEventListener('abort', () => r(undefined), { once: true }))]);
    if (result === undefined) {
      res.destroy();
      return;
    }
    res.end(JSON.stringify(result) + '\n');
  });

  r.on('POST', '/containers/prune', async (ctx) => {
    sendJson(ctx, 200, await C.prune(qFilters(ctx)));
  });

  r.on('POST', '/containers/:id/attach', async (ctx) => {
    const rec = C.find(ctx.params.id!);
    const stdin = qBool(ctx, 'stdin');
    const stdout = qBool(ctx, 'stdout');
    const stderr = qBool(ctx, 'stderr');
    const logs = qBool(ctx, 'logs');
    const stream = qBool(ctx, 'stream');
    const detachKeys = parseDetachKeys(ctx.query.get('detachKeys'));
    if (!stream && !logs) throw invalidParameter('Bad parameters: you must choose at least one stream');
    const tty = rec.Config.Tty;
    const client = hijack(ctx, tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream');
    const sink = sinkFor(client, tty);
    if (logs) {
      // The replay goes at the client's pace: a whole log is not read into memory ahead of it.
      for await (const e of readLogs({ path: rec.LogPath, stdout, stderr, follow: false })) {
        if (client.closed) break;
        if (!sink.output(e.stream, e.data)) await client.drained();
      }
    }
    if (!stream) {
      client.end();
      return;
    }
    try {
      await C.attach(rec.Id, { sink, stdin, stdout, stderr, detachKeys });
    } catch (err) {
      if (!client.closed) sink.output('stderr', Buffer.from(`${messageOf(err)}\n`));
      client.end();
    }
  });

  r.on('GET', '/containers/:id/logs', async (ctx) => {
    const rec = C.find(ctx.params.id!);
    // As Docker: the none driver keeps nothing to read.
    if (rec.HostConfig.LogConfig.Type === 'none') throw new BerthError('NotImplemented', 'configured logging driver does not support reading');
    const stdout = qBool(ctx, 'stdout');
    const stderr = qBool(ctx, 'stderr');
    if (!stdout && !stderr) throw invalidParameter('Bad parameters: you must choose at least one stream');
    const follow = qBool(ctx, 'follow');
    const timestamps = qBool(ctx, 'timestamps');
    // As Docker: the line's attributes (log options `labels`, `env`, …) and a space before it.
    const details = qBool(ctx, 'details') ? Buffer.from(detailsPrefix(logAttributes(rec.HostConfig.LogConfig.Config, rec.Config.Labels ?? {}, rec.Config.Env ?? []))) : undefined;
    const tailQ = ctx.query.get('tail');
    let tail: number | undefined;
    // As Docker: a number of lines; anything else ("all", a typo) means every line.
    if (tailQ !== null && /^-?\d+$/.test(tailQ.trim())) {
      tail = Number(tailQ.trim());
      if (tail < 0) tail = undefined;
    }
    const sinceQ = ctx.query.get('since');
    const untilQ = ctx.query.get('until');
    const since = sinceQ && sinceQ !== '0' ? parseTime(sinceQ) : undefined;
    const until = untilQ && untilQ !== '0' ? parseTime(untilQ) : undefined;
    const tty = rec.Config.Tty;
    const res = ctx.res!;
    res.writeHead(200, { 'Content-Type': tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream' });
    res.flushHeaders();
    const id = rec.Id;
    const isRunning = (): boolean => {
      const cur = C.tryFind(id);
      return cur !== undefined && (cur.State.Status === 'running' || cur.State.Status === 'paused' || cur.State.Status === 'restarting');
    };
    const opts: Parameters<typeof readLogs>[0] = { path: rec.LogPath, stdout, stderr, follow, isRunning, signal: ctx.signal };
    if (tail !== undefined) opts.tail = tail;
    if (since !== undefined) opts.since = since;
    if (until !== undefined) opts.until = until;
    try {
      for await (const e of readLogs(opts)) {
        if (res.destroyed) break;
        const parts = [e.data];
        if (details) parts.unshift(details);
        if (timestamps) parts.unshift(Buffer.from(`${formatTimestamp(e.timeNano)} `));
        const data = parts.length === 1 ? e.data : Buffer.concat(parts);
        const ok = res.write(tty ? data : encodeFrame(e.stream === 'stdout' ? 1 : 2, data));
        if (!ok) await drainedOrClosed(res);
      }
    } finally {
      res.end();
    }
  });

  r.on('GET', '/containers/:id/top', async (ctx) => {
    const rec = C.find(ctx.params.id!);
    if (rec.State.Status !== 'running' && rec.State.Status !== 'paused') throw conflict(`Container ${rec.Id} is not running`);
    const pids = await listPids(C.cgroupsPath(rec.Id, rec));
    sendJson(ctx, 200, await top(pids, ctx.query.get('ps_args') || undefined));
  });

  r.on('GET', '/containers/:id/stats', async (ctx) => {
    const rec = C.find(ctx.params.id!);
    const stream = qBool(ctx, 'stream', true);
    const oneShot = qBool(ctx, 'one-shot');
    const name = rec.Name.slice(1);
    const running = (): boolean => {
      const cur = C.tryFind(rec.Id);
      return cur !== undefined && (cur.State.Status === 'running' || cur.State.Status === 'paused');
    };
    const sample = async (): Promise<RawStats | undefined> => (running() ? readStats(C.cgroupsPath(rec.Id, rec)).catch(() => undefined) : undefined);
    // Interface counters from the container's own namespace (none for --network host).
    const nets = async (): Promise<{ networks?: Record<string, object> }> => {
      const cur = C.tryFind(rec.Id);
      if (!cur || cur.State.Pid <= 0 || cur.HostConfig.NetworkMode === 'host') return {};
      const n = await interfaceCounters(cur.State.Pid).catch(() => undefined);
      return n ? { networks: n } : {};
    };
    const empty = (): Record<string, unknown> => ({ id: rec.Id, name: rec.Name, read: '0001-01-01T00:00:00Z', preread: '0001-01-01T00:00:00Z', pids_stats: {}, blkio_stats: {}, num_procs: 0, storage_stats: {}, cpu_stats: { cpu_usage: { total_usage: 0 }, throttling_data: {} }, precpu_stats: { cpu_usage: { total_usage: 0 }, throttling_data: {} }, memory_stats: {} });
    let prev: RawStats | undefined;
    let prevAt: Date | undefined;
    if (!stream) {
      const out = startJsonStream(ctx);
      if (!oneShot) {
        prev = await sample();
        prevAt = new Date();
        await new Promise((r) => setTimeout(r, 1000));
      }
      const cur = await sample();
      out.send(cur ? toDockerStats(cur, prev, { id: rec.Id, name, read: new Date(), ...(prevAt ? { preread: prevAt } : {}), ...(await nets()) }) : empty());
      out.end();
      return;
    }
    const out = startJsonStream(ctx);
    while (!ctx.signal.aborted && !out.res.destroyed) {
      const cur = await sample();
      const now = new Date();
      const sent = out.send(cur ? toDockerStats(cur, prev, { id: rec.Id, name, read: now, ...(prevAt ? { preread: prevAt } : {}), ...(await nets()) }) : empty());
      prev = cur;
      prevAt = now;
      // A client that does not read holds the next sample back rather than piling them up.
      if (!sent && !out.res.destroyed) await drainedOrClosed(out.res);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 1000);
        ctx.signal.addEventListener('abort', () => {
          clearTimeout(t);
          r();
        }, { once: true });
      });
    }
    out.end();
  });

  r.on('POST', '/commit', async (ctx) => {
    const container = ctx.query.get('container');
    if (!container) throw invalidParameter('container is required');
    const body = await readJsonBody(ctx, { allowEmpty: true });
    const repo = ctx.query.get('repo') ?? '';
    const tag = ctx.query.get('tag') ?? '';
    const opts: Parameters<typeof C.commit>[1] = { pause: qBool(ctx, 'pause', true), changes: ctx.query.getAll('changes').flatMap((c) => c.split('\n')).filter((c) => c.trim() !== '') };
    if (repo) opts.ref = tag ? `${repo}:${tag}` : repo;
    const comment = ctx.query.get('comment');
    if (comment) opts.comment = comment;
    const author = ctx.query.get('author');
    if (author) opts.author = author;
    if (Object.keys(body).length > 0) opts.config = body as NonNullable<typeof opts.config>;
    const img = await C.commit(container, opts);
    sendJson(ctx, 201, { Id: img.id });
  });

  r.on('GET', '/containers/:id/export', async (ctx) => {
    const { stream, done } = await C.exportFs(ctx.params.id!);
    const res = ctx.res!;
    res.writeHead(200, { 'Content-Type': 'application/x-tar' });
    try {
      await pipeline(stream, res);
    } finally {
      await done();
    }
  });

  const archivePath = (ctx: Ctx): string => {
    const p = ctx.query.get('path');
    if (!p) throw invalidParameter('bad parameter: path cannot be empty');
    return p;
  };
  const statHeader = (stat: PathStat): string => Buffer.from(JSON.stringify(stat)).toString('base64');

  r.on('HEAD', '/containers/:id/archive', async (ctx) => {
    const stat = await C.archiveStat(ctx.params.id!, archivePath(ctx));
    const res = ctx.res!;
    res.writeHead(200, { 'X-Docker-Container-Path-Stat': statHeader(stat), 'Content-Type': 'application/json' });
    res.end();
  });

  r.on('GET', '/containers/:id/archive', async (ctx) => {
    const { stat, stream, done } = await C.archiveGet(ctx.params.id!, archivePath(ctx));
    const res = ctx.res!;
    try {
      res.writeHead(200, { 'X-Docker-Container-Path-Stat': statHeader(stat), 'Content-Type': 'application/x-tar' });
      await pipeline(stream, res);
    } finally {
      stream.destroy();
      await done();
    }
  });

  r.on('PUT', '/containers/:id/archive', async (ctx) => {
    await C.archivePut(ctx.params.id!, archivePath(ctx), ctx.req, {
      noOverwriteDirNonDir: qBool(ctx, 'noOverwriteDirNonDir'),
      copyUIDGID: qBool(ctx, 'copyUIDGID'),
      signal: ctx.signal,
    });
    sendEmpty(ctx, 200);
  });

  r.on('GET', '/containers/:id/changes', async (ctx) => {
    sendJson(ctx, 200, await C.changes(ctx.params.id!));
  });

  r.on('POST', '/containers/:id/update', async (ctx) => {
    sendJson(ctx, 200, await C.update(ctx.params.id!, await readJsonBody(ctx)));
  });

}

/**
 * Clients of API versions before 1.45 get the endpoint shape they know: the short ID among the
 * aliases of a connected endpoint, and (before 1.44) no DNSNames.
 */
function olderNetworkShape(info: Record<string, unknown>, apiVersion: string): void {
  const [major = 1, minor = 0] = apiVersion.split('.').map(Number);
  if (major > 1 || minor >= 45) return;
  const networks = (info.NetworkSettings as { Networks?: Record<string, Record<string, unknown>> } | undefined)?.Networks ?? {};
  for (const ep of Object.values(networks)) {
    const names = ep.DNSNames as string[] | null | undefined;
    if (Array.isArray(names)) ep.Aliases = [...((ep.Aliases as string[] | null) ?? []), String(info.Id).slice(0, 12)];
    if (minor < 44) delete ep.DNSNames;
  }
}
