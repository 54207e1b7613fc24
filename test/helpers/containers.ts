// Container helpers for integration tests, over the Engine API.
import { before, after } from 'node:test';
import { api, startDaemon, type TestDaemon } from './daemon.ts';

export async function bootstrap(d: TestDaemon): Promise<string> {
  const r = await api(d, 'POST', '/berth/bootstrap/busybox?tag=busybox:latest');
  if (r.status !== 200) throw new Error(`bootstrap failed: ${r.status} ${r.text()}\n${d.log()}`);
  return r.json<{ Id: string }>().Id;
}

/** Splits a multiplexed stream into stdout and stderr text. */
export function demux(buf: Buffer): { stdout: string; stderr: string } {
  let stdout = '';
  let stderr = '';
  let off = 0;
  while (off + 8 <= buf.length) {
    const kind = buf[off]!;
    const len = buf.readUInt32BE(off + 4);
    const data = buf.subarray(off + 8, off + 8 + len).toString();
    if (kind === 2) stderr += data;
    else stdout += data;
    off += 8 + len;
  }
  return { stdout, stderr };
}

export async function create(d: TestDaemon, body: Record<string, unknown>, name?: string): Promise<string> {
  const r = await api(d, 'POST', `/containers/create${name ? `?name=${name}` : ''}`, { Image: 'busybox', ...body });
  if (r.status !== 201) throw new Error(`create failed: ${r.status} ${r.text()}`);
  return r.json<{ Id: string }>().Id;
}

/** create + start + wait + logs: the result of a finished container. */
export async function runToExit(d: TestDaemon, body: Record<string, unknown>, name?: string): Promise<{ id: string; code: number; stdout: string; stderr: string }> {
  const id = await create(d, body, name);
  const waiting = api(d, 'POST', `/containers/${id}/wait?condition=next-exit`);
  await new Promise((r) => setTimeout(r, 20));
  const s = await api(d, 'POST', `/containers/${id}/start`);
  if (s.status !== 204) throw new Error(`start failed: ${s.status} ${s.text()}`);
  const w = await waiting;
  const code = w.json<{ StatusCode: number }>().StatusCode;
  const logs = await api(d, 'GET', `/containers/${id}/logs?stdout=1&stderr=1`);
  return { id, code, ...demux(logs.body) };
}

export async function inspect(d: TestDaemon, id: string): Promise<any> {
  const r = await api(d, 'GET', `/containers/${id}/json`);
  if (r.status !== 200) throw new Error(`inspect failed: ${r.status} ${r.text()}`);
  return r.json();
}

export async function waitFor(pred: () => Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await pred()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * Registers the usual file-level hooks: a throwaway daemon with busybox bootstrapped before the
 * tests, and its cleanup (which fails the file if it leaked network objects) after them.
 */
export function useDaemon(skip: string | false, onReady: (d: TestDaemon) => void, opts: { extraArgs?: string[] } = {}): void {
  let daemon: TestDaemon | undefined;
  before(async () => {
    if (skip) return;
    daemon = await startDaemon(opts);
    await bootstrap(daemon);
    onReady(daemon);
  });
  after(async () => {
    if (daemon) await daemon.cleanup();
  });
}
