import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readdir, readlink, readFile, rm, lstat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageStore, applyChanges, type ImageRecord } from './images.ts';
import { packEntries } from '../adapters/tar/index.ts';
import { bootstrapBusybox } from '../engine/images/bootstrap.ts';
import { isKind } from '../core/errors.ts';

async function withRoot(fn: (root: string) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'berth-images-'));
  try {
    await fn(root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

const tarOf = (files: Record<string, string>) =>
  packEntries(Object.entries(files).map(([name, body]) => ({ name, type: 'file' as const, mode: 0o644, content: Buffer.from(body) })));

const unused = { force: false, usedBy: () => false };

test('bootstrap builds a reproducible busybox image with bin/sh', async () => {
  await withRoot(async (root) => {
    const store = await ImageStore.open({ dataRoot: root });
    const one = await bootstrapBusybox(store);
    const root2 = join(root, 'second');
    await mkdir(root2);
    const other = await ImageStore.open({ dataRoot: root2 });
    const two = await bootstrapBusybox(other);
    assert.equal(one.id, two.id);
    assert.match(one.id, /^sha256:[0-9a-f]{64}$/);
    assert.deepEqual(store.tagsOf(one.id), ['busybox:latest']);
    assert.deepEqual(one.config.config?.Cmd, ['sh']);
    assert.deepEqual(one.config.config?.Env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']);
    assert.equal(one.config.os, 'linux');
    assert.equal(one.config.architecture, process.arch === 'x64' ? 'amd64' : process.arch);
    const [lower] = store.lowerDirs('busybox');
    assert.equal(await readlink(join(lower!, 'bin/sh')), 'busybox');
    assert.equal((await lstat(join(lower!, 'bin/busybox'))).mode & 0o777, 0o755);
    assert.equal((await lstat(join(lower!, 'tmp'))).mode & 0o7777, 0o1777);
    assert.match(await readFile(join(lower!, 'etc/passwd'), 'utf8'), /^root:x:0:0:/);
    assert.ok(one.size > 100_000);
    // Again on the same store: same image, no second layer.
    const again = await bootstrapBusybox(store);
    assert.equal(again.id, one.id);
    assert.equal(store.layers.list().length, 1);
  });
});

test('resolve accepts names, IDs, prefixes and digests', async () => {
  await withRoot(async (root) => {
    const store = await ImageStore.open({ dataRoot: root });
    const img = await store.createImage({ layerTars: [tarOf({ a: 'A' })], config: { config: { Cmd: ['a'] } }, ref: 'busybox' });
    const hex = img.id.slice(7);
    for (const s of ['busybox', 'busybox:latest', 'docker.io/library/busybox', 'docker.io/library/busybox:latest', img.id, hex, hex.slice(0, 12), hex.slice(0, 1), `sha256:${hex.slice(0, 5)}`]) {
      assert.equal(store.resolve(s)?.id, img.id, s);
    }
    for (const s of ['busybox:other', 'nosuch', 'UPPER', '', `sha256:${'0'.repeat(64)}`]) assert.equal(store.resolve(s), undefined, s);
    assert.throws(() => store.get('nosuch'), (e: unknown) => isKind(e, 'NotFound') && (e as Error).message === 'No such image: nosuch');

    // A digest reference resolves through the reference store.
    const digestRef = `localhost:5000/app@sha256:${'d'.repeat(64)}`;
    assert.equal(store.resolve(digestRef), undefined);
    await store.addReference(img.id, digestRef);
    assert.equal(store.resolve(digestRef)?.id, img.id);
    assert.equal(store.resolve(`localhost:5000/app:sometag@sha256:${'d'.repeat(64)}`)?.id, img.id);
    assert.deepEqual(store.digestsOf(img.id), [digestRef]);
    // Identical content gives the same image.
    await store.createImage({ layerTars: [tarOf({ a: 'A' })], config: { config: { Cmd: ['a'] } } });
    assert.equal(store.list().length, 1);
  });
});

test('short ID prefixes that match several images resolve to nothing', async () => {
  await withRoot(async (root) => {
    const store = await ImageStore.open({ dataRoot: root });
    const ids: string[] = [];
    for (let i = 0; i < 17; i++) ids.push((await store.createImage({ layerTars: [], config: { config: { Cmd: [String(i)] } } })).id);
    const first = ids.map((id) => id[7]!);
    const shared = first.find((c, i) => first.indexOf(c) !== i)!;
    assert.equal(store.resolve(shared), undefined);
    for (const id of ids) assert.equal(store.resolve(id.slice(7, 19))?.id, id);
  });
});

test('tag, tagsOf and moving tags', async () => {
  await withRoot(async (root) => {
    const store = await ImageStore.open({ dataRoot: root });
    const events: string[] = [];
    store.on('tag', (id, ref) => events.push(`tag ${id.slice(7, 11)} ${ref}`));
    const a = await store.createImage({ layerTars: [tarOf({ a: 'A' })], config: {}, ref: 'app:1' });
    await store.tag(a.id, 'localhost:5000/team/app:v2');
    await store.tag('app:1', 'user/app');
    assert.deepEqual(new Set(store.tagsOf(a.id)), new Set(['localhost:5000/team/app:v2', 'user/app:latest', 'app:1']));
    assert.equal(events.length, 3);
    await assert.rejects(store.tag(a.id, `app@sha256:${'a'.repeat(64)}`), /digest/);
    await assert.rejects(store.tag('nosuch', 'x'), (e: unknown) => isKind(e, 'NotFound'));
    await assert.rejects(store.tag(a.id, 'Bad Name'), (e: unknown) => isKind(e, 'InvalidParameter'));
    // Moving a tag to another image.
    const b = await store.createImage({ layerTars: [tarOf({ b: 'B' })], config: {} });
    await store.tag(b.id, 'app:1');
    assert.equal(store.resolve('app:1')?.id, b.id);
    assert.deepEqual(store.tagsOf(b.id), ['app:1']);
  });
});

test('rmi: untag only while other tags remain; by ID with several tags needs force', async () => {
  await withRoot(async (root) => {
    const store = await ImageStore.open({ dataRoot: root });
    const seen: string[] = [];
    store.on('untag', (_id, ref) => seen.push(`untag ${ref}`));
    store.on('delete', (id) => seen.push(`delete ${id}`));
    const img = await store.createImage({ layerTars: [tarOf({ a: 'A' })], config: {}, ref: 'busybox' });
    await store.tag(img.id, 'other:1');

    assert.deepEqual(await store.remove('busybox', unused), [{ Untagged: 'busybox:latest' }]);
    assert.equal(store.resolve(img.id)?.id, img.id);
    await store.tag(img.id, 'busybox');

    await assert.rejects(
      store.remove(img.id.slice(7, 19), unused),
      (e: unknown) => isKind(e, 'Conflict') && (e as Error).message === `conflict: unable to delete ${img.id.slice(7, 19)} (must be forced) - image is referenced in multiple repositories`,
    );
    const res = await store.remove(img.id.slice(7, 19), { force: true, usedBy: () => false });
    assert.deepEqual(res, [
      { Untagged: 'busybox:latest' },
      { Untagged: 'other:1' },
      { Deleted: img.id },
      { Deleted: img.config.rootfs.diff_ids[0] },
    ]);
    assert.equal(store.list().length, 0);
    assert.deepEqual(store.layers.list(), []);
    assert.ok(seen.includes(`delete ${img.id}`));
    await assert.rejects(store.remove('busybox', unused), (e: unknown) => isKind(e, 'NotFound') && /No such image: busybox:latest/.test(String(e)));
  });
});

test('rmi: untagging the last tag of a repository drops its digest references too', async () => {
  await withRoot(async (root) => {
    const store = await ImageStore.open({ dataRoot: root });
    const img = await store.createImage({ layerTars: [tarOf({ a: 'A' })], config: {}, ref: 'app:1' });
    const dref = `app@sha256:${'e'.repeat(64)}`;
    await store.addReference(img.id, dref);
    await store.tag(img.id, 'keep:1');
    assert.deepEqual(await store.remove('app:1', unused), [{ Untagged: 'app:1' }, { Untagged: dref }]);
    assert.deepEqual(store.digestsOf(img.id), []);
    assert.deepEqual(store.tagsOf(img.id), ['keep:1']);
  });
});

test('rmi: last tag removes the image; containers block it with Docker wording', async () => {
  await withRoot(async (root) => {
    const store = await ImageStore.open({ dataRoot: root });
    const img = await store.createImage({ layerTars: [tarOf({ a: 'A' })], config: {}, ref: 'busybox' });
    const cid = 'c'.repeat(64);
    const short = img.id.slice(7, 19);
    await assert.rejects(
      store.remove('busybox', { force: false, usedBy: () => ({ containerId: cid, running: false }) }),
      (e: unknown) =>
        isKind(e, 'Conflict') &&
        (e as Error).message === `conflict: unable to remove repository reference "busybox" (must force) - container cccccccccccc is using its referenced image ${short}`,
    );
    await assert.rejects(
      store.remove(img.id, { force: false, usedBy: () => ({ containerId: cid, running: false }) }),
      (e: unknown) => (e as Error).message === `conflict: unable to delete ${short} (must be forced) - image is being used by stopped container cccccccccccc`,
    );
    await assert.rejects(
      store.remove(img.id, { force: true, usedBy: () => ({ containerId: cid, running: true }) }),
      (e: unknown) => (e as Error).message === `conflict: unable to delete ${short} (cannot be forced) - image is being used by running container cccccccccccc`,
    );
    // Forced by name while a container uses it: the tag goes, the image stays.
    assert.deepEqual(await store.remove('busybox', { force: true, usedBy: () => ({ containerId: cid, running: true }) }), [{ Untagged: 'busybox:latest' }]);
    assert.equal(store.list().length, 1);
    // Unused and untagged: by ID it goes, with its layer.
    const res = await store.remove(img.id, unused);
    assert.deepEqual(res, [{ Deleted: img.id }, { Deleted: img.chainIds[0] }]);
  });
});

test('shared layers stay until the last image using them is removed', async () => {
  await withRoot(async (root) => {
    const store = await ImageStore.open({ dataRoot: root });
    const base = () => tarOf({ base: 'shared' });
    const a = await store.createImage({ layerTars: [base(), tarOf({ a: 'A' })], config: {}, ref: 'a' });
    const b = await store.createImage({ layerTars: [base(), tarOf({ b: 'B' })], config: {}, ref: 'b' });
    assert.equal(a.chainIds[0], b.chainIds[0]);
    assert.equal(store.layers.list().length, 3);
    const lowers = store.lowerDirs('a');
    assert.equal(lowers.length, 2);
    assert.equal(await readFile(join(lowers[0]!, 'a'), 'utf8'), 'A');
    assert.equal(await readFile(join(lowers[1]!, 'base'), 'utf8'), 'shared');
    const res = await store.remove('a', unused);
    assert.deepEqual(res, [{ Untagged: 'a:latest' }, { Deleted: a.id }, { Deleted: a.chainIds[1] }]);
    assert.equal(store.layers.has(a.chainIds[0]!), true);
    await store.remove('b', unused);
    assert.deepEqual(store.layers.list(), []);
  });
});

test('reopen after a crash: incomplete layers and orphans are removed, records survive', async () => {
  await withRoot(async (root) => {
    const store = await ImageStore.open({ dataRoot: root });
    const img = await store.createImage({ layerTars: [tarOf({ a: 'A' })], config: {}, ref: 'keep:1' });
    // A layer committed without an image record (crash before the record was written).
    const orphan = await store.layers.register(tarOf({ o: 'O' }));
    // A layer directory without metadata (crash before layer.json was written).
    const half = join(root, 'layers', 'e'.repeat(64));
    await mkdir(join(half, 'diff'), { recursive: true });

    const reopened = await ImageStore.open({ dataRoot: root });
    const got: ImageRecord | undefined = reopened.resolve('keep:1');
    assert.equal(got?.id, img.id);
    assert.deepEqual(got?.config, img.config);
    assert.equal(reopened.layers.has(orphan.chainId), false);
    assert.deepEqual((await readdir(join(root, 'layers'))).sort(), ['l', img.chainIds[0]!.slice(7)].sort());
    assert.deepEqual(reopened.lowerDirs('keep:1'), store.lowerDirs('keep:1'));
  });
});

test('a failed creation leaves no layers and no record', async () => {
  await withRoot(async (root) => {
    const store = await ImageStore.open({ dataRoot: root });
    const good = tarOf({ a: 'A' });
    const evil = packEntries([{ name: '../../x', type: 'file', mode: 0o644, content: Buffer.from('x') }]);
    await assert.rejects(store.createImage({ layerTars: [good, evil], config: {}, ref: 'bad' }), /breakout/);
    assert.deepEqual(store.list(), []);
    assert.deepEqual(store.layers.list(), []);
    assert.equal(store.resolve('bad'), undefined);
  });
});

test('importRootfs applies changes and reports inspect and summary views', async () => {
  await withRoot(async (root) => {
    const store = await ImageStore.open({ dataRoot: root });
    const events: string[] = [];
    store.on('import', (id, ref) => events.push(`${id} ${ref}`));
    const img = await store.importRootfs(tarOf({ 'hello.txt': 'hi' }), {
      ref: 'imported:v1',
      changes: ['CMD ["/bin/sh","-c","echo hi"]', 'ENV A=1 B="two words"', 'WORKDIR /app', 'EXPOSE 80 53/udp', 'LABEL k=v', 'USER nobody', 'VOLUME /data', 'STOPSIGNAL SIGTERM', 'ENTRYPOINT echo'],
    });
    assert.deepEqual(events, [`${img.id} imported:v1`]);
    const c = img.config.config!;
    assert.deepEqual(c.Cmd, ['/bin/sh', '-c', 'echo hi']);
    assert.deepEqual(c.Entrypoint, ['/bin/sh', '-c', 'echo']);
    assert.deepEqual(c.Env, ['A=1', 'B=two words']);
    assert.equal(c.WorkingDir, '/app');
    assert.deepEqual(c.ExposedPorts, { '80/tcp': {}, '53/udp': {} });
    assert.deepEqual(c.Labels, { k: 'v' });
    assert.deepEqual(c.Volumes, { '/data': {} });
    assert.equal(img.config.comment, 'Imported from -');

    const inspect = store.inspect('imported:v1') as Record<string, unknown>;
    assert.equal(inspect.Id, img.id);
    assert.deepEqual(inspect.RepoTags, ['imported:v1']);
    assert.deepEqual(inspect.RepoDigests, []);
    assert.equal(inspect.Comment, 'Imported from -');
    assert.equal(inspect.Size, 2);
    assert.deepEqual(inspect.RootFS, { Type: 'layers', Layers: img.config.rootfs.diff_ids });
    assert.equal((inspect.GraphDriver as { Name: string }).Name, 'overlay2');
    assert.equal((inspect.Config as { User: string }).User, 'nobody');
    assert.notEqual((inspect.Metadata as { LastTagTime: string }).LastTagTime, '0001-01-01T00:00:00Z');

    const summary = store.summary(img.id) as Record<string, unknown>;
    assert.equal(summary.Created, Math.floor(Date.parse(img.config.created!) / 1000));
    assert.equal(summary.SharedSize, -1);
    assert.equal(summary.Containers, -1);
    assert.deepEqual(summary.Labels, { k: 'v' });

    await assert.rejects(store.importRootfs(tarOf({ x: 'x' }), { changes: ['RUN rm -rf /'] }), /RUN is not a valid change command/);
  });
});

test('applyChanges parses Dockerfile forms', () => {
  const c = applyChanges({ Env: ['A=0'], WorkingDir: '/srv' }, ['ENV A 1 2', 'WORKDIR sub', 'CMD echo "x y"', 'VOLUME ["/a", "/b"]', 'EXPOSE 8000-8001/tcp']);
  assert.deepEqual(c.Env, ['A=1 2']);
  assert.equal(c.WorkingDir, '/srv/sub');
  assert.deepEqual(c.Cmd, ['/bin/sh', '-c', 'echo "x y"']);
  assert.deepEqual(c.Volumes, { '/a': {}, '/b': {} });
  assert.deepEqual(c.ExposedPorts, { '8000/tcp': {}, '8001/tcp': {} });
  assert.throws(() => applyChanges({}, ['EXPOSE 99999']), /invalid containerPort/);
});

test('concurrent tagging is serialized and the references file stays whole', async () => {
  await withRoot(async (root) => {
    const store = await ImageStore.open({ dataRoot: root });
    const img = await store.createImage({ layerTars: [tarOf({ a: 'A' })], config: {} });
    await Promise.all(Array.from({ length: 30 }, (_, i) => store.tag(img.id, `t:${i}`)));
    assert.equal(store.tagsOf(img.id).length, 30);
    const reopened = await ImageStore.open({ dataRoot: root });
    assert.equal(reopened.tagsOf(img.id).length, 30);
  });
});
