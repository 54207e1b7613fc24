// Docker's default seccomp profile, kept as groups of syscall names and rendered into the
// runtime-spec `linux.seccomp` object for one container's capability set and architecture.
import { defaultCapabilities } from './capabilities.ts';

export type SeccompAction = 'SCMP_ACT_ALLOW' | 'SCMP_ACT_ERRNO' | 'SCMP_ACT_KILL' | 'SCMP_ACT_KILL_PROCESS' | 'SCMP_ACT_KILL_THREAD' | 'SCMP_ACT_TRAP' | 'SCMP_ACT_TRACE' | 'SCMP_ACT_LOG';
export type SeccompOp = 'SCMP_CMP_EQ' | 'SCMP_CMP_NE' | 'SCMP_CMP_LT' | 'SCMP_CMP_LE' | 'SCMP_CMP_GT' | 'SCMP_CMP_GE' | 'SCMP_CMP_MASKED_EQ';

export interface OciSeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: SeccompOp;
}

export interface OciSyscall {
  names: string[];
  action: SeccompAction;
  errnoRet?: number;
  args?: OciSeccompArg[];
}

export interface OciSeccomp {
  defaultAction: SeccompAction;
  defaultErrnoRet: number;
  architectures: string[];
  syscalls: OciSyscall[];
}

/** Architecture names as Go spells them, which the arch-specific groups use. */
type Arch = 'amd64' | 'x86' | 'x32' | 'arm64' | 'arm';

interface Group {
  names: readonly string[];
  /** Default: allow. */
  errno?: number;
  args?: readonly OciSeccompArg[];
  /** Emitted only when the container holds every one of these capabilities. */
  ifCaps?: readonly string[];
  /** Left out when the container holds any of these capabilities. */
  unlessCaps?: readonly string[];
  /** Emitted only on these native architectures. */
  arches?: readonly Arch[];
}

const EPERM = 1;
const ENOSYS = 38;
const AF_ALG = 38;
const AF_VSOCK = 40;
/** CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET: clone may create no namespace. */
const CLONE_NAMESPACE_FLAGS = 0x7e020000;

// Always allowed. Names libseccomp does not know on this architecture are skipped by the runtime.
// Deliberately absent: keyctl, add_key, request_key, kexec_*, userfaultfd, io_uring_*, pivot_root,
// swapon/swapoff, uselib, and everything gated on a capability below.
const ALWAYS = `
accept accept4 access adjtimex alarm bind brk cachestat capget capset chdir chmod chown chown32
clock_adjtime clock_adjtime64 clock_getres clock_getres_time64 clock_gettime clock_gettime64
clock_nanosleep clock_nanosleep_time64 close close_range connect copy_file_range creat dup dup2 dup3
epoll_create epoll_create1 epoll_ctl epoll_ctl_old epoll_pwait epoll_pwait2 epoll_wait epoll_wait_old
eventfd eventfd2 execve execveat exit exit_group faccessat faccessat2 fadvise64 fadvise64_64 fallocate
fanotify_mark fchdir fchmod fchmodat fchmodat2 fchown fchown32 fchownat fcntl fcntl64 fdatasync
fgetxattr flistxattr flock fork fremovexattr fsetxattr fstat fstat64 fstatat64 fstatfs fstatfs64 fsync
ftruncate ftruncate64 futex futex_requeue futex_time64 futex_wait futex_waitv futex_wake futimesat
getcpu getcwd getdents getdents64 getegid getegid32 geteuid geteuid32 getgid getgid32 getgroups
getgroups32 getitimer getpeername getpgid getpgrp getpid getppid getpriority getrandom getresgid
getresgid32 getresuid getresuid32 getrlimit get_robust_list getrusage getsid getsockname getsockopt
get_thread_area gettid gettimeofday getuid getuid32 getxattr getxattrat inotify_add_watch inotify_init
inotify_init1 inotify_rm_watch io_cancel ioctl io_destroy io_getevents io_pgetevents
io_pgetevents_time64 ioprio_get ioprio_set io_setup io_submit ipc kill landlock_add_rule
landlock_create_ruleset landlock_restrict_self lchown lchown32 lgetxattr link linkat listen listmount
listxattr listxattrat llistxattr _llseek lremovexattr lseek lsetxattr lstat lstat64 madvise
map_shadow_stack membarrier memfd_create memfd_secret mincore mkdir mkdirat mknod mknodat mlock mlock2
mlockall mmap mmap2 mprotect mq_getsetattr mq_notify mq_open mq_timedreceive mq_timedreceive_time64
mq_timedsend mq_timedsend_time64 mq_unlink mremap mseal msgctl msgget msgrcv msgsnd msync munlock
munlockall munmap name_to_handle_at nanosleep newfstatat _newselect open openat openat2 pause
pidfd_open pidfd_send_signal pipe pipe2 pkey_alloc pkey_free pkey_mprotect poll ppoll ppoll_time64
prctl pread64 preadv preadv2 prlimit64 process_mrelease pselect6 pselect6_time64 pwrite64 pwritev
pwritev2 read readahead readlink readlinkat readv recv recvfrom recvmmsg recvmmsg_time64 recvmsg
remap_file_pages removexattr removexattrat rename renameat renameat2 restart_syscall riscv_hwprobe
rmdir rseq rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend
rt_sigtimedwait rt_sigtimedwait_time64 rt_tgsigqueueinfo sched_getaffinity sched_getattr
sched_getparam sched_get_priority_max sched_get_priority_min sched_getscheduler sched_rr_get_interval
sched_rr_get_interval_time64 sched_setaffinity sched_setattr sched_setparam sched_setscheduler
sched_yield seccomp select semctl semget semop semtimedop semtimedop_time64 send sendfile sendfile64
sendmmsg sendmsg sendto setfsgid setfsgid32 setfsuid setfsuid32 setgid setgid32 setgroups setgroups32
setitimer setpgid setpriority setregid setregid32 setresgid setresgid32 setresuid setresuid32 setreuid
setreuid32 setrlimit set_robust_list setsid setsockopt set_thread_area set_tid_address setuid setuid32
setxattr setxattrat shmat shmctl shmdt shmget shutdown sigaltstack signalfd signalfd4 sigprocmask
sigreturn socketcall socketpair splice stat stat64 statfs statfs64 statmount statx symlink symlinkat
sync sync_file_range syncfs sysinfo tee tgkill time timer_create timer_delete timer_getoverrun
timer_gettime timer_gettime64 timer_settime timer_settime64 timerfd_create timerfd_gettime
timerfd_gettime64 timerfd_settime timerfd_settime64 times tkill truncate truncate64 ugetrlimit umask
uname unlink unlinkat uretprobe utime utimensat utimensat_time64 utimes vfork vmsplice wait4 waitid
waitpid write writev
process_vm_readv process_vm_writev ptrace
`;

const words = (s: string): string[] => s.split(/\s+/).filter((w) => w !== '');
const arg0 = (op: SeccompOp, value: number): OciSeccompArg[] => [{ index: 0, value, op }];

const GROUPS: readonly Group[] = [
  { names: words(ALWAYS) },
  // Two arg conditions in one rule are ANDed on the same argument, so the families around
  // AF_ALG and AF_VSOCK are allowed by three rules and those two fall through to EPERM.
  { names: ['socket'], args: arg0('SCMP_CMP_LT', AF_ALG) },
  { names: ['socket'], args: arg0('SCMP_CMP_EQ', AF_ALG + 1) },
  { names: ['socket'], args: arg0('SCMP_CMP_GT', AF_VSOCK) },
  // PER_LINUX, UNAME26, PER_LINUX32, PER_LINUX32|UNAME26 and the query value 0xffffffff.
  ...[0, 0x8, 0x20000, 0x20008, 0xffffffff].map((v): Group => ({ names: ['personality'], args: arg0('SCMP_CMP_EQ', v) })),
  { names: ['arch_prctl'], arches: ['amd64', 'x32'] },
  { names: ['modify_ldt'], arches: ['amd64', 'x32', 'x86'] },
  {
    names: ['arm_fadvise64_64', 'arm_sync_file_range', 'sync_file_range2', 'breakpoint', 'cacheflush', 'set_tls'],
    arches: ['arm', 'arm64'],
  },
  { names: ['open_by_handle_at'], ifCaps: ['CAP_DAC_READ_SEARCH'] },
  {
    names: words(`bpf clone clone3 fanotify_init fsconfig fsmount fsopen fspick lookup_dcookie lsm_get_self_attr
      lsm_list_modules lsm_set_self_attr mount mount_setattr move_mount open_tree perf_event_open quotactl
      quotactl_fd setdomainname sethostname setns syslog umount umount2 unshare`),
    ifCaps: ['CAP_SYS_ADMIN'],
  },
  {
    names: ['clone'],
    args: [{ index: 0, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }],
    unlessCaps: ['CAP_SYS_ADMIN'],
  },
  // glibc falls back to clone when clone3 says ENOSYS; clone3's flags live in memory seccomp cannot read.
  { names: ['clone3'], errno: ENOSYS, unlessCaps: ['CAP_SYS_ADMIN'] },
  { names: ['reboot'], ifCaps: ['CAP_SYS_BOOT'] },
  { names: ['chroot'], ifCaps: ['CAP_SYS_CHROOT'] },
  { names: ['delete_module', 'init_module', 'finit_module'], ifCaps: ['CAP_SYS_MODULE'] },
  { names: ['acct'], ifCaps: ['CAP_SYS_PACCT'] },
  {
    names: ['kcmp', 'pidfd_getfd', 'process_madvise', 'process_vm_readv', 'process_vm_writev', 'ptrace'],
    ifCaps: ['CAP_SYS_PTRACE'],
  },
  { names: ['iopl', 'ioperm'], ifCaps: ['CAP_SYS_RAWIO'] },
  { names: ['settimeofday', 'stime', 'clock_settime', 'clock_settime64'], ifCaps: ['CAP_SYS_TIME'] },
  { names: ['vhangup'], ifCaps: ['CAP_SYS_TTY_CONFIG'] },
  { names: ['get_mempolicy', 'mbind', 'set_mempolicy', 'set_mempolicy_home_node'], ifCaps: ['CAP_SYS_NICE'] },
  { names: ['syslog'], ifCaps: ['CAP_SYSLOG'] },
  { names: ['bpf'], ifCaps: ['CAP_BPF'] },
  { names: ['perf_event_open'], ifCaps: ['CAP_PERFMON'] },
];

const NATIVE: Record<string, { arch: Arch; seccomp: string[] }> = {
  x64: { arch: 'amd64', seccomp: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'] },
  arm64: { arch: 'arm64', seccomp: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'] },
  ia32: { arch: 'x86', seccomp: ['SCMP_ARCH_X86'] },
  arm: { arch: 'arm', seccomp: ['SCMP_ARCH_ARM'] },
};

export interface SeccompProfileOptions {
  /** The container's capability set (bounding); default: Docker's 14. */
  capabilities?: readonly string[];
  /** Node's `process.arch` naming; default: this host's. */
  arch?: string;
  /**
   * Whether the kernel runs x32-ABI programs (default: assumed). Without, the x86-64 profile
   * leaves SCMP_ARCH_X32 out: x32 system calls, which such a kernel refuses anyway (ENOSYS),
   * then stop the caller (SIGSYS) instead, and runc starts ~5 ms sooner.
   */
  x32?: boolean;
}

/** Docker's default profile as a runtime-spec `linux.seccomp` object. */
export function defaultSeccompProfile(opts: SeccompProfileOptions = {}): OciSeccomp {
  const caps = new Set(opts.capabilities ?? defaultCapabilities());
  const native = NATIVE[opts.arch ?? process.arch];
  const syscalls: OciSyscall[] = [];
  for (const g of GROUPS) {
    if (g.arches && (!native || !g.arches.includes(native.arch))) continue;
    if (g.ifCaps && !g.ifCaps.every((c) => caps.has(c))) continue;
    if (g.unlessCaps && g.unlessCaps.some((c) => caps.has(c))) continue;
    const rule: OciSyscall = { names: [...g.names], action: g.errno === undefined ? 'SCMP_ACT_ALLOW' : 'SCMP_ACT_ERRNO' };
    if (g.errno !== undefined) rule.errnoRet = g.errno;
    if (g.args) rule.args = g.args.map((a) => ({ ...a }));
    syscalls.push(rule);
  }
  return {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: EPERM,
    architectures: native ? native.seccomp.filter((a) => opts.x32 !== false || a !== 'SCMP_ARCH_X32') : [],
    syscalls,
  };
}

const ACTIONS = new Set<string>(['SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO', 'SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_TRAP', 'SCMP_ACT_TRACE', 'SCMP_ACT_LOG']);
const OPS = new Set<string>(['SCMP_CMP_EQ', 'SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_GT', 'SCMP_CMP_GE', 'SCMP_CMP_MASKED_EQ']);
/** Docker's architecture names in `includes.arches` / `excludes.arches`. */
const GO_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', ia32: '386', arm: 'arm' };

/**
 * A seccomp profile in Docker's JSON format (what `--security-opt seccomp=profile.json` sends) as
 * a runtime-spec object for a container with these capabilities: `archMap` or `architectures`,
 * rules kept or dropped by their `includes`/`excludes` (capabilities, architectures). A profile
 * that is not one, or names an unknown action or operator, is refused with the reason.
 */
export function customSeccompProfile(text: string, opts: SeccompProfileOptions = {}): OciSeccomp {
  const bad = (why: string): never => {
    throw new TypeError(`invalid seccomp profile: ${why}`);
  };
  let p: Record<string, unknown>;
  try {
    p = JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    return bad((err as Error).message);
  }
  if (typeof p !== 'object' || p === null || Array.isArray(p)) return bad('not a JSON object');
  const action = (v: unknown, where: string): SeccompAction => (typeof v === 'string' && ACTIONS.has(v) ? (v as SeccompAction) : bad(`${where}: unknown action ${JSON.stringify(v)}`));
  const caps = new Set(opts.capabilities ?? defaultCapabilities());
  const goArch = GO_ARCH[opts.arch ?? process.arch] ?? '';
  const native = NATIVE[opts.arch ?? process.arch];
  const out: OciSeccomp = { defaultAction: action(p.defaultAction, 'defaultAction'), defaultErrnoRet: typeof p.defaultErrnoRet === 'number' ? p.defaultErrnoRet : EPERM, architectures: [], syscalls: [] };
  if (Array.isArray(p.archMap)) {
    for (const m of p.archMap as Array<{ architecture?: unknown; subArchitectures?: unknown }>) {
      if (typeof m.architecture !== 'string') bad('archMap: an entry without an architecture');
      // Only this host's architecture and its sub-architectures, as dockerd does.
      if (native && !native.seccomp.includes(m.architecture as string)) continue;
      out.architectures.push(m.architecture as string, ...(Array.isArray(m.subArchitectures) ? (m.subArchitectures as unknown[]).filter((x): x is string => typeof x === 'string') : []));
    }
  } else if (Array.isArray(p.architectures)) {
    out.architectures = (p.architectures as unknown[]).filter((x): x is string => typeof x === 'string');
  }
  if (p.syscalls !== undefined && !Array.isArray(p.syscalls)) bad('syscalls must be a list');
  for (const [i, r] of ((p.syscalls as Array<Record<string, unknown>> | undefined) ?? []).entries()) {
    const where = `syscalls[${i}]`;
    const names = Array.isArray(r.names) ? (r.names as unknown[]) : typeof r.name === 'string' ? [r.name] : bad(`${where}: no names`);
    if (!names.every((n) => typeof n === 'string' && /^[a-z0-9_]+$/.test(n))) bad(`${where}: names must be syscall names`);
    const inc = (r.includes ?? {}) as { caps?: unknown; arches?: unknown };
    const exc = (r.excludes ?? {}) as { caps?: unknown; arches?: unknown };
    const list = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
    if (list(inc.caps).some((c) => !caps.has(c))) continue;
    if (list(inc.arches).length > 0 && !list(inc.arches).includes(goArch)) continue;
    if (list(exc.caps).some((c) => caps.has(c))) continue;
    if (list(exc.arches).includes(goArch)) continue;
    const rule: OciSyscall = { names: names as string[], action: action(r.action, where) };
    if (typeof r.errnoRet === 'number') rule.errnoRet = r.errnoRet;
    if (r.args !== undefined && r.args !== null) {
      if (!Array.isArray(r.args)) bad(`${where}: args must be a list`);
      rule.args = (r.args as Array<Record<string, unknown>>).map((a, j) => {
        if (typeof a.index !== 'number' || typeof a.value !== 'number' || typeof a.op !== 'string' || !OPS.has(a.op)) bad(`${where}.args[${j}]: index, value and a known op`);
        const arg: OciSeccompArg = { index: a.index as number, value: a.value as number, op: a.op as SeccompOp };
        if (typeof a.valueTwo === 'number') arg.valueTwo = a.valueTwo;
        return arg;
      });
    }
    out.syscalls.push(rule);
  }
  return out;
}
