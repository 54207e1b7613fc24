import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { parallelGzip, storedMember } from './gzip.ts';

async function gz(parts: Buffer[]): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of parallelGzip((async function* () { yield* parts; })())) out.push(c);
  return Buffer.concat(out);
}

test('parallel gzip output is ordinary gzip, deterministic, and stores what does not compress', async () => {
  const random = randomBytes(3 * 1024 * 1024 + 17);
  const text = Buffer.from('berth layers compress well when they are text\n'.repeat(70_000));
  const input = [random.subarray(0, 100), random.subarray(100), text, Buffer.alloc(0), text.subarray(0, 5)];
  const whole = Buffer.concat(input);
  const a = await gz(input);
  assert.ok(gunzipSync(a).equals(whole));
  assert.ok(a.length < random.length + text.length / 5, 'text compressed, random stored without growing much');
  // Chunking of the input does not change the output.
  const b = await gz([whole]);
  assert.ok(a.equals(b));
  assert.ok(gunzipSync(await gz([])).equals(Buffer.alloc(0)));
  assert.ok(gunzipSync(storedMember(Buffer.alloc(0))).equals(Buffer.alloc(0)));
  assert.ok(gunzipSync(storedMember(random)).equals(random));
});

test('pieces are stored by the entropy of their bytes: random and compressed data are, text, zeros and programs are not', async () => {
  const { incompressible } = await import('./gzip.ts');
  const { gzipSync } = await import('node:zlib');
  const { readFileSync } = await import('node:fs');
  assert.equal(incompressible(randomBytes(64 * 1024)), true);
  assert.equal(incompressible(gzipSync(randomBytes(200_000)).subarray(0, 64 * 1024)), true);
  assert.equal(incompressible(Buffer.from('a line of text, compressible\n'.repeat(3000))), false);
  assert.equal(incompressible(Buffer.alloc(64 * 1024)), false);
  const exe = readFileSync(process.execPath);
  assert.equal(incompressible(exe.subarray(exe.length >> 1, (exe.length >> 1) + 64 * 1024)), false);
  // Smaller than a sample: never stored.
  assert.equal(incompressible(randomBytes(100)), false);
});

test('a segment mixing random and text pieces stores the random runs and deflates the text', async () => {
  const parts: Buffer[] = [];
  for (let i = 0; i < 8; i++) parts.push(i % 2 === 0 ? Buffer.from('text that compresses\n'.repeat(15_000)) : randomBytes(200_000 + i));
  const whole = Buffer.concat(parts);
  const out = await gz(parts);
  assert.ok(gunzipSync(out).equals(whole));
  const randomIn = parts.filter((_, i) => i % 2 === 1).reduce((n, p) => n + p.length, 0);
  const textIn = whole.length - randomIn;
  assert.ok(out.length < randomIn * 1.01 + textIn / 4, `text pieces deflated (${out.length} bytes out)`);
  assert.ok((await gz([whole])).equals(out), 'deterministic');
});
