// Bridges a client (hijacked HTTP connection) and conmon's attach socket (SOCK_SEQPACKET:
// output packets carry a stream byte, input is raw bytes).
import { createRequire } from 'node:module';
import type { Duplex } from 'node:stream';
import { invalidParameter } from '../../core/errors.ts';

const require = createRequire(import.meta.url);

export interface AttachSink {
  output(stream: 'stdout' | 'stderr', data: Buffer): void;
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

let SeqpacketSocket: (new () => SeqSocket) | undefined;
function seqpacket(): new () => SeqSocket {
  SeqpacketSocket ??= (require('node-unix-socket') as { SeqpacketSocket: new () => SeqSocket }).SeqpacketSocket;
  return SeqpacketSocket;
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

/** Connects one attach request to a conmon attach socket; resolves once connected. */
export function connectAttach(socketPath: string, req: AttachRequest, opts: { closeStdinOnEnd: boolean }): Promise<void> {
  const Seq = seqpacket();
  const sock = new Seq();
  sock.setInternalReadBufferSize(64 * 1024);
  let done = false;
  let detached = false;
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
  };
  return new Promise((resolve, reject) => {
    sock.on('error', (err) => {
      if (!done && !connected) reject(err);
      finish();
    });
    let connected = false;
    const timer = setTimeout(() => {
      if (connected) return;
      reject(new Error(`attach: no answer from the container monitor at ${socketPath}`));
      finish();
    }, 5000);
    timer.unref();
    try {
      sock.connect(socketPath, () => {
        connected = true;
        clearTimeout(timer);
        // Input is wired only once connected: writing to or half-closing an unconnected socket stalls it.
        wireInput();
        resolve();
      });
    } catch (err) {
      reject(err);
      return;
    }
    sock.on('data', (pkt: Buffer) => {
      if (pkt.length < 1 || done) return;
      const kind = pkt[0];
      const data = pkt.subarray(1);
      if (kind === 2 && req.stdout) req.sink.output('stdout', data);
      else if (kind === 3 && req.stderr) req.sink.output('stderr', data);
    });
    sock.on('end', () => (detached ? sock.destroy() : finish()));
    sock.on('close', () => (detached ? undefined : finish()));
    req.sink.onClose(() => {
      if (done) return;
      done = true;
      sock.destroy();
    });
    function wireInput(): void {
      const input = req.sink.input;
      if (!req.stdin || !input) return;
      // A client that closed its input before the container started (`docker run -i < /dev/null`)
      // has had its end already: a readable stream with nothing buffered ends without a reader.
      if (input.readableEnded) {
        if (opts.closeStdinOnEnd) sock.end();
        return;
      }
      const scanner = new DetachScanner(req.detachKeys);
      input.on('data', (chunk: Buffer) => {
        if (done) return;
        const r = scanner.push(chunk);
        if (r.out.length > 0) writeChunks(sock, r.out);
        if (r.detached) detach();
      });
      input.on('end', () => {
        if (!done && opts.closeStdinOnEnd) sock.end();
      });
    }
  });
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

function writeChunks(sock: SeqSocket, buf: Buffer): void {
  for (let off = 0; off < buf.length; off += 32 * 1024) sock.write(buf.subarray(off, Math.min(buf.length, off + 32 * 1024)));
}
