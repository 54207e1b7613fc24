// `docker top`: run the host's procps `ps` with the user's arguments and keep the header plus the
// rows whose PID column belongs to the container.
import { psOutput } from '../adapters/procps/index.ts';
import { invalidParameter } from '../core/errors.ts';

export interface TopResult {
  Titles: string[];
  Processes: string[][];
}

// Only ASCII whitespace separates ps columns; a command may contain other spaces (Docker does the same).
const FIELD_SEP = /[ \t\n\v\f\r]+/;

function fields(line: string): string[] {
  return line.split(FIELD_SEP).filter((f) => f.length > 0);
}

/** Rejects `-o user=PID`-style renames that would make another column look like the PID one. */
export function validatePsArgs(args: readonly string[]): void {
  for (const arg of args) {
    for (const m of arg.matchAll(/([^\s,=]*)=\s*(PID\S*)/g)) {
      if (m[1] !== 'pid') throw invalidParameter(`specifying "${m[1]}=${m[2]}" is not allowed`);
    }
  }
}

/** Keeps the header and rows whose PID is in `pids`; the last column takes the rest of the line. */
export function parsePsOutput(output: string, pids: readonly number[]): TopResult {
  const lines = output.split('\n').filter((l) => l.trim().length > 0);
  const header = lines[0];
  const titles = header === undefined ? [] : fields(header);
  const pidIndex = titles.indexOf('PID');
  if (pidIndex < 0) throw invalidParameter("Couldn't find PID field in ps output");
  const wanted = new Set(pids);
  const processes: string[][] = [];
  for (const line of lines.slice(1)) {
    const cols = fields(line);
    const pid = Number(cols[pidIndex]);
    if (!Number.isInteger(pid) || !wanted.has(pid)) continue;
    const fixed = cols.slice(0, titles.length - 1);
    const rest = cols.slice(titles.length - 1).join(' ');
    processes.push([...fixed, rest]);
  }
  return { Titles: titles, Processes: processes };
}

export async function top(pids: number[], psArgs?: string): Promise<TopResult> {
  const args = fields(psArgs === undefined || psArgs.trim() === '' ? '-ef' : psArgs);
  validatePsArgs(args);
  const stdout = await psOutput(args, pids);
  return parsePsOutput(stdout, pids);
}
