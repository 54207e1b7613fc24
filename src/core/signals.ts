// Linux signal names and numbers as Docker accepts them: `TERM`, `SIGTERM`, `15`, `RTMIN+3`.
import { invalidParameter } from './errors.ts';

const BASE: Record<string, number> = {
  HUP: 1, INT: 2, QUIT: 3, ILL: 4, TRAP: 5, ABRT: 6, IOT: 6, BUS: 7, FPE: 8, KILL: 9, USR1: 10, SEGV: 11, USR2: 12,
  PIPE: 13, ALRM: 14, TERM: 15, STKFLT: 16, CHLD: 17, CLD: 17, CONT: 18, STOP: 19, TSTP: 20, TTIN: 21, TTOU: 22,
  URG: 23, XCPU: 24, XFSZ: 25, VTALRM: 26, PROF: 27, WINCH: 28, IO: 29, POLL: 29, PWR: 30, SYS: 31,
};
const RTMIN = 34;
const RTMAX = 64;

/** The signal's number, or an InvalidParameter error ("Invalid signal: X") as Docker answers. */
export function parseSignal(raw: string): number {
  const bad = (): never => {
    throw invalidParameter(`Invalid signal: ${raw}`);
  };
  if (/^\d+$/.test(raw)) {
    const n = Number(raw);
    return n >= 1 && n <= RTMAX ? n : bad();
  }
  const name = raw.toUpperCase().replace(/^SIG/, '');
  const known = BASE[name];
  if (known !== undefined) return known;
  const rt = /^RT(MIN|MAX)(?:([+-])(\d{1,2}))?$/.exec(name);
  if (rt) {
    const off = rt[3] === undefined ? 0 : Number(rt[3]) * (rt[2] === '-' ? -1 : 1);
    const n = (rt[1] === 'MIN' ? RTMIN : RTMAX) + off;
    if (n >= RTMIN && n <= RTMAX && (rt[1] === 'MIN' ? off >= 0 : off <= 0)) return n;
  }
  return bad();
}
