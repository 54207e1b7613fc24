// Volumes: the local driver. Each volume is a directory `<data-root>/volumes/<name>/_data` with a
// metadata file beside it; names are validated before they become a path component.
import { byteOrder } from '../../core/order.ts';
import { readdir, mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { conflict, internal, invalidParameter, messageOf, notFound } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import { ensureDir, writeJsonAtomic } from '../../adapters/fs/index.ts';
import type { EventBus } from '../events/index.ts';
import type { Mounter } from '../../core/ports.ts';

export interface VolumeRecord {
  Name: string;
  Driver: 'local';
  Mountpoint: string;
  CreatedAt: string;
  Labels: Record<string, string>;
  Scope: 'local';
  Options: Record<string, string> | null;
  /** Created for a container's unnamed mount (removed by `rm -v` and a plain prune). */
  anonymous: boolean;
  /** Image content was copied in at first use (Docker's copy-up happens once). */
  populated: boolean;
}

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export function validateVolumeName(name: string): string {
  if (name.length > 255 || !NAME_RE.test(name)) {
    throw invalidParameter(`create ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`);
  }
  return name;
}

const DRIVER_OPTS = new Set(['type', 'device', 'o']);

/** The local driver's options: `type` and `device` together (as Docker requires), `o` optional. */
function checkDriverOpts(opts: Record<string, string>): Record<string, string> | null {
  const keys = Object.keys(opts);
  if (keys.length === 0) return null;
  for (const k of keys) if (!DRIVER_OPTS.has(k)) throw invalidParameter(`invalid option key: ${JSON.stringify(k)}`);
  if (!opts.type) throw invalidParameter('missing required option: "type"');
  if (!opts.device) throw invalidParameter('missing required option: "device"');
  if (!/^[a-z0-9._-]{1,32}$/.test(opts.type)) throw invalidParameter(`invalid volume type: ${opts.type}`);
  if (/[\0\n]/.test(opts.device) || /[\0\n]/.test(opts.o ?? '')) throw invalidParameter('invalid volume option value');
  // A bind of a host directory names it absolutely.
  if (/(^|,)r?bind(,|$)/.test(opts.o ?? '') && !opts.device.startsWith('/')) throw invalidParameter(`invalid device for a bind volume: ${opts.device} is not an absolute path`);
  return { ...opts };
}

export class VolumeService {
  readonly #root: string;
  readonly #events: EventBus;
  readonly #vols = new Map<string, VolumeRecord>();
  readonly #mounts: Mounter;

  constructor(opts: { dataRoot: string; events: EventBus; mounts: Mounter }) {
    this.#root = join(opts.dataRoot, 'volumes');
    this.#events = opts.events;
    this.#mounts = opts.mounts;
  }

  async load(): Promise<void> {
    await ensureDir(this.#root, 0o701);
    for (const name of await readdir(this.#root)) {
      if (!NAME_RE.test(name)) continue;
      try {
        const rec = JSON.parse(await readFile(join(this.#root, name, 'meta.json'), 'utf8')) as VolumeRecord;
        this.#vols.set(rec.Name, rec);
      } catch {
        // A volume directory without metadata was being created when the daemon stopped.
        await rm(join(this.#root, name), { recursive: true, force: true });
      }
    }
  }

  list(): VolumeRecord[] {
    return [...this.#vols.values()].sort((a, b) => byteOrder(a.Name, b.Name));
  }

  get(name: string): VolumeRecord {
    const v = this.#vols.get(name);
    if (!v) throw notFound(`get ${name}: no such volume`);
    return v;
  }

  tryGet(name: string): VolumeRecord | undefined {
    return this.#vols.get(name);
  }

  async create(opts: { name?: string; labels?: Record<string, string>; driver?: string; driverOpts?: Record<string, string>; anonymous?: boolean }): Promise<VolumeRecord> {
    if (opts.driver && opts.driver !== 'local') throw notFound(`create ${opts.name ?? ''}: error looking up volume plugin ${opts.driver}: plugin "${opts.driver}" not found`);
    const options = checkDriverOpts(opts.driverOpts ?? {});
    const name = opts.name ? validateVolumeName(opts.name) : newId();
    const existing = this.#vols.get(name);
    if (existing) return existing;
    const dir = join(this.#root, name);
    await mkdir(join(dir, '_data'), { recursive: true, mode: 0o755 });
    const rec: VolumeRecord = {
      Name: name,
      Driver: 'local',
      Mountpoint: join(dir, '_data'),
      CreatedAt: new Date().toISOString(),
      Labels: opts.labels ?? {},
      Scope: 'local',
      Options: options,
      anonymous: opts.anonymous ?? !opts.name,
      populated: false,
    };
    await writeJsonAtomic(join(dir, 'meta.json'), rec);
    this.#vols.set(name, rec);
    this.#events.emit('volume', 'create', name, { driver: 'local' });
    return rec;
  }

  /**
   * Mounts a volume created with driver options (`type`, `device`, `o`, as the local driver takes
   * them) on its data directory, once; it stays mounted until the volume is removed.
   */
  async ensureMounted(name: string): Promise<void> {
    const v = this.get(name);
    const o = v.Options;
    if (!o || !o.type) return;
    if (await this.#mounts.isMounted(v.Mountpoint)) return;
    try {
      await this.#mounts.mount(o.type, o.device ?? o.type, o.o || undefined, v.Mountpoint);
    } catch (err) {
      throw internal(`error while mounting volume '${v.Mountpoint}': ${messageOf(err)}`, err);
    }
  }

  async markPopulated(name: string): Promise<void> {
    const v = this.get(name);
    v.populated = true;
    await writeJsonAtomic(join(this.#root, name, 'meta.json'), v);
  }

  async isEmpty(name: string): Promise<boolean> {
    return (await readdir(this.get(name).Mountpoint)).length === 0;
  }

  async remove(name: string, opts: { force?: boolean; usedBy: (name: string) => string[] }): Promise<void> {
    const v = this.#vols.get(name);
    if (!v) {
      if (opts.force) return;
      throw notFound(`get ${name}: no such volume`);
    }
    const users = opts.usedBy(name);
    if (users.length > 0) throw conflict(`remove ${name}: volume is in use - [${users.join(', ')}]`);
    // A volume mounted from elsewhere (a bind of a host directory) is unmounted first, and never
    // removed while still mounted: that would delete the host's files.
    await this.#mounts.unmount(v.Mountpoint);
    if (await this.#mounts.isMounted(v.Mountpoint)) throw internal(`remove ${name}: the volume is still mounted at ${v.Mountpoint}`);
    this.#vols.delete(name);
    await rm(join(this.#root, name), { recursive: true, force: true });
    this.#events.emit('volume', 'destroy', name, { driver: 'local' });
  }

  view(v: VolumeRecord): Record<string, unknown> {
    const { anonymous: _a, populated: _p, ...pub } = v;
    return { ...pub, Labels: v.anonymous ? { 'com.docker.volume.anonymous': '', ...v.Labels } : v.Labels };
  }
}
