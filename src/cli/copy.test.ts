import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { splitCpArg, splitPathDirEntry, planCopy, rebaseArchive, rebaseNameOf, humanSize } from './copy.ts';

test('which argument names a container', () => {
  assert.deepEqual(splitCpArg('c1:/etc/hosts'), { container: 'c1', path: '/etc/hosts' });
  assert.deepEqual(splitCpArg('c1:'), { container: 'c1', path: '' });
  assert.deepEqual(splitCpArg('/abs:path'), { path: '/abs:path' });
  assert.deepEqual(splitCpArg('./rel:path'), { path: './rel:path' });
  assert.deepEqual(splitCpArg('plain'), { path: 'plain' });
  assert.deepEqual(splitCpArg('-'), { path: '-' });
});

test('SplitPathDirEntry keeps `.` as the base of P/.', () => {
  assert.deepEqual(splitPathDirEntry('/a/b'), { dir: '/a', base: 'b' });
  assert.deepEqual(splitPathDirEntry('/a/b/'), { dir: '/a', base: 'b' });
  assert.deepEqual(splitPathDirEntry('/a/b/.'), { dir: '/a/b', base: '.' });
  assert.deepEqual(splitPathDirEntry('/a'), { dir: '/', base: 'a' });
});

test('where a copy lands, as docker plans it', () => {
  const file = { path: '/src/f', exists: true, isDir: false };
  const dir = { path: '/src/d', exists: true, isDir: true };
  assert.deepEqual(planCopy(file, { path: '/dst', exists: true, isDir: true }), { dir: '/dst' });
  assert.deepEqual(planCopy(file, { path: '/dst/new', exists: false, isDir: false }), { dir: '/dst', rebase: { from: 'f', to: 'new' } });
  assert.deepEqual(planCopy(file, { path: '/dst/old', exists: true, isDir: false }), { dir: '/dst', rebase: { from: 'f', to: 'old' } });
  assert.deepEqual(planCopy(dir, { path: '/dst/new', exists: false, isDir: false }), { dir: '/dst', rebase: { from: 'd', to: 'new' } });
  assert.deepEqual(planCopy({ path: '/src/d/.', exists: true, isDir: true }, { path: '/dst/new', exists: false, isDir: false }), { dir: '/dst', rebase: { from: '.', to: 'new' } });
  assert.throws(() => planCopy(dir, { path: '/dst/file', exists: true, isDir: false }), /cannot copy directory/);
  assert.throws(() => planCopy(file, { path: '/dst/new/', exists: false, isDir: false }), /no such directory/);
  assert.deepEqual(rebaseNameOf('/data/link', '/data/one'), { path: '/data/one', rebaseName: 'link' });
  assert.deepEqual(rebaseNameOf('/data/link/.', '/target'), { path: '/target/.', rebaseName: '' });
});

test('rebasing renames the top entry and what is under it, hardlinks too', async () => {
  const pack = tar.pack();
  pack.entry({ name: 'd/', type: 'directory' });
  pack.entry({ name: 'd/f' }, 'x');
  pack.entry({ name: 'd/h', type: 'link', linkname: 'd/f' });
  pack.entry({ name: 'dd' }, 'y');
  pack.finalize();
  const out = tar.extract();
  rebaseArchive(Readable.from(pack), 'd', 'new').pipe(out);
  const names: string[] = [];
  for await (const e of out) {
    names.push(e.header.type === 'link' ? `${e.header.name}=>${e.header.linkname}` : e.header.name);
    e.resume();
  }
  assert.deepEqual(names, ['new/', 'new/f', 'new/h=>new/f', 'dd']);
});

test('sizes as docker prints them', () => {
  assert.equal(humanSize(6), '6B');
  assert.equal(humanSize(2048), '2.048kB');
  assert.equal(humanSize(1_500_000), '1.5MB');
});
