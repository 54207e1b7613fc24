import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_RDONLY, splitOptions, syscallsAvailable, x32AbiAvailable } from './index.ts';

test('mount options: flags for mount(2), the rest as the file system data', () => {
  assert.deepEqual(splitOptions(['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k']), { flags: MS_NOSUID | MS_NOEXEC | MS_NODEV, data: 'mode=1777,size=65536k' });
  assert.deepEqual(splitOptions(['ro', 'lowerdir=/a:/b']), { flags: MS_RDONLY, data: 'lowerdir=/a:/b' });
  assert.deepEqual(splitOptions(['ro', 'rw', 'nosuid', 'suid', '']), { flags: 0, data: '' });
  assert.deepEqual(splitOptions([]), { flags: 0, data: '' });
});

test('mount options only mount(8) understands leave the mount to it', () => {
  for (const o of ['bind', 'rbind', 'noatime', 'rprivate', 'x-systemd.automount', 'nofail', 'context=system_u:object_r:tmp_t:s0']) {
    assert.equal(splitOptions(['nosuid', o]), undefined, o);
  }
});

test('the x32 probe answers as the kernel is built: no x32 system call table, no x32 ABI', { skip: process.arch !== 'x64' || !syscallsAvailable() }, () => {
  const answer = x32AbiAvailable();
  const symbols = readFileSync('/proc/kallsyms', 'utf8');
  // Kernels with the ABI compiled in have x32_sys_call (6.9+) or x32_sys_call_table.
  if (!/\bx32_sys_call(_table)?\b/.test(symbols)) assert.equal(answer, false);
  else assert.notEqual(answer, undefined);
});
