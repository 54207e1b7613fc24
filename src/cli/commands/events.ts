import type { CommandSpec } from '../cli.ts';
import { filtersQuery } from '../filters.ts';
import { timestampArg } from './logs.ts';
import { rfc3339NanoFixed } from '../time.ts';
import { Template, unescapeFormat } from '../template.ts';

export interface EventMessage {
  Type?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  time?: number;
  timeNano?: number;
  [key: string]: unknown;
}

/** docker's default event line: `<time> <type> <action> <id> (k=v, ...)`. */
export function formatEvent(e: EventMessage): string {
  const nanos = e.timeNano !== undefined ? BigInt(Math.trunc(e.timeNano)) : BigInt(Math.trunc(e.time ?? 0)) * 1_000_000_000n;
  const attrs = e.Actor?.Attributes ?? {};
  const keys = Object.keys(attrs).sort();
  const suffix = keys.length > 0 ? ` (${keys.map((k) => `${k}=${attrs[k]}`).join(', ')})` : '';
  return `${rfc3339NanoFixed(nanos)} ${e.Type ?? ''} ${e.Action ?? ''} ${e.Actor?.ID ?? ''}${suffix}`;
}

export const command: CommandSpec = {
  name: 'events',
  usage: '[OPTIONS]',
  summary: 'Get real time events from the server',
  aliases: ['berth system events', 'berth events'],
  flags: [
    { long: 'filter', short: 'f', type: 'list', help: 'Filter output based on conditions provided' },
    { long: 'format', type: 'string', help: "Format output using a custom template: 'json' or a Go template" },
    { long: 'since', type: 'string', help: 'Show all events created since timestamp' },
    { long: 'until', type: 'string', help: 'Stream events until this timestamp' },
  ],
  maxArgs: 0,
  async run(ctx, flags) {
    const query = {
      since: flags.changed('since') ? timestampArg(flags.string('since')) : undefined,
      until: flags.changed('until') ? timestampArg(flags.string('until')) : undefined,
      filters: filtersQuery(flags.list('filter')),
    };
    const format = flags.string('format');
    const template = format !== '' && format !== 'json' ? new Template(unescapeFormat(format)) : undefined;
    for await (const msg of ctx.client.streamJsonLines('/events', { query })) {
      const e = (msg ?? {}) as EventMessage;
      if (format === 'json') ctx.out(`${JSON.stringify(e)}\n`);
      else if (template) ctx.out(`${template.execute(e)}\n`);
      else ctx.out(`${formatEvent(e)}\n`);
    }
    return 0;
  },
};
