import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, appendFile, rm, readFile, readdir, open, type FileHandle } from 'node:fs/promises';
import { constants } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { run } from '../../adapters/exec/index.ts';
import { isKind } from '../../core/errors.ts';
import { parseLogOptions, parseHumanSize, LogRotator, removeLogs, DEFAULT_LOG_LIMITS } from './rotate.ts';
import { readLogs } from './read.ts';

test('parseLogOptions follows json-file, with berth defaults when max-size is unset', () => {
  assert.deepEqual(parseLogOptions({}), DEFAULT_LOG_LIMITS);
  assert.deepEqual(parseLogOptions({}), { maxSize: 20_000_000, maxFile: 2 });
  assert.deepEqual(parseLogOptions({ 'max-file': '5' }), { maxSize: 20_000_000, maxFile: 5 });
  assert.deepEqual(parseLogOptions({ 'max-size': '10m' }), { maxSize: 10_000_000, maxFile: 1 });
  assert.deepEqual(parseLogOptions({ 'max-size': '1k', 'max-file': '3', tag: '{{.Name}}', compress: 'false' }), { maxSize: 1000, maxFile: 3 });
  assert.deepEqual(parseLogOptions({ 'max-size': '100' }), { maxSize: 100, maxFile: 1 });
  assert.equal(parseHumanSize('1.5 GB'), 1_500_000_000);
  assert.equal(parseHumanSize('2KiB'), 2000);
  const bad: Array<[Record<string, string>, RegExp]> = [
    [{ 'max-size': 'ten' }, /^failed to initialize logging driver: invalid size: 'ten'$/],
    [{ 'max-size': '0' }, /^failed to initialize logging driver: max-size must be a positive number$/],
    [{ 'max-size': '-1' }, /^failed to initialize logging driver: invalid size: '-1'$/],
    [{ 'max-file': '0' }, /^failed to initialize logging driver: max-file cannot be less than 1$/],
    [{ 'max-file': 'x' }, /^failed to initialize logging driver: strconv.Atoi: parsing "x": invalid syntax$/],
    [{ compress: 'maybe' }, /ParseBool/],
    [{ 'max-sise': '1m' }, /^unknown log opt 'max-sise' for json-file log driver$/],
  ];
  for (const [config, msg] of bad) {
    assert.throws(() => parseLogOptions(config), (e: unknown) => isKind(e, 'InvalidParameter') && msg.test((e as Error).message), JSON.stringify(config));
  }
});

async function fifo(t: { after: (fn: () => Promise<void>) => void }): Promise<{ dir: string; ctl: string; reader: FileHandle }> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-rotate-'));
  const ctl = join(dir, 'ctl');
  await run(['mkfifo', ctl]);
  const reader = await open(ctl, constants.O_RDONLY | constants.O_NONBLOCK);
  t.after(async () => {
    await reader.close().catch(() => {});
    await rm(dir, { recursive: true, force: true });
  });
  return { dir, ctl, reader };
}

async function readFifo(reader: FileHandle): Promise<string> {
  const buf = Buffer.alloc(256);
  try {
    const { bytesRead } = await reader.read(buf, 0, buf.length, null);
    return buf.subarray(0, bytesRead).toString();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return '';
    throw err;
  }
}

const line = (i: number): string => `2026-01-01T00:00:00.000000000+00:00 stdout F line ${String(i).padStart(4, '0')}\n`;

test('rotates at max-size, keeps max-file files and tells conmon to reopen', async (t) => {
  const { dir, ctl, reader } = await fifo(t);
  const path = join(dir, 'ctr.log');
  const r = new LogRotator({ path, ctlPath: ctl, maxSize: 200, maxFile: 3 });
  assert.equal(await r.check(), false, 'no log yet');
  await writeFile(path, line(1));
  assert.equal(await r.check(), false, 'under max-size');
  let n = 1;
  for (let round = 0; round < 4; round++) {
    while ((await readFile(path)).length < 200) await appendFile(path, line(++n));
    assert.equal(await r.check(), true);
    assert.equal(await readFifo(reader), '2 0 0\n');
    // conmon's part: a fresh log file.
    await writeFile(path, '');
  }
  assert.deepEqual((await readdir(dir)).sort(), ['ctl', 'ctr.log', 'ctr.log.1', 'ctr.log.2']);
  // The newest rotated file holds the latest lines, the oldest kept one the lines before.
  const one = (await readFile(`${path}.1`, 'utf8')).trim().split('\n');
  const two = (await readFile(`${path}.2`, 'utf8')).trim().split('\n');
  assert.equal(one.at(-1), line(n).trim());
  assert.equal(Number(two.at(-1)!.slice(-4)) + 1, Number(one[0]!.slice(-4)));
  // A reader sees the kept files in order.
  const seen: string[] = [];
  for await (const e of readLogs({ path, stdout: true, stderr: true, follow: false })) seen.push(e.data.toString().trim());
  assert.deepEqual(seen, [...two, ...one].map((l) => l.slice(l.indexOf('line'))));

  await removeLogs(path);
  assert.deepEqual(await readdir(dir), ['ctl']);
});

test('max-file 1 truncates: nothing rotated is kept', async (t) => {
  const { dir, ctl, reader } = await fifo(t);
  const path = join(dir, 'ctr.log');
  await writeFile(path, line(1).repeat(10));
  const r = new LogRotator({ path, ctlPath: ctl, maxSize: 100, maxFile: 1, checkIntervalMs: 10 });
  r.start();
  t.after(() => r.stop());
  let got = '';
  for (let i = 0; i < 100 && got === ''; i++) {
    await sleep(10);
    got = await readFifo(reader);
  }
  assert.equal(got, '2 0 0\n');
  for (let i = 0; i < 50 && (await readdir(dir)).length > 1; i++) await sleep(10);
  assert.deepEqual(await readdir(dir), ['ctl']);
});

test('stops when conmon is gone (no reader on the ctl FIFO)', async (t) => {
  const { dir, ctl, reader } = await fifo(t);
  await reader.close();
  const path = join(dir, 'ctr.log');
  await writeFile(path, line(1).repeat(10));
  const r = new LogRotator({ path, ctlPath: ctl, maxSize: 100, maxFile: 2 });
  await r.check();
  assert.equal(r.stopped, true);
  assert.equal(await r.check(), false);
  assert.throws(() => new LogRotator({ path, ctlPath: ctl, maxSize: 100, maxFile: 0 }), (e: unknown) => isKind(e, 'InvalidParameter'));
});
