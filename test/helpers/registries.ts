// Registries for distribution tests, on 127.0.0.1 only: Debian's reference `docker-registry`, and a
// small scripted registry that serves one image with chosen faults (token auth, wrong digests,
// truncated or slow blobs, 5xx, 401 loops, oversized manifests).
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { packEntries } from '../../src/adapters/tar/index.ts';

export const REGISTRY_BIN = '/usr/bin/docker-registry';
export const haveReferenceRegistry = existsSync(REGISTRY_BIN);

const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export interface ReferenceRegistry {
  host: string;
  stop(): Promise<void>;
}

/** Debian's docker-registry (the reference distribution registry) on a free loopback port. */
export async function startReferenceRegistry(): Promise<ReferenceRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-refreg-'));
  const port = await freePort();
  await writeFile(
    join(dir, 'config.yml'),
    `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/data\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n`,
  );
  const child: ChildProcess = spawn(REGISTRY_BIN, ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const host = `127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      const r = await fetch(`http://${host}/v2/`);
      await r.body?.cancel();
      break;
    } catch {
      if (i > 100 || child.exitCode !== null) throw new Error(`docker-registry did not start: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    host,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface FakeImage {
  manifest: Buffer;
  manifestDigest: string;
  config: Buffer;
  configDigest: string;
  layers: Array<{ blob: Buffer; digest: string; diffId: string }>;
}

/** A two-layer image: small files, then `bigSize` bytes of random data (so it takes a while to send). */
export async function makeFakeImage(bigSize = 256 * 1024, opts: { zeros?: boolean } = {}): Promise<FakeImage> {
  const tarOf = async (entries: Parameters<typeof packEntries>[0]): Promise<Buffer> => {
    const chunks: Buffer[] = [];
    for await (const c of packEntries(entries)) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  };
  const t1 = await tarOf([
    { name: 'etc', type: 'directory', mode: 0o755 },
    { name: 'etc/fake-release', type: 'file', mode: 0o644, content: Buffer.from('fake 1\n') },
  ]);
  const t2 = await tarOf([{ name: 'big.bin', type: 'file', mode: 0o644, content: opts.zeros ? Buffer.alloc(bigSize) : randomBytes(bigSize) }]);
  const layers = [t1, t2].map((t) => {
    const blob = gzipSync(t);
    return { blob, digest: sha(blob), diffId: sha(t) };
  });
  const config = Buffer.from(
    JSON.stringify({
      architecture: process.arch === 'x64' ? 'amd64' : process.arch,
      os: 'linux',
      config: { Cmd: ['/bin/true'] },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
      history: [{ created_by: 'one' }, { created_by: 'two' }],
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
      layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: l.digest, size: l.blob.length })),
    }),
  );
  return { manifest, manifestDigest: sha(manifest), config, configDigest: sha(config), layers };
}

export interface Faults {
  /** Require Bearer tokens from /token, issued for these Basic credentials (or anonymously when absent). */
  token?: { user?: string; password?: string };
  /** Answer 401 to everything, whatever the credentials. */
  alwaysUnauthorized?: boolean;
  /** Serve this blob's bytes altered. */
  corruptBlob?: string;
  /** Send a wrong Docker-Content-Digest with the manifest. */
  lyingManifestDigest?: boolean;
  /** Answer 503 to the first N blob requests. */
  failFirstBlobRequests?: number;
  /** Cut this blob's first response after half its bytes. */
  truncateOnce?: string;
  /** Send blob bytes in small pieces with this pause between them (ms). */
  slowBlobs?: number;
  /** Serve a manifest of this many bytes instead of the real one. */
  hugeManifest?: number;
}

export interface FakeRegistry {
  host: string;
  image: FakeImage;
  /** Range headers received on blob requests. */
  ranges: string[];
  requests: string[];
  faults: Faults;
  stop(): Promise<void>;
}

/** Serves `image` as repository `fake/app`, tag `v1`, with the given faults (changeable later). */
export async function startFakeRegistry(image: FakeImage, faults: Faults = {}): Promise<FakeRegistry> {
  const reg: FakeRegistry = { host: '', image, ranges: [], requests: [], faults, stop: async () => {} };
  const token = randomBytes(16).toString('hex');
  let blobRequests = 0;
  const truncated = new Set<string>();
  const blobs = new Map<string, Buffer>([[image.configDigest, image.config], ...image.layers.map((l) => [l.digest, l.blob] as [string, Buffer])]);
  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://x');
    reg.requests.push(`${req.method} ${url.pathname}`);
    const f = reg.faults;
    if (url.pathname === '/token') {
      const want = f.token?.user !== undefined ? `Basic ${Buffer.from(`${f.token.user}:${f.token.password ?? ''}`).toString('base64')}` : undefined;
      if (want !== undefined && req.headers.authorization !== want) {
        res.writeHead(401, { 'Content-Type': 'application/json' }).end('{"details":"incorrect username or password"}');
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token }));
      return;
    }
    const challenge = (): void => {
      res.writeHead(401, {
        'Content-Type': 'application/json',
        'WWW-Authenticate': `Bearer realm="http://${reg.host}/token",service="fake",scope="repository:fake/app:pull"`,
      });
      res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
    };
    if (f.alwaysUnauthorized || (f.token && req.headers.authorization !== `Bearer ${token}`)) {
      challenge();
      return;
    }
    if (url.pathname === '/v2/') {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
      return;
    }
    const m = /^\/v2\/fake\/app\/(manifests|blobs)\/(.+)$/.exec(url.pathname);
    if (!m) {
      res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}');
      return;
    }
    if (m[1] === 'manifests') {
      if (m[2] === 'multi') {
        // An index: the image for this host, one for another architecture, and an attestation.
        const arch = process.arch === 'x64' ? 'amd64' : process.arch;
        const other = arch === 'amd64' ? 'arm64' : 'amd64';
        const index = Buffer.from(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: 'application/vnd.oci.image.index.v1+json',
            manifests: [
              { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${'e'.repeat(64)}`, size: 100, platform: { os: 'linux', architecture: other } },
              { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: image.manifestDigest, size: image.manifest.length, platform: { os: 'linux', architecture: arch } },
              { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${'f'.repeat(64)}`, size: 100, platform: { os: 'unknown', architecture: 'unknown' } },
            ],
          }),
        );
        res.writeHead(200, { 'Content-Type': 'application/vnd.oci.image.index.v1+json', 'Content-Length': index.length });
        res.end(req.method === 'HEAD' ? undefined : index);
        return;
      }
      if (m[2] !== 'v1' && m[2] !== image.manifestDigest) {
        res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}');
        return;
      }
      const body = f.hugeManifest ? Buffer.alloc(f.hugeManifest, 0x20) : image.manifest;
      res.writeHead(200, {
        'Content-Type': 'application/vnd.oci.image.manifest.v1+json',
        'Content-Length': body.length,
        'Docker-Content-Digest': f.lyingManifestDigest ? `sha256:${'0'.repeat(64)}` : image.manifestDigest,
      });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    const blob = blobs.get(m[2]!);
    if (blob === undefined) {
      res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry"}]}');
      return;
    }
    blobRequests++;
    if (f.failFirstBlobRequests !== undefined && blobRequests <= f.failFirstBlobRequests) {
      res.writeHead(503).end('busy');
      return;
    }
    let body = blob;
    if (f.corruptBlob === m[2]) body = Buffer.concat([blob.subarray(0, blob.length - 1), Buffer.from([blob[blob.length - 1]! ^ 0xff])]);
    let status = 200;
    const headers: Record<string, string | number> = { 'Content-Type': 'application/octet-stream', 'Docker-Content-Digest': m[2]! };
    const range = req.headers.range;
    if (range !== undefined) {
      reg.ranges.push(range);
      const rm = /^bytes=(\d+)-$/.exec(range);
      if (rm) {
        const start = Number(rm[1]);
        headers['Content-Range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
        body = body.subarray(start);
        status = 206;
      }
    }
    headers['Content-Length'] = body.length;
    res.writeHead(status, headers);
    if (f.truncateOnce === m[2] && !truncated.has(m[2]!) && status === 200) {
      truncated.add(m[2]!);
      res.write(body.subarray(0, body.length >> 1));
      setTimeout(() => res.destroy(), 50);
      return;
    }
    if (f.slowBlobs) {
      for (let off = 0; off < body.length; off += 16 * 1024) {
        if (res.destroyed) return;
        res.write(body.subarray(off, off + 16 * 1024));
        await new Promise((r) => setTimeout(r, f.slowBlobs));
      }
      res.end();
      return;
    }
    res.end(body);
  };
  const server: Server = createServer((req, res) => {
    handler(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  reg.host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  reg.stop = async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return reg;
}
