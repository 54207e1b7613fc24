// /images/*: the part of the image API the engine core needs (list, inspect, tag, remove, import).
import type { Router } from '../server/index.ts';
import { sendJson, qBool, qFilters, startJsonStream, type Ctx } from '../server/http.ts';
import { invalidParameter, notImplemented, messageOf } from '../../core/errors.ts';
import type { Deps } from './deps.ts';

export function registerImages(r: Router, d: Deps): void {
  const I = d.images;

  r.on('GET', '/images/json', async (ctx) => {
    const filters = qFilters(ctx);
    let list = I.list();
    for (const ref of filters.reference ?? []) {
      list = list.filter((img) => I.tagsOf(img.id).some((t) => globMatch(ref, t) || globMatch(ref, t.replace(/:[^:/]*$/, ''))));
    }
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
      const used = d.containers.list().filter((c) => c.Image === img.id).length;
      s.Containers = used;
      return s;
    });
    sendJson(ctx, 200, out);
  });

  r.on('POST', '/images/create', async (ctx) => {
    const fromSrc = ctx.query.get('fromSrc');
    const fromImage = ctx.query.get('fromImage');
    if (fromSrc !== null) {
      if (fromSrc !== '-') throw notImplemented('importing from a URL is not supported by this berthd yet: use fromSrc=- with the tarball as the body');
      const repo = ctx.query.get('repo') ?? '';
      const tag = ctx.query.get('tag') ?? '';
      const ref = repo === '' ? undefined : tag ? `${repo}:${tag}` : repo;
      const out = startJsonStream(ctx);
      try {
        const opts: Parameters<typeof I.importRootfs>[1] = { changes: ctx.query.getAll('changes').filter((c) => c !== '') };
        if (ref !== undefined) opts.ref = ref;
        const msg = ctx.query.get('message');
        if (msg) opts.message = msg;
        const img = await I.importRootfs(ctx.req, opts);
        out.send({ status: img.id });
      } catch (err) {
        out.send({ errorDetail: { message: messageOf(err) }, error: messageOf(err) });
      }
      out.end();
      return;
    }
    if (fromImage !== null) {
      const tag = ctx.query.get('tag');
      const ref = tag ? `${fromImage}:${tag}` : fromImage;
      if (I.resolve(ref) !== undefined) {
        const out = startJsonStream(ctx);
        out.send({ status: `Status: Image is up to date for ${ref}` });
        out.end();
        return;
      }
      throw notImplemented(`pulling ${ref} from a registry is not supported by this berthd yet; build or import the image locally (berth bootstrap busybox, berth import)`);
    }
    throw invalidParameter('fromImage or fromSrc is required');
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
      if (!img) throw Object.assign(new Error(`No such image: ${name}`), { status: 404 });
      sendJson(ctx, 200, I.inspect(img.id));
      return;
    }
    if (op === 'history' && method === 'GET') {
      const img = I.resolve(name);
      if (!img) throw Object.assign(new Error(`No such image: ${name}`), { status: 404 });
      const hist = img.config.history ?? [];
      const out = hist
        .map((h, i) => ({
          Id: i === hist.length - 1 ? img.id : '<missing>',
          Created: h.created ? Math.floor(Date.parse(h.created) / 1000) : 0,
          CreatedBy: h.created_by ?? '',
          Tags: i === hist.length - 1 ? I.tagsOf(img.id) : null,
          Size: 0,
          Comment: h.comment ?? '',
        }))
        .reverse();
      sendJson(ctx, 200, out);
      return;
    }
    if (op === 'tag' && method === 'POST') {
      const img = I.resolve(name);
      if (!img) throw Object.assign(new Error(`No such image: ${name}`), { status: 404 });
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
}

function globMatch(pattern: string, s: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '.')}$`);
  return re.test(s);
}
