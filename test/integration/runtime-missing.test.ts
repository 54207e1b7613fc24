// runc missing: the daemon starts, warns in /info, and start answers 500 naming the program.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, isRoot, type TestDaemon } from '../helpers/daemon.ts';
import { create, inspect, useDaemon } from '../helpers/containers.ts';

const skip = !isRoot ? 'integration tests need root' : false;
let d: TestDaemon;

useDaemon(skip, (x) => (d = x), { extraArgs: ['--runtime', '/nonexistent/runc'] });

test('a missing runtime is reported and start fails with 500, container stays created', { skip }, async () => {
  const info = (await api(d, 'GET', '/info')).json();
  assert.ok(info.Warnings.some((w: string) => w.includes('/nonexistent/runc')));
  const id = await create(d, { Cmd: ['true'] });
  const s = await api(d, 'POST', `/containers/${id}/start`);
  assert.equal(s.status, 500);
  assert.match(s.json().message, /runc/);
  assert.equal((await inspect(d, id)).State.Status, 'created');
});
