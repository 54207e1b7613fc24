// The system calls berth makes itself, on the real kernel (root): network namespaces made and
// removed as `ip netns` does, with the daemon's own thread back in its namespace; tmpfs and
// overlay mounts and their removal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { syscallsAvailable, sysCreateNetns, sysDeleteNetns } from '../../src/adapters/syscalls/index.ts';
import { isMounted, mountOverlay, mountTmpfs, unmount } from '../../src/adapters/mount/index.ts';

const skip = process.getuid?.() !== 0 ? 'needs root' : !syscallsAvailable() ? 'koffi cannot be loaded here' : false;

test('a network namespace: made at a path with loopback up, the thread back home, then removed', { skip }, () => {
  const dir = mkdtempSync('/tmp/berth-syscalls-');
  try {
    const path = join(dir, 'ns');
    const own = readlinkSync('/proc/thread-self/ns/net');
    sysCreateNetns(path);
    assert.equal(readlinkSync('/proc/thread-self/ns/net'), own, 'the calling thread is back in its own namespace');
    const inside = execFileSync('nsenter', [`--net=${path}`, 'readlink', '/proc/self/ns/net'], { encoding: 'utf8' }).trim();
    assert.notEqual(inside, own, 'the path holds another namespace');
    const lo = execFileSync('nsenter', [`--net=${path}`, 'ip', '-o', 'link', 'show', 'lo'], { encoding: 'utf8' });
    assert.match(lo, /<LOOPBACK,UP/);
    // A child started afterwards is in the daemon's namespace, not the new one.
    assert.equal(execFileSync('readlink', ['/proc/self/ns/net'], { encoding: 'utf8' }).trim(), own);
    assert.throws(() => sysCreateNetns(path), (err: NodeJS.ErrnoException) => err.code === 'EEXIST');
    assert.ok(existsSync(path), 'an existing namespace file is left alone');
    sysDeleteNetns(path);
    assert.ok(!existsSync(path));
    assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(path));
    sysDeleteNetns(path); // gone already: nothing to do
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tmpfs and overlay mounts by system call, and their removal', { skip }, async () => {
  const dir = mkdtempSync('/tmp/berth-syscalls-');
  const cleanups: Array<() => Promise<void>> = [];
  try {
    const t = join(dir, 't');
    mkdirSync(t);
    await mountTmpfs(t, ['nosuid', 'nodev', 'noexec', 'mode=1777', 'size=1m']);
    cleanups.push(() => unmount(t));
    assert.ok(await isMounted(t));
    const line = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.split(' ')[4] === t)!;
    assert.match(line, /nosuid,nodev,noexec/);
    assert.match(line, / - tmpfs tmpfs rw,size=1024k/);
    await unmount(t);
    assert.ok(!(await isMounted(t)));
    await unmount(t); // not mounted: fine

    for (const d of ['lower', 'upper', 'work', 'merged']) mkdirSync(join(dir, d));
    writeFileSync(join(dir, 'lower', 'a'), 'from below');
    cleanups.push(() => unmount(join(dir, 'merged')));
    await mountOverlay({ lowerDirs: [join(dir, 'lower')], upper: join(dir, 'upper'), work: join(dir, 'work'), target: join(dir, 'merged') });
    assert.equal(readFileSync(join(dir, 'merged', 'a'), 'utf8'), 'from below');
    writeFileSync(join(dir, 'merged', 'b'), 'written');
    assert.equal(readFileSync(join(dir, 'upper', 'b'), 'utf8'), 'written');
    await unmount(join(dir, 'merged'));
    assert.ok(!existsSync(join(dir, 'merged', 'a')));

    // --rm containers: a volatile overlay (never synced); a busy one is detached lazily.
    await mountOverlay({ lowerDirs: [join(dir, 'lower')], upper: join(dir, 'upper'), work: join(dir, 'work'), target: join(dir, 'merged'), volatile: true });
    const vline = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.split(' ')[4] === join(dir, 'merged'))!;
    assert.match(vline, /volatile/);
    const busy = spawn('sleep', ['30'], { cwd: join(dir, 'merged'), stdio: 'ignore' });
    try {
      await unmount(join(dir, 'merged'));
      assert.ok(!(await isMounted(join(dir, 'merged'))), 'a busy mount is detached');
    } finally {
      busy.kill('SIGKILL');
    }
    await assert.rejects(mountTmpfs(join(dir, 'missing'), []), /mount point does not exist/);
  } finally {
    for (const c of cleanups) await c().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
});
