import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, appendFile, rm, rename, open, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { readLogs, type ReadLogsOptions } from './read.ts';
import { MAX_ENTRY_BYTES, type LogEntry } from './k8s-file.ts';

type Stream = 'stdout' | 'stderr';
const BASE = Date.UTC(2026, 0, 1) / 1000;

function record(stream: Stream, tag: 'P' | 'F', data: string, sec: number, frac = 0): string {
  const t = new Date((BASE + sec) * 1000).toISOString().slice(0, 19);
  return `${t}.${String(frac).padStart(9, '0')}+00:00 ${stream} ${tag} ${data}\n`;
}

async function tmp(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-logs-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function collect(opts: ReadLogsOptions): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  for await (const e of readLogs(opts)) out.push(e);
  return out;
}

// Long data is abbreviated so that a failing comparison prints a readable diff.
const brief = (s: string): string => (s.length > 60 ? `${s.slice(0, 30)}…(${s.length})…${s.slice(-10)}` : s);
const show = (es: LogEntry[]): string[] => es.map((e) => `${e.stream}:${brief(e.data.toString())}`);

/** Lines re-joined from 16 KiB pieces, sorted, for comparing which lines came back. */
function lines(es: LogEntry[]): string[] {
  const out: string[] = [];
  const open: Partial<Record<Stream, string>> = {};
  for (const e of es) {
    const text = (open[e.stream] ?? '') + e.data.toString();
    if (text.endsWith('\n')) {
      out.push(`${e.stream}:${brief(text)}`);
      delete open[e.stream];
    } else open[e.stream] = text;
  }
  for (const [stream, text] of Object.entries(open)) out.push(`${stream}:${brief(text)}`);
  return out.sort();
}

/** The lines of a record list, in the order of each line's last record: what `tail` counts back over. */
function expectedLines(records: Array<{ s: Stream; partial: boolean; data: string }>, want: ReadonlySet<Stream>): string[] {
  const out: Array<{ at: number; text: string }> = [];
  const open: Partial<Record<Stream, string>> = {};
  const last: Partial<Record<Stream, number>> = {};
  records.forEach((r, i) => {
    if (!want.has(r.s)) return;
    const text = (open[r.s] ?? '') + r.data;
    last[r.s] = i;
    if (r.partial) open[r.s] = text;
    else {
      out.push({ at: i, text: `${r.s}:${brief(text + '\n')}` });
      delete open[r.s];
    }
  });
  for (const [s, text] of Object.entries(open)) out.push({ at: last[s as Stream]!, text: `${s}:${brief(text)}` });
  return out.sort((a, b) => a.at - b.at).map((l) => l.text);
}

test('reads, joins and filters a log; a truncated last record is ignored', async (t) => {
  const dir = await tmp(t);
  const path = join(dir, 'ctr.log');
  await writeFile(
    path,
    record('stdout', 'F', 'one', 1) +
      record('stderr', 'P', 'sh: ', 2) +
      record('stdout', 'F', 'two', 3) +
      record('stderr', 'P', "can't fork", 4) +
      record('stderr', 'F', '', 5) +
      'not a record\n' +
      record('stdout', 'P', 'no newline at end', 6) +
      '2026-01-01T00:00:07.000000000+00:00 stdout F half-writ',
  );
  const base = { path, follow: false } as const;
  assert.deepEqual(show(await collect({ ...base, stdout: true, stderr: true })), [
    'stdout:one\n',
    'stdout:two\n',
    "stderr:sh: can't fork\n",
    'stdout:no newline at end',
  ]);
  assert.deepEqual(show(await collect({ ...base, stdout: false, stderr: true })), ["stderr:sh: can't fork\n"]);
  assert.deepEqual(show(await collect({ ...base, stdout: true, stderr: false, since: BASE + 3 })), ['stdout:two\n', 'stdout:no newline at end']);
  assert.deepEqual(show(await collect({ ...base, stdout: true, stderr: true, since: BASE + 1.5, until: BASE + 3 })), ['stdout:two\n', "stderr:sh: can't fork\n"]);
  assert.deepEqual(show(await collect({ ...base, stdout: true, stderr: true, tail: 2 })), ["stderr:sh: can't fork\n", 'stdout:no newline at end']);
  assert.deepEqual(show(await collect({ ...base, stdout: true, stderr: true, tail: 0 })), []);
  const [first] = await collect({ ...base, stdout: true, stderr: false, tail: 1 });
  assert.equal(first?.timeNano, '2026-01-01T00:00:06.000000000+00:00');
  assert.equal(first?.time.getTime(), (BASE + 6) * 1000);
  assert.deepEqual(await collect({ path: join(dir, 'missing.log'), stdout: true, stderr: true, follow: false }), []);
});

test('since compares at nanosecond precision', async (t) => {
  const dir = await tmp(t);
  const path = join(dir, 'ctr.log');
  await writeFile(path, record('stdout', 'F', 'a', 10, 499_999_999) + record('stdout', 'F', 'b', 10, 500_000_000));
  assert.deepEqual(show(await collect({ path, stdout: true, stderr: true, follow: false, since: BASE + 10.5 })), ['stdout:b\n']);
});

/** A deterministic PRNG so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

test('tail across rotated files equals the end of a full read, for every N and stream filter', async (t) => {
  const dir = await tmp(t);
  for (let seed = 1; seed <= 12; seed++) {
    const rand = rng(seed);
    const path = join(dir, `ctr-${seed}.log`);
    const records: string[] = [];
    const parsed: Array<{ s: Stream; partial: boolean; data: string }> = [];
    const n = 20 + Math.floor(rand() * 200);
    for (let i = 0; i < n; i++) {
      const s: Stream = rand() < 0.6 ? 'stdout' : 'stderr';
      const partial = rand() < 0.35;
      // Long records make the backward scan cross read-block edges inside a record.
      const data = `${s}-${i}-` + 'x'.repeat(rand() < 0.1 ? 9000 : Math.floor(rand() * 40));
      records.push(record(s, partial ? 'P' : 'F', data, i));
      parsed.push({ s, partial, data });
    }
    // Rotation splits between records; files: path.3 (oldest) … path.1, path.
    const cuts = [0, ...[0, 0, 0].map(() => Math.floor(rand() * records.length)).sort((a, b) => a - b), records.length];
    const names = [`${path}.3`, `${path}.2`, `${path}.1`, path];
    for (let f = 0; f < 4; f++) await writeFile(names[f]!, records.slice(cuts[f], cuts[f + 1]).join(''));
    for (const [stdout, stderr] of [
      [true, true],
      [true, false],
      [false, true],
    ] as const) {
      const want = new Set<Stream>([...(stdout ? ['stdout' as const] : []), ...(stderr ? ['stderr' as const] : [])]);
      const all = expectedLines(parsed, want);
      assert.deepEqual(lines(await collect({ path, stdout, stderr, follow: false })), [...all].sort());
      const tails = [...Array(all.length + 2).keys()].filter((k) => k < 40 || k % 7 === 0 || k > all.length - 3);
      for (const tail of tails) {
        const got = lines(await collect({ path, stdout, stderr, follow: false, tail }));
        assert.deepEqual(got, all.slice(Math.max(0, all.length - tail)).sort(), `seed ${seed} tail ${tail} ${stdout}/${stderr}`);
      }
    }
  }
});

test('a huge line without newline is delivered in 16 KiB pieces and tail scans backwards', async (t) => {
  const dir = await tmp(t);
  const path = join(dir, 'ctr.log');
  const fh = await open(path, 'w');
  const piece = 'y'.repeat(8192);
  const rec = record('stdout', 'P', piece, 1);
  const block = rec.repeat(256); // 2 MiB of data per write
  const blocks = 24; // ~48 MiB in one unfinished line
  for (let i = 0; i < blocks; i++) await fh.write(block);
  await fh.write(record('stdout', 'F', 'tail line', 2));
  await fh.close();
  let count = 0;
  let bytes = 0;
  let maxLen = 0;
  for await (const e of readLogs({ path, stdout: true, stderr: true, follow: false })) {
    count++;
    bytes += e.data.length;
    maxLen = Math.max(maxLen, e.data.length);
  }
  assert.equal(bytes, blocks * 256 * 8192 + 'tail line\n'.length);
  assert.ok(maxLen <= MAX_ENTRY_BYTES + 1);
  assert.equal(count, Math.ceil(bytes / MAX_ENTRY_BYTES));
  const heapBefore = process.memoryUsage().heapUsed;
  const last = await collect({ path, stdout: true, stderr: true, follow: false, tail: 1 });
  // The last line is the whole 48 MiB one: it comes back as pieces, never whole.
  assert.equal(last.length, count);
  assert.ok(process.memoryUsage().heapUsed - heapBefore < bytes, 'entries are pieces, not one buffer');
});

test('follow: held-back partial record, new data, then drain and end when the container stops', async (t) => {
  const dir = await tmp(t);
  const path = join(dir, 'ctr.log');
  await writeFile(path, record('stdout', 'F', 'old', 1));
  let running = true;
  t.after(() => {
    running = false;
  });
  const got: string[] = [];
  const reading = (async () => {
    for await (const e of readLogs({ path, stdout: true, stderr: true, follow: true, tail: 0, isRunning: () => running, pollMs: 20 })) {
      got.push(e.data.toString());
    }
  })();
  await sleep(50);
  const half = record('stdout', 'F', 'new line', 2);
  await appendFile(path, half.slice(0, 20));
  await sleep(80);
  assert.deepEqual(got, []);
  await appendFile(path, half.slice(20) + record('stderr', 'P', 'unfinished', 3));
  for (let i = 0; i < 50 && got.length < 1; i++) await sleep(10);
  assert.deepEqual(got, ['new line\n']);
  await appendFile(path, record('stdout', 'F', 'last words', 4));
  running = false;
  await reading;
  assert.deepEqual(got, ['new line\n', 'last words\n', 'unfinished']);
});

test('follow survives rotation and a truncated file, and stops on abort', async (t) => {
  const dir = await tmp(t);
  const path = join(dir, 'ctr.log');
  await writeFile(path, record('stdout', 'F', 'a', 1));
  const ac = new AbortController();
  t.after(() => ac.abort());
  const got: string[] = [];
  const reading = (async () => {
    for await (const e of readLogs({ path, stdout: true, stderr: true, follow: true, signal: ac.signal, pollMs: 20 })) {
      got.push(e.data.toString().trim());
    }
  })();
  const waitFor = async (n: number): Promise<void> => {
    for (let i = 0; i < 200 && got.length < n; i++) await sleep(10);
    assert.equal(got.length, n, `got ${JSON.stringify(got)}`);
  };
  await waitFor(1);
  // Rotation as the rotator and conmon do it: rename; the old file still receives a write; then a new file.
  await rename(path, `${path}.1`);
  await appendFile(`${path}.1`, record('stdout', 'F', 'b', 2));
  await sleep(60);
  // Long enough that the truncated file restarts shorter than the read position.
  await writeFile(path, record('stdout', 'F', 'c' + ' '.repeat(200), 3));
  await waitFor(3);
  // conmon's own --log-size-max truncates in place.
  await truncate(path, 0);
  await appendFile(path, record('stdout', 'F', 'd', 4));
  await waitFor(4);
  ac.abort();
  await reading;
  assert.deepEqual(got, ['a', 'b', 'c', 'd']);
});

test('follow with until ends once the time has passed', async (t) => {
  const dir = await tmp(t);
  const path = join(dir, 'ctr.log');
  await writeFile(path, record('stdout', 'F', 'a', 1));
  const started = Date.now();
  const got = await collect({ path, stdout: true, stderr: true, follow: true, until: Date.now() / 1000 + 0.2, pollMs: 20 });
  assert.deepEqual(show(got), ['stdout:a\n']);
  assert.ok(Date.now() - started < 2000);
});

test('follow waits for a log file that does not exist yet', async (t) => {
  const dir = await tmp(t);
  const path = join(dir, 'ctr.log');
  let running = true;
  t.after(() => {
    running = false;
  });
  const p = collect({ path, stdout: true, stderr: true, follow: true, isRunning: () => running, pollMs: 20 });
  await sleep(50);
  await writeFile(path, record('stderr', 'F', 'hello', 1));
  await sleep(80);
  running = false;
  assert.deepEqual(show(await p), ['stderr:hello\n']);
});

test('tail with follow: new lines follow the tail; a line begun before the window stays out', async (t) => {
  const dir = await tmp(t);
  const path = join(dir, 'ctr.log');
  await writeFile(path, record('stdout', 'F', 'a', 1) + record('stderr', 'P', 'e-start ', 2) + record('stdout', 'F', 'b', 3));
  let running = true;
  t.after(() => {
    running = false;
  });
  const got: string[] = [];
  const reading = (async () => {
    for await (const e of readLogs({ path, stdout: true, stderr: true, follow: true, tail: 1, isRunning: () => running, pollMs: 20 })) {
      got.push(`${e.stream}:${e.data.toString()}`);
    }
  })();
  for (let i = 0; i < 100 && got.length < 1; i++) await sleep(10);
  await appendFile(path, record('stderr', 'F', 'e-end', 4) + record('stdout', 'F', 'c', 5) + record('stderr', 'F', 'e2', 6));
  for (let i = 0; i < 100 && got.length < 3; i++) await sleep(10);
  running = false;
  await reading;
  assert.deepEqual(got, ['stdout:b\n', 'stdout:c\n', 'stderr:e2\n']);
});

test('follow started between the rename and conmon reopening the log still reads the live file', async (t) => {
  const dir = await tmp(t);
  const path = join(dir, 'ctr.log');
  await writeFile(`${path}.1`, record('stdout', 'F', 'a', 1));
  let running = true;
  t.after(() => {
    running = false;
  });
  const p = collect({ path, stdout: true, stderr: true, follow: true, isRunning: () => running, pollMs: 20 });
  await sleep(50);
  await appendFile(`${path}.1`, record('stdout', 'F', 'b', 2));
  await sleep(50);
  await writeFile(path, record('stdout', 'F', 'c', 3));
  await sleep(80);
  running = false;
  assert.deepEqual(show(await p), ['stdout:a\n', 'stdout:b\n', 'stdout:c\n']);
});

test('without follow, lines written after the read began are not part of it (a fast writer cannot stretch --tail)', async (t) => {
  const dir = await tmp(t);
  const path = join(dir, 'ctr.log');
  let text = '';
  for (let i = 0; i < 5000; i++) text += record('stdout', 'F', `line ${i}`, 1);
  await writeFile(path, text);
  for (const opts of [{ tail: 1 }, {}] as Array<{ tail?: number }>) {
    const got: string[] = [];
    let appended = false;
    for await (const e of readLogs({ path, stdout: true, stderr: true, follow: false, ...opts })) {
      got.push(e.data.toString());
      if (!appended) {
        appended = true;
        let more = '';
        for (let i = 0; i < 5000; i++) more += record('stdout', 'F', `later ${i}`, 2);
        await appendFile(path, more);
      }
    }
    assert.ok(!got.some((l) => l.startsWith('later')), `${got.length} lines, the last ${got.at(-1)}`);
    assert.equal(got.at(-1), 'line 4999\n');
    assert.equal(got.length, opts.tail === 1 ? 1 : 5000);
    await writeFile(path, text);
  }
});
