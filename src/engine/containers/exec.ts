// exec sessions: a process started in a running container through conmon, attached or detached.
import { readFile, writeFile, open } from 'node:fs/promises';
import { constants as fsc } from 'node:fs';
import { join } from 'node:path';
import { conflict, invalidParameter, notFound, messageOf } from '../../core/errors.ts';
import { newId, shortId } from '../../core/ids.ts';
import { ensureDir, removeAll } from '../../adapters/fs/index.ts';
import { MonitorError, type ContainerMonitor } from '../../core/ports.ts';
import { resolveUser, applyCapChanges, defaultCapabilities, replaceOrAppendEnv } from '../spec/index.ts';
import type { ContainerService } from './service.ts';
import { checkCanExec } from './state.ts';
import { connectAttach, parseDetachKeys, type AttachSink } from './attach.ts';
import { checkWorkingDir } from './config.ts';
import type { EventBus } from '../events/index.ts';

export interface ExecConfig {
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  DetachKeys: string;
  Tty: boolean;
  Env: string[];
  Cmd: string[];
  Privileged: boolean;
  User: string;
  WorkingDir: string;
  ConsoleSize?: [number, number];
}

interface ExecRecord {
  id: string;
  containerId: string;
  config: ExecConfig;
  running: boolean;
  started: boolean;
  exitCode: number | null;
  pid: number;
  dir: string;
  /** Seen finished by one collection: the next one forgets it. */
  collectable?: boolean;
}

/** How often finished exec instances are collected (Docker's interval). */
const GC_INTERVAL_MS = 5 * 60 * 1000;

export interface ExecOptions {
  containers: ContainerService;
  execRoot: string;
  /** The per-container monitor (conmon) that runs exec sessions. */
  monitor: ContainerMonitor;
  events: EventBus;
}

function strArr(v: unknown, field: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw invalidParameter(`invalid JSON: field ${field} must be an array of strings`);
  return v as string[];
}

function bool(v: unknown, field: string): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw invalidParameter(`invalid JSON: field ${field} must be a boolean`);
  return v;
}

function str(v: unknown, field: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw invalidParameter(`invalid JSON: field ${field} must be a string`);
  return v;
}

export class ExecService {
  readonly #o: ExecOptions;
  readonly #execs = new Map<string, ExecRecord>();

  constructor(opts: ExecOptions) {
    this.#o = opts;
    // As Docker, a finished exec stays inspectable for one to two collection intervals, then is
    // forgotten: a container exec'd into every few seconds for months holds no growing list.
    setInterval(() => this.collect(), GC_INTERVAL_MS).unref();
  }

  /** One collection pass: forgets the finished execs the last pass marked, marks the newly finished. */
  collect(): void {
    for (const [id, e] of this.#execs) {
      if (!e.started || e.running) continue;
      if (e.collectable) this.#execs.delete(id);
      else e.collectable = true;
    }
  }

  create(ref: string, body: Record<string, unknown>): { Id: string } {
    const c = this.#o.containers.find(ref);
    checkCanExec(ref, c.State.Status);
    const cmd = strArr(body.Cmd, 'Cmd');
    if (cmd.length === 0) throw invalidParameter('No exec command specified');
    const config: ExecConfig = {
      AttachStdin: bool(body.AttachStdin, 'AttachStdin'),
      AttachStdout: bool(body.AttachStdout, 'AttachStdout'),
      AttachStderr: bool(body.AttachStderr, 'AttachStderr'),
      DetachKeys: str(body.DetachKeys, 'DetachKeys'),
      Tty: bool(body.Tty, 'Tty'),
      Env: strArr(body.Env, 'Env'),
      Cmd: cmd,
      Privileged: bool(body.Privileged, 'Privileged'),
      User: str(body.User, 'User'),
      WorkingDir: str(body.WorkingDir, 'WorkingDir'),
    };
    if (config.WorkingDir !== '' && !config.WorkingDir.startsWith('/')) throw invalidParameter(`the working directory '${config.WorkingDir}' is invalid, it needs to be an absolute path`);
    checkWorkingDir(config.WorkingDir);
    parseDetachKeys(config.DetachKeys);
    if (Array.isArray(body.ConsoleSize) && body.ConsoleSize.length === 2) config.ConsoleSize = body.ConsoleSize as [number, number];
    const id = newId();
    this.#execs.set(id, { id, containerId: c.Id, config, running: false, started: false, exitCode: null, pid: 0, dir: join(this.#o.execRoot, 'x', shortId(id)) });
    this.#o.events.emit('container', `exec_create: ${cmd.join(' ')}`, c.Id, { name: c.Name.slice(1), image: c.Config.Image, execID: id });
    return { Id: id };
  }

  #find(id: string): ExecRecord {
    const e = this.#execs.get(id);
    if (!e) throw notFound(`No such exec instance: ${id}`);
    return e;
  }

  execIdsOf(containerId: string): string[] {
    return [...this.#execs.values()].filter((e) => e.containerId === containerId).map((e) => e.id);
  }

  forgetContainer(containerId: string): void {
    for (const [id, e] of this.#execs) if (e.containerId === containerId) this.#execs.delete(id);
  }

  /**
   * Starts the process. With `sink`, output is streamed to it and the promise resolves when the
   * process has exited and its output is delivered; detached, it resolves once started.
   */
  async start(id: string, opts: { detach: boolean; tty?: boolean; sink?: AttachSink }): Promise<void> {
    const e = this.#find(id);
    if (e.started) throw conflict(`Error: Exec command ${id} has already run`);
    const c = this.#o.containers.find(e.containerId);
    checkCanExec(c.Id, c.State.Status);
    e.started = true;
    const tty = opts.tty ?? e.config.Tty;
    const bundle = this.#o.containers.bundle(c.Id);
    const spec = JSON.parse(await readFile(join(bundle, 'config.json'), 'utf8')) as { process: Record<string, unknown> };
    const proc = { ...spec.process };
    const rootfs = this.#o.containers.rootfs(c.Id);
    if (e.config.User !== '') {
      const u = await resolveUser(rootfs, e.config.User);
      proc.user = { uid: u.uid, gid: u.gid, additionalGids: u.additionalGids };
    }
    proc.args = e.config.Cmd;
    // The exec's variables over the container's, as Docker merges them (a bare name unsets).
    proc.env = replaceOrAppendEnv((proc.env as string[] | undefined) ?? [], e.config.Env);
    if (tty && !(proc.env as string[]).some((x) => x.startsWith('TERM='))) (proc.env as string[]).push('TERM=xterm');
    if (e.config.WorkingDir !== '') proc.cwd = e.config.WorkingDir;
    proc.terminal = tty;
    if (e.config.Privileged) {
      const all = applyCapChanges(defaultCapabilities(), ['ALL'], []);
      proc.capabilities = { bounding: all, effective: all, permitted: all };
    }
    delete proc.consoleSize;
    await ensureDir(join(e.dir, 'exits'));
    await ensureDir(join(e.dir, 'persist'));
    const specPath = join(e.dir, 'process.json');
    await writeFile(specPath, JSON.stringify(proc));
    const attach = !opts.detach && opts.sink !== undefined;
    const sink = opts.sink;
    let attached: Promise<void> = Promise.resolve();
    let streamDone: Promise<void> = Promise.resolve();
    try {
      const session = await this.#o.monitor.exec(
        {
          runtime: this.#o.containers.runtimeOf(c).binary,
          runtimeRoot: this.#o.containers.runtimeOf(c).root,
          containerId: c.Id,
          name: c.Name.slice(1),
          execId: id,
          execDir: e.dir,
          processSpecPath: specPath,
          attach,
          stdin: attach && e.config.AttachStdin,
          tty,
        },
        async () => {
          if (!sink) return;
          if (tty && e.config.ConsoleSize) await this.#ctl(e, `1 ${e.config.ConsoleSize[0]} ${e.config.ConsoleSize[1]}\n`).catch(() => {});
          // The client stream ends when the process exits, after exitCode is recorded.
          let endClient!: () => void;
          streamDone = new Promise<void>((r) => (endClient = r));
          const inner: AttachSink = {
            output: (s, d) => sink.output(s, d),
            onDrain: (fn) => sink.onDrain(fn),
            end: () => endClient(),
            ...(sink.input ? { input: sink.input } : {}),
            onClose: (fn) => sink.onClose(fn),
            get closed() {
              return sink.closed;
            },
          };
          attached = connectAttach(join(e.dir, 'attach'), {
            sink: inner,
            stdin: e.config.AttachStdin,
            stdout: e.config.AttachStdout || tty,
            stderr: e.config.AttachStderr || tty,
            detachKeys: parseDetachKeys(e.config.DetachKeys),
          }, { closeStdinOnEnd: true, tty, owner: c.Id });
          await attached;
        },
      );
      e.pid = session.pid;
      e.running = true;
      this.#o.events.emit('container', `exec_start: ${e.config.Cmd.join(' ')}`, c.Id, { name: c.Name.slice(1), image: c.Config.Image, execID: id });
      const finished = session.exitCode.then(async (code) => {
        e.exitCode = code;
        e.running = false;
        this.#o.events.emit('container', 'exec_die', c.Id, { name: c.Name.slice(1), image: c.Config.Image, execID: id, exitCode: String(code) });
        await removeAll(e.dir);
      });
      if (!attach) {
        finished.catch(() => {});
        return;
      }
      await finished;
      await Promise.race([streamDone, new Promise((r) => setTimeout(r, 2000))]);
      sink?.end();
    } catch (err) {
      const msg = err instanceof MonitorError ? `OCI runtime exec failed: ${err.message.trimEnd()}: unknown` : messageOf(err).trimEnd();
      e.running = false;
      // As Docker: an exec that cannot start reports 126, whatever the cause (run reports 127 for a missing binary).
      e.exitCode = 126;
      await removeAll(e.dir);
      if (sink) {
        sink.output('stderr', Buffer.from(`${msg}\r\n`));
        sink.end();
        return;
      }
      throw err;
    }
  }

  async #ctl(e: ExecRecord, line: string): Promise<void> {
    const fh = await open(join(e.dir, 'ctl'), fsc.O_WRONLY | fsc.O_NONBLOCK);
    try {
      await fh.write(line);
    } finally {
      await fh.close();
    }
  }

  async resize(id: string, h: number, w: number): Promise<void> {
    const e = this.#find(id);
    if (!e.running) throw conflict(`exec ${id} is not running`);
    if (e.config.Tty) await this.#ctl(e, `1 ${h} ${w}\n`).catch(() => {});
  }

  inspect(id: string): Record<string, unknown> {
    const e = this.#find(id);
    return {
      ID: e.id,
      Running: e.running,
      ExitCode: e.exitCode,
      ProcessConfig: { tty: e.config.Tty, entrypoint: e.config.Cmd[0], arguments: e.config.Cmd.slice(1), privileged: e.config.Privileged, ...(e.config.User ? { user: e.config.User } : {}) },
      OpenStdin: e.config.AttachStdin,
      OpenStderr: e.config.AttachStderr,
      OpenStdout: e.config.AttachStdout,
      CanRemove: !e.running && e.started,
      ContainerID: e.containerId,
      DetachKeys: e.config.DetachKeys,
      Pid: e.pid,
    };
  }

  tty(id: string): boolean {
    return this.#find(id).config.Tty;
  }
}
