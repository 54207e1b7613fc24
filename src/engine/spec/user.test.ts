import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile, symlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isKind } from '../../core/errors.ts';
import { parseGroup, parsePasswd, parseUserSpec, resolveUser } from './user.ts';

const PASSWD = `root:x:0:0:root:/root:/bin/sh
# a comment
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin

www:x:33:33:www:/var/www:/bin/sh
app:x:1000:1000::/home/app:/bin/sh
`;
const GROUP = `root:x:0:
daemon:x:1:
www:x:33:
app:x:1000:
audio:x:29:app,www
video:x:44:app
staff:x:50:
`;

let dir: string;
let rootfs: string;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'berth-user-'));
  rootfs = path.join(dir, 'rootfs');
  await mkdir(path.join(rootfs, 'etc'), { recursive: true });
  await writeFile(path.join(rootfs, 'etc/passwd'), PASSWD);
  await writeFile(path.join(rootfs, 'etc/group'), GROUP);
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('parseUserSpec splits user and group', () => {
  assert.deepEqual(parseUserSpec(''), { user: '' });
  assert.deepEqual(parseUserSpec('app'), { user: 'app' });
  assert.deepEqual(parseUserSpec('1000:44'), { user: '1000', group: '44' });
  assert.deepEqual(parseUserSpec('app:video'), { user: 'app', group: 'video' });
  assert.deepEqual(parseUserSpec('app:'), { user: 'app' });
});

test('passwd and group parsing skips blanks and comments', () => {
  assert.deepEqual(parsePasswd(PASSWD).map((p) => p.name), ['root', 'daemon', 'www', 'app']);
  assert.deepEqual(parsePasswd(PASSWD)[3], { name: 'app', uid: 1000, gid: 1000, home: '/home/app' });
  assert.deepEqual(parseGroup(GROUP)[4], { name: 'audio', gid: 29, members: ['app', 'www'] });
});

test("'' is root", async () => {
  assert.deepEqual(await resolveUser(rootfs, ''), { uid: 0, gid: 0, additionalGids: [0], home: '/root' });
});

test('a name takes uid, gid and home from passwd and supplementary groups from membership', async () => {
  assert.deepEqual(await resolveUser(rootfs, 'app'), { uid: 1000, gid: 1000, additionalGids: [1000, 29, 44], home: '/home/app' });
});

test('numeric uid with and without a passwd entry', async () => {
  assert.deepEqual(await resolveUser(rootfs, '33'), { uid: 33, gid: 33, additionalGids: [33, 29], home: '/var/www' });
  assert.deepEqual(await resolveUser(rootfs, '4242'), { uid: 4242, gid: 0, additionalGids: [0], home: '/' });
});

test('explicit groups by name or number replace the primary group and skip membership', async () => {
  assert.deepEqual(await resolveUser(rootfs, 'app:staff'), { uid: 1000, gid: 50, additionalGids: [50], home: '/home/app' });
  assert.deepEqual(await resolveUser(rootfs, '1000:7777'), { uid: 1000, gid: 7777, additionalGids: [7777], home: '/home/app' });
  assert.deepEqual(await resolveUser(rootfs, '5:44'), { uid: 5, gid: 44, additionalGids: [44], home: '/' });
});

test('groupAdd appends groups by name or gid, without duplicates', async () => {
  const u = await resolveUser(rootfs, 'app', ['staff', '29', '9999']);
  assert.deepEqual(u.additionalGids, [1000, 29, 44, 50, 9999]);
});

test('missing user, group or added group are invalid parameters with Docker wording', async () => {
  await assert.rejects(
    resolveUser(rootfs, 'xyz'),
    (err: unknown) => isKind(err, 'InvalidParameter') && (err as Error).message === 'unable to find user xyz: no matching entries in passwd file',
  );
  await assert.rejects(resolveUser(rootfs, 'app:nogroup'), /unable to find group nogroup: no matching entries in group file/);
  await assert.rejects(resolveUser(rootfs, 'app', ['nogroup']), /Unable to find group nogroup/);
  await assert.rejects(resolveUser(rootfs, '4294967296'), /uids and gids must be in range/);
});

test('without /etc/passwd numeric users still work and names fail', async () => {
  const bare = path.join(dir, 'bare');
  await mkdir(bare);
  assert.deepEqual(await resolveUser(bare, '123:456'), { uid: 123, gid: 456, additionalGids: [456], home: '/' });
  assert.deepEqual(await resolveUser(bare, ''), { uid: 0, gid: 0, additionalGids: [0], home: '/' });
  await assert.rejects(resolveUser(bare, 'app'), /unable to find user app: no matching entries in passwd file/);
});

test('an /etc/passwd symlink to a host file is never followed out of the root', async () => {
  const evil = path.join(dir, 'evil');
  await mkdir(path.join(evil, 'etc'), { recursive: true });
  const hostFile = path.join(dir, 'host-passwd');
  await writeFile(hostFile, 'hostonly:x:4321:4321::/host:/bin/sh\n');
  await symlink(hostFile, path.join(evil, 'etc/passwd'));
  await assert.rejects(
    resolveUser(evil, 'hostonly'),
    (err: unknown) => isKind(err, 'InvalidParameter') && /unable to find user hostonly/.test((err as Error).message),
  );
  await symlink('../../../../../../../../..' + hostFile, path.join(evil, 'etc/group'));
  await assert.rejects(resolveUser(evil, '0:hostonly'), /unable to find group hostonly/);
});

test('an /etc symlink pointing outside is resolved inside the root instead', async () => {
  const evil = path.join(dir, 'evil-etc');
  await mkdir(evil);
  const hostEtc = path.join(dir, 'host-etc');
  await mkdir(hostEtc);
  await writeFile(path.join(hostEtc, 'passwd'), 'hostonly:x:4321:4321::/host:/bin/sh\n');
  // Absolute target: inside the container it names <rootfs><hostEtc>, which does not exist.
  await symlink(hostEtc, path.join(evil, 'etc'));
  await assert.rejects(resolveUser(evil, 'hostonly'), /unable to find user hostonly/);
  // Relative escape: '..' cannot climb above the root either.
  const evil2 = path.join(dir, 'evil-rel');
  await mkdir(evil2);
  await symlink('../../../../../../../..' + hostEtc, path.join(evil2, 'etc'));
  await assert.rejects(resolveUser(evil2, 'hostonly'), /unable to find user hostonly/);
});

test('symlinks that stay inside the root are followed', async () => {
  const ok = path.join(dir, 'linked');
  await mkdir(path.join(ok, 'usr/etc'), { recursive: true });
  await writeFile(path.join(ok, 'usr/etc/passwd'), 'svc:x:77:78::/srv:/bin/sh\n');
  await writeFile(path.join(ok, 'usr/etc/group.real'), 'svcgrp:x:79:svc\n');
  await symlink('/usr/etc', path.join(ok, 'etc'));
  await symlink('../etc/group.real', path.join(ok, 'usr/etc/group'));
  assert.deepEqual(await resolveUser(ok, 'svc'), { uid: 77, gid: 78, additionalGids: [78, 79], home: '/srv' });
});

test('a directory in place of /etc/passwd is refused', async () => {
  const odd = path.join(dir, 'odd');
  await mkdir(path.join(odd, 'etc/passwd'), { recursive: true });
  await assert.rejects(resolveUser(odd, 'app'), (err: unknown) => isKind(err, 'InvalidParameter'));
});
