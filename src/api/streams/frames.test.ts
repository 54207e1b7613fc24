import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeFrame, FrameDecoder, type Frame } from './frames.ts';
import { BerthError } from '../../core/errors.ts';

test('encodeFrame writes the stdcopy header', () => {
  const f = encodeFrame(2, Buffer.from('hello'));
  assert.deepEqual([...f.subarray(0, 8)], [2, 0, 0, 0, 0, 0, 0, 5]);
  assert.equal(f.subarray(8).toString(), 'hello');
  const big = encodeFrame(1, Buffer.alloc(0x01020304 & 0xffff, 7));
  assert.equal(big.readUInt32BE(4), 0x0304);
  assert.deepEqual([...encodeFrame(3, Buffer.alloc(0))], [3, 0, 0, 0, 0, 0, 0, 0]);
});

const sample: Frame[] = [
  { stream: 1, data: Buffer.from('out line\n') },
  { stream: 2, data: Buffer.from('e') },
  { stream: 0, data: Buffer.from([0, 1, 2, 255, 8, 0, 0, 0]) },
  { stream: 3, data: Buffer.from('system error') },
  { stream: 1, data: Buffer.alloc(300, 0x61) },
];
const wire = Buffer.concat([
  ...sample.slice(0, 2).map((f) => encodeFrame(f.stream, f.data)),
  encodeFrame(1, Buffer.alloc(0)), // empty frames are dropped
  ...sample.slice(2).map((f) => encodeFrame(f.stream, f.data)),
]);

function norm(frames: Frame[]): Array<[number, string]> {
  return frames.map((f) => [f.stream, f.data.toString('hex')]);
}

test('decodes whole input at once', () => {
  const d = new FrameDecoder();
  assert.deepEqual(norm(d.push(wire)), norm(sample));
  assert.equal(d.idle, true);
  d.end();
});

test('decodes with the input split at every byte position', () => {
  for (let i = 0; i <= wire.length; i++) {
    const d = new FrameDecoder();
    const got = [...d.push(wire.subarray(0, i)), ...d.push(wire.subarray(i))];
    assert.deepEqual(norm(got), norm(sample), `split at ${i}`);
    d.end();
  }
});

test('decodes with the input split at every pair of positions', () => {
  const small = Buffer.concat(sample.slice(0, 4).map((f) => encodeFrame(f.stream, f.data)));
  for (let i = 0; i <= small.length; i++) {
    for (let j = i; j <= small.length; j++) {
      const d = new FrameDecoder();
      const got = [...d.push(small.subarray(0, i)), ...d.push(small.subarray(i, j)), ...d.push(small.subarray(j))];
      assert.deepEqual(norm(got), norm(sample.slice(0, 4)), `split at ${i},${j}`);
    }
  }
});

test('decodes byte by byte', () => {
  const d = new FrameDecoder();
  const got: Frame[] = [];
  const boundaries = new Set<number>();
  let off = 0;
  for (const len of [9, 1, 0, 8, 12, 300]) boundaries.add((off += 8 + len));
  for (let i = 0; i < wire.length; i++) {
    got.push(...d.push(wire.subarray(i, i + 1)));
    assert.equal(d.idle, boundaries.has(i + 1), `idle after byte ${i}`);
  }
  assert.deepEqual(norm(got), norm(sample));
});

test('decoded data does not alias the caller buffer', () => {
  const d = new FrameDecoder();
  const buf = Buffer.from(encodeFrame(1, Buffer.from('abc')));
  const [f] = d.push(buf);
  buf.fill(0);
  assert.equal(f?.data.toString(), 'abc');
});

test('end inside a frame and unknown stream bytes are errors', () => {
  const d = new FrameDecoder();
  d.push(wire.subarray(0, 10));
  assert.equal(d.idle, false);
  assert.throws(() => d.end(), BerthError);
  const h = new FrameDecoder();
  h.push(wire.subarray(0, 3));
  assert.throws(() => h.end(), /unexpected end/);
  assert.throws(() => new FrameDecoder().push(Buffer.from([4, 0, 0, 0, 0, 0, 0, 1, 0x41])), /Unrecognized input header: 4/);
});
