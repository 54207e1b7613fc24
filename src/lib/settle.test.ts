import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allSettledOrThrow } from './settle.ts';

test('allSettledOrThrow: values in order, or the first failure once every promise settled', async () => {
  assert.deepEqual(await allSettledOrThrow([Promise.resolve(1), Promise.resolve('a')] as const), [1, 'a']);
  let slowDone = false;
  const slow = new Promise<void>((r) => setTimeout(() => ((slowDone = true), r()), 30));
  await assert.rejects(allSettledOrThrow([Promise.reject(new Error('first')), slow, Promise.reject(new Error('second'))] as const), /first/);
  assert.ok(slowDone, 'the rejection waited for the slow promise');
});
