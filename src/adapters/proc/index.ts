// What /proc says of a process.
import { readFileSync } from 'node:fs';

/**
 * The state letter of /proc/<pid>/stat (R, S, D, Z for a dead process not yet reaped, …), or
 * undefined when there is no such process. The command name may hold spaces and parentheses:
 * the state follows its last `)`.
 */
export function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const at = stat.lastIndexOf(')') + 2;
    return stat.slice(at, at + 1) || undefined;
  } catch {
    return undefined;
  }
}

/** Gone, or dead and not yet reaped by its parent. */
export function processEnded(pid: number): boolean {
  const s = processState(pid);
  return s === undefined || s === 'Z' || s === 'X';
}
