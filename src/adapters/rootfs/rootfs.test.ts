// In-root resolution and the archive both ways, against hostile trees: symlinks to `/`, to `..`
// chains and to absolute host paths, loops, and a directory swapped for a symlink between calls.
// A `host` directory beside the root stands for the host: nothing may read or change it.
// Ownership checks need root (CI is root).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile, readFile, readdir, lstat, readlink, symlink, rm, rename } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import type { Header } from 'tar-stream';
import { RootFs, statPath, packPath, extractInto, cleanEntryName, goFileMode, goTime, normalizeContainerPath } from './index.ts';
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
    await new Promise<void>((resolve, reject) => pack.entry({ mode: 0o644, mtime: new Date(1_000_000_000_000), ...header }, body ?? '', (err) => (err ? reject(err) : resolve())));
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

async function listTar(stream: Readable): Promise<Array<{ name: string; type: string; linkname: string | null; body: string }>> {
  const ex = tar.extract();
  const out: Array<{ name: string; type: string; linkname: string | null; body: string }> = [];
  stream.pipe(ex);
  for await (const e of ex) {
    const chunks: Buffer[] = [];
    for await (const c of e) chunks.push(Buffer.from(c as Uint8Array));
    out.push({ name: e.header.name, type: e.header.type ?? '', linkname: e.header.linkname ?? null, body: Buffer.concat(chunks).toString() });
  }
  return out;
}

/** A root with /data/x, /etc/passwd and hostile links, and a `host` sibling holding a secret. */
async function setup(): Promise<{ base: string; root: string; host: string; rfs: RootFs; done: () => Promise<void> }> {
  const base = await mkdtemp(join(tmpdir(), 'berth-rootfs-'));
  const root = join(base, 'root');
  const host = join(base, 'host');
  await mkdir(join(root, 'data'), { recursive: true });
  await mkdir(join(root, 'etc'), { recursive: true });
  await mkdir(host);
  await writeFile(join(host, 'secret'), 'HOST SECRET\n');
  await writeFile(join(root, 'data', 'x'), 'inside\n');
  await writeFile(join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n');
  await symlink('/', join(root, 'evil'));
  await symlink('../../../../..', join(root, 'up'));
  await symlink(join(host, 'secret'), join(root, 'abs'));
  await symlink('loop2', join(root, 'loop1'));
  await symlink('loop1', join(root, 'loop2'));
  const rfs = RootFs.open(root);
  return { base, root, host, rfs, done: async () => { rfs.close(); await rm(base, { recursive: true, force: true }); } };
}

test('paths clean the way Docker names them', () => {
  assert.equal(normalizeContainerPath('data/x'), '/data/x');
  assert.equal(normalizeContainerPath('/data/../data/x/'), '/data/x/');
  assert.equal(normalizeContainerPath('/data/.'), '/data/.');
  assert.equal(normalizeContainerPath('/../..'), '/');
  assert.deepEqual(cleanEntryName('/../victim/x'), ['victim', 'x']);
  assert.deepEqual(cleanEntryName('./a/../b'), ['b']);
  assert.throws(() => cleanEntryName('../victim/x'), /breakout/);
  assert.throws(() => cleanEntryName('a/../../x'), /breakout/);
});

test('Go FileMode bits and times', () => {
  assert.equal(goFileMode(0o040755), 2 ** 31 + 0o755);
  assert.equal(goFileMode(0o120777), 2 ** 27 + 0o777);
  assert.equal(goFileMode(0o100644 | 0o4000), 2 ** 23 + 0o644);
  assert.equal(goFileMode(0o020666), 2 ** 26 + 2 ** 21 + 0o666);
  assert.equal(goTime(1_700_000_000_123_400_000n), '2023-11-14T22:13:20.1234Z');
  assert.equal(goTime(1_700_000_000_000_000_000n), '2023-11-14T22:13:20Z');
});

test('symlinks resolve inside the root: -> /, -> ../.., absolute host paths', async () => {
  const s = await setup();
  try {
    const a = s.rfs.resolve('/evil/etc/passwd');
    assert.equal(a.path, '/etc/passwd');
    a.close();
    const b = s.rfs.resolve('/up/up/data/x');
    assert.equal(b.path, '/data/x');
    b.close();
    // `abs` points at the host's secret: inside the root that path does not exist.
    assert.throws(() => s.rfs.resolve('/abs', { followFinal: true }), (e) => isKind(e, 'NotFound'));
    assert.equal(s.rfs.readFile('/abs', 1 << 20), undefined);
    assert.equal(s.rfs.readFile('/evil/etc/passwd', 1 << 20)?.toString().split('\n')[0], 'root:x:0:0:root:/root:/bin/sh');
    // Not following the last component gives the link itself.
    const c = s.rfs.resolve('/abs');
    assert.ok(c.stat?.isSymbolicLink());
    c.close();
  } finally {
    await s.done();
  }
});

test('symlink loops end with an error, not a hang', async () => {
  const s = await setup();
  try {
    assert.throws(() => s.rfs.resolve('/loop1', { followFinal: true }), /too many levels of symbolic links/);
    assert.throws(() => s.rfs.resolve('/loop1/x'), /too many levels/);
  } finally {
    await s.done();
  }
});

test('a directory swapped for a symlink to / between calls still resolves inside the root', async () => {
  const s = await setup();
  try {
    await writeFile(join(s.root, 'x'), 'root x\n');
    assert.equal(s.rfs.readFile('/data/x', 100)?.toString(), 'inside\n');
    await rename(join(s.root, 'data'), join(s.root, 'data.old'));
    await symlink('/', join(s.root, 'data'));
    assert.equal(s.rfs.readFile('/data/x', 100)?.toString(), 'root x\n');
    await rm(join(s.root, 'data'));
    await symlink(s.host, join(s.root, 'data'));
    assert.equal(s.rfs.readFile('/data/secret', 100), undefined);
  } finally {
    await s.done();
  }
});

test('a held directory stays the same directory when its name is swapped', async () => {
  const s = await setup();
  try {
    const r = s.rfs.resolve('/data');
    await rename(join(s.root, 'data'), join(s.root, 'moved'));
    await symlink(s.host, join(s.root, 'data'));
    const names = await readdir(`/proc/self/fd/${r.fd}`);
    assert.deepEqual(names, ['x']);
    r.close();
  } finally {
    await s.done();
  }
});

test('stat: name, size, Go mode and the in-root link target', async () => {
  const s = await setup();
  try {
    const f = statPath(s.rfs, '/data/x');
    assert.equal(f.name, 'x');
    assert.equal(f.size, 7);
    assert.equal(f.mode, 0o644);
    assert.equal(f.linkTarget, '');
    const d = statPath(s.rfs, '/data/');
    assert.equal(d.name, 'data');
    assert.equal(d.mode, 2 ** 31 + 0o755);
    const l = statPath(s.rfs, '/evil');
    assert.equal(l.mode & 2 ** 27, 2 ** 27);
    assert.equal(l.linkTarget, '/');
    const e = statPath(s.rfs, '/evil/');
    assert.equal(e.mode, goFileMode((await lstat(s.root)).mode));
    assert.throws(() => statPath(s.rfs, '/nope'), (err) => isKind(err, 'NotFound'));
    assert.throws(() => statPath(s.rfs, '/data/x/'), (err) => isKind(err, 'NotFound'));
  } finally {
    await s.done();
  }
});

test('pack: Docker names, symlinks archived as links and never followed', async () => {
  const s = await setup();
  try {
    await symlink('/', join(s.root, 'data', 'evil'));
    await symlink(join(s.host, 'secret'), join(s.root, 'data', 'abs'));
    const dir = await listTar(packPath(s.rfs, '/data').stream);
    assert.deepEqual(dir.map((e) => `${e.name} ${e.type}`), ['data/ directory', 'data/abs symlink', 'data/evil symlink', 'data/x file']);
    assert.ok(!dir.some((e) => e.body.includes('HOST SECRET')));
    const contents = await listTar(packPath(s.rfs, '/data/.').stream);
    assert.deepEqual(contents.map((e) => e.name), ['./', './abs', './evil', './x']);
    const file = await listTar(packPath(s.rfs, '/data/x').stream);
    assert.deepEqual(file.map((e) => [e.name, e.body]), [['x', 'inside\n']]);
    const link = await listTar(packPath(s.rfs, '/abs').stream);
    assert.deepEqual(link.map((e) => [e.name, e.type]), [['abs', 'symlink']]);
    // Through the trailing slash, evil/ is the root itself, still walked without following links.
    const all = await listTar(packPath(s.rfs, '/evil/').stream);
    assert.ok(all.some((e) => e.name === 'evil/data/x'));
    assert.ok(!all.some((e) => e.body.includes('HOST SECRET')));
  } finally {
    await s.done();
  }
});

async function extract(s: { rfs: RootFs }, dest: string, entries: Spec[] | Buffer, opts = {}): Promise<void> {
  const buf = Buffer.isBuffer(entries) ? entries : await makeTar(entries);
  await extractInto(s.rfs, dest, Readable.from([buf]), opts);
}

test('extract: files, dirs, links, ownership, and gzip', async () => {
  const s = await setup();
  try {
    await extract(s, '/data', gzipSync(await makeTar([
      { name: 'd/', type: 'directory', mode: 0o750, uid: 1000, gid: 1000 },
      { name: 'd/f', body: 'hello', mode: 0o640, uid: 1000, gid: 1001 },
      { name: 'd/l', type: 'symlink', linkname: 'f' },
      { name: 'd/h', type: 'link', linkname: 'd/f' },
    ])));
    assert.equal(await readFile(join(s.root, 'data/d/f'), 'utf8'), 'hello');
    const st = await lstat(join(s.root, 'data/d/f'));
    assert.equal(st.mode & 0o777, 0o640);
    if (process.getuid?.() === 0) assert.deepEqual([st.uid, st.gid], [1000, 1001]);
    assert.equal((await lstat(join(s.root, 'data/d'))).mode & 0o777, 0o750);
    assert.equal(await readlink(join(s.root, 'data/d/l')), 'f');
    assert.equal((await lstat(join(s.root, 'data/d/h'))).ino, st.ino);
    await extract(s, '/data', [{ name: 'd/f', body: 'again', uid: 5, gid: 5 }], { chown: { uid: 0, gid: 0 } });
    assert.equal(await readFile(join(s.root, 'data/d/f'), 'utf8'), 'again');
    if (process.getuid?.() === 0) assert.equal((await lstat(join(s.root, 'data/d/f'))).uid, 0);
  } finally {
    await s.done();
  }
});

test('extract: escapes are refused or kept inside the root (cases 10-12)', async () => {
  const s = await setup();
  try {
    await assert.rejects(extract(s, '/data', [{ name: '../victim/x', body: 'bad' }]), /breakout/);
    await extract(s, '/data', [{ name: '/../victim/x', body: 'in' }]);
    assert.equal(await readFile(join(s.root, 'data/victim/x'), 'utf8'), 'in');
    // A symlink to / in the archive, then a file through it: lands in the container's root.
    await extract(s, '/data', [{ name: 'ev', type: 'symlink', linkname: '/' }, { name: 'ev/planted', body: 'p' }]);
    assert.equal(await readFile(join(s.root, 'planted'), 'utf8'), 'p');
    // Existing links in the container: through `evil` (-> /) and `abs` (-> a host path).
    await extract(s, '/evil/etc', [{ name: 'x', body: 'through evil' }]);
    assert.equal(await readFile(join(s.root, 'etc/x'), 'utf8'), 'through evil');
    await assert.rejects(extract(s, '/abs', [{ name: 'x', body: 'bad' }]), (e) => isKind(e, 'NotFound'));
    // Relative symlinks that climb out of the destination, as Docker refuses them.
    await assert.rejects(extract(s, '/data', [{ name: 'out', type: 'symlink', linkname: '../../etc' }]), /breakout/);
    // Hardlinks: out of the destination, through a symlink to the host, to a directory.
    await assert.rejects(extract(s, '/data', [{ name: 'h', type: 'link', linkname: '../victim' }]), /breakout/);
    await assert.rejects(extract(s, '/', [{ name: 'h', type: 'link', linkname: 'abs/secret' }]), (e) => isKind(e, 'NotFound'));
    await assert.rejects(extract(s, '/', [{ name: 'h', type: 'link', linkname: 'data' }]), /points to a directory/);
    // A planted symlink at the final component is replaced, never written through.
    await symlink(join(s.host, 'secret'), join(s.root, 'data', 'trap'));
    await extract(s, '/data', [{ name: 'trap', body: 'replaced' }]);
    assert.equal(await readFile(join(s.root, 'data/trap'), 'utf8'), 'replaced');
    assert.equal(await readFile(join(s.host, 'secret'), 'utf8'), 'HOST SECRET\n');
    assert.deepEqual(await readdir(s.host), ['secret']);
    assert.ok(!existsSync(join(s.base, 'victim')));
  } finally {
    await s.done();
  }
});

test('extract: destination must be a directory; xz and bzip2 are refused (case 30)', async () => {
  const s = await setup();
  try {
    await assert.rejects(extract(s, '/data/x', []), /extraction point is not a directory/);
    await assert.rejects(extract(s, '/nope', []), (e) => isKind(e, 'NotFound'));
    const xz = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1, 2, 3, 4]);
    await assert.rejects(extract(s, '/data', xz), (e) => isKind(e, 'InvalidParameter') && /xz/.test((e as Error).message));
    await assert.rejects(extract(s, '/data', Buffer.from('BZh91AY&SY')), (e) => isKind(e, 'InvalidParameter'));
    await assert.rejects(extract(s, '/data', [{ name: 'x/', type: 'directory' }], { noOverwriteDirNonDir: true }), /cannot overwrite non-directory/);
  } finally {
    await s.done();
  }
});
