import type { CommandSpec } from '../cli.ts';
import { daemonErrorText, seg } from '../cli.ts';
import { renderListing } from '../listing.ts';
import { limiter } from '../../core/limit.ts';
import { jsonLines } from '../../client/index.ts';
import { STATS_HEADERS, STATS_TABLE, statsRow, type StatsRow, type StatsSample } from '../stats.ts';

export const command: CommandSpec = {
  name: 'stats',
  usage: '[OPTIONS] [CONTAINER...]',
  summary: 'Display a live stream of container(s) resource usage statistics',
  aliases: ['berth container stats', 'berth stats'],
  flags: [
    { long: 'all', short: 'a', type: 'bool', help: 'Show all containers (default shows just running)' },
    { long: 'format', type: 'string', help: "Format output using a custom template: 'table', 'table TEMPLATE', 'json' or a Go template" },
    { long: 'no-stream', type: 'bool', help: 'Disable streaming stats and only pull the first result' },
    { long: 'no-trunc', type: 'bool', help: "Don't truncate output" },
  ],
  async run(ctx, flags, args) {
    const { client } = ctx;
    const trunc = !flags.bool('no-trunc');
    let targets = args;
    // Without names, streaming, as the docker CLI: containers that start meanwhile join the table,
    // and (without --all) those that stop leave it. Events are asked for before the list, so a
    // container that starts in between is not missed.
    const watch = args.length === 0 && !flags.bool('no-stream');
    const all = flags.bool('all');
    const filters = JSON.stringify({ type: ['container'], event: all ? ['create', 'start', 'destroy'] : ['start', 'die'] });
    const events = watch ? await client.request('GET', '/events', { query: { filters }, longLived: true }) : undefined;
    if (targets.length === 0) {
      const list = (await client.json<Array<{ Id: string }> | null>('GET', '/containers/json', { query: { all: flags.bool('all') || undefined } })) ?? [];
      targets = list.map((c) => c.Id);
    }
    const render = (rows: StatsRow[]): string =>
      renderListing(rows as unknown as Array<Record<string, unknown>>, { format: flags.string('format'), defaultTable: STATS_TABLE, headers: STATS_HEADERS });
    const label = (t: string): string | undefined => (args.length > 0 ? t : undefined);

    if (flags.bool('no-stream')) {
      // All at once, as the docker CLI: each answer takes a second (two readings for CPU %).
      const limit = limiter(256);
      const results = await Promise.all(
        targets.map((t) =>
          limit(async () => {
            try {
              const s = await client.json<StatsSample>('GET', `/containers/${seg(t)}/stats`, { query: { stream: '0' }, longLived: true });
              const container = label(t);
              return { row: statsRow(s, container !== undefined ? { container, trunc } : { trunc }) };
            } catch (err) {
              return { error: daemonErrorText(err) };
            }
          }),
        ),
      );
      const errors = results.flatMap((r) => ('error' in r ? [r.error] : []));
      ctx.out(render(results.flatMap((r) => ('row' in r ? [r.row] : []))));
      if (errors.length > 0) {
        ctx.err(`${errors.join('\n')}\n`);
        return 1;
      }
      return 0;
    }

    const order = [...targets];
    const latest = new Map<string, StatsRow>();
    const readers = new Map<string, { stop: AbortController; done: Promise<void> }>();
    const failures: string[] = [];
    const follow = (t: string): void => {
      if (readers.has(t)) return;
      if (!order.includes(t)) order.push(t);
      const stop = new AbortController();
      const done = (async () => {
        try {
          for await (const s of client.streamJsonLines(`/containers/${seg(t)}/stats`, { query: { stream: '1' }, signal: stop.signal })) {
            const container = label(t);
            latest.set(t, statsRow(s as StatsSample, container !== undefined ? { container, trunc } : { trunc }));
          }
        } catch (err) {
          if (!stop.signal.aborted) failures.push(daemonErrorText(err));
        }
        latest.delete(t);
        readers.delete(t);
      })();
      readers.set(t, { stop, done });
    };
    const forget = (t: string): void => {
      readers.get(t)?.stop.abort();
      const at = order.indexOf(t);
      if (at >= 0) order.splice(at, 1);
      latest.delete(t);
    };
    for (const t of targets) follow(t);
    // The command then goes on until interrupted.
    const watching = events
      ? (async () => {
          for await (const e of jsonLines(events.stream)) {
            const ev = e as { Action?: string; id?: string; Actor?: { ID?: string } };
            const id = ev.Actor?.ID ?? ev.id;
            if (!id) continue;
            if (ev.Action === 'create' || ev.Action === 'start') follow(id);
            else forget(id);
          }
        })()
      : undefined;
    const draw = (): void => {
      const rows = order.flatMap((t) => {
        const r = latest.get(t);
        return r ? [r] : [];
      });
      ctx.out(`\u001b[2J\u001b[H${render(rows)}`);
    };
    const timer = setInterval(draw, 500);
    if (watching) {
      await watching.catch((err: unknown) => failures.push(daemonErrorText(err)));
    } else {
      while (readers.size > 0) await Promise.all([...readers.values()].map((r) => r.done));
    }
    clearInterval(timer);
    draw();
    if (failures.length > 0) {
      ctx.err(`${failures.join('\n')}\n`);
      return 1;
    }
    return 0;
  },
};
