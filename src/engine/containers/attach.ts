// Bridges a client (hijacked HTTP connection) and conmon's attach socket (SOCK_SEQPACKET:
// output packets carry a stream byte, input is raw bytes).
import type { Duplex } from 'node:stream';
import { invalidParameter } from '../../core/errors.ts';
import { connectSeqpacket, type SeqpacketConnection } from '../../adapters/seqpacket/index.ts';

export interface AttachSink {
  /** False when the client's buffer is full: no more until onDrain. */
  output(stream: 'stdout' | 'stderr', data: Buffer): boolean;
  onDrain(fn: () => void): void;
  end(): void;
  input?: Duplex;
  onClose(fn: () => void): void;
  readonly closed: boolean;
}

export interface AttachRequest {
  sink: AttachSink;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  detachKeys: number[];
}

export const DEFAULT_DETACH_KEYS = [16, 17]; // ctrl-p, ctrl-q

/** Docker's detach-key syntax: "ctrl-p,ctrl-q", "a,ctrl-@", … */
export function parseDetachKeys(spec: string | undefined | null): number[] {
  if (spec === undefined || spec === null || spec === '') return DEFAULT_DETACH_KEYS;
  const out: number[] = [];
  for (const part of spec.split(',')) {
    const k = part.trim().toLowerCase();
    if (k.length === 1) {
      out.push(k.charCodeAt(0));
      continue;
    }
    const m = /^ctrl-(.)$/.exec(k);
    if (!m) throw invalidParameter(`Invalid detach keys (${spec}) provided`);
    const c = m[1]!;
    if (c >= 'a' && c <= 'z') out.push(c.charCodeAt(0) - 96);
    else if (c === '@') out.push(0);
    else if (c === '[') out.push(27);
    else if (c === '\\') out.push(28);
    else if (c === ']') out.push(29);
    else if (c === '^') out.push(30);
    else if (c === '_') out.push(31);
    else throw invalidParameter(`Invalid detach keys (${spec}) provided`);
  }
  return out;
}

// Attach streams held back for a client that does not read, by container. conmon blocks while one
// is, its exit handling too: once the container is being killed or its process is gone, the streams
// are let go (the output a client still cannot take is dropped) so the exit is seen, as Docker
// stops waiting for an attached client's copy when a container ends.
const heldBack = new Map<string, Set<() => void>>();

/** Lets every attach stream of the container go; output its clients cannot take is then dropped. */
export function releaseAttachStreams(owner: string): void {
  const set = heldBack.get(owner);
  if (!set) return;
  heldBack.delete(owner);
  for (const release of set) release();
}

/** Whether a client that does not read is holding back the container's output. */
export function attachHeldBack(owner: string): boolean {
  return (heldBack.get(owner)?.size ?? 0) > 0;
}

/**
 * Connects one attach request to a conmon attach socket; resolves once connected. Output follows
 * the client's pace: while its buffer is full the socket is not read, and conmon (and so the
 * container) waits, as a Docker container waits for its slowest attached client. As Docker, the
 * detach keys are looked for in the input of a TTY alone: other input is data, passed as it is.
 */
export async function connectAttach(socketPath: string, req: AttachRequest, opts: { closeStdinOnEnd: boolean; tty: boolean; owner: string }): Promise<void> {
  const sock: SeqpacketConnection = await connectSeqpacket(socketPath, 5000);
  let done = false;
  let detached = false;
  // Paused for the client / let go for good (then output is dropped while the client is full).
  let paused = false;
  let released = false;
  let congested = false;
  const release = (): void => {
    released = true;
    if (paused) {
      paused = false;
      sock.resume();
    }
  };
  const unregister = (): void => {
    const set = heldBack.get(opts.owner);
    set?.delete(release);
    if (set?.size === 0) heldBack.delete(opts.owner);
  };
  const finish = (): void => {
    if (done) return;
    done = true;
    req.sink.end();
    sock.destroy();
  };
  // conmon closes the container's stdin when an attach connection ends, so a detach (unlike a
  // client's EOF) keeps the connection open, discarding output, until the container exits.
  const detach = (): void => {
    if (done) return;
    done = true;
    detached = true;
    req.sink.end();
    unregister();
    paused = false;
    sock.resume();
  };
  sock.onError(() => finish());
  sock.onPacket((pkt: Buffer) => {
    if (pkt.length < 1 || done) return;
    const kind = pkt[0];
    const data = pkt.subarray(1);
    if (released && congested) return;
    let more = true;
    if (kind === 2 && req.stdout) more = req.sink.output('stdout', data);
    else if (kind === 3 && req.stderr) more = req.sink.output('stderr', data);
    if (more || !sock.flowControl || req.sink.closed) return;
    if (released) {
      congested = true;
      req.sink.onDrain(() => (congested = false));
      return;
    }
    paused = true;
    sock.pause();
    let set = heldBack.get(opts.owner);
    if (!set) heldBack.set(opts.owner, (set = new Set()));
    set.add(release);
    req.sink.onDrain(() => {
      unregister();
      if (!paused) return;
      paused = false;
      sock.resume();
    });
  });
  sock.onEnd(() => (detached ? sock.destroy() : finish()));
  sock.onClose(() => {
    unregister();
    if (!detached) finish();
  });
  req.sink.onClose(() => {
    if (done) return;
    done = true;
    sock.destroy();
  });
  wireInput();

  function wireInput(): void {
    const input = req.sink.input;
    if (!req.stdin || !input) return;
    // A client that closed its input before the container started (`docker run -i < /dev/null`)
    // has had its end already: a readable stream with nothing buffered ends without a reader.
    if (input.readableEnded) {
      if (opts.closeStdinOnEnd) sock.end();
      return;
    }
    const scanner = opts.tty ? new DetachScanner(req.detachKeys) : undefined;
    // Input, too, goes at the container's pace: while it waits to be sent, the client's is not read.
    const send = (buf: Buffer): void => {
      if (!writeChunks(sock, buf) && !input.isPaused()) {
        input.pause();
        sock.onDrain(() => input.resume());
      }
    };
    input.on('data', (chunk: Buffer) => {
      if (done) return;
      if (!scanner) {
        send(chunk);
        return;
      }
      const r = scanner.push(chunk);
      if (r.out.length > 0) send(r.out);
      if (r.detached) detach();
    });
    input.on('end', () => {
      if (!done && opts.closeStdinOnEnd) sock.end();
    });
  }
}

/** Finds the detach sequence in stdin across chunk boundaries; bytes of a partial match are held back. */
export class DetachScanner {
  #keys: number[];
  #matched = 0;
  constructor(keys: number[]) {
    this.#keys = keys;
  }
  push(chunk: Buffer): { out: Buffer; detached: boolean } {
    const keys = this.#keys;
    if (keys.length === 0) return { out: chunk, detached: false };
    const out: number[] = [];
    for (const b of chunk) {
      if (b === keys[this.#matched]) {
        this.#matched++;
        if (this.#matched === keys.length) {
          this.#matched = 0;
          return { out: Buffer.from(out), detached: true };
        }
        continue;
      }
      if (this.#matched > 0) {
        out.push(...keys.slice(0, this.#matched));
        this.#matched = 0;
        if (b === keys[0]) {
          this.#matched = 1;
          continue;
        }
      }
      out.push(b);
    }
    return { out: Buffer.from(out), detached: false };
  }
}

/** conmon reads its attach socket 32 KiB at a time: a longer packet would be cut. */
function writeChunks(sock: SeqpacketConnection, buf: Buffer): boolean {
  let more = true;
  for (let off = 0; off < buf.length; off += 32 * 1024) more = sock.write(buf.subarray(off, Math.min(buf.length, off + 32 * 1024)));
  return more;
}
