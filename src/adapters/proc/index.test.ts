import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { processEnded, processState } from './index.ts';

test('a live process, a zombie and a missing one', async () => {
  assert.match(processState(process.pid) ?? '', /^[RS]$/);
  assert.equal(processEnded(process.pid), false);
  // Exited but not reaped: node reaps its children only from its event loop, so a synchronous look right after the exit finds a zombie.
  const child = spawn('true');
  await new Promise((r) => setTimeout(r, 200));
  const pid = child.pid!;
  const seen = processState(pid);
  assert.ok(seen === 'Z' || seen === undefined, `state ${seen}`);
  assert.equal(processEnded(pid), true);
  assert.equal(processState(2 ** 22 + 12345), undefined);
  assert.equal(processEnded(2 ** 22 + 12345), true);
});
