import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ApiError, Client, DaemonUnreachableError } from './index.ts';

const dir = mkdtempSync(join(tmpdir(), 'berth-client-'));
const sock = join(dir, 'api.sock');
const seen: Array<{ method: string; url: string; body: string; headers: http.IncomingHttpHeaders }> = [];

const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString()));
  req.on('end', () => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', body, headers: req.headers });
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/json') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ ok: true, echo: body }));
    } else if (url.pathname === '/missing') {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ message: 'No such container: x' }));
    } else if (url.pathname === '/plain-error') {
      res.writeHead(500);
      res.end('broken\n');
    } else if (url.pathname === '/lines') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{"a":1}\n{"b"');
      setTimeout(() => res.end(':2}\n\n{"c":3}'), 10);
    } else {
      res.writeHead(204);
      res.end();
    }
  });
});
server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket) => {
  seen.push({ method: req.method ?? '', url: req.url ?? '', body: '', headers: req.headers });
  if (req.url === '/raw200') {
    // A daemon that ignores the upgrade: 200, then raw bytes until it closes the connection.
    socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\nhello ');
    socket.once('data', (d: Buffer) => socket.end(`echo:${d.toString()}`));
    return;
  }
  socket.write('HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\nfirst;');
  let got = '';
  socket.on('data', (d: Buffer) => (got += d.toString()));
  socket.on('end', () => socket.end(`got:${got}`));
});
await new Promise<void>((resolve) => server.listen(sock, resolve));
after(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

const client = new Client({ host: `unix://${sock}` });
after(() => client.close());

test('json() sends a JSON body and encodes the query', async () => {
  const res = await client.json<{ ok: boolean; echo: string }>('POST', '/json', {
    query: { a: 'x y', b: true, c: 0, skip: undefined, f: { status: { running: true } }, list: ['1', '2'] },
    body: { Image: 'busybox' },
  });
  assert.deepEqual(res, { ok: true, echo: '{"Image":"busybox"}' });
  const req = seen.at(-1)!;
  assert.equal(req.url, '/json?a=x+y&b=1&c=0&f=%7B%22status%22%3A%7B%22running%22%3Atrue%7D%7D&list=1&list=2');
  assert.equal(req.headers['content-type'], 'application/json');
});

test('a stream body is sent as is', async () => {
  await client.json('POST', '/json', { body: Readable.from([Buffer.from('tar'), Buffer.from('ball')]) });
  assert.equal(seen.at(-1)!.body, 'tarball');
  assert.equal(seen.at(-1)!.headers['content-type'], 'application/x-tar');
});

test('error statuses become ApiError with the daemon message', async () => {
  await assert.rejects(client.request('GET', '/missing'), (e: unknown) => e instanceof ApiError && e.status === 404 && e.message === 'No such container: x');
  await assert.rejects(client.request('GET', '/plain-error'), (e: unknown) => e instanceof ApiError && e.status === 500 && e.message === 'broken');
  assert.equal(await client.call('POST', '/nothing'), 204);
  assert.equal(await client.json('POST', '/nothing'), null);
});

test('apiVersion prefixes paths', async () => {
  const v = new Client({ host: `unix://${sock}`, apiVersion: '1.44' });
  await v.call('GET', '/nothing');
  v.close();
  assert.equal(seen.at(-1)!.url, '/v1.44/nothing');
});

test('streamJsonLines yields each object across chunk boundaries', async () => {
  const items: unknown[] = [];
  for await (const x of client.streamJsonLines('/lines')) items.push(x);
  assert.deepEqual(items, [{ a: 1 }, { b: 2 }, { c: 3 }]);
});

test('hijack upgrades, keeps bytes sent with the 101, and half-closes on end()', async () => {
  const stream = await client.hijack('/containers/x/attach', { stream: 1, stdout: 1 }, { stdin: true });
  const req = seen.at(-1)!;
  assert.equal(req.url, '/containers/x/attach?stream=1&stdout=1&stdin=1');
  assert.equal(req.headers['upgrade'], 'tcp');
  assert.equal(req.headers['connection'], 'Upgrade');
  let got = '';
  stream.on('data', (d: Buffer) => (got += d.toString()));
  stream.end('input');
  await new Promise((resolve) => stream.on('end', resolve));
  assert.equal(got, 'first;got:input');
});

test('hijack accepts a daemon answering 200 with a raw stream', async () => {
  const stream = await client.hijack('/raw200', {}, { body: { Detach: false, Tty: true } });
  let got = '';
  stream.on('data', (d: Buffer) => (got += d.toString()));
  stream.write('ping');
  await new Promise((resolve) => stream.on('end', resolve));
  assert.equal(got, 'hello echo:ping');
});

test('an absent daemon is DaemonUnreachableError with berth wording', async () => {
  const c = new Client({ host: `unix://${join(dir, 'nope.sock')}` });
  await assert.rejects(c.request('GET', '/_ping'), (e: unknown) => e instanceof DaemonUnreachableError && /Cannot connect to the berth daemon at unix:\/\/.*nope\.sock\. Is berthd running\?/.test(e.message));
  await assert.rejects(c.hijack('/x'), DaemonUnreachableError);
  const t = new Client({ host: 'tcp://127.0.0.1:1' });
  await assert.rejects(t.request('GET', '/_ping'), DaemonUnreachableError);
});
