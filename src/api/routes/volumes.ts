// /volumes/*: local volumes.
import type { Router } from '../server/index.ts';
import { readJsonBody, sendJson, sendEmpty, qBool, qFilters } from '../server/http.ts';
import type { Deps } from './deps.ts';
import { invalidParameter } from '../../core/errors.ts';
import { matchLabels } from '../../engine/containers/service.ts';

function strMap(v: unknown): Record<string, string> {
  if (!v || typeof v !== 'object') return {};
  return Object.fromEntries(Object.entries(v as Record<string, unknown>).filter(([, x]) => typeof x === 'string')) as Record<string, string>;
}

export function registerVolumes(r: Router, d: Deps): void {
  const V = d.volumes;
  const users = (name: string): string[] => d.containers.volumeUsers(name);

  r.on('GET', '/volumes', async (ctx) => {
    const f = qFilters(ctx);
    let list = V.list();
    if (f.name?.length) list = list.filter((v) => f.name!.some((n) => v.Name.includes(n)));
    if (f.dangling?.length) {
      const want = f.dangling[0] === 'true' || f.dangling[0] === '1';
      list = list.filter((v) => (users(v.Name).length === 0) === want);
    }
    if (f.label?.length) list = list.filter((v) => f.label!.every((l) => {
      const [k, val] = l.split('=', 2) as [string, string | undefined];
      return k in v.Labels && (val === undefined || v.Labels[k] === val);
    }));
    sendJson(ctx, 200, { Volumes: list.map((v) => V.view(v)), Warnings: null });
  });

  r.on('POST', '/volumes/create', async (ctx) => {
    const body = await readJsonBody(ctx, { allowEmpty: true });
    const opts: Parameters<typeof V.create>[0] = { labels: strMap(body.Labels), driverOpts: strMap(body.DriverOpts) };
    if (typeof body.Name === 'string' && body.Name !== '') opts.name = body.Name;
    else opts.anonymous = false;
    if (typeof body.Driver === 'string' && body.Driver !== '') opts.driver = body.Driver;
    sendJson(ctx, 201, V.view(await V.create(opts)));
  });

  r.on('GET', '/volumes/:name', async (ctx) => {
    sendJson(ctx, 200, V.view(V.get(ctx.params.name!)));
  });

  r.on('DELETE', '/volumes/:name', async (ctx) => {
    await V.remove(ctx.params.name!, { force: qBool(ctx, 'force'), usedBy: users });
    sendEmpty(ctx, 204);
  });

  r.on('POST', '/volumes/prune', async (ctx) => {
    const f = qFilters(ctx);
    for (const k of Object.keys(f)) if (k !== 'all' && k !== 'label' && k !== 'label!') throw invalidParameter(`invalid filter '${k}'`);
    const all = f.all?.[0] === 'true' || f.all?.[0] === '1';
    const deleted: string[] = [];
    for (const v of V.list()) {
      if (!all && !v.anonymous) continue;
      if (!matchLabels(v.Labels, f)) continue;
      if (users(v.Name).length > 0) continue;
      await V.remove(v.Name, { usedBy: users }).then(() => deleted.push(v.Name), () => {});
    }
    sendJson(ctx, 200, { VolumesDeleted: deleted, SpaceReclaimed: 0 });
  });
}
