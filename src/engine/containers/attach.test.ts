import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DetachScanner, parseDetachKeys, DEFAULT_DETACH_KEYS } from './attach.ts';

test('parseDetachKeys: default, ctrl forms and letters', () => {
  assert.deepEqual(parseDetachKeys(''), DEFAULT_DETACH_KEYS);
  assert.deepEqual(parseDetachKeys('ctrl-p,ctrl-q'), [16, 17]);
  assert.deepEqual(parseDetachKeys('a,ctrl-@,ctrl-['), [97, 0, 27]);
  assert.throws(() => parseDetachKeys('ctrl-1'), /Invalid detach keys/);
  assert.throws(() => parseDetachKeys('abc'), /Invalid detach keys/);
});

test('DetachScanner passes bytes through and detaches on the sequence', () => {
  const s = new DetachScanner([16, 17]);
  assert.deepEqual(s.push(Buffer.from('hello')), { out: Buffer.from('hello'), detached: false });
  const r = s.push(Buffer.from([104, 16, 17, 120]));
  assert.equal(r.detached, true);
  assert.deepEqual(r.out, Buffer.from([104]));
});

test('DetachScanner matches across chunks and releases a broken partial match', () => {
  const s = new DetachScanner([16, 17]);
  assert.deepEqual(s.push(Buffer.from([65, 16])), { out: Buffer.from([65]), detached: false });
  assert.deepEqual(s.push(Buffer.from([66])), { out: Buffer.from([16, 66]), detached: false });
  assert.deepEqual(s.push(Buffer.from([16, 16])), { out: Buffer.from([16]), detached: false });
  assert.equal(s.push(Buffer.from([17])).detached, true);
});
