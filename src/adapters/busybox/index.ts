// busybox: the applets a static busybox binary provides (for `berth bootstrap busybox`).
import { run } from '../exec/index.ts';

/** The applet names `busybox --list` prints, as they come. */
export async function listApplets(busybox: string, opts: { signal?: AbortSignal } = {}): Promise<string[]> {
  const listing = await run([busybox, '--list'], opts.signal ? { signal: opts.signal } : {});
  return listing.stdout.split('\n').map((s) => s.trim());
}
