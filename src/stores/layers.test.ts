import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { LayerStore, chainId, chainIds } from './layers.ts';
import { packEntries } from '../adapters/tar/index.ts';
import { execFileSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;

test('chain IDs follow the OCI definition', () => {
  assert.equal(chainId(null, D1), D1);
  const c2 = `sha256:${createHash('sha256').update(`${D1} ${D2}`).digest('hex')}`;
  assert.equal(chainId(D1, D2), c2);
  assert.deepEqual(chainIds([D1, D2]), [D1, c2]);
  assert.deepEqual(chainIds([]), []);
  assert.throws(() => chainId(null, 'sha256:../x'));
});

const layerTar = (file: string, body: string) =>
  packEntries([{ name: file, type: 'file', mode: 0o644, content: Buffer.from(body) }]);

test('register, share, short links, reopen and remove', async () => {
  const root = await mkdtemp(join(tmpdir(), 'berth-layers-'));
  try {
    const store = await LayerStore.open({ dataRoot: root });
    assert.equal((await stat(join(root, 'layers'))).mode & 0o777, 0o700);
    const base = await store.register(layerTar('a', 'A'));
    assert.equal(base.chainId, base.diffId);
    assert.equal(base.parent, null);
    const top = await store.register(layerTar('b', 'B'), { parent: base.chainId });
    assert.equal(top.chainId, chainId(base.chainId, top.diffId));
    assert.equal(top.size, 1);
    const again = await store.register(layerTar('a', 'A'));
    assert.equal(again, base);

    const lowers = store.lowerDirs([top.chainId, base.chainId]);
    assert.equal(lowers[0], join(root, 'layers', 'l', top.link));
    assert.equal(await readlink(lowers[0]!), `../${top.chainId.slice(7)}/diff`);
    assert.equal(await readFile(join(lowers[0]!, 'b'), 'utf8'), 'B');
    assert.equal(await readFile(join(lowers[1]!, 'a'), 'utf8'), 'A');
    assert.equal(top.link.length, 26);

    const reopened = await LayerStore.open({ dataRoot: root });
    assert.deepEqual(reopened.get(top.chainId), top);

    await assert.rejects(reopened.remove(base.chainId), /child layers/);
    await reopened.remove(top.chainId);
    assert.equal(reopened.has(top.chainId), false);
    assert.deepEqual((await readdir(join(root, 'layers'))).sort(), ['l', base.chainId.slice(7)].sort());
    assert.deepEqual(await readdir(join(root, 'layers', 'l')), [base.link]);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('incomplete layers, temp dirs and stray links are cleaned up on open', async () => {
  const root = await mkdtemp(join(tmpdir(), 'berth-layers-'));
  try {
    const store = await LayerStore.open({ dataRoot: root });
    const good = await store.register(layerTar('a', 'A'));
    const half = join(root, 'layers', 'f'.repeat(64));
    await mkdir(join(half, 'diff'), { recursive: true });
    await writeFile(join(half, 'diff', 'x'), 'x');
    await mkdir(join(root, 'layers', '.tmp-0011'));
    await rm(join(root, 'layers', 'l', good.link));
    const { symlink } = await import('node:fs/promises');
    await symlink(`../${'f'.repeat(64)}/diff`, join(root, 'layers', 'l', 'ZZZZZZZZZZZZZZZZZZZZZZZZZZ'));

    const reopened = await LayerStore.open({ dataRoot: root });
    assert.deepEqual((await readdir(join(root, 'layers'))).sort(), ['l', good.chainId.slice(7)].sort());
    assert.deepEqual(await readdir(join(root, 'layers', 'l')), [good.link]);
    assert.equal(await readFile(join(reopened.lowerDirs([good.chainId])[0]!, 'a'), 'utf8'), 'A');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('a failed extraction leaves nothing behind', async () => {
  const root = await mkdtemp(join(tmpdir(), 'berth-layers-'));
  try {
    const store = await LayerStore.open({ dataRoot: root });
    const evil = packEntries([{ name: '../escape', type: 'file', mode: 0o644, content: Buffer.from('x') }]);
    await assert.rejects(store.register(evil), /breakout/);
    assert.deepEqual(await readdir(join(root, 'layers')), ['l']);
    assert.deepEqual(store.list(), []);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('a registered layer rebuilds its original tar byte for byte (tar-split)', async () => {
  const root = await mkdtemp(join(tmpdir(), 'berth-layers-'));
  try {
    const src = join(root, 'src');
    const long = 'd'.repeat(120);
    await mkdir(join(src, 'etc', long), { recursive: true });
    await writeFile(join(src, 'etc', 'hosts'), 'x'.repeat(1000));
    await writeFile(join(src, 'etc', long, `${'f'.repeat(150)}.txt`), 'long names');
    await writeFile(join(src, 'empty'), '');
    await writeFile(join(src, 'big'), Buffer.alloc(3 * 1024 * 1024 + 7, 7));
    execFileSync('ln', ['-s', '/etc/hosts', join(src, 'link')]);
    execFileSync('ln', [join(src, 'etc', 'hosts'), join(src, 'hard')]);
    const tarBytes = {
      gnu: execFileSync('tar', ['-C', src, '--format=gnu', '-cf', '-', '.'], { maxBuffer: 64 << 20 }),
      pax: execFileSync('tar', ['-C', src, '--format=pax', '-cf', '-', 'etc', 'empty', 'big', 'link', 'hard'], { maxBuffer: 64 << 20 }),
    };
    const store = await LayerStore.open({ dataRoot: join(root, 'data') });
    for (const [kind, bytes] of Object.entries(tarBytes)) {
      const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
      const layer = await store.register(Readable.from([gzipSync(bytes)]));
      assert.equal(layer.diffId, digest, kind);
      assert.equal(layer.split, true, kind);
      const chunks: Buffer[] = [];
      for await (const c of store.tarStream(layer.chainId)) chunks.push(c as Buffer);
      assert.ok(Buffer.concat(chunks).equals(bytes), `${kind} tar rebuilt exactly`);
      await store.remove(layer.chainId);
    }
    // The same name twice with content: the unpacked layer keeps only the last copy.
    const dup = Buffer.concat([
      ...(await collect(packEntries([
        { name: 'a', type: 'file', mode: 0o644, content: Buffer.from('one') },
        { name: 'a', type: 'file', mode: 0o644, content: Buffer.from('two') },
      ]))),
    ]);
    const layer = await store.register(Readable.from([dup]));
    assert.equal(layer.split, false);
    assert.throws(() => store.tarStream(layer.chainId), /cannot be rebuilt/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

async function collect(s: NodeJS.ReadableStream): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const c of s) out.push(c as Buffer);
  return out;
}
