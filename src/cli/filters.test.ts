import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filtersQuery, parseFilters } from './filters.ts';

test('repeated --filter flags merge into the API map form', () => {
  assert.deepEqual(parseFilters(['status=running', 'status=exited', 'label=a=b', ' Name = web ']), {
    status: { running: true, exited: true },
    label: { 'a=b': true },
    name: { web: true },
  });
});

test('a filter without = is rejected; no filters means no query value', () => {
  assert.throws(() => parseFilters(['status']), /bad format of filter \(expected name=value\)/);
  assert.throws(() => parseFilters(['=x']), /bad format/);
  assert.equal(filtersQuery([]), undefined);
  assert.equal(filtersQuery(['id=1']), '{"id":{"1":true}}');
});
