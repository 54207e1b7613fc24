// node:https and the TLS stack under it cost a process ~12 ms and ~6 MiB to load. Most CLI runs
// and many daemons never speak TLS (the daemon's own socket is a Unix socket), so they are
// loaded the first time something needs them rather than when the program starts.
import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);
let httpsModule: typeof import('node:https') | undefined;
let tlsModule: typeof import('node:tls') | undefined;

export function https(): typeof import('node:https') {
  return (httpsModule ??= load('node:https') as typeof import('node:https'));
}

export function tls(): typeof import('node:tls') {
  return (tlsModule ??= load('node:tls') as typeof import('node:tls'));
}
