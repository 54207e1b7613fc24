// Security and reliability case 23: a data root that fills up. Loading an image bigger than the
// file system fails with a clear "no space left on device", leaves no half-made image or temp
// files, keeps every state file whole, and the daemon restarts cleanly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes, createHash } from 'node:crypto';
import { api, isRoot, startDaemon } from '../helpers/daemon.ts';
import { packEntries } from '../../src/adapters/tar/index.ts';

const skip = !isRoot ? 'integration tests need root' : false;

async function archiveOf(layerBytes: number): Promise<Buffer> {
  const collect = async (s: NodeJS.ReadableStream): Promise<Buffer> => {
    const out: Buffer[] = [];
    for await (const c of s) out.push(c as Buffer);
    return Buffer.concat(out);
  };
  const layer = await collect(packEntries([{ name: 'big.bin', type: 'file', mode: 0o644, content: randomBytes(layerBytes) }]));
  const diffId = `sha256:${createHash('sha256').update(layer).digest('hex')}`;
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [diffId] } }));
  return collect(
    packEntries([
      { name: 'manifest.json', type: 'file', mode: 0o644, content: Buffer.from(JSON.stringify([{ Config: 'config.json', RepoTags: ['toobig:1'], Layers: ['layer.tar'] }])) },
      { name: 'config.json', type: 'file', mode: 0o644, content: config },
      { name: 'layer.tar', type: 'file', mode: 0o644, content: layer },
    ]),
  );
}

test('a full data root: a clear 500, nothing half-made, state intact, clean restart (case 23)', { skip }, async () => {
  const mnt = mkdtempSync('/tmp/berth-full-');
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=40m', 'tmpfs', mnt]);
  const d = await startDaemon({ extraArgs: ['--data-root', join(mnt, 'data')] });
  try {
    // A small image that fits, so there is state to keep whole.
    const small = await api(d, 'POST', '/images/load', await archiveOf(1024 * 1024), { 'Content-Type': 'application/x-tar' });
    assert.equal(small.status, 200, small.text());
    const big = await api(d, 'POST', '/images/load', await archiveOf(48 * 1024 * 1024), { 'Content-Type': 'application/x-tar' });
    assert.equal(big.status, 500, big.text());
    assert.match(big.json().message, /no space left on device/);
    const images = (await api(d, 'GET', '/images/json')).json() as Array<{ RepoTags: string[] }>;
    assert.deepEqual(images.map((i) => i.RepoTags).flat(), ['toobig:1'], 'the earlier image only');
    const tmp = join(mnt, 'data', 'tmp');
    assert.deepEqual(existsSync(tmp) ? readdirSync(tmp) : [], [], 'no temp files left');
    assert.deepEqual(readdirSync(join(mnt, 'data', 'layers')).filter((n) => n.startsWith('.tmp-')), [], 'no half-made layer');
    JSON.parse(readFileSync(join(mnt, 'data', 'images', 'repositories.json'), 'utf8'));
    await d.restart();
    assert.equal((await api(d, 'GET', '/images/toobig:1/json')).status, 200);
  } finally {
    await d.cleanup();
    execFileSync('umount', [mnt]);
    rmSync(mnt, { recursive: true, force: true });
  }
});
