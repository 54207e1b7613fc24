import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSignal } from './signals.ts';
import { isKind } from './errors.ts';

test('signals by name, SIG name, number and real-time offset; others refused as Docker does', () => {
  assert.equal(parseSignal('TERM'), 15);
  assert.equal(parseSignal('sigkill'), 9);
  assert.equal(parseSignal('SIGWINCH'), 28);
  assert.equal(parseSignal('9'), 9);
  assert.equal(parseSignal('RTMIN'), 34);
  assert.equal(parseSignal('SIGRTMIN+3'), 37);
  assert.equal(parseSignal('RTMAX-1'), 63);
  for (const bad of ['WHAT', '0', '65', '', 'RTMIN-1', 'RTMAX+1', 'SIG', '-9', 'TERM ']) {
    assert.throws(() => parseSignal(bad), (e: unknown) => isKind(e, 'InvalidParameter') && /^Invalid signal: /.test((e as Error).message), bad);
  }
});
