import { test } from 'node:test';
import assert from 'node:assert/strict';
import { propagationIn } from './index.ts';

const MOUNTINFO = [
  '22 1 0:20 / / rw,relatime - ext4 /dev/vda1 rw',
  '30 22 0:25 / /srv rw,relatime shared:5 - tmpfs tmpfs rw',
  '31 30 0:26 / /srv/inner rw,relatime master:5 - tmpfs tmpfs rw',
  '32 22 0:27 / /srv2 rw,relatime - tmpfs tmpfs rw',
  '33 22 0:28 / /with\\040space rw shared:9 master:3 - tmpfs tmpfs rw',
  '34 32 0:29 / /srv2 rw shared:12 - tmpfs tmpfs rw',
].join('\n');

test('propagationOf: the deepest mount holding the path, the top one of a stack', () => {
  assert.deepEqual(propagationIn(MOUNTINFO, '/home/x'), { mountPoint: '/', shared: false, slave: false });
  assert.deepEqual(propagationIn(MOUNTINFO, '/srv/data'), { mountPoint: '/srv', shared: true, slave: false });
  assert.deepEqual(propagationIn(MOUNTINFO, '/srv/inner/a/b'), { mountPoint: '/srv/inner', shared: false, slave: true });
  assert.deepEqual(propagationIn(MOUNTINFO, '/srvx'), { mountPoint: '/', shared: false, slave: false });
  assert.deepEqual(propagationIn(MOUNTINFO, '/with space/f'), { mountPoint: '/with space', shared: true, slave: true });
  assert.deepEqual(propagationIn(MOUNTINFO, '/srv2'), { mountPoint: '/srv2', shared: true, slave: false });
});
