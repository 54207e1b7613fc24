import { copyRaw, demultiplex } from '../../client/index.ts';
import { seg, type CommandSpec } from '../cli.ts';

const UNITS: Record<string, number> = { ns: 1e-9, us: 1e-6, 'µs': 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

/** A `--since`/`--until` value as the API's Unix-seconds string: a Go duration ago, a date, or seconds. */
export function timestampArg(value: string, now = Date.now()): string {
  if (/^\d+(\.\d+)?$/.test(value)) return value;
  if (/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(value)) {
    let seconds = 0;
    for (const m of value.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) seconds += Number(m[1]) * (UNITS[m[2] as string] as number);
    return ((now / 1000 - seconds)).toFixed(9);
  }
  const parsed = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(parsed)) throw new Error(`invalid value for "since"/"until": ${value}: failed to parse as a timestamp`);
  return (parsed / 1000).toFixed(9);
}

export const command: CommandSpec = {
  name: 'logs',
  usage: '[OPTIONS] CONTAINER',
  summary: 'Fetch the logs of a container',
  aliases: ['berth container logs', 'berth logs'],
  flags: [
    { long: 'details', type: 'bool', help: 'Show extra details provided to logs' },
    { long: 'follow', short: 'f', type: 'bool', help: 'Follow log output' },
    { long: 'since', type: 'string', help: 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)' },
    { long: 'tail', short: 'n', type: 'string', default: 'all', help: 'Number of lines to show from the end of the logs' },
    { long: 'timestamps', short: 't', type: 'bool', help: 'Show timestamps' },
    { long: 'until', type: 'string', help: 'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)' },
  ],
  minArgs: 1,
  maxArgs: 1,
  async run(ctx, flags, args) {
    const { client } = ctx;
    const info = await client.json<{ Id: string; Config?: { Tty?: boolean } }>('GET', `/containers/${seg(args[0] as string)}/json`);
    const query: Record<string, string | undefined> = {
      stdout: '1',
      stderr: '1',
      follow: flags.bool('follow') ? '1' : undefined,
      timestamps: flags.bool('timestamps') ? '1' : undefined,
      tail: flags.string('tail'),
      since: flags.changed('since') ? timestampArg(flags.string('since')) : undefined,
      until: flags.changed('until') ? timestampArg(flags.string('until')) : undefined,
    };
    const res = await client.request('GET', `/containers/${info.Id}/logs`, { query });
    if (info.Config?.Tty) await copyRaw(res.stream, ctx.stdout);
    else await demultiplex(res.stream, { stdout: ctx.stdout, stderr: ctx.stderr });
    return 0;
  },
};
