import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { top, parsePsOutput, validatePsArgs } from './top.ts';
import { isKind } from '../core/errors.ts';

test('parsePsOutput keeps the header and matching rows, joining the command column', () => {
  const out = [
    'UID          PID    PPID  C STIME TTY          TIME CMD',
    'root           1       0  0 10:00 ?        00:00:01 /sbin/init splash',
    'root          42       1  0 10:01 ?        00:00:00 sleep 1000',
    'root          43       1  0 10:01 ?        00:00:00 sh -c echo  a',
    '',
  ].join('\n');
  const r = parsePsOutput(out, [42, 43, 99]);
  assert.deepEqual(r.Titles, ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
  assert.deepEqual(r.Processes, [
    ['root', '42', '1', '0', '10:01', '?', '00:00:00', 'sleep 1000'],
    ['root', '43', '1', '0', '10:01', '?', '00:00:00', 'sh -c echo a'],
  ]);
  assert.deepEqual(parsePsOutput(out, []).Processes, []);
});

test('missing PID column and PID renames are invalid parameters', () => {
  assert.throws(() => parsePsOutput('USER COMMAND\nroot sleep\n', [1]), (e) => isKind(e, 'InvalidParameter'));
  assert.throws(() => validatePsArgs(['-o', 'user=PID']), /specifying "user=PID" is not allowed/);
  validatePsArgs(['-o', 'pid=PID,comm']);
  validatePsArgs(['-ef']);
});

test('top lists a real process by pid with default and custom ps args', async (t) => {
  const child = spawn('sleep', ['1000'], { stdio: 'ignore' });
  t.after(() => child.kill('SIGKILL'));
  await once(child, 'spawn');
  const pid = child.pid!;
  const r = await top([pid]);
  assert.ok(r.Titles.includes('PID') && r.Titles.includes('CMD'));
  assert.equal(r.Processes.length, 1);
  assert.equal(r.Processes[0]![r.Titles.indexOf('PID')], String(pid));
  assert.equal(r.Processes[0]!.at(-1), 'sleep 1000');

  const custom = await top([pid, process.pid], '  -o pid,comm  ');
  assert.deepEqual(custom.Titles, ['PID', 'COMMAND']);
  assert.deepEqual(
    custom.Processes.map((p) => p[0]).sort(),
    [String(pid), String(process.pid)].sort(),
  );
  // BSD-style args refuse to combine with -q; the unfiltered fallback still works.
  const bsd = await top([pid], 'aux');
  assert.equal(bsd.Processes.length, 1);
  assert.equal(bsd.Processes[0]![bsd.Titles.indexOf('PID')], String(pid));
});

test('top reports a ps failure', async () => {
  await assert.rejects(top([1], '--no-such-option'), (e) => isKind(e, 'Internal'));
  await assert.rejects(top([1], '-o comm'), (e) => isKind(e, 'InvalidParameter'));
});
