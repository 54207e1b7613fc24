// Extraction safety with crafted archives. A sentinel `victim` directory sits beside the root and
// must stay byte-identical. Device nodes, ownership and the overlay checks need root (CI is root).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile, readFile, readdir, lstat, readlink, stat, symlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import tar from 'tar-stream';
import type { Header } from 'tar-stream';
import { extractLayer, createTar, packEntries, getXattr, cleanEntryPath, detectCompression } from './index.ts';
import { run } from '../exec/index.ts';
import { isKind } from '../../core/errors.ts';

type Spec = Partial<Header> & { name: string; body?: string };

async function makeTar(entries: Spec[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of pack) chunks.push(Buffer.from(c as Uint8Array));
  })();
  for (const e of entries) {
    const { body, ...header } = e;
    await new Promise<void>((resolve, reject) =>
      pack.entry({ mode: 0o644, mtime: new Date(1_000_000_000_000), ...header }, body ?? '', (err) => (err ? reject(err) : resolve())),
    );
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

async function setup(): Promise<{ base: string; root: string; victim: string }> {
  const base = await mkdtemp(join(tmpdir(), 'berth-tar-'));
  const root = join(base, 'root');
  const victim = join(base, 'victim');
  await mkdir(root);
  await mkdir(victim);
  await writeFile(join(victim, 'hello'), 'sentinel');
  return { base, root, victim };
}

async function assertVictimUntouched(victim: string): Promise<void> {
  assert.deepEqual((await readdir(victim)).sort(), ['hello']);
  assert.equal(await readFile(join(victim, 'hello'), 'utf8'), 'sentinel');
  assert.equal((await stat(join(victim, 'hello'))).nlink, 1);
}

const extract = (buf: Buffer, root: string) => extractLayer(Readable.from([buf]), root);

test('cleanEntryPath strips leading slashes and refuses climbing above the root', () => {
  assert.deepEqual(cleanEntryPath('/a/./b//c'), ['a', 'b', 'c']);
  assert.deepEqual(cleanEntryPath('a/../b'), ['b']);
  assert.throws(() => cleanEntryPath('../victim/x'), /breakout/);
  assert.throws(() => cleanEntryPath('/../victim/x'), /breakout/);
  assert.throws(() => cleanEntryPath('a/../../x'), /breakout/);
});

test('entries ../victim/x and /../victim/x are refused', async () => {
  for (const name of ['../victim/x', '/../victim/x', '..']) {
    const { base, root, victim } = await setup();
    try {
      const buf = await makeTar([{ name: 'ok', body: 'fine' }, { name, body: 'pwned' }]);
      await assert.rejects(extract(buf, root), (err: unknown) => isKind(err, 'InvalidParameter') && /breakout/.test(String(err)));
      await assertVictimUntouched(victim);
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  }
});

test('a file under a symlink to an outside directory lands inside the root', async () => {
  const { base, root, victim } = await setup();
  try {
    const buf = await makeTar([
      { name: 'evil', type: 'symlink', linkname: victim },
      { name: 'evil/passwd', body: 'owned' },
      { name: 'up', type: 'symlink', linkname: '../../victim' },
      { name: 'up/x', body: 'owned too' },
    ]);
    await extract(buf, root);
    await assertVictimUntouched(victim);
    // The absolute target is taken relative to the root.
    assert.equal(await readFile(join(root, victim, 'passwd'), 'utf8'), 'owned');
    // `..` stops at the root.
    assert.equal(await readFile(join(root, 'victim', 'x'), 'utf8'), 'owned too');
    assert.equal(await readlink(join(root, 'evil')), victim);
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});

test('a symlink in place of the final component is replaced, not followed', async () => {
  const { base, root, victim } = await setup();
  try {
    const buf = await makeTar([
      { name: 'hello', type: 'symlink', linkname: join(victim, 'hello') },
      { name: 'hello', body: 'replaced' },
    ]);
    await extract(buf, root);
    await assertVictimUntouched(victim);
    assert.equal((await lstat(join(root, 'hello'))).isFile(), true);
    assert.equal(await readFile(join(root, 'hello'), 'utf8'), 'replaced');
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});

test('hardlinks outside the root are refused; inside (absolute too) they work', async () => {
  const { base, root, victim } = await setup();
  try {
    const bad = await makeTar([{ name: 'h', type: 'link', linkname: '../victim/hello' }]);
    await assert.rejects(extract(bad, root), /breakout/);
    const viaSymlink = await makeTar([
      { name: 'v', type: 'symlink', linkname: victim },
      { name: 'h', type: 'link', linkname: 'v/hello' },
    ]);
    await assert.rejects(extract(viaSymlink, root), /does not exist/);
    await assertVictimUntouched(victim);

    const good = await makeTar([
      { name: 'bin/', type: 'directory', mode: 0o755 },
      { name: 'bin/tool', body: 'x', mode: 0o755 },
      { name: 'bin/alias', type: 'link', linkname: '/bin/tool' },
    ]);
    const root2 = join(base, 'root2');
    await mkdir(root2);
    await extract(good, root2);
    const a = await stat(join(root2, 'bin/tool'));
    const b = await stat(join(root2, 'bin/alias'));
    assert.equal(a.ino, b.ino);
    assert.equal(a.nlink, 2);
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});

test('var/run -> /run then a file under var/run/ is written inside the root', async () => {
  const { base, root, victim } = await setup();
  try {
    const buf = await makeTar([
      { name: 'var/', type: 'directory', mode: 0o755 },
      { name: 'var/run', type: 'symlink', linkname: '/run' },
      { name: 'var/run/app.pid', body: '42' },
    ]);
    await extract(buf, root);
    assert.equal(await readFile(join(root, 'run', 'app.pid'), 'utf8'), '42');
    assert.equal(await readlink(join(root, 'var', 'run')), '/run');
    await assertVictimUntouched(victim);
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});

test('modes (setuid), ownership, mtimes, fifos and devices are kept; diff ID is the plain tar digest', async () => {
  const { base, root } = await setup();
  try {
    const mtime = new Date('2020-02-02T02:02:02Z');
    const buf = await makeTar([
      { name: 'd/', type: 'directory', mode: 0o750, uid: 1000, gid: 1001, mtime },
      { name: 'd/suid', body: '#!', mode: 0o4755, uid: 1000, gid: 1001, mtime },
      { name: 'd/fifo', type: 'fifo', mode: 0o600 },
      { name: 'd/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
      { name: 'tmp/', type: 'directory', mode: 0o1777 },
    ]);
    const res = await extract(buf, root);
    assert.equal(res.diffId, `sha256:${createHash('sha256').update(buf).digest('hex')}`);
    assert.equal(res.tarSize, buf.length);
    assert.equal(res.size, 2);
    const d = await stat(join(root, 'd'));
    assert.equal(d.mode & 0o7777, 0o750);
    assert.equal(d.uid, 1000);
    assert.equal(d.mtime.getTime(), mtime.getTime());
    const s = await stat(join(root, 'd/suid'));
    assert.equal(s.mode & 0o7777, 0o4755);
    assert.equal(s.gid, 1001);
    assert.equal(s.mtime.getTime(), mtime.getTime());
    assert.equal((await lstat(join(root, 'd/fifo'))).isFIFO(), true);
    const dev = await lstat(join(root, 'd/null'));
    assert.equal(dev.isCharacterDevice(), true);
    assert.equal(dev.rdev, (1 << 8) | 3);
    assert.equal((await stat(join(root, 'tmp'))).mode & 0o7777, 0o1777);
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});

test('gzip and zstd layers are detected by magic and give the uncompressed digest', async () => {
  const { base, root } = await setup();
  try {
    const buf = await makeTar([{ name: 'a', body: 'abc' }]);
    assert.equal(detectCompression(gzipSync(buf)), 'gzip');
    const r1 = await extract(gzipSync(buf), root);
    assert.equal(r1.diffId, `sha256:${createHash('sha256').update(buf).digest('hex')}`);
    const root2 = join(base, 'z');
    await mkdir(root2);
    const r2 = await extract(zstdCompressSync(buf), root2);
    assert.equal(r2.diffId, r1.diffId);
    assert.equal(await readFile(join(root2, 'a'), 'utf8'), 'abc');
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});

test('a stream over the byte budget is aborted', async () => {
  const { base, root } = await setup();
  try {
    const buf = await makeTar([{ name: 'big', body: 'x'.repeat(100_000) }]);
    await assert.rejects(extractLayer(Readable.from([gzipSync(buf)]), root, { maxBytes: 10_000 }), /size limit/);
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});

test('truncated and garbage archives are refused', async () => {
  const { base, root } = await setup();
  try {
    const buf = await makeTar([{ name: 'a', body: 'x'.repeat(5000) }]);
    await assert.rejects(extract(buf.subarray(0, 1024), root), (err: unknown) => isKind(err, 'InvalidParameter'));
    await assert.rejects(extract(Buffer.alloc(1024, 7), join(base, 'victim')), (err: unknown) => isKind(err, 'InvalidParameter'));
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});

test('whiteouts become overlay whiteouts; invalid whiteouts are refused', async () => {
  const { base, root } = await setup();
  try {
    const buf = await makeTar([
      { name: 'etc/', type: 'directory', mode: 0o755 },
      { name: 'etc/.wh.gone', body: '' },
      { name: 'opq/', type: 'directory', mode: 0o755 },
      { name: 'opq/.wh..wh..opq', body: '' },
      { name: 'opq/new', body: 'n' },
    ]);
    await extract(buf, root);
    const wh = await lstat(join(root, 'etc/gone'));
    assert.equal(wh.isCharacterDevice(), true);
    assert.equal(wh.rdev, 0);
    assert.deepEqual(await readdir(join(root, 'etc')), ['gone']);
    assert.equal(await getXattr(join(root, 'opq'), 'trusted.overlay.opaque'), 'y');
    assert.equal(await getXattr(join(root, 'etc'), 'trusted.overlay.opaque'), undefined);

    const bad = await makeTar([{ name: 'x/.wh..', body: '' }]);
    await assert.rejects(extract(bad, join(base, 'victim')), /invalid whiteout/);
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});

test('overlayfs honours the converted whiteouts (mounts; root only)', async (t) => {
  const { base } = await setup();
  const lower = join(base, 'lower');
  const upper = join(base, 'upper');
  const merged = join(base, 'merged');
  await Promise.all([mkdir(lower), mkdir(upper), mkdir(merged)]);
  let mounted = false;
  try {
    await extract(await makeTar([{ name: 'a', body: '1' }, { name: 'd/', type: 'directory' }, { name: 'd/old', body: 'o' }, { name: 'keep', body: 'k' }]), lower);
    await extract(await makeTar([{ name: '.wh.a', body: '' }, { name: 'd/', type: 'directory' }, { name: 'd/.wh..wh..opq', body: '' }, { name: 'd/new', body: 'n' }]), upper);
    try {
      await run(['mount', '-t', 'overlay', 'overlay', '-o', `lowerdir=${upper}:${lower}`, merged]);
      mounted = true;
    } catch (err) {
      t.skip(`cannot mount overlay here: ${String(err)}`);
      return;
    }
    assert.deepEqual((await readdir(merged)).sort(), ['d', 'keep']);
    assert.deepEqual(await readdir(join(merged, 'd')), ['new']);
  } finally {
    if (mounted) await run(['umount', merged]);
    await rm(base, { recursive: true, force: true });
  }
});

test('createTar is deterministic, sorted, and round-trips through extraction', async () => {
  const { base, root } = await setup();
  try {
    await mkdir(join(root, 'b/c'), { recursive: true });
    await writeFile(join(root, 'b/c/file'), 'data');
    await writeFile(join(root, 'a'), 'A');
    await symlink('a', join(root, 'z-link'));
    const collect = async (r: Readable) => {
      const chunks: Buffer[] = [];
      for await (const c of r) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    };
    const one = await collect(createTar(root));
    const two = await collect(createTar(root));
    assert.deepEqual(one, two);
    const names: string[] = [];
    const ex = tar.extract();
    const reading = (async () => {
      for await (const e of ex) {
        names.push(e.header.name);
        e.resume();
      }
    })();
    ex.end(one);
    await reading;
    assert.deepEqual(names, ['a', 'b/', 'b/c/', 'b/c/file', 'z-link']);
    const out = join(base, 'out');
    await mkdir(out);
    await extractLayer(Readable.from([one]), out);
    assert.equal(await readFile(join(out, 'b/c/file'), 'utf8'), 'data');
    assert.equal(await readlink(join(out, 'z-link')), 'a');
    assert.equal((await stat(join(out, 'a'))).mtime.getTime(), Math.floor((await stat(join(root, 'a'))).mtimeMs / 1000) * 1000);
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});

test('createTar can turn overlay whiteouts back into .wh. entries', async () => {
  const { base, root } = await setup();
  try {
    await extract(await makeTar([{ name: 'd/', type: 'directory' }, { name: 'd/.wh..wh..opq', body: '' }, { name: '.wh.gone', body: '' }]), root);
    const names: string[] = [];
    const ex = tar.extract();
    const reading = (async () => {
      for await (const e of ex) {
        names.push(e.header.name);
        e.resume();
      }
    })();
    for await (const c of createTar(root, { aufsWhiteouts: true })) ex.write(c);
    ex.end(undefined);
    await reading;
    assert.deepEqual(names, ['d/', 'd/.wh..wh..opq', '.wh.gone']);
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});

test('packEntries streams host files and honours given metadata', async () => {
  const { base, root } = await setup();
  try {
    const src = join(base, 'src');
    await writeFile(src, Buffer.alloc(200_000, 1));
    const out = packEntries([
      { name: 'bin', type: 'directory', mode: 0o755 },
      { name: 'bin/big', type: 'file', mode: 0o755, content: { path: src, size: 200_000 } },
      { name: 'bin/sh', type: 'symlink', mode: 0o777, linkname: 'big' },
    ]);
    await extractLayer(out, root);
    assert.equal((await stat(join(root, 'bin/big'))).size, 200_000);
    assert.equal((await stat(join(root, 'bin/big'))).mtime.getTime(), 0);
    assert.equal(await readlink(join(root, 'bin/sh')), 'big');
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});

test('long names and link targets survive (PAX headers)', async () => {
  const { base, root } = await setup();
  try {
    const deep = `${'d'.repeat(90)}/${'e'.repeat(90)}/${'f'.repeat(120)}`;
    const target = `/${'t'.repeat(150)}`;
    await extractLayer(
      packEntries([
        { name: deep, type: 'file', mode: 0o644, content: Buffer.from('deep') },
        { name: 'ln', type: 'symlink', mode: 0o777, linkname: target },
      ]),
      root,
    );
    assert.equal(await readFile(join(root, deep), 'utf8'), 'deep');
    assert.equal(await readlink(join(root, 'ln')), target);
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});

test('small files written in the background: later entries at their path, links and parents see them', async () => {
  const { base, root } = await setup();
  try {
    const entries: Spec[] = [{ name: 'd/', type: 'directory', mode: 0o750, uid: 7, gid: 8 }];
    for (let i = 0; i < 100; i++) entries.push({ name: `d/f${i}`, body: `content ${i}\n`.repeat(i + 1), mode: 0o640, uid: 1000 + i, gid: 2000 + i });
    entries.push(
      { name: 'd/f3', body: 'replaced' },
      { name: 'd/f4', type: 'directory', mode: 0o700 },
      { name: 'd/f4/inner', body: 'inner' },
      { name: 'd/f5.link', type: 'link', linkname: 'd/f5' },
      { name: 'd/f6', type: 'symlink', linkname: 'f7' },
      { name: 'd/.wh.f8' },
    );
    const r = await extract(await makeTar(entries), root);
    assert.equal(await readFile(join(root, 'd/f3'), 'utf8'), 'replaced');
    assert.ok((await lstat(join(root, 'd/f4'))).isDirectory());
    assert.equal(await readFile(join(root, 'd/f4/inner'), 'utf8'), 'inner');
    assert.equal((await stat(join(root, 'd/f5'))).ino, (await stat(join(root, 'd/f5.link'))).ino);
    assert.equal(await readlink(join(root, 'd/f6')), 'f7');
    assert.ok((await lstat(join(root, 'd/f8'))).isCharacterDevice(), 'whiteout replaced the file');
    for (const i of [0, 50, 99]) {
      const st = await stat(join(root, `d/f${i}`));
      assert.equal(await readFile(join(root, `d/f${i}`), 'utf8'), `content ${i}\n`.repeat(i + 1));
      assert.equal(st.mode & 0o7777, 0o640);
      assert.equal(st.uid, 1000 + i);
      assert.equal(st.gid, 2000 + i);
      assert.equal(st.mtimeMs, 1_000_000_000_000);
    }
    // Directory metadata comes after the files inside it were written.
    const d = await stat(join(root, 'd'));
    assert.equal(d.mode & 0o7777, 0o750);
    assert.equal(d.mtimeMs, 1_000_000_000_000);
    assert.ok(r.size > 0);

    // Into a directory that already has content, existing names are still found and replaced.
    const root3 = join(base, 'root3');
    await mkdir(join(root3, 'sub'), { recursive: true });
    await writeFile(join(root3, 'sub/pre'), 'old');
    await extract(await makeTar([{ name: 'sub/pre', body: 'new' }, { name: 'sub/', type: 'directory', mode: 0o711 }]), root3);
    assert.equal(await readFile(join(root3, 'sub/pre'), 'utf8'), 'new');
    assert.equal((await stat(join(root3, 'sub'))).mode & 0o7777, 0o711);

    // A file used as a directory by a later entry is refused as a bad archive.
    const root2 = join(base, 'root2');
    await mkdir(root2);
    const bad = await makeTar([{ name: 'x', body: 'file' }, { name: 'x/y', body: 'under a file' }]);
    await assert.rejects(extract(bad, root2), (err: unknown) => isKind(err, 'InvalidParameter') && /not a directory/.test(String(err)));
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});

test('a reader going away mid-archive ends the pack quietly: no stray error events', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-tar-hangup-'));
  for (let i = 0; i < 200; i++) await writeFile(join(dir, `small-${String(i).padStart(3, '0')}`), 'x'.repeat(100));
  await writeFile(join(dir, 'zz-large'), Buffer.alloc(4 << 20));
  const stray: unknown[] = [];
  const onUncaught = (err: unknown): void => void stray.push(err);
  process.on('uncaughtException', onUncaught);
  try {
    for (const cut of [512, 5000, 30000, 1 << 20]) {
      const s = createTar(dir);
      let got = 0;
      await new Promise<void>((resolve) => {
        s.on('data', (c: Buffer) => {
          got += c.length;
          if (got > cut && !s.destroyed) s.destroy(Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
        });
        s.on('close', () => resolve());
        s.on('error', () => {});
      });
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    process.off('uncaughtException', onUncaught);
    await rm(dir, { recursive: true, force: true });
  }
  assert.deepEqual(stray, []);
});
