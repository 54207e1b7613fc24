import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectSeqpacket } from './index.ts';

const require = createRequire(import.meta.url);

interface Peer {
  write(b: Buffer, offset: number, length: number, cb?: () => void): void;
  on(ev: 'data', fn: (b: Buffer) => void): void;
  on(ev: 'end', fn: () => void): void;
  destroy(): void;
}
interface Server {
  listen(path: string): void;
  on(ev: 'connection', fn: (s: Peer) => void): void;
  close(): void;
}
const { SeqpacketServer } = require('node-unix-socket') as { SeqpacketServer: new () => Server };

for (const fallback of [false, true]) {
  test(`${fallback ? 'node-unix-socket fallback' : 'libuv pipe'}: one data event per packet both ways, input end, and ${fallback ? 'no' : 'real'} pause`, async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-seq-'));
    const server = new SeqpacketServer();
    t.after(async () => {
      server.close();
      await rm(dir, { recursive: true, force: true });
    });
    const path = join(dir, 'attach');
    server.listen(path);
    const peer = new Promise<Peer>((resolve) => server.on('connection', resolve));
    const conn = await connectSeqpacket(path, 2000, { fallback });
    const p = await peer;
    assert.equal(conn.flowControl, !fallback);
    // Server → client: packets arrive whole and separate, however fast they come.
    const got: string[] = [];
    conn.onPacket((pkt) => got.push(pkt.toString()));
    for (const m of ['a', 'bb', 'ccc']) p.write(Buffer.from(m), 0, m.length);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(got, ['a', 'bb', 'ccc']);
    // Client → server: one packet per write, in order, then the end.
    const heard: string[] = [];
    let ended = false;
    p.on('data', (b) => heard.push(b.toString()));
    p.on('end', () => (ended = true));
    const big = Buffer.alloc(32 * 1024, 0x78);
    for (const b of [Buffer.from('one'), big, Buffer.from('two')]) conn.write(b);
    conn.end();
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(heard.map((h) => (h.length > 10 ? `x${h.length}` : h)), ['one', `x${big.length}`, 'two']);
    assert.ok(ended, 'the server saw the end of input');
    // Paused, nothing is delivered until resumed (the fallback cannot pause: it goes on).
    conn.pause();
    p.write(Buffer.from('later'), 0, 5);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(got.includes('later'), fallback);
    conn.resume();
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(got.includes('later'));
    conn.destroy();
    p.destroy();
  });
}
