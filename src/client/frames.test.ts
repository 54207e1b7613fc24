import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { demultiplex, encodeFrame, FrameDecoder } from './frames.ts';

test('encodeFrame writes the 8-byte header', () => {
  assert.deepEqual([...encodeFrame(2, 'hi')], [2, 0, 0, 0, 0, 0, 0, 2, 104, 105]);
});

test('the decoder reassembles frames split at any byte', () => {
  const wire = Buffer.concat([encodeFrame(1, 'hello '), encodeFrame(2, 'err'), encodeFrame(1, ''), encodeFrame(1, 'world')]);
  for (let split = 1; split <= wire.length; split++) {
    const d = new FrameDecoder();
    const frames = [];
    for (let i = 0; i < wire.length; i += split) frames.push(...d.push(wire.subarray(i, i + split)));
    assert.deepEqual(
      frames.map((f) => [f.stream, f.data.toString()]),
      [[1, 'hello '], [2, 'err'], [1, ''], [1, 'world']],
      `split ${split}`,
    );
    assert.equal(d.buffered, 0);
  }
});

test('an incomplete frame stays buffered', () => {
  const d = new FrameDecoder();
  assert.deepEqual(d.push(encodeFrame(1, 'abcdef').subarray(0, 10)), []);
  assert.equal(d.buffered, 10);
});

test('demultiplex routes stdout and stderr and returns the daemon error stream', async () => {
  const out = new PassThrough();
  const err = new PassThrough();
  const got = { out: '', err: '' };
  out.on('data', (c: Buffer) => (got.out += c.toString()));
  err.on('data', (c: Buffer) => (got.err += c.toString()));
  const wire = Buffer.concat([encodeFrame(1, 'a'), encodeFrame(2, 'b'), encodeFrame(3, 'boom'), encodeFrame(1, 'c')]);
  const sysErr = await demultiplex(Readable.from([wire.subarray(0, 5), wire.subarray(5)]), { stdout: out, stderr: err });
  assert.equal(got.out, 'ac');
  assert.equal(got.err, 'b');
  assert.equal(sysErr, 'boom');
});
