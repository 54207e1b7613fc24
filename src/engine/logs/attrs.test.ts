import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detailsPrefix, logAttributes } from './attrs.ts';

test('log attributes come from the labels and env the log options name, or match', () => {
  const labels = { 'com.example.team': 'a b', other: 'x', 'com.example.tier': 'web' };
  const env = ['HOME=/root', 'REGION=eu/west', 'TOKEN=s=1'];
  assert.deepEqual(logAttributes({}, labels, env), {});
  assert.deepEqual(logAttributes({ labels: 'other,missing', env: 'REGION' }, labels, env), { other: 'x', REGION: 'eu/west' });
  assert.deepEqual(logAttributes({ 'labels-regex': '^com\\.example\\.', 'env-regex': '^TOK' }, labels, env), { 'com.example.team': 'a b', 'com.example.tier': 'web', TOKEN: 's=1' });
  assert.deepEqual(logAttributes({ 'labels-regex': '(' }, labels, env), {}, 'a bad expression matches nothing');
});

test('--details prefix: sorted, query-escaped pairs and a space; only the space without attributes', () => {
  assert.equal(detailsPrefix({}), ' ');
  assert.equal(detailsPrefix({ b: 'x y', a: 'eu/west', 'c=d': 's,1' }), 'a=eu%2Fwest,b=x+y,c%3Dd=s%2C1 ');
});
