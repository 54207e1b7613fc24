// Security case 35: the API socket is 0660 from the moment it exists. An unprivileged client
// hammering the socket path while berthd starts must only ever be refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, chmodSync, writeFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot, startDaemon, ROOT } from '../helpers/daemon.ts';

const skip = !isRoot ? 'integration tests need root' : false;

test('an unprivileged client connecting in a loop during startup only ever gets EACCES (case 35)', { skip }, async () => {
  const dir = mkdtempSync('/tmp/berth-sockrace-');
  chmodSync(dir, 0o755);
  const sock = join(dir, 'api.sock');
  const script = join(dir, 'probe.cjs');
  writeFileSync(
    script,
    `const net = require('node:net');
const deadline = Date.now() + Number(process.argv[3]);
const seen = {};
(function attempt() {
  if (Date.now() > deadline) { process.stdout.write(JSON.stringify(seen)); return; }
  const s = net.connect(process.argv[2]);
  s.on('connect', () => { seen.connected = (seen.connected || 0) + 1; s.destroy(); setImmediate(attempt); });
  s.on('error', (e) => { seen[e.code] = (seen[e.code] || 0) + 1; setImmediate(attempt); });
})();`,
  );
  chmodSync(script, 0o644);
  const probe = spawn(join(ROOT, '.tools/bin/node'), [script, sock, '4000'], { uid: 1000, gid: 1000, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  probe.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((r) => probe.once('exit', r));
  await new Promise((r) => setTimeout(r, 300));
  // With umask 0 a socket made without care would be 0777 and the probe would get in.
  const oldUmask = process.umask(0);
  let d: Awaited<ReturnType<typeof startDaemon>>;
  try {
    d = await startDaemon({ extraArgs: ['-H', `unix://${sock}`] });
  } finally {
    process.umask(oldUmask);
  }
  try {
    assert.equal(statSync(sock).mode & 0o777, 0o660);
    assert.equal(await exited, 0);
    const seen = JSON.parse(out) as Record<string, number>;
    assert.equal(seen.connected, undefined, `an unprivileged client got in: ${out}`);
    assert.ok((seen.EACCES ?? 0) > 0, `the probe never saw the socket: ${out}`);
  } finally {
    await d.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});
