// overlayfs and tmpfs mounts: mount(2)/umount2(2) directly when they can be called from node
// (../syscalls), else mount(8)/umount(8). Other file systems (a local volume's `type=nfs`, …)
// always go through mount(8), which knows their helpers and option syntax.
import { run, ExecError } from '../exec/index.ts';
import { readFile, realpath } from 'node:fs/promises';
import type { Mounter } from '../../core/ports.ts';
import { MNT_DETACH, SyscallError, splitOptions, syscallsAvailable, sysMount, sysUmount, sysUmountAsync } from '../syscalls/index.ts';

/** Mounts fstype at target with mount(8)-style options, by the system call when it can. */
async function mountFs(fstype: string, source: string, options: string[], target: string): Promise<void> {
  const split = syscallsAvailable() ? splitOptions(options) : undefined;
  if (split) {
    try {
      sysMount(source, target, fstype, split.flags, split.data || null);
      return;
    } catch (err) {
      // ENOENT said as mount(8) says it: the one a user can act on.
      if ((err as SyscallError).code === 'ENOENT') throw new Error(`mount ${fstype} on ${target}: mount point does not exist`, { cause: err });
      throw err;
    }
  }
  await run(['mount', '-t', fstype, ...(options.length > 0 ? ['-o', options.join(',')] : []), source, target]);
}

export interface OverlayOptions {
  lowerDirs: string[];
  upper: string;
  work: string;
  target: string;
  /**
   * For a container whose files go when it ends (`--rm`): overlayfs's `volatile` (Linux 5.10+)
   * never syncs the upper directory, so the unmount does not sync the whole file system under
   * it (~1 ms idle, 100+ ms under write load). A kernel without it mounts the usual way.
   */
  volatile?: boolean;
}

export async function mountOverlay(opts: OverlayOptions): Promise<void> {
  // An image with no layers still needs a lowerdir; the caller passes an empty directory then.
  const options = [`lowerdir=${opts.lowerDirs.join(':')}`, `upperdir=${opts.upper}`, `workdir=${opts.work}`];
  if (opts.volatile) {
    try {
      await mountFs('overlay', 'overlay', [...options, 'volatile'], opts.target);
      return;
    } catch {
      // an older kernel: the usual mount below
    }
  }
  await mountFs('overlay', 'overlay', options, opts.target);
}

/** A read-only union of lowerDirs (top first) at target, with nothing to write to. */
export async function mountOverlayReadOnly(lowerDirs: string[], target: string): Promise<void> {
  await mountFs('overlay', 'overlay', ['ro', `lowerdir=${lowerDirs.join(':')}`], target);
}

/** A tmpfs at target (e.g. a shareable /dev/shm kept on the host). */
export async function mountTmpfs(target: string, options: string[]): Promise<void> {
  await mountFs('tmpfs', 'tmpfs', options, target);
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
  if (syscallsAvailable()) {
    if ((await sysUmountAsync(target)) === 0) return;
    // Not mounted (EINVAL) or not there (ENOENT) is done; still mounted means busy.
    if (!(await isMounted(target))) return;
    try {
      sysUmount(target, MNT_DETACH);
    } catch (err) {
      const code = (err as SyscallError).code;
      if (code !== 'EINVAL' && code !== 'ENOENT') throw err;
    }
    return;
  }
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

/** Pure: the mount point of mountinfo text that holds `path` (a real path), and its propagation. */
export function propagationIn(mountinfo: string, path: string): { mountPoint: string; shared: boolean; slave: boolean } {
  let best: { mountPoint: string; shared: boolean; slave: boolean } = { mountPoint: '/', shared: false, slave: false };
  let bestLen = -1;
  for (const line of mountinfo.split('\n')) {
    const f = line.split(' ');
    const mp = f[4]?.replace(/\\040/g, ' ');
    if (mp === undefined) continue;
    const holds = mp === '/' || path === mp || path.startsWith(`${mp}/`);
    // The last of equal mount points is the one on top.
    if (!holds || mp.length < bestLen) continue;
    const sep = f.indexOf('-', 6);
    const optional = f.slice(6, sep < 0 ? undefined : sep);
    best = { mountPoint: mp, shared: optional.some((o) => o.startsWith('shared:')), slave: optional.some((o) => o.startsWith('master:')) };
    bestLen = mp.length;
  }
  return best;
}

export async function propagationOf(path: string): Promise<{ mountPoint: string; shared: boolean; slave: boolean }> {
  const real = await realpath(path).catch(() => path);
  return propagationIn(await readFile('/proc/self/mountinfo', 'utf8'), real);
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
  propagationOf,
};
