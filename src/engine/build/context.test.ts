import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { packEntries } from '../../adapters/tar/index.ts';
import { BuildContext } from './context.ts';

async function bytes(s: NodeJS.ReadableStream): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of s) out.push(c as Buffer);
  return Buffer.concat(out);
}

test('a build context is indexed in place: paths resolve inside it, symlinks never leave it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-ctx-'));
  try {
    const long = `deep/${'x'.repeat(150)}/file.txt`;
    const archive = await bytes(
      packEntries([
        { name: 'Dockerfile', type: 'file', mode: 0o644, content: Buffer.from('FROM busybox\n') },
        { name: 'src/a.txt', type: 'file', mode: 0o640, uid: 7, content: Buffer.from('alpha') },
        { name: long, type: 'file', mode: 0o644, content: Buffer.from('long name') },
        { name: 'evil', type: 'symlink', mode: 0o777, linkname: '/etc' },
        { name: 'up', type: 'symlink', mode: 0o777, linkname: '../../../src' },
        { name: 'hard', type: 'link', mode: 0o644, linkname: 'src/a.txt' },
        { name: 'dir/../flat.txt', type: 'file', mode: 0o644, content: Buffer.from('cleaned') },
      ]),
    );
    const ctx = await BuildContext.load(Readable.from([gzipSync(archive)]), join(dir, 'ctx.tar'));
    assert.equal(ctx.readSmall('Dockerfile', 100), 'FROM busybox\n');
    assert.equal(ctx.readSmall(long, 100), 'long name');
    assert.equal(ctx.readSmall('/up/a.txt', 100), 'alpha', 'a relative link climbing out stops at the root');
    assert.equal(ctx.resolve('evil/passwd'), undefined, 'an absolute link resolves inside the context');
    assert.equal(ctx.readSmall('hard', 100), 'alpha');
    assert.equal(ctx.readSmall('flat.txt', 100), 'cleaned');
    assert.equal(ctx.kind('src'), 'dir');
    assert.equal(ctx.kind('deep'), 'dir', 'directories implied by members exist');
    assert.deepEqual(ctx.list('/'), ['Dockerfile', 'deep', 'evil', 'flat.txt', 'hard', 'src', 'up']);
    const { isDir, stream } = ctx.pack('src');
    assert.equal(isDir, true);
    const names: string[] = [];
    const ex = tar.extract();
    const done = (async () => {
      for await (const e of ex) {
        names.push(`${e.header.name}:${e.header.uid}:${(e.header.mode ?? 0).toString(8)}`);
        e.resume();
      }
    })();
    stream.pipe(ex);
    await done;
    assert.deepEqual(names, ['src/:0:755', 'src/a.txt:7:640']);
    assert.throws(() => ctx.readSmall('missing', 10), /not found/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
