// Decoding -v binds, --mount specs, anonymous and image volumes into mount points. Pure.
import { posix } from 'node:path';
import { invalidParameter } from '../../core/errors.ts';
import { validateVolumeName } from '../volumes/index.ts';

export interface MountRequest {
  type: 'bind' | 'volume' | 'tmpfs';
  /** Host path (bind), volume name ('' for a new anonymous volume), unused for tmpfs. */
  source: string;
  destination: string;
  readOnly: boolean;
  /** From -v, a missing bind source is created as Docker does; --mount refuses it. */
  createSource: boolean;
  noCopy: boolean;
  propagation: string;
  tmpfsOptions: string[];
}

const PROPAGATIONS = new Set(['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave']);
const CONSISTENCY = new Set(['consistent', 'cached', 'delegated']);
const MODES = new Set(['ro', 'rw', 'z', 'Z', 'nocopy', ...PROPAGATIONS, ...CONSISTENCY]);
/** Each kind of mode may be given once, as Docker checks. */
const MODE_KIND = (o: string): string => (o === 'ro' || o === 'rw' ? 'rw' : o === 'z' || o === 'Z' ? 'label' : PROPAGATIONS.has(o) ? 'propagation' : CONSISTENCY.has(o) ? 'consistency' : o);

/** An absolute, clean container path other than '/'; '..' is refused rather than resolved. */
export function checkDestination(dest: string): string {
  if (!dest.startsWith('/')) throw invalidParameter(`invalid mount config: mount destination ${dest} is not an absolute path`);
  if (dest.split('/').includes('..')) throw invalidParameter(`invalid mount config: mount destination ${dest} may not contain '..'`);
  const clean = posix.normalize(dest).replace(/\/+$/, '') || '/';
  if (clean === '/') throw invalidParameter('invalid specification: destination can\'t be \'/\'');
  return clean;
}

function bindSource(src: string, what: string): string {
  if (!src.startsWith('/')) throw invalidParameter(`invalid mount config for type "bind": invalid mount path: '${src}' mount path must be absolute`);
  if (src.split('/').includes('..')) throw invalidParameter(`invalid mount config for type "${what}": source ${src} may not contain '..'`);
  return posix.normalize(src);
}

/** `-v SRC:DST[:OPTS]` or `-v DST` (anonymous). */
export function parseBind(spec: string): MountRequest {
  const parts = spec.split(':');
  if (parts.length > 3 || parts.some((p) => p === '')) throw invalidParameter(`invalid volume specification: '${spec}'`);
  let src = '';
  let dst: string;
  let opts = '';
  if (parts.length === 1) dst = parts[0]!;
  else if (parts.length === 2 && !parts[1]!.split(',').every((o) => MODES.has(o))) [src, dst] = parts as [string, string];
  else if (parts.length === 2) [dst, opts] = parts as [string, string];
  else [src, dst, opts] = parts as [string, string, string];
  const m: MountRequest = { type: 'volume', source: '', destination: checkDestination(dst), readOnly: false, createSource: true, noCopy: false, propagation: '', tmpfsOptions: [] };
  if (src !== '') {
    if (src.startsWith('/')) {
      m.type = 'bind';
      m.source = bindSource(src, 'bind');
    } else {
      m.source = validateVolumeName(src);
    }
  }
  const kinds = new Set<string>();
  for (const o of opts.split(',').filter(Boolean)) {
    if (!MODES.has(o) || kinds.has(MODE_KIND(o))) throw invalidParameter(`invalid mode: ${opts}`);
    kinds.add(MODE_KIND(o));
    if (o === 'ro') m.readOnly = true;
    else if (o === 'rw') m.readOnly = false;
    else if (o === 'z' || o === 'Z' || CONSISTENCY.has(o)) continue;
    else if (o === 'nocopy') m.noCopy = true;
    else if (PROPAGATIONS.has(o)) m.propagation = o;
    else throw invalidParameter(`invalid mode: ${o}`);
  }
  return m;
}

type Obj = Record<string, unknown>;

/** `HostConfig.Mounts` entries (from --mount). */
export function parseMountSpec(raw: unknown): MountRequest {
  if (raw === null || typeof raw !== 'object') throw invalidParameter('invalid mount config: expected an object');
  const o = raw as Obj;
  const type = o.Type;
  if (type !== 'bind' && type !== 'volume' && type !== 'tmpfs') throw invalidParameter(`invalid mount config for type ${JSON.stringify(String(type))}: mount type unknown`);
  if (typeof o.Target !== 'string' || o.Target === '') throw invalidParameter('invalid mount config: Target must not be empty');
  const m: MountRequest = { type, source: '', destination: checkDestination(o.Target), readOnly: o.ReadOnly === true, createSource: false, noCopy: false, propagation: '', tmpfsOptions: [] };
  const source = typeof o.Source === 'string' ? o.Source : '';
  if (type === 'bind') {
    if (source === '') throw invalidParameter('invalid mount config for type "bind": field Source must not be empty');
    m.source = bindSource(source, 'bind');
    const prop = (o.BindOptions as Obj | undefined)?.Propagation;
    if (typeof prop === 'string' && prop !== '') {
      if (!PROPAGATIONS.has(prop)) throw invalidParameter(`invalid mount config: invalid propagation ${prop}`);
      m.propagation = prop;
    }
  } else if (type === 'volume') {
    if (source !== '') m.source = validateVolumeName(source);
    m.noCopy = (o.VolumeOptions as Obj | undefined)?.NoCopy === true;
  } else {
    if (source !== '') throw invalidParameter('invalid mount config for type "tmpfs": field Source must not be specified');
    const t = (o.TmpfsOptions as Obj | undefined) ?? {};
    if (typeof t.SizeBytes === 'number' && t.SizeBytes > 0) m.tmpfsOptions.push(`size=${t.SizeBytes}`);
    if (typeof t.Mode === 'number' && t.Mode > 0) m.tmpfsOptions.push(`mode=${t.Mode.toString(8)}`);
  }
  return m;
}

/**
 * Everything a container mounts: -v binds, --mount specs, then anonymous volumes for
 * `Config.Volumes` (the container's and its image's) not already covered. Duplicates are refused.
 */
export function collectMounts(binds: string[] | null | undefined, mounts: unknown[], volumes: Record<string, object> | null | undefined): MountRequest[] {
  const out: MountRequest[] = [];
  const seen = new Set<string>();
  const add = (m: MountRequest): void => {
    if (seen.has(m.destination)) throw invalidParameter(`Duplicate mount point: ${m.destination}`);
    seen.add(m.destination);
    out.push(m);
  };
  for (const b of binds ?? []) add(parseBind(b));
  for (const m of mounts) add(parseMountSpec(m));
  for (const dest of Object.keys(volumes ?? {})) {
    const d = checkDestination(dest);
    if (seen.has(d)) continue;
    seen.add(d);
    out.push({ type: 'volume', source: '', destination: d, readOnly: false, createSource: true, noCopy: false, propagation: '', tmpfsOptions: [] });
  }
  return out;
}
