// One writer per registry root: `registry serve` and `registry gc` hold <root>/registry.lock (a
// pid file, stale once its process is gone). gc must not sweep while a server takes pushes, but
// may run beside a --read-only server, as with the reference registry.
import { mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface LockHolder {
  pid: number;
  readOnly: boolean;
}

export class RootLockedError extends Error {
  readonly holder: LockHolder;
  constructor(root: string, holder: LockHolder) {
    super(`registry root ${root} is in use by pid ${holder.pid}${holder.readOnly ? ' (read-only)' : ''}`);
    this.name = 'RootLockedError';
    this.holder = holder;
  }
}

async function holderOf(path: string): Promise<LockHolder | undefined> {
  let rec: Partial<LockHolder>;
  try {
    rec = JSON.parse(await readFile(path, 'utf8')) as Partial<LockHolder>;
  } catch {
    return undefined;
  }
  const pid = Number(rec.pid);
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid) return undefined;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return undefined;
  }
  return { pid, readOnly: rec.readOnly === true };
}

/** Takes the root's lock; throws RootLockedError while a live process holds it. Returns the release. */
export async function lockRoot(root: string, opts: { readOnly?: boolean } = {}): Promise<() => Promise<void>> {
  await mkdir(root, { recursive: true, mode: 0o755 });
  const path = join(root, 'registry.lock');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await writeFile(path, `${JSON.stringify({ pid: process.pid, readOnly: opts.readOnly ?? false })}\n`, { flag: 'wx', mode: 0o644 });
      return async () => {
        await unlink(path).catch(() => {});
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = await holderOf(path);
      if (holder) throw new RootLockedError(root, holder);
      await unlink(path).catch(() => {});
    }
  }
  throw new Error(`could not lock the registry root ${root}`);
}
