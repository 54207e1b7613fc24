// Host devices in containers: `--device HOST[:CONTAINER][:PERMS]` (a device node or a directory of
// them) and, for privileged containers, every device of the host's /dev, as Docker gives them.
import { readdirSync, lstatSync, statSync, type Stats } from 'node:fs';
import { join, posix } from 'node:path';
import { invalidParameter, BerthError } from '../../core/errors.ts';
import type { DeviceMapping, HostConfig } from '../../core/types.ts';

export interface OciDevice {
  path: string;
  type: 'c' | 'b';
  major: number;
  minor: number;
  fileMode: number;
  uid: number;
  gid: number;
}

export interface ContainerDevice {
  device: OciDevice;
  /** The device cgroup permissions: some of r, w, m. */
  access: string;
}

/** Linux's dev_t split (glibc's gnu_dev_major / gnu_dev_minor). */
export function splitDev(rdev: number): { major: number; minor: number } {
  const hi = Math.floor(rdev / 2 ** 32);
  const lo = rdev >>> 0;
  return { major: ((lo >>> 8) & 0xfff) | ((hi & 0xfffff000) >>> 0), minor: (lo & 0xff) | ((lo >>> 12) & 0xfff00) };
}

/** A block device's numbers with a weight or a rate (the runtime spec's blockIO entries). */
export interface BlockIoDevice {
  major: number;
  minor: number;
}

export interface OciBlockIO {
  weight?: number;
  weightDevice?: Array<BlockIoDevice & { weight: number }>;
  throttleReadBpsDevice?: Array<BlockIoDevice & { rate: number }>;
  throttleWriteBpsDevice?: Array<BlockIoDevice & { rate: number }>;
  throttleReadIOPSDevice?: Array<BlockIoDevice & { rate: number }>;
  throttleWriteIOPSDevice?: Array<BlockIoDevice & { rate: number }>;
}

/**
 * The container's blkio settings for the runtime, the device paths looked up now (at start, as
 * Docker does): a path that is not there is Docker's `stat PATH: no such file or directory`.
 */
export function resolveBlockIo(hc: Pick<HostConfig, 'BlkioWeight' | 'BlkioWeightDevice' | 'BlkioDeviceReadBps' | 'BlkioDeviceWriteBps' | 'BlkioDeviceReadIOps' | 'BlkioDeviceWriteIOps'>): OciBlockIO | undefined {
  const numbers = (path: string): BlockIoDevice => {
    let st: Stats;
    try {
      st = statSync(path);
    } catch (err) {
      throw new BerthError('Internal', `stat ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
    }
    if (!st.isBlockDevice()) throw invalidParameter(`${path} is not a block device`);
    return splitDev(st.rdev);
  };
  const out: OciBlockIO = {};
  if ((hc.BlkioWeight ?? 0) > 0) out.weight = hc.BlkioWeight!;
  if (hc.BlkioWeightDevice?.length) out.weightDevice = hc.BlkioWeightDevice.map((w) => ({ ...numbers(w.Path), weight: w.Weight }));
  const rates = (list: Array<{ Path: string; Rate: number }> | null | undefined): Array<BlockIoDevice & { rate: number }> | undefined => (list?.length ? list.map((r) => ({ ...numbers(r.Path), rate: r.Rate })) : undefined);
  const pairs = [
    ['throttleReadBpsDevice', rates(hc.BlkioDeviceReadBps)],
    ['throttleWriteBpsDevice', rates(hc.BlkioDeviceWriteBps)],
    ['throttleReadIOPSDevice', rates(hc.BlkioDeviceReadIOps)],
    ['throttleWriteIOPSDevice', rates(hc.BlkioDeviceWriteIOps)],
  ] as const;
  for (const [k, v] of pairs) if (v) out[k] = v;
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Validates a mapping as the API receives it; whether the device exists is known at start. */
export function checkDeviceMapping(m: DeviceMapping): void {
  if (!m.PathOnHost || !m.PathOnHost.startsWith('/')) throw invalidParameter(`invalid device mapping: the host path must be absolute: ${JSON.stringify(m.PathOnHost)}`);
  const inside = m.PathInContainer || m.PathOnHost;
  if (!inside.startsWith('/')) throw invalidParameter(`invalid device mapping: the container path must be absolute: ${JSON.stringify(inside)}`);
  if (!/^[rwm]*$/.test(m.CgroupPermissions ?? '')) throw invalidParameter(`invalid device mode: ${m.CgroupPermissions}`);
}

function fromStat(path: string, st: Stats): OciDevice | undefined {
  const type = st.isCharacterDevice() ? 'c' : st.isBlockDevice() ? 'b' : undefined;
  if (type === undefined) return undefined;
  const { major, minor } = splitDev(st.rdev);
  return { path, type, major, minor, fileMode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
}

/** The devices a mapping names; a directory brings every device below it. */
export function resolveDevice(m: DeviceMapping): ContainerDevice[] {
  const inside = posix.normalize(m.PathInContainer || m.PathOnHost);
  const access = m.CgroupPermissions || 'rwm';
  let st: Stats;
  try {
    st = statSync(m.PathOnHost);
  } catch (err) {
    throw new BerthError('Internal', `error gathering device information while adding custom device "${m.PathOnHost}": ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
  }
  const one = fromStat(inside, st);
  if (one) return [{ device: one, access }];
  if (!st.isDirectory()) throw new BerthError('Internal', `error gathering device information while adding custom device "${m.PathOnHost}": not a device node`);
  const out: ContainerDevice[] = [];
  const walk = (host: string, cont: string): void => {
    for (const name of readdirSync(host)) {
      const h = join(host, name);
      const c = posix.join(cont, name);
      const s = lstatSync(h);
      if (s.isDirectory()) walk(h, c);
      else {
        const d = fromStat(c, s);
        if (d) out.push({ device: d, access });
      }
    }
  };
  walk(m.PathOnHost, inside);
  return out;
}

/** Skipped when a privileged container gets the host's /dev (as moby's HostDevices). */
const SKIP = new Set(['/dev/pts', '/dev/shm', '/dev/mqueue', '/dev/.lxc', '/dev/.udev', '/dev/console']);

/** Every device node of the host's /dev, for privileged containers. */
export function hostDevices(root = '/dev'): OciDevice[] {
  const out: OciDevice[] = [];
  const walk = (dir: string): void => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      const p = join(dir, name);
      if (SKIP.has(p)) continue;
      let s: Stats;
      try {
        s = lstatSync(p);
      } catch {
        continue;
      }
      if (s.isDirectory()) walk(p);
      else {
        const d = fromStat(p, s);
        if (d) out.push(d);
      }
    }
  };
  walk(root);
  return out;
}

/** A device cgroup rule as `--device-cgroup-rule` gives it: `c 1:3 rwm`, `b 8:* r`, `a *:* m`. */
export function parseDeviceRule(rule: string): { allow: true; type: 'a' | 'c' | 'b'; major?: number; minor?: number; access: string } {
  const m = /^([acb]) (\d+|\*):(\d+|\*) ([rwm]{1,3})$/.exec(rule.trim());
  if (!m) throw invalidParameter(`invalid device cgroup format '${rule}'`);
  const out: { allow: true; type: 'a' | 'c' | 'b'; major?: number; minor?: number; access: string } = { allow: true, type: m[1] as 'a' | 'c' | 'b', access: m[4]! };
  if (m[2] !== '*') out.major = Number(m[2]);
  if (m[3] !== '*') out.minor = Number(m[3]);
  return out;
}
