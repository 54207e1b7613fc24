// `volumes:` entries of a service: the short syntax `source:target[:mode]` and the long syntax.

import { homedir } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import type { ServiceVolume } from './types.ts';
import { type At, asBool, asBytes, asString, at, checkKeys, fail, isMap, listOf } from './values.ts';

const LONG_KEYS = new Set(['type', 'source', 'target', 'read_only', 'consistency', 'bind', 'volume', 'tmpfs', 'image']);
const TYPES = new Set(['volume', 'bind', 'tmpfs']);

/** Where relative host paths start, and what `~` stands for (default: the user's home). */
export interface PathBase {
  dir: string;
  home?: string;
}

/** A host path made absolute: `~` is the home directory, relative paths start at `base.dir`. */
export function hostPath(path: string, base: PathBase): string {
  const home = base.home ?? homedir();
  const dir = base.dir;
  if (path === '~') return home;
  if (path.startsWith('~/')) return resolve(home, path.slice(2));
  return isAbsolute(path) ? resolve(path) : resolve(dir, path);
}

const isPathLike = (s: string): boolean => s.startsWith('/') || s.startsWith('.') || s.startsWith('~');

function parseShort(text: string, where: At, base: PathBase): ServiceVolume {
  const parts = text.split(':');
  if (parts.length === 1) {
    if (!parts[0]?.startsWith('/')) throw fail(where, `invalid volume specification ${JSON.stringify(text)}`);
    return { type: 'volume', target: parts[0], readOnly: false };
  }
  if (parts.length > 3) throw fail(where, `invalid volume specification ${JSON.stringify(text)}`);
  const [source = '', target = '', mode = ''] = parts;
  if (source === '' || !target.startsWith('/')) throw fail(where, `invalid volume specification ${JSON.stringify(text)}`);
  const options = mode === '' ? [] : mode.split(',');
  const out: ServiceVolume = isPathLike(source)
    ? { type: 'bind', source: hostPath(source, base), target, readOnly: false, createHostPath: true }
    : { type: 'volume', source, target, readOnly: false };
  for (const o of options) {
    if (o === 'ro') out.readOnly = true;
    else if (o === 'rw') out.readOnly = false;
    else if (o === 'nocopy' && out.type === 'volume') out.noCopy = true;
    else if (!['z', 'Z', 'shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate', 'consistent', 'cached', 'delegated'].includes(o)) {
      throw fail(where, `invalid volume specification ${JSON.stringify(text)}: unknown mode ${JSON.stringify(o)}`);
    }
  }
  return out;
}

/** One service `volumes:` entry; bind sources are made absolute against `base`. */
export function parseServiceVolume(value: unknown, where: At, base: PathBase): ServiceVolume {
  if (typeof value === 'string') return parseShort(value, where, base);
  if (!isMap(value)) throw fail(listOf(where), 'contains an invalid type, it should be a string, or an object');
  checkKeys(value, LONG_KEYS, where);
  const type = asString(value['type'], at(where, 'type'));
  if (!TYPES.has(type)) throw fail(at(where, 'type'), `must be one of the following: "volume", "bind", "tmpfs"`);
  if (value['target'] === undefined) throw fail(where, 'target is required');
  const target = asString(value['target'], at(where, 'target'));
  const out: ServiceVolume = { type: type as ServiceVolume['type'], target, readOnly: false };
  if (value['read_only'] !== undefined) out.readOnly = asBool(value['read_only'], at(where, 'read_only'));
  const source = value['source'] === undefined || value['source'] === null ? undefined : asString(value['source'], at(where, 'source'));
  if (type === 'bind') {
    if (source === undefined || source === '') throw fail(where, 'bind mount requires a source');
    out.source = hostPath(source, base);
    const bind = value['bind'];
    out.createHostPath = false;
    if (isMap(bind) && bind['create_host_path'] !== undefined) {
      out.createHostPath = asBool(bind['create_host_path'], at(where, 'bind.create_host_path'));
    }
  } else if (type === 'volume') {
    if (source !== undefined && source !== '') out.source = source;
    const vol = value['volume'];
    if (isMap(vol) && vol['nocopy'] !== undefined) out.noCopy = asBool(vol['nocopy'], at(where, 'volume.nocopy'));
  } else {
    if (source !== undefined && source !== '') throw fail(where, 'tmpfs mount does not take a source');
    const tmpfs = value['tmpfs'];
    if (isMap(tmpfs) && tmpfs['size'] !== undefined) out.tmpfsSize = asBytes(tmpfs['size'], at(where, 'tmpfs.size'));
  }
  return out;
}
