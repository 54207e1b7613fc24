// A container's filesystem as a whole: commit (its changes as a new image layer), export (the
// flattened root filesystem as a tar) and diff (the changes against its image).
import { byteOrder } from '../../core/order.ts';
import { lstatSync, type BigIntStats } from 'node:fs';
import { lstat, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { conflict } from '../../core/errors.ts';
import { createTar } from '../../adapters/tar/index.ts';
import type { Mounter } from '../../core/ports.ts';
import { applyChanges, type ImageRecord, type ImageStore } from '../../stores/images.ts';
import type { ImageRuntimeConfig } from '../../core/types.ts';
import type { ContainerRecord } from './record.ts';
import { isActive } from './state.ts';

/** What berth bind-mounts onto in every container: empty stubs of these in the upper layer are its own. */
const MOUNT_STUBS: ReadonlySet<string> = new Set(['etc/hostname', 'etc/hosts', 'etc/resolv.conf']);

export interface FilesHost {
  images: ImageStore;
  mounts: Mounter;
  dir(id: string): string;
  rootfs(id: string): string;
  pause(id: string): Promise<void>;
  unpause(id: string): Promise<void>;
}

export interface CommitOptions {
  ref?: string;
  comment?: string;
  author?: string;
  pause: boolean;
  changes: string[];
  /** Container config fields that override the committed image's config (the request body). */
  config?: ImageRuntimeConfig;
  /** The history entry's created_by (a build step), instead of the comment. */
  createdBy?: string;
  /** Use exactly this runtime config (a build step), ignoring the container's settings. */
  exactConfig?: boolean;
}

/** The container settings Docker keeps in a committed image. */
function runtimeConfigOf(rec: ContainerRecord): ImageRuntimeConfig {
  const c = rec.Config;
  const out: ImageRuntimeConfig = { Env: c.Env, Cmd: c.Cmd, Entrypoint: c.Entrypoint, WorkingDir: c.WorkingDir, User: c.User, Labels: c.Labels };
  if (c.ExposedPorts) out.ExposedPorts = c.ExposedPorts;
  if (c.Volumes) out.Volumes = c.Volumes;
  if (c.StopSignal) out.StopSignal = c.StopSignal;
  if (c.Healthcheck) out.Healthcheck = c.Healthcheck;
  return out;
}

export class ContainerFiles {
  readonly #h: FilesHost;
  constructor(host: FilesHost) {
    this.#h = host;
  }

  /** The container's upper directory as one new layer on top of its image. */
  async commit(rec: ContainerRecord, opts: CommitOptions): Promise<ImageRecord> {
    const image = this.#h.images.get(rec.Image);
    const running = rec.State.Status === 'running';
    if (rec.State.Status === 'removing' || rec.berth.removing) throw conflict(`container ${rec.Id} is being removed`);
    if (opts.pause && running) await this.#h.pause(rec.Id);
    try {
      let runtime: ImageRuntimeConfig = opts.exactConfig ? { ...(opts.config ?? {}) } : { ...(image.config.config ?? {}), ...runtimeConfigOf(rec), ...(opts.config ?? {}) };
      if (opts.changes.length > 0) runtime = applyChanges(runtime, opts.changes);
      const created = new Date().toISOString();
      // As Docker: a commit's history names the container's command (a build step its own).
      const history = [...(image.config.history ?? []), { created, created_by: opts.createdBy ?? (rec.Config.Cmd ?? []).join(' '), ...(opts.author ? { author: opts.author } : {}), ...(opts.comment ? { comment: opts.comment } : {}) }];
      // The empty files the runtime made to bind hostname, hosts and resolv.conf onto are not
      // changes, nor the directory copied up to hold them while its owner and mode are the image's.
      const lowers = this.#h.images.lowerDirs(rec.Image);
      const unchangedDir = (rel: string, st: BigIntStats): boolean => {
        for (const l of lowers) {
          const below = lstatSync(join(l, rel), { bigint: true, throwIfNoEntry: false });
          if (below === undefined) continue;
          return below.isDirectory() && below.mode === st.mode && below.uid === st.uid && below.gid === st.gid;
        }
        return false;
      };
      const layer = createTar(join(this.#h.dir(rec.Id), 'upper'), { aufsWhiteouts: true, skipEmptyFiles: MOUNT_STUBS, unchangedDir });
      // The commit message is the new image's comment (inspect's .Comment); the parent's is not inherited.
      const { rootfs: _parentLayers, comment: _parentComment, ...parentConfig } = image.config;
      return await this.#h.images.createImage({
        layerTars: [layer],
        dropEmptyLayer: true,
        parent: image.id,
        config: { ...parentConfig, created, config: runtime, history, ...(opts.author ? { author: opts.author } : {}), ...(opts.comment ? { comment: opts.comment } : {}) },
        ...(opts.ref ? { ref: opts.ref } : {}),
      });
    } finally {
      if (opts.pause && running) await this.#h.unpause(rec.Id).catch(() => {});
    }
  }

  /** The whole root filesystem as a tar; a stopped container's is mounted for the copy. */
  async export(rec: ContainerRecord): Promise<{ stream: Readable; done: () => Promise<void> }> {
    const unmountLater = await this.mountRootfs(rec);
    return { stream: createTar(this.#h.rootfs(rec.Id)), done: unmountLater };
  }

  /**
   * Makes sure the container's root filesystem is mounted at rootfs(id): a stopped container's is
   * mounted here, and the returned function unmounts it again. The caller holds the container's lock.
   */
  async mountRootfs(rec: ContainerRecord): Promise<() => Promise<void>> {
    const rootfs = this.#h.rootfs(rec.Id);
    const mounts = this.#h.mounts;
    if (isActive(rec.State.Status) && (await mounts.isMounted(rootfs))) return async () => {};
    const lower = this.#h.images.lowerDirs(rec.Image);
    const dir = this.#h.dir(rec.Id);
    if (lower.length === 0) {
      const empty = join(dir, 'empty');
      await mkdir(empty, { recursive: true });
      lower.push(empty);
    }
    await mounts.unmount(rootfs);
    await mounts.overlay({ lowerDirs: lower, upper: join(dir, 'upper'), work: join(dir, 'work'), target: rootfs });
    return async () => {
      if (!isActive(rec.State.Status)) await mounts.unmount(rootfs).catch(() => {});
    };
  }

  /** Docker's changes: Kind 0 modified, 1 added, 2 deleted, from the upper directory. */
  async changes(rec: ContainerRecord): Promise<Array<{ Path: string; Kind: 0 | 1 | 2 }>> {
    const upper = join(this.#h.dir(rec.Id), 'upper');
    const lowers = this.#h.images.lowerDirs(rec.Image);
    const out: Array<{ Path: string; Kind: 0 | 1 | 2 }> = [];
    const inLower = async (rel: string): Promise<boolean> => {
      for (const l of lowers) if (await lstat(join(l, rel)).then(() => true, () => false)) return true;
      return false;
    };
    const walk = async (rel: string): Promise<void> => {
      const entries = await readdir(join(upper, rel), { withFileTypes: true }).catch(() => []);
      for (const e of entries.sort((a, b) => byteOrder(a.name, b.name))) {
        const path = `${rel}/${e.name}`;
        const st = await lstat(join(upper, path));
        if (st.isCharacterDevice() && st.rdev === 0) {
          out.push({ Path: path, Kind: 2 });
          continue;
        }
        out.push({ Path: path, Kind: (await inLower(path)) ? 0 : 1 });
        if (e.isDirectory()) await walk(path);
      }
    };
    await walk('');
    // berth's bind-mount targets for hostname, hosts and resolv.conf are not the user's changes.
    const mountPoints = new Set([...MOUNT_STUBS].map((p) => `/${p}`));
    const own = await Promise.all(out.map(async (c) => c.Kind === 1 && mountPoints.has(c.Path) && (await lstat(join(upper, c.Path))).size === 0));
    const kept = out.filter((_, i) => !own[i]);
    // A directory shows as changed only when something under it remains.
    return kept.filter((c) => !(c.Kind === 0 && c.Path === '/etc' && !kept.some((x) => x.Path.startsWith('/etc/'))));
  }
}
