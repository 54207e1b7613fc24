// `berth build` on a terminal: a compact, redrawn view of the build — one line per step with its
// state and time, the last lines of the running step's output under it — instead of the classic
// builder's full text. It reads the same stream the plain view prints (`Step N/M : …`,
// ` ---> Using cache`, ` ---> Running in …`, the step's output, ` ---> <id>`).

export interface StepState {
  n: number;
  total: number;
  text: string;
  cached: boolean;
  done: boolean;
  startMs: number;
  endMs?: number;
  /** The step's own output (RUN), last lines kept. */
  output: string[];
}

const KEEP_OUTPUT = 200;
const SHOWN_OUTPUT = 6;

/** Turns the classic builder's text into step states; fed chunk by chunk (lines may be split). */
export class BuildProgress {
  readonly steps: StepState[] = [];
  readonly notes: string[] = [];
  #pending = '';
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  get current(): StepState | undefined {
    const last = this.steps.at(-1);
    return last && !last.done ? last : undefined;
  }

  feed(text: string): void {
    this.#pending += text;
    let nl: number;
    while ((nl = this.#pending.indexOf('\n')) >= 0) {
      this.#line(this.#pending.slice(0, nl));
      this.#pending = this.#pending.slice(nl + 1);
    }
  }

  /** Ends the stream: a last unterminated line counts, the running step ends. */
  end(): void {
    if (this.#pending !== '') this.#line(this.#pending);
    this.#pending = '';
    this.#finishCurrent();
  }

  #finishCurrent(): void {
    const cur = this.current;
    if (cur) {
      cur.done = true;
      cur.endMs = this.#now();
    }
  }

  #line(line: string): void {
    const step = /^Step (\d+)\/(\d+) : (.*)$/.exec(line);
    if (step) {
      this.#finishCurrent();
      this.steps.push({ n: Number(step[1]), total: Number(step[2]), text: step[3]!, cached: false, done: false, startMs: this.#now(), output: [] });
      return;
    }
    const cur = this.current;
    if (/^ ---> Using cache$/.test(line)) {
      if (cur) cur.cached = true;
      return;
    }
    if (/^ ---> (Running in [0-9a-f]+|[0-9a-f]{12}|)$/.test(line) || /^Removing intermediate container [0-9a-f]+$/.test(line)) return;
    if (/^Successfully (built|tagged) /.test(line) || /^\[Warning\]|^\[WARNING\]/.test(line)) {
      this.#finishCurrent();
      this.notes.push(line);
      return;
    }
    if (cur) {
      cur.output.push(line);
      if (cur.output.length > KEEP_OUTPUT) cur.output.shift();
    } else {
      this.notes.push(line);
    }
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/** The view's lines for a terminal `width` columns wide. */
export function renderBuild(p: BuildProgress, startMs: number, now: number, width: number, opts: { final: boolean; failed?: boolean }): string[] {
  const total = p.steps[0]?.total ?? 0;
  const done = p.steps.filter((s) => s.done).length;
  const fit = (s: string, room: number): string => (s.length > room ? `${s.slice(0, Math.max(0, room - 1))}…` : s);
  const lines = [`[+] Building ${seconds(now - startMs)} (${done}/${total})${opts.final ? (opts.failed ? ' FAILED' : ' FINISHED') : ''}`];
  for (const s of p.steps) {
    const time = s.cached ? 'CACHED' : seconds((s.endMs ?? now) - s.startMs);
    const head = ` => ${s.cached ? 'CACHED ' : ''}[${s.n}/${s.total}] `;
    const room = Math.max(10, width - head.length - time.length - 2);
    const text = fit(s.text.replace(/\s+/g, ' '), room);
    lines.push(`${head}${text}${' '.repeat(Math.max(1, width - head.length - text.length - time.length - 1))}${time}`);
    // The running step shows the tail of its output; a failed one all that was kept, at the end.
    const failedHere = opts.final && opts.failed && s === p.steps.at(-1);
    const show = !s.done || failedHere ? (failedHere ? s.output : s.output.slice(-SHOWN_OUTPUT)) : [];
    for (const o of show) lines.push(fit(` => => # ${o}`, width - 1));
  }
  return lines;
}

/** Redraws the view in place on a terminal. */
export class BuildView {
  readonly progress = new BuildProgress();
  readonly #out: NodeJS.WriteStream;
  readonly #start = Date.now();
  #drawn = 0;
  #timer: NodeJS.Timeout;

  constructor(out: NodeJS.WriteStream) {
    this.#out = out;
    this.#timer = setInterval(() => this.#draw(false), 100);
    this.#timer.unref();
  }

  feed(text: string): void {
    this.progress.feed(text);
    this.#draw(false);
  }

  /** Draws the final state; the classic builder's closing lines (built/tagged) follow it. */
  finish(failed: boolean): void {
    clearInterval(this.#timer);
    this.progress.end();
    this.#draw(true, failed);
    for (const n of this.progress.notes) this.#out.write(`${n}\n`);
  }

  #draw(final: boolean, failed = false): void {
    const width = this.#out.columns || 80;
    const lines = renderBuild(this.progress, this.#start, Date.now(), width, { final, failed });
    let s = this.#drawn > 0 ? `\x1b[${this.#drawn}A` : '';
    for (const l of lines) s += `\r\x1b[2K${l}\n`;
    // Leftover lines of a taller previous frame are cleared.
    for (let i = lines.length; i < this.#drawn; i++) s += '\r\x1b[2K\n';
    if (this.#drawn > lines.length) s += `\x1b[${this.#drawn - lines.length}A`;
    this.#out.write(s);
    this.#drawn = lines.length;
  }
}
