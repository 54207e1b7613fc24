// A client of a SOCK_SEQPACKET Unix socket (conmon's attach socket), with flow control: while it
// is paused nothing is read, so the sender blocks once the socket's buffer is full — a client
// that stops reading an attach stream slows the container down, as with Docker, instead of
// piling the container's output up in berthd's memory.
//
// Node has no SOCK_SEQPACKET sockets of its own. The socket is made and connected by a system
// call (koffi) and its descriptor handed to libuv as a pipe: a read(2) of a SEQPACKET socket
// returns one whole packet, so each chunk a flowing stream emits is one packet. Where that cannot
// be done (no FFI, a Node.js without the pipe binding), node-unix-socket does the reading, which
// cannot pause: output then waits in memory.
import { closeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Socket } from 'node:net';
import { sysSeqpacketConnect, syscallsAvailable, SyscallError } from '../syscalls/index.ts';

const require = createRequire(import.meta.url);

export interface SeqpacketConnection {
  /** One packet per call, in order. */
  onPacket(fn: (pkt: Buffer) => void): void;
  /** The peer closed its side. */
  onEnd(fn: () => void): void;
  onClose(fn: () => void): void;
  onError(fn: (err: Error) => void): void;
  /** Stop reading (the sender blocks once the socket's buffer is full) / read again. */
  pause(): void;
  resume(): void;
  /**
   * Sends buf as one packet; packets go out one at a time, in order. False when more than
   * QUEUE_HIGH bytes wait: the caller stops until onDrain.
   */
  write(buf: Buffer): boolean;
  /** Called once, when the packets waiting have all been sent. */
  onDrain(fn: () => void): void;
  /** Half-closes once the queued packets are sent. */
  end(): void;
  destroy(): void;
  /** Whether pause() really stops reading. */
  readonly flowControl: boolean;
}

/** Bytes of input waiting to be sent beyond which a writer is asked to wait. */
const QUEUE_HIGH = 256 * 1024;

interface PipeBinding {
  Pipe: new (type: number) => { open(fd: number): number };
  constants: { SOCKET: number };
}

let pipeBinding: PipeBinding | null | undefined;
function pipes(): PipeBinding | null {
  if (pipeBinding !== undefined) return pipeBinding;
  try {
    // process.binding is deprecated in documentation only; pipe_wrap is on its allow-list.
    pipeBinding = (process as unknown as { binding(name: string): PipeBinding }).binding('pipe_wrap');
  } catch {
    pipeBinding = null;
  }
  return pipeBinding;
}

/** Connects to the SEQPACKET socket at path, retrying while its listener's queue is full. */
export async function connectSeqpacket(path: string, timeoutMs = 5000, opts: { fallback?: boolean } = {}): Promise<SeqpacketConnection> {
  const binding = pipes();
  if (opts.fallback || !binding || !syscallsAvailable()) return connectFallback(path, timeoutMs);
  const deadline = Date.now() + timeoutMs;
  let fd: number;
  for (;;) {
    try {
      fd = sysSeqpacketConnect(path);
      break;
    } catch (err) {
      if (!(err instanceof SyscallError && err.code === 'EAGAIN') || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  const handle = new binding.Pipe(binding.constants.SOCKET);
  const rc = handle.open(fd);
  if (rc < 0) {
    closeSync(fd);
    throw new Error(`attach socket ${path}: cannot open its descriptor (${rc})`);
  }
  const sock = new Socket({ handle, readable: true, writable: true } as unknown as ConstructorParameters<typeof Socket>[0]);
  return wrapSocket(sock);
}

function wrapSocket(sock: Socket): SeqpacketConnection {
  // A socket writes queued chunks together (writev): one packet each needs one write at a time.
  const queue: Buffer[] = [];
  let queued = 0;
  let writing = false;
  let ending = false;
  const drained: Array<() => void> = [];
  const pump = (): void => {
    if (writing || sock.destroyed) return;
    const next = queue.shift();
    if (next === undefined) {
      for (const fn of drained.splice(0)) fn();
      if (ending) sock.end();
      return;
    }
    writing = true;
    sock.write(next, () => {
      writing = false;
      queued -= next.length;
      pump();
    });
  };
  sock.on('close', () => {
    for (const fn of drained.splice(0)) fn();
  });
  sock.on('error', () => {});
  return {
    flowControl: true,
    onPacket: (fn) => void sock.on('data', fn),
    onEnd: (fn) => void sock.on('end', fn),
    onClose: (fn) => void sock.on('close', fn),
    onError: (fn) => void sock.on('error', fn),
    pause: () => void sock.pause(),
    resume: () => void sock.resume(),
    write: (buf) => {
      if (ending || sock.destroyed) return true;
      queue.push(buf);
      queued += buf.length;
      pump();
      return queued <= QUEUE_HIGH;
    },
    onDrain: (fn) => {
      if (queued === 0 || sock.destroyed) fn();
      else drained.push(fn);
    },
    end: () => {
      ending = true;
      pump();
    },
    destroy: () => void sock.destroy(),
  };
}

interface SeqSocket {
  connect(path: string, cb?: () => void): void;
  write(buf: Buffer): void;
  end(): void;
  destroy(): void;
  setInternalReadBufferSize(n: number): void;
  on(ev: 'data', fn: (b: Buffer) => void): void;
  on(ev: 'end' | 'close', fn: () => void): void;
  on(ev: 'error', fn: (e: Error) => void): void;
}

function connectFallback(path: string, timeoutMs: number): Promise<SeqpacketConnection> {
  const Seq = (require('node-unix-socket') as { SeqpacketSocket: new () => SeqSocket }).SeqpacketSocket;
  const sock = new Seq();
  sock.setInternalReadBufferSize(64 * 1024);
  return new Promise((resolve, reject) => {
    let connected = false;
    const timer = setTimeout(() => {
      if (connected) return;
      reject(new Error(`attach: no answer from the container monitor at ${path}`));
      sock.destroy();
    }, timeoutMs);
    timer.unref();
    sock.on('error', (err) => {
      if (!connected) reject(err);
    });
    try {
      sock.connect(path, () => {
        connected = true;
        clearTimeout(timer);
        resolve({
          flowControl: false,
          onPacket: (fn) => sock.on('data', fn),
          onEnd: (fn) => sock.on('end', fn),
          onClose: (fn) => sock.on('close', fn),
          onError: (fn) => sock.on('error', fn),
          pause: () => {},
          resume: () => {},
          write: (buf) => {
            sock.write(buf);
            return true;
          },
          onDrain: (fn) => fn(),
          end: () => sock.end(),
          destroy: () => sock.destroy(),
        });
      });
    } catch (err) {
      clearTimeout(timer);
      reject(err);
    }
  });
}
