// runc, the OCI runtime. Every call carries berth's own --root so berth never sees another
// engine's containers.
import { constants, existsSync, open as openFd, promises as fsp, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { run, ExecError } from '../exec/index.ts';
import { removeSmallTree } from '../fs/index.ts';
import type { OciRuntime } from '../../core/ports.ts';
import { parseSignal } from '../../core/signals.ts';

export interface RuncState {
  id: string;
  pid: number;
  status: 'creating' | 'created' | 'running' | 'paused' | 'stopped';
  bundle: string;
}

export class Runc implements OciRuntime {
  readonly binary: string;
  readonly root: string;
  constructor(opts: { binary: string; root: string }) {
    this.binary = opts.binary;
    this.root = opts.root;
  }

  args(...rest: string[]): string[] {
    return [this.binary, '--root', this.root, ...rest];
  }

  /**
   * Lets a created container's process run. `runc start` does nothing but read one byte from
   * the container's exec FIFO (the blocked `runc init` writes it and execs) and remove the FIFO;
   * doing that here saves a Go program's start-up (~8 ms) on every start. When the FIFO is not
   * where runc keeps it, `runc start` does it.
   */
  async start(id: string, initPid?: number): Promise<void> {
    if (initPid !== undefined && (await this.#releaseFifo(id, initPid))) return;
    await run(this.args('start', id));
  }

  async #releaseFifo(id: string, initPid: number): Promise<boolean> {
    const fifo = join(this.root, id, 'exec.fifo');
    let fd: number;
    try {
      const st = await fsp.lstat(fifo);
      if (!st.isFIFO()) return false;
      // Read-write never blocks the open; the blocked writer (runc init) is released by it.
      fd = await promisify(openFd)(fifo, constants.O_RDWR | constants.O_NONBLOCK);
    } catch {
      return false;
    }
    const sock = new Socket({ fd, readable: true, writable: false });
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setInterval(() => {
          // The init process died before it wrote: the container cannot start.
          if (!processAlive(initPid)) done(new Error('container process is already dead'));
        }, 50);
        const done = (err?: Error): void => {
          clearInterval(timer);
          sock.off('data', onData);
          sock.off('error', done);
          if (err) reject(err);
          else resolve();
        };
        const onData = (): void => done();
        sock.on('data', onData);
        sock.on('error', done);
      });
      await fsp.unlink(fifo);
    } finally {
      sock.destroy();
    }
    return true;
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

  /**
   * Signals the container's init process. `runc kill` reads its state, checks that the init
   * process is still the one it started (its start time) and calls kill(2); that is done here
   * without starting runc (~15 ms of a Go program per signal). Anything unexpected — no state,
   * another process behind the PID, `--all` — goes to `runc kill`, which reports it.
   */
  async kill(id: string, signal: string, opts: { all?: boolean } = {}): Promise<void> {
    if (!opts.all && (await this.#signalInit(id, signal))) return;
    await run(this.args('kill', ...(opts.all ? ['--all'] : []), id, signal));
  }

  async #signalInit(id: string, signal: string): Promise<boolean> {
    let signo: number;
    try {
      signo = parseSignal(signal);
    } catch {
      return false;
    }
    let state: { init_process_pid?: unknown; init_process_start?: unknown };
    try {
      state = JSON.parse(await fsp.readFile(join(this.root, id, 'state.json'), 'utf8')) as typeof state;
    } catch {
      return false;
    }
    const pid = state.init_process_pid;
    const start = state.init_process_start;
    if (typeof pid !== 'number' || pid <= 0 || typeof start !== 'number') return false;
    const stat = await fsp.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
    // Fields after the command name (which may hold spaces): state is field 3, starttime field 22.
    const fields = stat?.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields === undefined || Number(fields[19]) !== start || fields[0] === 'Z') return false;
    try {
      process.kill(pid, signo);
      return true;
    } catch {
      return false;
    }
  }

  /** Changes a live container's cgroup limits (`runc update --resources`, OCI LinuxResources JSON). */
  async update(id: string, resources: object): Promise<void> {
    await run(this.args('update', '--resources', '-', id), { input: JSON.stringify(resources) });
  }

  async pause(id: string): Promise<void> {
    await run(this.args('pause', id));
  }

  async resume(id: string): Promise<void> {
    await run(this.args('resume', id));
  }

  /**
   * Forgets a container whose init process has exited: runc's `delete` of a stopped container
   * only removes its state directory (and its cgroups, which the caller removes), so that is done
   * here without starting runc. While the init process lives, or the state is not what runc
   * writes, `runc delete --force` does the work.
   */
  async forget(id: string): Promise<void> {
    const dir = join(this.root, id);
    let initPid = 0;
    // runc's state is a small file on the exec root's tmpfs: read and removed on this thread.
    try {
      const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { init_process_pid?: unknown };
      initPid = typeof state.init_process_pid === 'number' ? state.init_process_pid : 0;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !existsSync(dir)) return;
    }
    if (initPid > 0 && !processAlive(initPid)) {
      removeSmallTree(dir);
      return;
    }
    await this.delete(id, { force: true });
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

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
