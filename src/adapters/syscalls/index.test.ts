import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_RDONLY, splitOptions } from './index.ts';

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
