// Renders Docker's JSON progress stream (pull, push, load): on a terminal one line per layer,
// redrawn in place; otherwise a line whenever a layer's status changes.
import { CliError, type Context } from './cli.ts';

interface Msg {
  status?: string;
  id?: string;
  progress?: string;
  stream?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: unknown;
}

export async function renderProgress(ctx: Context, messages: AsyncIterable<unknown>, opts: { quiet?: boolean } = {}): Promise<Msg[]> {
  const tty = ctx.stdout.isTTY === true && !opts.quiet;
  const lines: string[] = [];
  const index = new Map<string, number>();
  const lastStatus = new Map<string, string>();
  const auxes: Msg[] = [];
  const draw = (i: number, text: string): void => {
    const up = lines.length - i;
    ctx.out(`\x1b[${up}A\r\x1b[2K${text}\x1b[${up}B\r`);
  };
  for await (const raw of messages) {
    const m = (raw ?? {}) as Msg;
    // An error inside the stream is printed as it is, as docker prints one (no "Error response from daemon").
    if (m.error !== undefined || m.errorDetail !== undefined) throw new CliError(m.errorDetail?.message ?? m.error ?? 'failed', 1);
    if (m.aux !== undefined) {
      auxes.push(m);
      continue;
    }
    if (opts.quiet) continue;
    if (m.stream !== undefined) {
      ctx.out(m.stream);
      continue;
    }
    if (m.status === undefined) continue;
    if (m.id === undefined || m.id === '') {
      ctx.out(`${m.status}\n`);
      continue;
    }
    const text = `${m.id}: ${m.status}${m.progress ? ` ${m.progress}` : ''}`;
    if (tty) {
      const i = index.get(m.id);
      if (i === undefined) {
        index.set(m.id, lines.length);
        lines.push(text);
        ctx.out(`${text}\n`);
      } else {
        lines[i] = text;
        draw(i, text);
      }
    } else if (lastStatus.get(m.id) !== m.status) {
      lastStatus.set(m.id, m.status);
      ctx.out(`${m.id}: ${m.status}\n`);
    }
  }
  return auxes;
}
