// Resolves a container's `User` ("name", "uid", "name:group", "uid:gid") against the image's
// /etc/passwd and /etc/group, reading them only from inside the container root.
import { open, lstat, readlink, realpath } from 'node:fs/promises';
import { constants } from 'node:fs';
import path from 'node:path';
import { invalidParameter } from '../../core/errors.ts';

const MAX_ID = 2147483647;
/** passwd and group files larger than this are read only up to it. */
const MAX_FILE = 4 << 20;
const MAX_SYMLINKS = 40;

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  home: string;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

/** Splits "user[:group]"; an empty group part counts as none. */
export function parseUserSpec(user: string): { user: string; group?: string } {
  const i = user.indexOf(':');
  if (i < 0) return { user };
  const group = user.slice(i + 1);
  return group === '' ? { user: user.slice(0, i) } : { user: user.slice(0, i), group };
}

/** A decimal id, or undefined when the text is not purely numeric. */
function numericId(s: string): number | undefined {
  return /^[0-9]+$/.test(s) ? Number(s) : undefined;
}

function checkRange(id: number): number {
  if (id > MAX_ID) throw invalidParameter(`uids and gids must be in range 0-${MAX_ID}`);
  return id;
}

// Malformed numeric fields count as 0, as libc-free parsers in other engines do.
const toInt = (s: string | undefined): number => {
  const n = Number.parseInt(s ?? '', 10);
  return Number.isFinite(n) ? n : 0;
};

const records = (text: string): string[][] =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.split(':'));

export function parsePasswd(text: string): PasswdEntry[] {
  return records(text).map((f) => ({ name: f[0] ?? '', uid: toInt(f[2]), gid: toInt(f[3]), home: f[5] ?? '' }));
}

export function parseGroup(text: string): GroupEntry[] {
  return records(text).map((f) => ({
    name: f[0] ?? '',
    gid: toInt(f[2]),
    members: (f[3] ?? '')
      .split(',')
      .map((m) => m.trim())
      .filter((m) => m !== ''),
  }));
}

const isErrno = (err: unknown, ...codes: string[]): boolean =>
  err instanceof Error && codes.includes((err as NodeJS.ErrnoException).code ?? '');

/**
 * Maps `rel` (a path inside the container) to a host path under `root`, resolving symlinks as the
 * container would see them: absolute targets restart at `root` and `..` never climbs above it.
 * Undefined when a parent is missing or not a directory; a missing final component is returned
 * as is (opening it then fails with ENOENT).
 */
async function resolveInRoot(root: string, rel: string): Promise<string | undefined> {
  const split = (p: string): string[] => p.split('/').filter((c) => c !== '' && c !== '.');
  const pending = split(rel);
  const done: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const name = pending.shift()!;
    if (name === '..') {
      done.pop();
      continue;
    }
    const last = pending.length === 0;
    const host = path.join(root, ...done, name);
    let st;
    try {
      st = await lstat(host);
    } catch (err) {
      if (last && isErrno(err, 'ENOENT')) return host;
      if (isErrno(err, 'ENOENT', 'ENOTDIR')) return undefined;
      throw err;
    }
    if (st.isSymbolicLink()) {
      if (++hops > MAX_SYMLINKS) throw invalidParameter(`too many levels of symbolic links resolving ${rel}`);
      const target = await readlink(host);
      if (target.startsWith('/')) done.length = 0;
      pending.unshift(...split(target));
      continue;
    }
    if (!last && !st.isDirectory()) return undefined;
    done.push(name);
  }
  return path.join(root, ...done);
}

/**
 * Reads a file of the container root without ever leaving it: symlinks are resolved within the
 * root, the result is opened with O_NOFOLLOW, and the opened file's real path is checked to lie
 * under the root, which also defeats a component swapped for a symlink after it was checked.
 * Undefined when the file does not exist.
 */
async function readInRoot(rootfs: string, rel: string): Promise<string | undefined> {
  const root = await realpath(rootfs);
  const host = await resolveInRoot(root, rel);
  if (host === undefined) return undefined;
  let fh;
  try {
    fh = await open(host, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    if (isErrno(err, 'ENOENT', 'ENOTDIR')) return undefined;
    if (isErrno(err, 'ELOOP')) throw invalidParameter(`refusing to read ${rel}: it is a symbolic link out of the container root`, err);
    throw err;
  }
  try {
    const real = await readlink(`/proc/self/fd/${fh.fd}`);
    if (!real.startsWith(`${root}/`)) throw invalidParameter(`refusing to read ${rel}: it resolves outside the container root`);
    const st = await fh.stat();
    if (!st.isFile()) throw invalidParameter(`refusing to read ${rel}: not a regular file`);
    const buf = Buffer.alloc(Math.min(st.size, MAX_FILE));
    let len = 0;
    while (len < buf.length) {
      const { bytesRead } = await fh.read(buf, len, buf.length - len, len);
      if (bytesRead === 0) break;
      len += bytesRead;
    }
    return buf.subarray(0, len).toString('utf8');
  } finally {
    await fh.close();
  }
}

/**
 * Resolves `user` ('' = root) to numeric ids from <rootfs>/etc/passwd and /etc/group, plus the
 * groups of `groupAdd` (names or gids), as Docker does.
 */
export async function resolveUser(rootfs: string, user: string, groupAdd?: string[]): Promise<ResolvedUser> {
  const spec = parseUserSpec(user);
  const passwdText = await readInRoot(rootfs, 'etc/passwd');
  const passwd = passwdText === undefined ? [] : parsePasswd(passwdText);
  let groups: GroupEntry[] | undefined;
  const loadGroups = async (): Promise<GroupEntry[]> => {
    if (groups === undefined) {
      const text = await readInRoot(rootfs, 'etc/group');
      groups = text === undefined ? [] : parseGroup(text);
    }
    return groups;
  };

  const out: ResolvedUser = { uid: 0, gid: 0, additionalGids: [], home: '/' };
  const uidArg = numericId(spec.user);
  let matched: PasswdEntry | undefined;
  if (spec.user === '') matched = passwd.find((p) => p.uid === 0);
  else if (uidArg !== undefined) matched = passwd.find((p) => p.uid === uidArg);
  else matched = passwd.find((p) => p.name === spec.user);

  if (matched) {
    out.uid = matched.uid;
    out.gid = matched.gid;
    if (matched.home !== '') out.home = matched.home;
  } else if (spec.user !== '') {
    if (uidArg === undefined) throw invalidParameter(`unable to find user ${spec.user}: no matching entries in passwd file`);
    out.uid = checkRange(uidArg);
  }

  if (spec.group !== undefined) {
    const gidArg = numericId(spec.group);
    const all = await loadGroups();
    const g = gidArg !== undefined ? all.find((e) => e.gid === gidArg) : all.find((e) => e.name === spec.group);
    if (g) out.gid = g.gid;
    else if (gidArg !== undefined) out.gid = checkRange(gidArg);
    else throw invalidParameter(`unable to find group ${spec.group}: no matching entries in group file`);
  } else if (matched && matched.name !== '') {
    // Supplementary groups come from membership only when the group was not given explicitly.
    const name = matched.name;
    out.additionalGids = (await loadGroups()).filter((e) => e.members.includes(name)).map((e) => e.gid);
  }

  for (const want of groupAdd ?? []) {
    const gidArg = numericId(want);
    const g = (await loadGroups()).find((e) => (gidArg !== undefined ? e.gid === gidArg : e.name === want));
    if (g) out.additionalGids.push(g.gid);
    else if (gidArg !== undefined) out.additionalGids.push(checkRange(gidArg));
    else throw invalidParameter(`Unable to find group ${want}: no matching entries in group file`);
  }
  // As Docker: the primary group is also the first supplementary one (`id` shows groups=<gid>,…).
  out.additionalGids = [...new Set([out.gid, ...out.additionalGids])];
  return out;
}
