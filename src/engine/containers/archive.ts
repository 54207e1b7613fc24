// The container archive API's rules (HEAD/GET/PUT /containers/{id}/archive): where a running or
// stopped container's files are reached, which destinations are writable, Docker's messages.
// All file access goes through adapters/rootfs, which resolves every path inside the root.
import { existsSync, fstatSync, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { BerthError, conflict, notFound } from '../../core/errors.ts';
import { RootFs, cleanPath, statPath, packPath, extractInto, type PathStat, type OwnerNames } from '../../adapters/rootfs/index.ts';
import { resolveUser, parsePasswd, parseGroup } from '../spec/user.ts';
import type { ContainerRecord, MountPoint } from './record.ts';

export type { PathStat };

export interface PutOptions {
  noOverwriteDirNonDir: boolean;
  copyUIDGID: boolean;
  signal?: AbortSignal;
}

/** passwd and group files are read up to this size for owner names. */
const MAX_ID_FILE = 1 << 20;

const canonical = (p: string): string => `/${cleanPath(p).join('/')}`;

/**
 * Host paths that stand in for a stopped container's mounts: volumes, bind mounts and the
 * hostname/hosts/resolv.conf files (tmpfs mounts have no content then).
 */
export function mountStandIns(rec: ContainerRecord): Map<string, string> {
  const out = new Map<string, string>();
  for (const [dest, src] of [
    ['/etc/resolv.conf', rec.ResolvConfPath],
    ['/etc/hostname', rec.HostnamePath],
    ['/etc/hosts', rec.HostsPath],
  ] as const) {
    if (src && existsSync(src)) out.set(dest, src);
  }
  for (const m of rec.berth.mounts ?? []) if (m.Type !== 'tmpfs' && m.Source) out.set(canonical(m.Destination), m.Source);
  return out;
}

/** The mount that holds path (the innermost), if any. */
function mountOf(rec: ContainerRecord, path: string): MountPoint | undefined {
  let best: MountPoint | undefined;
  let bestLen = -1;
  for (const m of rec.berth.mounts ?? []) {
    const d = canonical(m.Destination);
    if ((path === d || path.startsWith(d === '/' ? '/' : `${d}/`)) && d.length > bestLen) {
      best = m;
      bestLen = d.length;
    }
  }
  return best;
}

/** Docker's rule: a read-only mount, or a read-only rootfs outside any mount, refuses the copy. */
export function checkWritable(rec: ContainerRecord, path: string): void {
  const m = mountOf(rec, path);
  if (m) {
    if (!m.RW) throw new BerthError('Forbidden', 'mounted volume is marked read-only');
    return;
  }
  if (rec.HostConfig.ReadonlyRootfs) throw new BerthError('Forbidden', 'container rootfs is marked read-only');
}

/** Docker's wording for a missing path; other errors pass unchanged. */
export function fileNotFound(err: unknown, path: string, ref: string): unknown {
  if (err instanceof BerthError && err.kind === 'NotFound') return notFound(`Could not find the file ${path} in container ${ref}`, err);
  return err;
}

/** A container's files as the archive API sees them. */
export class ContainerFs {
  readonly #root: RootFs;
  readonly #rec: ContainerRecord;
  readonly #hostRootfs: string;

  /**
   * hostRoot is where the root is opened: /proc/<pid>/root for a running container (its own
   * view, with all its mounts), the overlay mount point for a stopped one, whose mounts then
   * come from mountStandIns.
   */
  constructor(rec: ContainerRecord, opts: { hostRoot: string; hostRootfs: string; running: boolean }) {
    this.#rec = rec;
    this.#hostRootfs = opts.hostRootfs;
    this.#root = RootFs.open(opts.hostRoot, opts.running ? {} : { mounts: mountStandIns(rec) });
    if (opts.running) {
      // A pid can be reused once the container is gone: the root must be the container's overlay.
      const got = fstatSync(this.#root.fd);
      let want: { dev: number; ino: number } | undefined;
      try {
        want = statSync(opts.hostRootfs);
      } catch {
        want = undefined;
      }
      if (!want || got.dev !== want.dev || got.ino !== want.ino) {
        this.#root.close();
        throw conflict(`Container ${rec.Id} is not running`);
      }
    }
  }

  close(): void {
    this.#root.close();
  }

  stat(path: string): PathStat {
    return statPath(this.#root, path);
  }

  /** The tar of path; the stream must be consumed (or destroyed) before close(). */
  pack(path: string): { stat: PathStat; stream: Readable } {
    return packPath(this.#root, path, { names: this.#ownerNames() });
  }

  /** uid and gid names as the container's files have them (tar(1) restores owners by name). */
  #ownerNames(): OwnerNames {
    const read = (p: string): string => {
      try {
        return this.#root.readFile(p, MAX_ID_FILE)?.toString('utf8') ?? '';
      } catch {
        return '';
      }
    };
    const users = new Map<number, string>();
    const groups = new Map<number, string>();
    for (const u of parsePasswd(read('/etc/passwd'))) if (!users.has(u.uid) && u.name) users.set(u.uid, u.name);
    for (const g of parseGroup(read('/etc/group'))) if (!groups.has(g.gid) && g.name) groups.set(g.gid, g.name);
    return { users, groups };
  }

  async extract(path: string, body: NodeJS.ReadableStream, opts: PutOptions): Promise<void> {
    const dest = this.#root.resolve(path, { followFinal: true });
    const where = dest.path;
    dest.close();
    checkWritable(this.#rec, where);
    let chown: { uid: number; gid: number } | undefined;
    if (opts.copyUIDGID && this.#rec.Config.User) {
      // Looked up in the image's passwd and group files, read inside the root (never through NSS).
      const u = await resolveUser(this.#hostRootfs, this.#rec.Config.User);
      chown = { uid: u.uid, gid: u.gid };
    }
    await extractInto(this.#root, where, body, {
      noOverwriteDirNonDir: opts.noOverwriteDirNonDir,
      ...(chown ? { chown } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  }
}
