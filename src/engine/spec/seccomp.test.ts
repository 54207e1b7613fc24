import { test } from 'node:test';
import assert from 'node:assert/strict';
import { customSeccompProfile, defaultSeccompProfile, type OciSyscall } from './seccomp.ts';
import { defaultCapabilities } from './capabilities.ts';

/** Names allowed without any argument condition. */
const unconditional = (rules: OciSyscall[]): Set<string> =>
  new Set(rules.filter((r) => r.action === 'SCMP_ACT_ALLOW' && !r.args).flatMap((r) => r.names));
const rulesFor = (rules: OciSyscall[], name: string): OciSyscall[] => rules.filter((r) => r.names.includes(name));

test('default action is EPERM and x86_64 lists its sub-architectures', () => {
  const p = defaultSeccompProfile({ arch: 'x64' });
  assert.equal(p.defaultAction, 'SCMP_ACT_ERRNO');
  assert.equal(p.defaultErrnoRet, 1);
  assert.deepEqual(p.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  assert.deepEqual(defaultSeccompProfile({ arch: 'arm64' }).architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
});

test('the allow-list has Docker\'s size and common syscalls', () => {
  const allowed = unconditional(defaultSeccompProfile({ arch: 'x64' }).syscalls);
  assert.ok(allowed.size > 350 && allowed.size < 380, `size ${allowed.size}`);
  for (const s of ['read', 'write', 'openat', 'execve', 'futex', 'epoll_wait', 'clock_gettime', 'arch_prctl', 'chroot', 'ptrace']) {
    assert.ok(allowed.has(s), s);
  }
});

test('dangerous syscalls are never allowed, whatever the capabilities', () => {
  const everything = [...defaultCapabilities(), 'CAP_SYS_ADMIN', 'CAP_SYS_MODULE', 'CAP_SYS_BOOT', 'CAP_SYS_PTRACE'];
  for (const caps of [defaultCapabilities(), everything]) {
    const rules = defaultSeccompProfile({ arch: 'x64', capabilities: caps }).syscalls;
    for (const s of ['keyctl', 'add_key', 'request_key', 'kexec_load', 'kexec_file_load', 'userfaultfd', 'io_uring_setup',
      'io_uring_enter', 'io_uring_register', 'pivot_root', 'swapon', 'swapoff', 'uselib']) {
      assert.deepEqual(rulesFor(rules, s), [], s);
    }
  }
});

test('mount, unshare and setns need CAP_SYS_ADMIN', () => {
  const plain = defaultSeccompProfile({ arch: 'x64' }).syscalls;
  for (const s of ['mount', 'umount2', 'unshare', 'setns', 'sethostname', 'fsopen', 'open_tree']) assert.deepEqual(rulesFor(plain, s), [], s);
  const admin = defaultSeccompProfile({ arch: 'x64', capabilities: [...defaultCapabilities(), 'CAP_SYS_ADMIN'] }).syscalls;
  const allowed = unconditional(admin);
  for (const s of ['mount', 'umount2', 'unshare', 'setns', 'sethostname', 'clone', 'clone3']) assert.ok(allowed.has(s), s);
  assert.deepEqual(rulesFor(admin, 'clone3').map((r) => r.action), ['SCMP_ACT_ALLOW']);
});

test('clone without CAP_SYS_ADMIN may not create namespaces; clone3 gets ENOSYS', () => {
  const rules = defaultSeccompProfile({ arch: 'x64' }).syscalls;
  const clone = rulesFor(rules, 'clone');
  assert.equal(clone.length, 1);
  assert.deepEqual(clone[0]!.args, [{ index: 0, value: 2114060288, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }]);
  const clone3 = rulesFor(rules, 'clone3');
  assert.deepEqual(clone3, [{ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 }]);
});

test('socket is allowed except AF_ALG (38) and AF_VSOCK (40)', () => {
  const rules = rulesFor(defaultSeccompProfile({ arch: 'x64' }).syscalls, 'socket');
  const allows = (family: number): boolean =>
    rules.some((r) =>
      (r.args ?? []).every((a) =>
        a.op === 'SCMP_CMP_LT' ? family < a.value : a.op === 'SCMP_CMP_GT' ? family > a.value : a.op === 'SCMP_CMP_EQ' ? family === a.value : false,
      ),
    );
  for (const f of [1, 2, 10, 16, 17, 37, 39, 41, 44]) assert.ok(allows(f), `family ${f}`);
  assert.ok(!allows(38));
  assert.ok(!allows(40));
});

test('personality only for Docker\'s five values', () => {
  const rules = rulesFor(defaultSeccompProfile({ arch: 'x64' }).syscalls, 'personality');
  assert.deepEqual(
    rules.map((r) => r.args?.[0]?.value).sort((a, b) => (a ?? 0) - (b ?? 0)),
    [0, 8, 131072, 131080, 4294967295],
  );
  assert.ok(rules.every((r) => r.args?.[0]?.op === 'SCMP_CMP_EQ'));
});

test('capability-gated groups follow the capability set', () => {
  const gate = (cap: string, name: string): void => {
    assert.deepEqual(rulesFor(defaultSeccompProfile({ arch: 'x64', capabilities: [] }).syscalls, name), [], `${name} without ${cap}`);
    assert.ok(unconditional(defaultSeccompProfile({ arch: 'x64', capabilities: [cap] }).syscalls).has(name), `${name} with ${cap}`);
  };
  gate('CAP_SYS_CHROOT', 'chroot');
  gate('CAP_SYS_BOOT', 'reboot');
  gate('CAP_SYS_MODULE', 'init_module');
  gate('CAP_SYS_TIME', 'settimeofday');
  gate('CAP_SYS_NICE', 'mbind');
  gate('CAP_SYS_RAWIO', 'iopl');
  gate('CAP_SYS_PACCT', 'acct');
  gate('CAP_SYSLOG', 'syslog');
  gate('CAP_BPF', 'bpf');
  gate('CAP_PERFMON', 'perf_event_open');
  gate('CAP_SYS_PTRACE', 'kcmp');
  gate('CAP_DAC_READ_SEARCH', 'open_by_handle_at');
});

test('architecture-specific syscalls follow the native architecture', () => {
  const x64 = unconditional(defaultSeccompProfile({ arch: 'x64' }).syscalls);
  const arm = unconditional(defaultSeccompProfile({ arch: 'arm64' }).syscalls);
  assert.ok(x64.has('arch_prctl') && x64.has('modify_ldt') && !x64.has('set_tls'));
  assert.ok(arm.has('set_tls') && !arm.has('arch_prctl'));
});

test('a kernel without the x32 ABI: the x86-64 profile leaves x32 out, other architectures are as they were', () => {
  assert.deepEqual(defaultSeccompProfile({ arch: 'x64', x32: false }).architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86']);
  assert.deepEqual(defaultSeccompProfile({ arch: 'x64', x32: true }).architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  assert.deepEqual(defaultSeccompProfile({ arch: 'arm64', x32: false }).architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
});

test('each call returns a fresh object', () => {
  const a = defaultSeccompProfile();
  a.syscalls[0]!.names.push('keyctl');
  assert.ok(!defaultSeccompProfile().syscalls[0]!.names.includes('keyctl'));
});
test('a Docker-format profile becomes the runtime-spec object: archMap, includes/excludes, errors', () => {
  const profile = JSON.stringify({
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 1,
    archMap: [
      { architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] },
      { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] },
    ],
    syscalls: [
      { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
      { names: ['mount'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN'] } },
      { names: ['ptrace'], action: 'SCMP_ACT_ALLOW', excludes: { caps: ['CAP_CHOWN'] } },
      { names: ['arch_prctl'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['amd64'] } },
      { name: 'personality', action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] },
      { names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
    ],
  });
  const p = customSeccompProfile(profile, { capabilities: ['CAP_CHOWN'], arch: 'x64' });
  assert.deepEqual(p.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  assert.deepEqual(p.syscalls.map((s) => s.names.join(',')), ['read,write', 'arch_prctl', 'personality', 'mkdir']);
  assert.deepEqual(p.syscalls[2]!.args, [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }]);
  assert.equal(p.syscalls[3]!.errnoRet, 13);
  assert.deepEqual(customSeccompProfile(profile, { capabilities: ['CAP_SYS_ADMIN'], arch: 'arm64' }).syscalls.map((s) => s.names[0]), ['read', 'mount', 'ptrace', 'personality', 'mkdir']);
  assert.throws(() => customSeccompProfile('{', {}), /invalid seccomp profile/);
  assert.throws(() => customSeccompProfile('{"defaultAction":"SCMP_ACT_MAYBE"}', {}), /unknown action "SCMP_ACT_MAYBE"/);
  assert.throws(() => customSeccompProfile('{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["x"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"SCMP_CMP_WAT"}]}]}', {}), /known op/);
});
