import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ansic } from './version.ts';

test('build times print as the docker CLI prints them (ANSIC, UTC, day padded with a space)', () => {
  assert.equal(ansic('2026-05-07T21:09:36+00:00'), 'Thu May  7 21:09:36 2026');
  assert.equal(ansic('2026-12-07T01:56:34+01:00'), 'Mon Dec  7 00:56:34 2026');
  assert.equal(ansic('2026-11-23T10:00:00Z'), 'Mon Nov 23 10:00:00 2026');
  assert.equal(ansic('not a time'), 'not a time');
});
