// Per-registry TLS material, as Docker reads /etc/docker/certs.d: in <dir>/<host[:port]>/, every
// *.crt is a CA to trust for that registry (besides the system's), and a *.cert with the *.key of
// the same name is a client certificate to present.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Agent } from 'node:https';
import { https, tls } from '../lib/lazy-modules.ts';
import { invalidParameter } from '../core/errors.ts';

export class RegistryTls {
  readonly #dirs: readonly string[];
  readonly #agents = new Map<string, Agent>();

  constructor(dirs: readonly string[]) {
    this.#dirs = dirs;
  }

  /** A connection pool that trusts the host's CAs and presents its client certificate; undefined when it has none. */
  dispatcher(host: string): Agent | undefined {
    // A host name (with a port) names a directory; nothing else may.
    if (!/^[A-Za-z0-9.-]+(:\d+)?$/.test(host) && !/^\[[0-9a-fA-F:]+\](:\d+)?$/.test(host)) return undefined;
    for (const base of this.#dirs) {
      const dir = join(base, host);
      if (!existsSync(dir)) continue;
      const names = readdirSync(dir).sort();
      const ca = names.filter((n) => n.endsWith('.crt')).map((n) => readFileSync(join(dir, n), 'utf8'));
      const certs = names.filter((n) => n.endsWith('.cert'));
      let cert: string | undefined;
      let key: string | undefined;
      for (const c of certs) {
        const k = `${c.slice(0, -'.cert'.length)}.key`;
        if (!names.includes(k)) throw invalidParameter(`missing key ${k} for client certificate ${c} in ${dir}`);
        cert = readFileSync(join(dir, c), 'utf8');
        key = readFileSync(join(dir, k), 'utf8');
      }
      for (const k of names.filter((n) => n.endsWith('.key'))) {
        if (!names.includes(`${k.slice(0, -'.key'.length)}.cert`)) throw invalidParameter(`missing client certificate ${k.slice(0, -'.key'.length)}.cert for key ${k} in ${dir}`);
      }
      if (ca.length === 0 && cert === undefined) return undefined;
      // One pool per host and material: connections are reused until the files change.
      const material = JSON.stringify([host, ca, cert, key]);
      let agent = this.#agents.get(material);
      if (agent === undefined) {
        agent = new (https().Agent)({ keepAlive: true, ...(ca.length > 0 ? { ca: [...tls().rootCertificates, ...ca] } : {}), ...(cert !== undefined && key !== undefined ? { cert, key } : {}) });
        this.#agents.set(material, agent);
      }
      return agent;
    }
    return undefined;
  }
}
