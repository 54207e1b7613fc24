import type { CommandSpec } from '../cli.ts';
import { daemonErrorText, seg } from '../cli.ts';
import { renderListing } from '../listing.ts';
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
    if (targets.length === 0) {
      const list = (await client.json<Array<{ Id: string }> | null>('GET', '/containers/json', { query: { all: flags.bool('all') || undefined } })) ?? [];
      targets = list.map((c) => c.Id);
    }
    const render = (rows: StatsRow[]): string =>
      renderListing(rows as unknown as Array<Record<string, unknown>>, { format: flags.string('format'), defaultTable: STATS_TABLE, headers: STATS_HEADERS });
    const label = (t: string): string | undefined => (args.length > 0 ? t : undefined);

    if (flags.bool('no-stream')) {
      const rows: StatsRow[] = [];
      const errors: string[] = [];
      for (const t of targets) {
        try {
          const s = await client.json<StatsSample>('GET', `/containers/${seg(t)}/stats`, { query: { stream: '0' } });
          const container = label(t);
          rows.push(statsRow(s, container !== undefined ? { container, trunc } : { trunc }));
        } catch (err) {
          errors.push(daemonErrorText(err));
        }
      }
      ctx.out(render(rows));
      if (errors.length > 0) {
        ctx.err(`${errors.join('\n')}\n`);
        return 1;
      }
      return 0;
    }

    const latest = new Map<string, StatsRow>();
    const failures: string[] = [];
    const readers = targets.map(async (t) => {
      try {
        for await (const s of client.streamJsonLines(`/containers/${seg(t)}/stats`, { query: { stream: '1' } })) {
          const container = label(t);
          latest.set(t, statsRow(s as StatsSample, container !== undefined ? { container, trunc } : { trunc }));
        }
      } catch (err) {
        failures.push(daemonErrorText(err));
      }
      latest.delete(t);
    });
    const draw = (): void => {
      const rows = targets.flatMap((t) => {
        const r = latest.get(t);
        return r ? [r] : [];
      });
      ctx.out(`\u001b[2J\u001b[H${render(rows)}`);
    };
    const timer = setInterval(draw, 500);
    await Promise.all(readers);
    clearInterval(timer);
    draw();
    if (failures.length > 0) {
      ctx.err(`${failures.join('\n')}\n`);
      return 1;
    }
    return 0;
  },
};
