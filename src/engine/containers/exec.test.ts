import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecService, type ExecOptions } from './exec.ts';

test('finished execs are forgotten after two collection passes; unstarted and running ones are kept', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-exec-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'config.json'), JSON.stringify({ process: { args: ['sleep'], env: [], cwd: '/' } }));
  const container = { Id: 'c'.repeat(64), Name: '/c', State: { Status: 'running' }, Config: { Image: 'busybox' } };
  let finishSecond!: (code: number) => void;
  let sessions = 0;
  const opts = {
    containers: { find: () => container, bundle: () => dir, rootfs: () => dir, runtimeOf: () => ({ binary: 'runc', root: dir }) },
    execRoot: dir,
    monitor: {
      exec: async () => {
        sessions++;
        return { pid: 100 + sessions, exitCode: sessions === 1 ? Promise.resolve(0) : new Promise<number>((r) => (finishSecond = r)) };
      },
    },
    events: { emit: () => {} },
  } as unknown as ExecOptions;
  const execs = new ExecService(opts);
  const done = execs.create('c', { Cmd: ['true'] }).Id;
  const running = execs.create('c', { Cmd: ['sleep', '1'] }).Id;
  const unstarted = execs.create('c', { Cmd: ['true'] }).Id;
  await execs.start(done, { detach: true });
  await execs.start(running, { detach: true });
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(execs.inspect(done).Running, false);
  assert.equal(execs.inspect(running).Running, true);
  execs.collect();
  assert.equal(execs.inspect(done).ExitCode, 0, 'still inspectable after one pass');
  execs.collect();
  assert.throws(() => execs.inspect(done), /No such exec instance/);
  assert.equal(execs.inspect(running).Running, true);
  assert.equal(execs.inspect(unstarted).Running, false);
  finishSecond(0);
  await new Promise((r) => setTimeout(r, 50));
  execs.collect();
  execs.collect();
  assert.throws(() => execs.inspect(running), /No such exec instance/);
  assert.equal(execs.inspect(unstarted).Running, false, 'a created exec waits for its start');
});
