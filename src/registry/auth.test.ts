import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashSync } from 'bcryptjs';
import { FailureLimiter, HtpasswdAuth, parseBasicAuthorization, parseHtpasswd } from './auth.ts';

const basic = (u: string, p: string): string => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

test('htpasswd: bcrypt entries only', () => {
  const h = hashSync('pw', 4);
  const { users, ignored } = parseHtpasswd(`# comment\n\nalice:${h}\nbob:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\ncarol:$apr1$abc$def\nbroken\n`);
  assert.deepEqual([...users.keys()], ['alice']);
  assert.deepEqual(ignored, ['bob', 'carol']);
});

test('Basic authorization header', () => {
  assert.deepEqual(parseBasicAuthorization(basic('u', 'p:q')), { user: 'u', password: 'p:q' });
  assert.equal(parseBasicAuthorization('Bearer x'), undefined);
  assert.equal(parseBasicAuthorization(undefined), undefined);
});

test('verify accepts the right password ($2y$ too) and nothing else', async () => {
  const h = hashSync('secret', 4).replace(/^\$2b\$/, '$2y$');
  const auth = new HtpasswdAuth(new Map([['alice', h]]), 'r');
  assert.equal(auth.challenge(), 'Basic realm="r"');
  assert.equal(await auth.verify(basic('alice', 'secret')), 'alice');
  assert.equal(await auth.verify(basic('alice', 'secret')), 'alice');
  assert.equal(await auth.verify(basic('alice', 'wrong')), undefined);
  assert.equal(await auth.verify(basic('mallory', 'secret')), undefined);
  assert.equal(await auth.verify(undefined), undefined);
});

test('failure limiter: blocked after max failures until the window ends; success clears', () => {
  const l = new FailureLimiter({ max: 3, windowMs: 10_000 });
  for (let i = 0; i < 2; i++) l.fail('a', 1000);
  assert.equal(l.retryAfter('a', 1000), 0);
  l.fail('a', 1000);
  assert.equal(l.retryAfter('a', 2000), 9);
  assert.equal(l.retryAfter('b', 2000), 0);
  assert.equal(l.retryAfter('a', 11_001), 0);
  l.fail('c', 0);
  l.succeed('c');
  assert.equal(l.retryAfter('c', 0), 0);
});
