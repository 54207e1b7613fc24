// overlayfs mounts through mount(8)/umount(8).
import { run, ExecError } from '../exec/index.ts';
import { readFile } from 'node:fs/promises';
import type { Mounter } from '../../core/ports.ts';

export async function mountOverlay(opts: { lowerDirs: string[]; upper: string; work: string; target: string }): Promise<void> {
  // An image with no layers still needs a lowerdir; the caller passes an empty directory then.
  const options = `lowerdir=${opts.lowerDirs.join(':')},upperdir=${opts.upper},workdir=${opts.work}`;
  await run(['mount', '-t', 'overlay', 'overlay', '-o', options, opts.target]);
}

/** A read-only union of lowerDirs (top first) at target, with nothing to write to. */
export async function mountOverlayReadOnly(lowerDirs: string[], target: string): Promise<void> {
  await run(['mount', '-t', 'overlay', 'overlay', '-o', `ro,lowerdir=${lowerDirs.join(':')}`, target]);
}

/** A tmpfs at target (e.g. a shareable /dev/shm kept on the host). */
export async function mountTmpfs(target: string, options: string[]): Promise<void> {
  await run(['mount', '-t', 'tmpfs', '-o', options.join(','), 'tmpfs', target]);
}

export async function isMounted(target: string): Promise<boolean> {
  const mounts = await readFile('/proc/self/mountinfo', 'utf8');
  for (const line of mounts.split('\n')) {
    const f = line.split(' ');
    if (f[4] === target) return true;
  }
  return false;
}

/** Unmounts target; not mounted is fine. Falls back to a lazy unmount when busy. */
export async function unmount(target: string): Promise<void> {
  if (!(await isMounted(target))) return;
  try {
    await run(['umount', target]);
  } catch (err) {
    if (err instanceof ExecError && /not mounted/.test(err.stderr)) return;
    await run(['umount', '-l', target]);
  }
}

/** A file system of the given type at target (the local volume driver's options). */
export async function mountType(type: string, device: string, options: string | undefined, target: string): Promise<void> {
  await run(['mount', '-t', type, ...(options ? ['-o', options] : []), device, target]);
}

/** Mount points below dir, deepest first. */
export async function mountsUnder(dir: string): Promise<string[]> {
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  return mountinfo
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m): m is string => m !== undefined && m.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

/** The Mounter port on the host's mount(8) and umount(8). */
export const hostMounts: Mounter = {
  overlay: mountOverlay,
  overlayReadOnly: mountOverlayReadOnly,
  tmpfs: mountTmpfs,
  mount: mountType,
  isMounted,
  unmount,
  mountsUnder,
};
