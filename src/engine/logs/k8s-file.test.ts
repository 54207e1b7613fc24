import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRecord, parseTimestamp, formatTimestamp, secondsToNs, LineAssembler, MAX_ENTRY_BYTES, type LogRecord } from './k8s-file.ts';

test('parseTimestamp keeps nanoseconds and applies the offset', () => {
  const t = parseTimestamp('2026-11-23T08:02:18.348933627+01:30');
  assert.ok(t);
  assert.equal(t.time.toISOString(), '2026-11-23T06:32:18.348Z');
  assert.equal(t.ns, BigInt(Date.UTC(2026, 10, 23, 6, 32, 18) / 1000) * 1_000_000_000n + 348933627n);
  assert.equal(parseTimestamp('2026-01-01T00:00:00Z')?.ns, BigInt(Date.UTC(2026, 0, 1) / 1000) * 1_000_000_000n);
  assert.equal(parseTimestamp('2026-01-01T00:00:00.5-02:00')?.time.toISOString(), '2026-01-01T02:00:00.500Z');
  assert.equal(parseTimestamp('yesterday'), undefined);
  assert.equal(formatTimestamp('2026-11-23T08:02:18.348933627+01:30'), '2026-11-23T06:32:18.348933627Z');
  assert.equal(formatTimestamp('2026-11-23T08:02:18.3+00:00'), '2026-11-23T08:02:18.300000000Z');
  assert.equal(secondsToNs(1.5), 1_500_000_000n);
  assert.equal(secondsToNs(1700000000), 1_700_000_000_000_000_000n);
});

test('parseRecord reads conmon records and rejects malformed ones', () => {
  const r = parseRecord(Buffer.from('2026-11-23T08:02:18.348933627+00:00 stderr P can\'t fork'));
  assert.ok(r);
  assert.equal(r.stream, 'stderr');
  assert.equal(r.partial, true);
  assert.equal(r.data.toString(), "can't fork");
  assert.equal(r.timeNano, '2026-11-23T08:02:18.348933627+00:00');
  const empty = parseRecord(Buffer.from('2026-11-23T08:02:18.348933627+00:00 stdout F '));
  assert.equal(empty?.data.length, 0);
  assert.equal(empty?.partial, false);
  assert.equal(parseRecord(Buffer.from('2026-11-23T08:02:18.348933627+00:00 stdout F'))?.data.length, 0);
  assert.equal(parseRecord(Buffer.from('2026-11-23T08:02:18+00:00 stdout F  two spaces'))?.data.toString(), ' two spaces');
  for (const bad of ['', 'garbage', 'x stdout F a', '2026-11-23T08:02:18Z stdin F a', '2026-11-23T08:02:18Z stdout X a', '2026-11-23T08:02:18Z stdout Fa']) {
    assert.equal(parseRecord(Buffer.from(bad)), undefined, bad);
  }
});

function rec(stream: 'stdout' | 'stderr', tag: 'P' | 'F', data: string | Buffer, sec = 0): LogRecord {
  const r = parseRecord(Buffer.concat([Buffer.from(`2026-01-01T00:00:${String(sec).padStart(2, '0')}.000000001Z ${stream} ${tag} `), Buffer.from(data)]));
  assert.ok(r);
  return r;
}

test('LineAssembler joins P records per stream until F', () => {
  const a = new LineAssembler();
  assert.deepEqual(a.push(rec('stdout', 'P', 'sh: ', 1)), []);
  assert.deepEqual(a.push(rec('stderr', 'F', 'err line', 2)).map((e) => e.data.toString()), ['err line\n']);
  assert.deepEqual(a.push(rec('stdout', 'P', "can't fork", 3)), []);
  const [line] = a.push(rec('stdout', 'F', '', 4));
  assert.equal(line?.data.toString(), "sh: can't fork\n");
  assert.equal(line?.stream, 'stdout');
  assert.equal(line?.ends, true);
  assert.equal(line?.time.toISOString(), '2026-01-01T00:00:01.000Z', 'a line carries the time it began');
  assert.deepEqual(a.flush(), []);
});

test('LineAssembler flushes unfinished lines in the order they were last written', () => {
  const a = new LineAssembler();
  a.push(rec('stderr', 'P', 'e1'));
  a.push(rec('stdout', 'P', 'o1'));
  a.push(rec('stderr', 'P', 'e2'));
  assert.deepEqual(a.flush().map((e) => [e.stream, e.data.toString(), e.ends]), [
    ['stdout', 'o1', false],
    ['stderr', 'e1e2', false],
  ]);
  assert.deepEqual(a.flush(), []);
});

test('LineAssembler cuts long lines into 16 KiB pieces', () => {
  const a = new LineAssembler();
  const chunk = Buffer.alloc(8192);
  const pieces = [];
  let total = 0;
  for (let i = 0; i < 100; i++) {
    chunk.fill(97 + (i % 26));
    pieces.push(...a.push(rec('stdout', 'P', chunk)));
    total += chunk.length;
  }
  pieces.push(...a.push(rec('stdout', 'F', 'end')));
  total += 4;
  assert.ok(pieces.length >= 50);
  for (const p of pieces.slice(0, -1)) {
    assert.equal(p.data.length, MAX_ENTRY_BYTES);
    assert.equal(p.ends, false);
  }
  assert.equal(pieces.at(-1)?.ends, true);
  assert.equal(pieces.reduce((n, p) => n + p.data.length, 0), total);
  const joined = Buffer.concat(pieces.map((p) => p.data));
  assert.equal(joined.subarray(-4).toString(), 'end\n');
  assert.equal(joined[8192], 98);
});
