// The few Linux system calls berth makes itself, through koffi (a foreign-function interface
// with prebuilt binaries): mount(2)/umount2(2) for overlay and tmpfs mounts, and the steps of
// `ip netns add` (unshare, a bind mount, loopback up, setns back). A container's start and exit
// then fork no mount(8), umount(8) or ip(8): ~0.05 ms a call instead of 2–3 ms, and no fork of
// a large daemon under load. koffi loads on first use (~1 ms); where it cannot be loaded, callers
// use those programs instead.
import { closeSync, constants as fsc, openSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { getSystemErrorMessage, getSystemErrorName } from 'node:util';

export const MS_RDONLY = 1;
export const MS_NOSUID = 2;
export const MS_NODEV = 4;
export const MS_NOEXEC = 8;
const MS_BIND = 4096;
export const MNT_DETACH = 2;
const CLONE_NEWNET = 0x40000000;
const AF_INET = 2;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0x80000;
const AF_UNIX = 1;
const SOCK_SEQPACKET = 5;
const SOCK_NONBLOCK = 0x800;
const SIOCGIFFLAGS = 0x8913;
const SIOCSIFFLAGS = 0x8914;
const IFF_UP = 1;
const X32_SYSCALL_BIT = 0x40000000;
const SYS_GETPID = 39;

type Fn = ((...args: unknown[]) => number) & { async(...args: unknown[]): void };

interface Koffi {
  load(path: string): { func(decl: string): Fn };
  errno(): number;
  version?: string;
}

interface Libc {
  mount: Fn;
  umount2: Fn;
  unshare: Fn;
  setns: Fn;
  socket: Fn;
  connect: Fn;
  ioctl: Fn;
  close: Fn;
  syscall: Fn;
  errno(): number;
}

let libc: Libc | null | undefined;

/**
 * koffi's native part, loaded directly: its package entry also loads the https and zlib stacks
 * for its download tool (~9 MiB of daemon memory) that berth never uses. The entry is the
 * fallback for platforms whose binary is not where koffi keeps its Linux builds.
 */
function loadKoffi(): Koffi {
  const req = createRequire(import.meta.url);
  const pkgPath = req.resolve('koffi/package.json');
  const pkg = req(pkgPath) as { version: string };
  try {
    const native = req(join(dirname(pkgPath), 'build', 'koffi', `linux_${process.arch}`, 'koffi.node')) as Koffi;
    if (native.version === pkg.version) return native;
  } catch {
    // the package entry below
  }
  return req('koffi') as Koffi;
}

function load(): Libc | null {
  if (libc !== undefined) return libc;
  try {
    const koffi = loadKoffi();
    const lib = koffi.load('libc.so.6');
    libc = {
      mount: lib.func('int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)'),
      umount2: lib.func('int umount2(const char *target, int flags)'),
      unshare: lib.func('int unshare(int flags)'),
      setns: lib.func('int setns(int fd, int nstype)'),
      socket: lib.func('int socket(int domain, int type, int protocol)'),
      connect: lib.func('int connect(int fd, const void *addr, uint32_t len)'),
      ioctl: lib.func('int ioctl(int fd, unsigned long request, ...)'),
      close: lib.func('int close(int fd)'),
      syscall: lib.func('long syscall(long number, ...)'),
      errno: () => koffi.errno(),
    };
  } catch {
    libc = null;
  }
  return libc;
}

/** True when the system calls can be made from this process. */
export function syscallsAvailable(): boolean {
  return load() !== null;
}

/**
 * Whether this kernel runs x32-ABI programs (x86-64 system calls with bit 30 set): asks it with
 * an x32 getpid. Most distribution kernels leave the ABI out or off, and then a container's
 * seccomp filter need not compile rules for it (libseccomp spends ~5 ms of every container start
 * per architecture). Undefined when it cannot be asked safely: no FFI, or this process is under
 * a seccomp filter of its own, which might kill it for the question.
 */
export function x32AbiAvailable(): boolean | undefined {
  if (process.arch !== 'x64') return false;
  let status: string;
  try {
    status = readFileSync('/proc/self/status', 'utf8');
  } catch {
    return undefined;
  }
  if (!/^Seccomp:\s*0$/m.test(status)) return undefined;
  const c = load();
  if (!c) return undefined;
  if (c.syscall(X32_SYSCALL_BIT | SYS_GETPID) >= 0) return true;
  return errnoName(c.errno()) === 'ENOSYS' ? false : undefined;
}

/** A failed system call: `code` is the errno name (EBUSY, EINVAL, …). */
export class SyscallError extends Error {
  readonly code: string;
  constructor(call: string, errno: number) {
    super(`${call}: ${errnoText(errno)}`);
    this.name = 'SyscallError';
    this.code = errnoName(errno);
  }
}

function errnoName(errno: number): string {
  try {
    return getSystemErrorName(-errno);
  } catch {
    return `errno ${errno}`;
  }
}

function errnoText(errno: number): string {
  try {
    return getSystemErrorMessage(-errno);
  } catch {
    return `errno ${errno}`;
  }
}

function check(c: Libc, rc: number, call: string): number {
  if (rc < 0) throw new SyscallError(call, c.errno());
  return rc;
}

/** mount(2); throws SyscallError. Only after syscallsAvailable() said yes. */
export function sysMount(source: string, target: string, fstype: string, flags: number, data: string | null): void {
  const c = load()!;
  check(c, c.mount(source, target, fstype, flags, data), `mount ${fstype} on ${target}`);
}

/** umount2(2); throws SyscallError. Only after syscallsAvailable() said yes. */
export function sysUmount(target: string, flags = 0): void {
  const c = load()!;
  check(c, c.umount2(target, flags), `umount ${target}`);
}

/**
 * umount2(2) on one of libuv's worker threads; resolves with its return value (0, or -1 on
 * failure: the reason is not carried back, the caller looks at the mount table). Unmounting an
 * overlay syncs its upper file system first, which under write load takes 100 ms and more: the
 * daemon's main thread must not wait for that. Only after syscallsAvailable() said yes.
 */
export function sysUmountAsync(target: string, flags = 0): Promise<number> {
  const c = load()!;
  return new Promise((resolve, reject) => {
    c.umount2.async(target, flags, (err: Error | null, rc: number) => (err ? reject(err) : resolve(rc)));
  });
}

/**
 * A non-blocking, close-on-exec SOCK_SEQPACKET socket connected to the Unix socket at path (its
 * descriptor). A listener whose queue is full answers EAGAIN: `SyscallError` with that code, to be
 * retried; the descriptor is closed on any failure.
 */
export function sysSeqpacketConnect(path: string): number {
  const c = load();
  if (!c) throw new Error('system calls are not available');
  const name = Buffer.from(path);
  if (name.length > 107) throw new Error(`socket path too long: ${path}`);
  const addr = Buffer.alloc(2 + name.length + 1);
  addr.writeUInt16LE(AF_UNIX, 0);
  name.copy(addr, 2);
  const fd = check(c, c.socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), 'socket');
  if (c.connect(fd, addr, addr.length) < 0) {
    const errno = c.errno();
    c.close(fd);
    throw new SyscallError(`connect ${path}`, errno);
  }
  return fd;
}

/**
 * A new network namespace kept at `path` (a file that must not exist yet), its loopback up —
 * what `ip netns add` and `ip link set lo up` do. The calling thread (node's main thread: these
 * calls are synchronous, so no other JavaScript runs meanwhile) enters the new namespace for
 * the bind mount and the loopback, then returns to its own. A thread that cannot return stops
 * the daemon: every program it started afterwards would run in the container's namespace.
 */
export function sysCreateNetns(path: string): void {
  const c = load()!;
  const own = openSync('/proc/thread-self/ns/net', fsc.O_RDONLY);
  let created = false;
  try {
    closeSync(openSync(path, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0));
    created = true;
    check(c, c.unshare(CLONE_NEWNET), 'unshare');
    try {
      check(c, c.mount('/proc/thread-self/ns/net', path, 'none', MS_BIND, null), `mount --bind on ${path}`);
      const sock = check(c, c.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), 'socket');
      try {
        // struct ifreq: the name (16 bytes), then the flags (a short) in the union.
        const ifr = Buffer.alloc(40);
        ifr.write('lo');
        check(c, c.ioctl(sock, SIOCGIFFLAGS, 'void *', ifr), 'SIOCGIFFLAGS lo');
        ifr.writeInt16LE(ifr.readInt16LE(16) | IFF_UP, 16);
        check(c, c.ioctl(sock, SIOCSIFFLAGS, 'void *', ifr), 'SIOCSIFFLAGS lo');
      } finally {
        c.close(sock);
      }
    } finally {
      if (c.setns(own, CLONE_NEWNET) !== 0) {
        process.stderr.write(`berthd: cannot return to its own network namespace (${errnoName(c.errno())}); stopping\n`);
        process.exit(70);
      }
    }
  } catch (err) {
    // Nothing half-made stays: the mount (if made) and the file this call created go.
    if (created) {
      c.umount2(path, MNT_DETACH);
      rmSync(path, { force: true });
    }
    throw err;
  } finally {
    closeSync(own);
  }
}

/** Removes a namespace kept at `path` (as `ip netns del`): the bind mount, then the file. */
export function sysDeleteNetns(path: string): void {
  const c = load()!;
  if (c.umount2(path, MNT_DETACH) !== 0) {
    const errno = c.errno();
    const code = errnoName(errno);
    if (code === 'ENOENT') return;
    // EINVAL: the file is there but nothing is mounted on it (a creation cut short).
    if (code !== 'EINVAL') throw new SyscallError(`umount ${path}`, errno);
  }
  rmSync(path, { force: true });
}

/**
 * Splits mount(8)-style options into mount(2)'s flags and the file system's own data
 * (`nosuid,nodev,size=64m` → MS_NOSUID|MS_NODEV and `size=64m`). Undefined when an option is
 * one only mount(8) understands, so the caller uses the program.
 */
export function splitOptions(options: readonly string[]): { flags: number; data: string } | undefined {
  const FLAGS: Record<string, number> = { ro: MS_RDONLY, nosuid: MS_NOSUID, nodev: MS_NODEV, noexec: MS_NOEXEC };
  const CLEARS: Record<string, number> = { rw: MS_RDONLY, suid: MS_NOSUID, dev: MS_NODEV, exec: MS_NOEXEC, defaults: 0 };
  const MOUNT8_ONLY = new Set(['bind', 'rbind', 'remount', 'loop', 'move', 'sync', 'async', 'noatime', 'atime', 'relatime', 'strictatime', 'nodiratime', 'diratime', 'dirsync', 'mand', 'nomand', 'lazytime', 'silent', 'loud', 'shared', 'private', 'slave', 'unbindable', 'rshared', 'rprivate', 'rslave', 'runbindable', 'auto', 'noauto', 'user', 'nouser', 'users', 'owner', 'group', 'nofail', '_netdev']);
  let flags = 0;
  const data: string[] = [];
  for (const o of options) {
    if (o === '') continue;
    const f = FLAGS[o];
    const c = CLEARS[o];
    if (f !== undefined) flags |= f;
    else if (c !== undefined) flags &= ~c;
    else if (MOUNT8_ONLY.has(o) || o.startsWith('x-') || o.startsWith('X-') || o.startsWith('context=')) return undefined;
    else data.push(o);
  }
  return { flags, data: data.join(',') };
}
