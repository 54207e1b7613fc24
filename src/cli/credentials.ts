// Registry credentials kept client side in docker's config.json form ($DOCKER_CONFIG or
// ~/.docker/config.json): `auths[server].auth` = base64("user:password"), written atomically, 0600.
import { mkdirSync, readFileSync, renameSync, writeFileSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { encodeRegistryAuth, registryHostOf, type AuthConfig } from '../distribution/auth.ts';

const HUB_KEY = 'https://index.docker.io/v1/';

export function configPath(env: NodeJS.ProcessEnv): string {
  return join(env.DOCKER_CONFIG ?? join(env.HOME ?? homedir(), '.docker'), 'config.json');
}

function readConfig(path: string): Record<string, unknown> {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function writeConfig(path: string, cfg: Record<string, unknown>): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(cfg, null, '\t')}\n`, { mode: 0o600 });
  const fd = openSync(tmp, 'r');
  fsyncSync(fd);
  closeSync(fd);
  renameSync(tmp, path);
}

/** The config key of a registry: docker.io is stored under docker's legacy index URL. */
export function serverKey(host: string): string {
  return host === 'docker.io' ? HUB_KEY : host;
}

export function saveCredentials(env: NodeJS.ProcessEnv, host: string, username: string, password: string): string {
  const path = configPath(env);
  const cfg = readConfig(path);
  const auths = (typeof cfg.auths === 'object' && cfg.auths !== null ? cfg.auths : {}) as Record<string, unknown>;
  auths[serverKey(host)] = { auth: Buffer.from(`${username}:${password}`).toString('base64') };
  cfg.auths = auths;
  writeConfig(path, cfg);
  return path;
}

export function removeCredentials(env: NodeJS.ProcessEnv, host: string): boolean {
  const path = configPath(env);
  const cfg = readConfig(path);
  const auths = (typeof cfg.auths === 'object' && cfg.auths !== null ? cfg.auths : {}) as Record<string, unknown>;
  const keys = Object.keys(auths).filter((k) => registryHostOf(k) === host);
  if (keys.length === 0) return false;
  for (const k of keys) delete auths[k];
  cfg.auths = auths;
  writeConfig(path, cfg);
  return true;
}

/** Credentials for a registry host, if any are stored. */
export function credentialsFor(env: NodeJS.ProcessEnv, host: string): AuthConfig | undefined {
  const cfg = readConfig(configPath(env));
  const auths = (typeof cfg.auths === 'object' && cfg.auths !== null ? cfg.auths : {}) as Record<string, { auth?: unknown; identitytoken?: unknown }>;
  for (const [k, v] of Object.entries(auths)) {
    if (registryHostOf(k) !== host || typeof v !== 'object' || v === null) continue;
    const out: AuthConfig = { serverAddress: k };
    if (typeof v.auth === 'string') {
      const plain = Buffer.from(v.auth, 'base64').toString('utf8');
      const colon = plain.indexOf(':');
      if (colon > 0) {
        out.username = plain.slice(0, colon);
        out.password = plain.slice(colon + 1);
      }
    }
    if (typeof v.identitytoken === 'string' && v.identitytoken !== '') out.identityToken = v.identitytoken;
    return out;
  }
  return undefined;
}

/** The X-Registry-Auth header value for an image reference's registry ('' when none is stored). */
export function registryAuthHeader(env: NodeJS.ProcessEnv, host: string): string {
  const c = credentialsFor(env, host);
  return c === undefined ? '' : encodeRegistryAuth(c);
}
