import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBind, parseMountSpec, collectMounts, checkDestination } from './mounts.ts';

test('parseBind: named volumes, host paths, anonymous volumes and options', () => {
  assert.deepEqual(
    { ...parseBind('data:/var/lib/x:ro') },
    { type: 'volume', source: 'data', destination: '/var/lib/x', readOnly: true, createSource: true, noCopy: false, propagation: '', tmpfsOptions: [] },
  );
  const b = parseBind('/srv/www:/www:rw,rslave,z');
  assert.equal(b.type, 'bind');
  assert.equal(b.source, '/srv/www');
  assert.equal(b.readOnly, false);
  assert.equal(b.propagation, 'rslave');
  const a = parseBind('/cache');
  assert.equal(a.type, 'volume');
  assert.equal(a.source, '');
  assert.equal(a.destination, '/cache');
  assert.equal(parseBind('vol:/d:nocopy').noCopy, true);
});

test('parseBind refuses bad names, relative targets, .. and unknown modes', () => {
  assert.throws(() => parseBind('rel/path:/x'), /invalid characters for a local volume name/);
  assert.throws(() => parseBind('../x:/y'), /invalid characters/);
  assert.throws(() => parseBind('/a:relative'), /not an absolute path/);
  assert.throws(() => parseBind('/a:/b/../c'), /may not contain/);
  assert.throws(() => parseBind('/a:/'), /destination can't be/);
  assert.throws(() => parseBind('/a:/b:xx'), /invalid mode: xx/);
  assert.throws(() => parseBind('vol:/b:rw,ro'), /invalid mode: rw,ro/);
  assert.throws(() => parseBind('/a:/b:z,Z'), /invalid mode: z,Z/);
  assert.throws(() => parseBind('/a:/b:shared,slave'), /invalid mode: shared,slave/);
  assert.equal(parseBind('/a:/b:ro,z,rshared,nocopy,cached').readOnly, true);
  assert.throws(() => parseBind('/a:/b:ro:extra'), /invalid volume specification/);
  assert.throws(() => parseBind('/a/../../etc:/b'), /may not contain/);
});

test('parseMountSpec: bind, volume and tmpfs', () => {
  const b = parseMountSpec({ Type: 'bind', Source: '/h', Target: '/c', ReadOnly: true, BindOptions: { Propagation: 'rshared' } });
  assert.deepEqual([b.type, b.source, b.destination, b.readOnly, b.createSource, b.propagation], ['bind', '/h', '/c', true, false, 'rshared']);
  const v = parseMountSpec({ Type: 'volume', Source: 'vol1', Target: '/data', VolumeOptions: { NoCopy: true } });
  assert.deepEqual([v.type, v.source, v.noCopy], ['volume', 'vol1', true]);
  const t = parseMountSpec({ Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 1024, Mode: 0o1777 } });
  assert.deepEqual(t.tmpfsOptions, ['size=1024', 'mode=1777']);
  assert.throws(() => parseMountSpec({ Type: 'npipe', Target: '/x' }), /invalid mount config for type "npipe": mount type unknown$/);
  assert.throws(() => parseMountSpec({ Type: 'bind', Target: '/x' }), /Source must not be empty/);
  assert.throws(() => parseMountSpec({ Type: 'tmpfs', Source: 'x', Target: '/x' }), /must not be specified/);
  assert.throws(() => parseMountSpec({ Type: 'bind', Source: '/h' }), /Target must not be empty/);
});

test('collectMounts: explicit mounts win over volumes; duplicates are refused', () => {
  const m = collectMounts(['/h:/data'], [{ Type: 'tmpfs', Target: '/run' }], { '/data': {}, '/logs': {} });
  assert.deepEqual(m.map((x) => [x.type, x.destination]), [['bind', '/data'], ['tmpfs', '/run'], ['volume', '/logs']]);
  assert.throws(() => collectMounts(['/h:/x', 'vol:/x'], [], {}), /Duplicate mount point: \/x/);
  assert.throws(() => collectMounts([], [], { '../../etc': {} }), /not an absolute path/);
  assert.equal(checkDestination('/a//b/'), '/a/b');
});
