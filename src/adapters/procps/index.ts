// ps (procps): the process table for `top`.
import { internal } from '../../core/errors.ts';
import { run, ExecError } from '../exec/index.ts';

/**
 * ps's output for args, narrowed to pids where ps allows it (`-q`; some options refuse it, then
 * the whole table comes back for the caller to filter).
 */
export async function psOutput(args: string[], pids: number[]): Promise<string> {
  try {
    // Asking ps for only these pids keeps the output small on busy hosts.
    const narrowed = pids.length > 0 ? await run(['ps', ...args, `-q${pids.join(',')}`], { maxOutput: 16 << 20 }).catch(() => undefined) : undefined;
    return narrowed?.stdout ?? (await run(['ps', ...args], { maxOutput: 16 << 20 })).stdout;
  } catch (err) {
    if (err instanceof ExecError && err.missing) throw internal('top: ps is not installed on the host (procps)', err);
    throw internal(`Error running ps: ${err instanceof ExecError ? err.stderr.trim() || err.message : String(err)}`, err);
  }
}
