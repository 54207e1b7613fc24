// The `created_by` text of a config-only build step, as Docker's classic builder writes it, so
// `history` reads the same: `/bin/sh -c #(nop)  ENV A=1` (two spaces for most instructions, one
// for WORKDIR), commands and lists as Go prints them (`CMD ["sh"]`, `SHELL [/bin/sh -c]`).
import type { Instruction } from '../../dockerfile/types.ts';
import { formatDuration } from '../../dockerfile/duration.ts';

/** Go's %q of a string (strconv.Quote): JSON's escapes serve for what Dockerfiles hold. */
function goQuote(s: string): string {
  return JSON.stringify(s);
}

/** Go's %q of a []string: `["a" "b"]`. */
function goQuoteList(list: readonly string[]): string {
  return `[${list.map(goQuote).join(' ')}]`;
}

/** Go's %q of an int: a rune literal (`'\x03'`). */
function goQuoteRune(n: number): string {
  const named: Record<number, string> = { 7: '\\a', 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r', 39: "\\'", 92: '\\\\' };
  if (named[n]) return `'${named[n]}'`;
  if (n >= 0x20 && n < 0x7f) return `'${String.fromCharCode(n)}'`;
  if (n < 0x100) return `'\\x${n.toString(16).padStart(2, '0')}'`;
  return `'${String.fromCodePoint(n)}'`;
}

/**
 * The text after `#(nop)` for an instruction that changes only the image config. `resolved`
 * gives what the step made of it: the command CMD/ENTRYPOINT set, the directory WORKDIR set.
 */
export function nopText(ins: Instruction, resolved: { command?: readonly string[] | null; workdir?: string } = {}): string {
  switch (ins.kind) {
    case 'ENV':
    case 'LABEL':
      return ` ${ins.kind}${ins.pairs.map(([k, v]) => ` ${k}=${v}`).join('')}`;
    case 'CMD':
    case 'ENTRYPOINT':
      return ` ${ins.kind} ${goQuoteList(resolved.command ?? ins.command)}`;
    case 'ARG':
      return ` ARG ${ins.args.map((a) => (a.default !== undefined ? `${a.name}=${a.default}` : a.name)).join(' ')}`;
    case 'EXPOSE':
      return ` EXPOSE ${ins.ports.join(' ')}`;
    case 'USER':
      return ` USER ${ins.user}`;
    case 'WORKDIR':
      return `WORKDIR ${resolved.workdir ?? ins.path}`;
    case 'VOLUME':
      return ` VOLUME [${ins.paths.join(' ')}]`;
    case 'STOPSIGNAL':
      return ` STOPSIGNAL ${ins.signal}`;
    case 'HEALTHCHECK': {
      const h = ins.healthcheck;
      const d = (ns: number | undefined): string => goQuote(formatDuration(ns ?? 0));
      return ` HEALTHCHECK &{${goQuoteList(h.test)} ${d(h.intervalNs)} ${d(h.timeoutNs)} ${d(h.startPeriodNs)} ${d(h.startIntervalNs)} ${goQuoteRune(h.retries ?? 0)}}`;
    }
    case 'SHELL':
      return ` SHELL [${ins.shell.join(' ')}]`;
    case 'ONBUILD':
      return ` ONBUILD ${ins.expression}`;
    case 'MAINTAINER':
      return ` MAINTAINER ${ins.name}`;
    default:
      return ` ${ins.original.replace(/\s*\n\s*/g, ' ')}`;
  }
}
