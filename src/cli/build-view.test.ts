import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BuildProgress, renderBuild } from './build-view.ts';

test('the classic builder text becomes steps: cached, running with output, done; notes kept', () => {
  let now = 1000;
  const p = new BuildProgress(() => now);
  p.feed('Step 1/3 : FROM busybox\n ---> 0b7c3cc8c1d9\nStep 2/3 : RUN echo');
  p.feed(' a\n ---> Using cache\n ---> 1a2b3c4d5e6f\n');
  now = 2000;
  p.feed('Step 3/3 : RUN sh -c "echo one; echo two"\n ---> Running in 9f8e7d6c5b4a\none\ntw');
  assert.equal(p.steps.length, 3);
  assert.deepEqual(p.steps.map((s) => [s.n, s.total, s.cached, s.done]), [[1, 3, false, true], [2, 3, true, true], [3, 3, false, false]]);
  assert.equal(p.steps[1]!.text, 'RUN echo a');
  assert.deepEqual(p.current?.output, ['one']);
  now = 3500;
  p.feed('o\n ---> 5f4e3d2c1b0a\nRemoving intermediate container 9f8e7d6c5b4a\nSuccessfully built 5f4e3d2c1b0a\nSuccessfully tagged x:1\n');
  p.end();
  assert.deepEqual(p.steps[2]!.output, ['one', 'two']);
  assert.equal(p.steps[2]!.endMs, 3500);
  assert.deepEqual(p.notes, ['Successfully built 5f4e3d2c1b0a', 'Successfully tagged x:1']);
});

test('the view: a header, one line per step with its time, the running step\'s last output lines', () => {
  let now = 0;
  const p = new BuildProgress(() => now);
  p.feed('Step 1/2 : FROM busybox\n ---> 0b7c3cc8c1d9\n');
  now = 100;
  p.feed('Step 2/2 : RUN for i in 1 2 3 4 5 6 7 8; do echo line$i; done\n ---> Running in 9f8e7d6c5b4a\n');
  p.feed([1, 2, 3, 4, 5, 6, 7, 8].map((i) => `line${i}\n`).join(''));
  const lines = renderBuild(p, 0, 1600, 60, { final: false });
  assert.equal(lines[0], '[+] Building 1.6s (1/2)');
  assert.match(lines[1]!, /^ => \[1\/2\] FROM busybox +0\.1s$/);
  assert.match(lines[2]!, /^ => \[2\/2\] RUN for i in 1 2 3 4 5 6 7 8; do echo line\$… 1\.5s$/);
  assert.equal(lines[2]!.length, 59, 'the last column stays free, so no line wraps');
  assert.deepEqual(lines.slice(3), ['line3', 'line4', 'line5', 'line6', 'line7', 'line8'].map((l) => ` => => # ${l}`));
  // Failed at the end: the failing step keeps all its output.
  p.end();
  const failed = renderBuild(p, 0, 2000, 60, { final: true, failed: true });
  assert.equal(failed[0], '[+] Building 2.0s (2/2) FAILED');
  assert.equal(failed.filter((l) => l.startsWith(' => => # ')).length, 8);
});
