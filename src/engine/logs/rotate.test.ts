import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, appendFile, rm, readFile, readdir, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isKind } from '../../core/errors.ts';
import { parseLogOptions, parseHumanSize, LogRotator, removeLogs, DEFAULT_LOG_LIMITS, compressRotated } from './rotate.ts';
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

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-rotate-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** conmon's part at its --log-size-max: a new file written as path.tmp and renamed over path. */
async function conmonCuts(path: string): Promise<void> {
  await writeFile(`${path}.tmp`, '');
  await rename(`${path}.tmp`, path);
}

const line = (i: number): string => `2026-01-01T00:00:00.000000000+00:00 stdout F line ${String(i).padStart(4, '0')}\n`;

test('keeps the files conmon finishes: held by a link, then shifted in; max-file of them in all', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'ctr.log');
  const r = new LogRotator({ path, maxSize: 200, maxFile: 3 });
  assert.equal(await r.check(), false, 'no log yet');
  await writeFile(path, line(1));
  assert.equal(await r.check(), false, 'the live file is held, nothing to rotate');
  assert.deepEqual((await readdir(dir)).sort(), ['ctr.log', 'ctr.log.held']);
  let n = 1;
  for (let round = 0; round < 4; round++) {
    for (let i = 0; i < 3; i++) await appendFile(path, line(++n));
    await conmonCuts(path);
    // Between conmon's cut and the next look the finished file is readable as the held one.
    const seen: string[] = [];
    for await (const e of readLogs({ path, stdout: true, stderr: true, follow: false })) seen.push(e.data.toString().trim());
    assert.equal(seen.at(-1), `line ${String(n).padStart(4, '0')}`);
    assert.equal(await r.check(), true);
    assert.equal(await r.check(), false);
  }
  await appendFile(path, line(++n));
  assert.deepEqual((await readdir(dir)).sort(), ['ctr.log', 'ctr.log.1', 'ctr.log.2', 'ctr.log.held']);
  // Nothing is lost between the kept files, in order, up to the live one.
  const seen: string[] = [];
  for await (const e of readLogs({ path, stdout: true, stderr: true, follow: false })) seen.push(e.data.toString().trim());
  const nums = seen.map((l) => Number(l.slice(5)));
  assert.deepEqual(nums, Array.from({ length: nums.length }, (_, i) => n - nums.length + 1 + i));
  assert.equal(nums.length, 7);
  await removeLogs(path);
  assert.deepEqual(await readdir(dir), []);
});

test('compress: rotated files are gzipped; readers, tail and removal see through them', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'ctr.log');
  const r = new LogRotator({ path, maxSize: 300, maxFile: 3, compress: true });
  let n = 0;
  await writeFile(path, '');
  await r.check();
  for (let round = 0; round < 4; round++) {
    for (let i = 0; i < 4; i++) await appendFile(path, line(++n));
    await conmonCuts(path);
    assert.equal(await r.check(), true);
    assert.ok((await readdir(dir)).includes('ctr.log.1.gz'));
  }
  await appendFile(path, line(++n));
  assert.deepEqual((await readdir(dir)).sort(), ['ctr.log', 'ctr.log.1.gz', 'ctr.log.2.gz', 'ctr.log.held']);
  const { gunzipSync } = await import('node:zlib');
  const one = gunzipSync(await readFile(`${path}.1.gz`)).toString().trim().split('\n');
  const two = gunzipSync(await readFile(`${path}.2.gz`)).toString().trim().split('\n');
  const all: string[] = [];
  for await (const e of readLogs({ path, stdout: true, stderr: true, follow: false })) all.push(e.data.toString().trim());
  assert.deepEqual(all, [...two, ...one, line(n).trim()].map((l) => l.slice(l.indexOf('line'))));
  const tail: string[] = [];
  for await (const e of readLogs({ path, stdout: true, stderr: true, follow: false, tail: one.length + 2 })) tail.push(e.data.toString().trim());
  assert.deepEqual(tail, all.slice(-(one.length + 2)));
  assert.ok(!(await readdir(dir)).some((f) => f.endsWith('.read')), 'the reader leaves no file behind');
  await removeLogs(path);
  assert.deepEqual(await readdir(dir), []);
});

test('compress follows the option, and is on by default for the local driver', () => {
  assert.equal(compressRotated({}, 'json-file'), false);
  assert.equal(compressRotated({}, 'local'), true);
  assert.equal(compressRotated({ compress: 'true' }, 'json-file'), true);
  assert.equal(compressRotated({ compress: 'false' }, 'local'), false);
});

test('max-file 1 truncates: nothing rotated is kept', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'ctr.log');
  await writeFile(path, line(1).repeat(10));
  const r = new LogRotator({ path, maxSize: 100, maxFile: 1, checkIntervalMs: 10 });
  r.start();
  t.after(() => r.stop());
  for (let i = 0; i < 100 && !(await readdir(dir)).includes('ctr.log.held'); i++) await sleep(10);
  await conmonCuts(path);
  for (let i = 0; i < 100 && (await readdir(dir)).length !== 2; i++) await sleep(10);
  await sleep(30);
  assert.deepEqual((await readdir(dir)).sort(), ['ctr.log', 'ctr.log.held']);
  assert.equal((await readFile(path)).length, 0, 'the live file is the new, empty one');
  assert.throws(() => new LogRotator({ path, maxSize: 100, maxFile: 0 }), (e: unknown) => isKind(e, 'InvalidParameter'));
});
