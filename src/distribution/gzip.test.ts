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
