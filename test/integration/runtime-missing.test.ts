// runc missing: the daemon starts, warns in /info, and start answers 500 naming the program.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon, api, isRoot, type TestDaemon } from '../helpers/daemon.ts';
import { bootstrap, create, inspect } from '../helpers/containers.ts';

const skip = !isRoot ? 'integration tests need root' : false;
let d: TestDaemon;

before(async () => {
  if (skip) return;
  d = await startDaemon({ extraArgs: ['--runtime', '/nonexistent/runc'] });
  await bootstrap(d);
});

after(async () => {
  if (d) await d.cleanup();
});

test('a missing runtime is reported and start fails with 500, container stays created', { skip }, async () => {
  const info = (await api(d, 'GET', '/info')).json();
  assert.ok(info.Warnings.some((w: string) => w.includes('/nonexistent/runc')));
  const id = await create(d, { Cmd: ['true'] });
  const s = await api(d, 'POST', `/containers/${id}/start`);
  assert.equal(s.status, 500);
  assert.match(s.json().message, /runc/);
  assert.equal((await inspect(d, id)).State.Status, 'created');
});
