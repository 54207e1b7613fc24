// /containers/{id}/exec and /exec/*.
import type { Router } from '../server/index.ts';
import { readJsonBody, sendJson, sendEmpty, hijack, qInt } from '../server/http.ts';
import { sinkFor } from './containers.ts';
import type { Deps } from './deps.ts';

export function registerExec(r: Router, d: Deps): void {
  r.on('POST', '/containers/:id/exec', async (ctx) => {
    const body = await readJsonBody(ctx);
    sendJson(ctx, 201, d.execs.create(ctx.params.id!, body));
  });

  r.on('POST', '/exec/:id/start', async (ctx) => {
    const body = await readJsonBody(ctx, { allowEmpty: true });
    const detach = body.Detach === true;
    const tty = typeof body.Tty === 'boolean' ? body.Tty : d.execs.tty(ctx.params.id!);
    if (detach) {
      await d.execs.start(ctx.params.id!, { detach: true, tty });
      if (ctx.upgrade) ctx.upgrade.socket.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
      else sendEmpty(ctx, 200);
      return;
    }
    const client = hijack(ctx, tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream');
    await d.execs.start(ctx.params.id!, { detach: false, tty, sink: sinkFor(client, tty) });
  });

  r.on('POST', '/exec/:id/resize', async (ctx) => {
    await d.execs.resize(ctx.params.id!, qInt(ctx, 'h') ?? 0, qInt(ctx, 'w') ?? 0);
    sendEmpty(ctx, 200);
  });

  r.on('GET', '/exec/:id/json', async (ctx) => {
    sendJson(ctx, 200, d.execs.inspect(ctx.params.id!));
  });
}
