// /images/*: the part of the image API the engine core needs (list, inspect, tag, remove, import).
import type { Router } from '../server/index.ts';
import { sendJson, qBool, qFilters, startJsonStream, type Ctx } from '../server/http.ts';
import { invalidParameter, notFound, notImplemented, messageOf } from '../../core/errors.ts';
import type { Deps } from './deps.ts';
import { decodeRegistryAuth, parsePlatform, type ProgressSink } from '../../distribution/index.ts';
import type { PullOptions } from '../../distribution/pull.ts';
import { loadImages, saveImages } from '../../engine/images/archive.ts';
import { openUrl, DownloadError } from '../../adapters/http/index.ts';
import { pruneImages } from '../../engine/images/prune.ts';
import { parseTime } from '../../engine/containers/service.ts';
import { noSuchImage } from '../../stores/images.ts';
import { join } from 'node:path';

export function registerImages(r: Router, d: Deps): void {
  const I = d.images;

  r.on('GET', '/images/json', async (ctx) => {
    const filters = qFilters(ctx);
    let list = I.list();
    if (!qBool(ctx, 'all')) {
      // Intermediate images (untagged parents of other images, as builds leave) only with all=1.
      const parents = new Set(list.map((img) => img.parent).filter((p): p is string => p !== undefined));
      list = list.filter((img) => !(parents.has(img.id) && I.tagsOf(img.id).length === 0 && I.digestsOf(img.id).length === 0));
    }
    // As Docker: a reference pattern matches a tag or digest reference, or its repository name;
    // an image is listed with only the references that match.
    const refPatterns = filters.reference ?? [];
    const refMatches = (r: string): boolean => refPatterns.some((p) => globMatch(p, r) || globMatch(p, r.replace(/@.*$|:[^:/]*$/, '')));
    if (refPatterns.length > 0) list = list.filter((img) => I.tagsOf(img.id).some(refMatches));
    if (filters.dangling?.length) {
      const want = filters.dangling[0] === 'true' || filters.dangling[0] === '1';
      list = list.filter((img) => (I.tagsOf(img.id).length === 0) === want);
    }
    for (const l of filters.label ?? []) {
      const [k, v] = l.split('=', 2) as [string, string | undefined];
      list = list.filter((img) => {
        const labels = img.config.config?.Labels ?? {};
        return k in labels && (v === undefined || labels[k] === v);
      });
    }
    const out = list.map((img) => {
      const s = I.summary(img.id) as Record<string, unknown>;
      if (refPatterns.length > 0) {
        s.RepoTags = (s.RepoTags as string[]).filter(refMatches);
        s.RepoDigests = (s.RepoDigests as string[]).filter(refMatches);
      }
      const used = d.containers.list().filter((c) => c.Image === img.id).length;
      s.Containers = used;
      return s;
    });
    sendJson(ctx, 200, out);
  });

  r.on('GET', '/images/search', async (ctx) => {
    const term = ctx.query.get('term') ?? '';
    if (term.trim() === '') throw invalidParameter('term is required');
    const limit = Number(ctx.query.get('limit') ?? '25');
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw invalidParameter(`invalid limit ${ctx.query.get('limit')}: between 1 and 100`);
    const f = qFilters(ctx);
    for (const k of Object.keys(f)) if (!['is-official', 'is-automated', 'stars'].includes(k)) throw invalidParameter(`invalid filter '${k}'`);
    const stars = f.stars?.[0] !== undefined ? Number(f.stars[0]) : 0;
    if (!Number.isInteger(stars) || stars < 0) throw invalidParameter(`invalid filter 'stars=${f.stars?.[0]}'`);
    const flag = (k: string): boolean | undefined => (f[k]?.[0] === undefined ? undefined : ['true', '1'].includes(f[k][0]!.toLowerCase()));
    const official = flag('is-official');
    const automated = flag('is-automated');
    const results = await d.distribution.search(term.trim(), { limit, auth: decodeRegistryAuth(header(ctx, 'x-registry-auth')), signal: clientGone(ctx) });
    sendJson(ctx, 200, results.filter((r) => r.star_count >= stars && (official === undefined || r.is_official === official) && (automated === undefined || r.is_automated === automated)));
  });

  r.on('POST', '/images/create', async (ctx) => {
    const fromSrc = ctx.query.get('fromSrc');
    const fromImage = ctx.query.get('fromImage');
    if (fromSrc !== null) {
      if (fromSrc !== '-' && !/^https?:\/\//i.test(fromSrc)) throw invalidParameter(`import source ${JSON.stringify(fromSrc)} is neither - (the request body) nor an http(s) URL`);
      const repo = ctx.query.get('repo') ?? '';
      const tag = ctx.query.get('tag') ?? '';
      const ref = repo === '' ? undefined : tag ? `${repo}:${tag}` : repo;
      const out = startJsonStream(ctx);
      try {
        const opts: Parameters<typeof I.importRootfs>[1] = { changes: ctx.query.getAll('changes').filter((c) => c !== '') };
        if (ref !== undefined) opts.ref = ref;
        const msg = ctx.query.get('message');
        if (msg) opts.message = msg;
        let input: NodeJS.ReadableStream = ctx.req;
        if (fromSrc !== '-') {
          // A URL: the daemon fetches the tarball, as Docker's `import URL`.
          out.send({ status: 'Downloading from ' + fromSrc });
          const got = await openUrl(fromSrc, { signal: clientGone(ctx) }).catch((err: unknown) => {
            throw err instanceof DownloadError ? invalidParameter(`failed to download ${fromSrc}: ${err.message}`, err) : err;
          });
          input = got.body;
        }
        const img = await I.importRootfs(input, opts);
        out.send({ status: img.id });
      } catch (err) {
        out.send({ errorDetail: { message: messageOf(err) }, error: messageOf(err) });
      }
      out.end();
      return;
    }
    if (fromImage !== null) {
      const tag = ctx.query.get('tag') ?? '';
      const allTags = tag === '' && !/[:@]/.test(fromImage.slice(fromImage.lastIndexOf('/') + 1));
      const ref = tag === '' ? fromImage : tag.startsWith('sha256:') ? `${fromImage}@${tag}` : `${fromImage}:${tag}`;
      const platform = ctx.query.get('platform');
      const opts: PullOptions = { ref, auth: decodeRegistryAuth(header(ctx, 'x-registry-auth')), allTags, signal: clientGone(ctx) };
      if (platform) opts.platform = parsePlatform(platform);
      await streamProgress(ctx, (sink) => d.distribution.pull(opts, sink));
      return;
    }
    throw invalidParameter('fromImage or fromSrc is required');
  });

  const save = (ctx: Ctx, names: string[]): void => {
    const tarStream = saveImages(I, names);
    ctx.res!.writeHead(200, { 'Content-Type': 'application/x-tar' });
    // A failure mid-stream can only cut the connection: the client sees a truncated archive.
    tarStream.on('error', (err) => ctx.res!.destroy(err));
    ctx.res!.on('close', () => tarStream.destroy());
    tarStream.pipe(ctx.res!);
  };
  r.on('GET', '/images/get', async (ctx) => {
    save(ctx, ctx.query.getAll('names').filter((n) => n !== ''));
  });

  r.on('POST', '/images/prune', async (ctx) => {
    sendJson(ctx, 200, await pruneImages(I, qFilters(ctx), { inUse: (id) => d.containers.usesImage(id) !== undefined, parseTime }));
  });

  r.on('POST', '/images/load', async (ctx) => {
    const res = await loadImages(I, ctx.req, {
      tmpRoot: join(d.dataRoot, 'tmp'),
      signal: clientGone(ctx),
      onLoaded: (ref, id) => d.events.emit('image', 'load', id, { name: ref }),
    });
    const out = startJsonStream(ctx);
    for (const line of res.lines) out.send({ stream: `${line}\n` });
    out.end();
  });

  r.on('POST', '/berth/bootstrap/busybox', async (ctx) => {
    const ref = ctx.query.get('tag') || 'busybox:latest';
    sendJson(ctx, 200, { Id: await d.bootstrapBusybox(ref) });
  });

  // Image names contain slashes, so everything under /images/ is routed here by suffix.
  const byName = async (ctx: Ctx): Promise<void> => {
    const rest = ctx.params['*'] ?? '';
    const m = /^(.+?)\/(json|history|tag|push|get)$/.exec(rest);
    const method = ctx.req.method;
    if (m && m[2] === 'get' && method === 'GET') {
      save(ctx, [m[1]!]);
      return;
    }
    if (m && m[2] === 'push' && method === 'POST') {
      const tag = ctx.query.get('tag') ?? '';
      const ref = tag === '' ? m[1]! : `${m[1]!}:${tag}`;
      const auth = decodeRegistryAuth(header(ctx, 'x-registry-auth'));
      await streamProgress(ctx, (sink) => d.distribution.push({ ref, auth, signal: clientGone(ctx) }, sink));
      return;
    }
    if (method === 'DELETE') {
      const out = await I.remove(rest, {
        force: qBool(ctx, 'force'),
        noPrune: qBool(ctx, 'noprune'),
        usedBy: (id) => {
          const c = d.containers.usesImage(id);
          return c ? { containerId: c.Id, running: c.State.Status === 'running' || c.State.Status === 'paused' } : undefined;
        },
      });
      sendJson(ctx, 200, out);
      return;
    }
    if (!m) throw Object.assign(new Error('page not found'), { status: 404 });
    const [, name, op] = m as unknown as [string, string, string];
    if (op === 'json' && method === 'GET') {
      const img = I.resolve(name);
      if (!img) throw noSuchImage(name);
      sendJson(ctx, 200, I.inspect(img.id));
      return;
    }
    if (op === 'history' && method === 'GET') {
      const img = I.resolve(name);
      if (!img) throw noSuchImage(name);
      const hist = img.config.history ?? [];
      // Entries that made a layer take the layers in order; the others (ENV, CMD…) have none.
      let layer = 0;
      const sizes = hist.map((h) => (h.empty_layer ? 0 : (I.layers.get(img.chainIds[layer++] ?? '')?.size ?? 0)));
      const out = hist
        .map((h, i) => ({
          Id: i === hist.length - 1 ? img.id : '<missing>',
          Created: h.created ? Math.floor(Date.parse(h.created) / 1000) : 0,
          CreatedBy: h.created_by ?? '',
          Tags: i === hist.length - 1 ? I.tagsOf(img.id) : null,
          Size: sizes[i] ?? 0,
          Comment: h.comment ?? '',
        }))
        .reverse();
      sendJson(ctx, 200, out);
      return;
    }
    if (op === 'tag' && method === 'POST') {
      const img = I.resolve(name);
      if (!img) throw noSuchImage(name);
      const repo = ctx.query.get('repo');
      if (!repo) throw invalidParameter('repository name must have at least one component');
      const tag = ctx.query.get('tag');
      await I.tag(img.id, tag ? `${repo}:${tag}` : repo);
      ctx.res!.writeHead(201);
      ctx.res!.end();
      return;
    }
    throw notImplemented(`${op} is not supported by this berthd yet`);
  };
  r.on(['GET', 'POST', 'DELETE'], '/images/*', byName);

  // GET /distribution/{name}/json: what a registry holds under a name, without pulling it.
  r.on('GET', '/distribution/*', async (ctx) => {
    const m = /^(.+)\/json$/.exec(ctx.params['*'] ?? '');
    if (!m) throw notFound('page not found');
    const auth = decodeRegistryAuth(header(ctx, 'x-registry-auth'));
    sendJson(ctx, 200, await d.distribution.inspect({ ref: m[1]!, auth, signal: clientGone(ctx) }));
  });
}

function header(ctx: Ctx, name: string): string | undefined {
  const v = ctx.req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Aborts when the client disconnects before the response is complete. */
function clientGone(ctx: Ctx): AbortSignal {
  const ac = new AbortController();
  ctx.res!.on('close', () => {
    if (!ctx.res!.writableFinished) ac.abort(new Error('client disconnected'));
  });
  return ac.signal;
}

/**
 * Docker's progress stream: the response starts with the first message, so an error before any
 * (an unknown manifest, denied access) is a plain error response with its status; later errors
 * travel in the stream as errorDetail.
 */
async function streamProgress(ctx: Ctx, work: (sink: ProgressSink) => Promise<void>): Promise<void> {
  let out: ReturnType<typeof startJsonStream> | undefined;
  const sink: ProgressSink = (msg) => {
    out ??= startJsonStream(ctx);
    out.send(msg);
  };
  try {
    await work(sink);
  } catch (err) {
    if (out === undefined) throw err;
    out.send({ errorDetail: { message: messageOf(err) }, error: messageOf(err) });
  }
  (out ?? startJsonStream(ctx)).end();
}

function globMatch(pattern: string, s: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '.')}$`);
  return re.test(s);
}
