// runc, the OCI runtime. Every call carries berth's own --root so berth never sees another
// engine's containers.
import { run, ExecError } from '../exec/index.ts';

export interface RuncState {
  id: string;
  pid: number;
  status: 'creating' | 'created' | 'running' | 'paused' | 'stopped';
  bundle: string;
}

export class Runc {
  readonly binary: string;
  readonly root: string;
  constructor(opts: { binary: string; root: string }) {
    this.binary = opts.binary;
    this.root = opts.root;
  }

  args(...rest: string[]): string[] {
    return [this.binary, '--root', this.root, ...rest];
  }

  async start(id: string): Promise<void> {
    await run(this.args('start', id));
  }

  async state(id: string): Promise<RuncState | undefined> {
    try {
      const { stdout } = await run(this.args('state', id));
      return JSON.parse(stdout) as RuncState;
    } catch (err) {
      if (err instanceof ExecError && /does not exist|not exist/.test(err.stderr)) return undefined;
      throw err;
    }
  }

  async kill(id: string, signal: string, opts: { all?: boolean } = {}): Promise<void> {
    await run(this.args('kill', ...(opts.all ? ['--all'] : []), id, signal));
  }

  async pause(id: string): Promise<void> {
    await run(this.args('pause', id));
  }

  async resume(id: string): Promise<void> {
    await run(this.args('resume', id));
  }

  /** Removes runc's record and the container's cgroups; a missing container is not an error. */
  async delete(id: string, opts: { force?: boolean } = {}): Promise<void> {
    try {
      await run(this.args('delete', ...(opts.force ? ['--force'] : []), id));
    } catch (err) {
      if (err instanceof ExecError && /does not exist|not exist/.test(err.stderr)) return;
      throw err;
    }
  }

  /** Runs a process in the container with its own settings; resolves with its exit code and output. */
  async exec(id: string, args: string[], opts: { signal?: AbortSignal } = {}): Promise<{ exitCode: number; output: string }> {
    const codes = Array.from({ length: 255 }, (_, i) => i + 1);
    const r = await run(this.args('exec', id, ...args), { okCodes: codes, maxOutput: 8192, ...(opts.signal ? { signal: opts.signal } : {}) });
    return { exitCode: r.exitCode, output: r.stdout + r.stderr };
  }

  async version(): Promise<string> {
    const { stdout } = await run([this.binary, '--version']);
    return stdout.split('\n')[0]?.replace(/^runc version\s*/, '') ?? '';
  }
}
