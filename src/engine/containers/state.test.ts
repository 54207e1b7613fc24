import { test } from 'node:test';
import assert from 'node:assert/strict';
import { humanStatus, initialState } from './state.ts';

test('status strings word durations as docker does (seconds and minutes truncated)', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');
  const at = (secondsAgo: number): string => new Date(now - secondsAgo * 1000).toISOString();
  const running = (secondsAgo: number) => ({ ...initialState(), Status: 'running' as const, Running: true, StartedAt: at(secondsAgo) });
  assert.equal(humanStatus(running(0.4), now), 'Up Less than a second');
  assert.equal(humanStatus(running(59.9), now), 'Up 59 seconds');
  assert.equal(humanStatus(running(119), now), 'Up About a minute');
  assert.equal(humanStatus(running(150), now), 'Up 2 minutes');
  assert.equal(humanStatus(running(5400), now), 'Up 2 hours');
  assert.equal(humanStatus({ ...initialState(), Status: 'exited', ExitCode: 3, FinishedAt: at(90) }, now), 'Exited (3) About a minute ago');
});
