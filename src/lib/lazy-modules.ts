// node:https and the TLS stack under it cost a process ~12 ms and ~6 MiB to load. Most CLI runs
// and many daemons never speak TLS (the daemon's own socket is a Unix socket), so they are
// loaded the first time something needs them rather than when the program starts. node:zlib
// likewise (~2.5 MiB of a daemon's memory): only layers, pulls and pushes need it.
import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);
let httpsModule: typeof import('node:https') | undefined;
let tlsModule: typeof import('node:tls') | undefined;
let zlibModule: typeof import('node:zlib') | undefined;

export function https(): typeof import('node:https') {
  return (httpsModule ??= load('node:https') as typeof import('node:https'));
}

export function tls(): typeof import('node:tls') {
  return (tlsModule ??= load('node:tls') as typeof import('node:tls'));
}

export function zlib(): typeof import('node:zlib') {
  return (zlibModule ??= load('node:zlib') as typeof import('node:zlib'));
}
