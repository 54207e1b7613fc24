// Proves runc accepts the generated config.json and that the container really gets Docker's
// profile. Needs root, runc and a static /bin/busybox; skipped otherwise.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmdirSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ContainerConfig, HostConfig } from '../../core/types.ts';
import { run } from '../../adapters/exec/index.ts';
import { allCapabilities, buildSpec, capabilityMask, resolveUser, type SpecInput } from './index.ts';

const RUNC = ['/usr/sbin/runc', '/usr/bin/runc', '/usr/local/sbin/runc'].find((p) => existsSync(p));
const BUSYBOX = '/bin/busybox';
const TINI = '/usr/bin/tini-static';
const CGROUP_PARENT = 'berth-spec-test';
const APPLETS = ['sh', 'cat', 'id', 'grep', 'mount', 'unshare', 'wc', 'touch', 'mknod', 'echo', 'ls', 'head'];

const skip =
  process.getuid?.() !== 0 ? 'needs root' : RUNC === undefined ? 'runc not installed' : !existsSync(BUSYBOX) ? 'no /bin/busybox' : false;

let dir = '';
let rootfs = '';
const ids: string[] = [];

function containerConfig(over: Partial<ContainerConfig>): ContainerConfig {
  return {
    Hostname: 'spectest',
    Domainname: '',
    User: '',
    AttachStdin: false,
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
    OpenStdin: false,
    StdinOnce: false,
    Env: ['SPEC_TEST=1'],
    Cmd: null,
    Image: 'busybox',
    WorkingDir: '',
    Entrypoint: null,
    Labels: {},
    ...over,
  };
}

function hostConfig(over: Partial<HostConfig>): HostConfig {
  return {
    NetworkMode: 'none',
    RestartPolicy: { Name: '' },
    AutoRemove: false,
    LogConfig: { Type: 'json-file', Config: {} },
    Privileged: false,
    ReadonlyRootfs: false,
    Memory: 0,
    MemorySwap: 0,
    NanoCpus: 0,
    CpuShares: 0,
    CpuPeriod: 0,
    CpuQuota: 0,
    ...over,
  };
}

interface RunOpts {
  hc?: Partial<HostConfig>;
  cfg?: Partial<ContainerConfig>;
  user?: SpecInput['user'];
  extra?: Partial<SpecInput>;
}

/** Runs `script` under `sh -c` in a fresh container and returns its output as key=value pairs. */
async function runIn(script: string, opts: RunOpts = {}): Promise<{ out: Map<string, string>; stdout: string; stderr: string; code: number }> {
  const id = `berth-spec-${randomBytes(6).toString('hex')}`;
  ids.push(id);
  const bundle = path.join(dir, id);
  await mkdir(bundle);
  const spec = buildSpec({
    id,
    rootfs,
    config: containerConfig(opts.cfg ?? {}),
    hostConfig: hostConfig(opts.hc ?? {}),
    args: ['sh', '-c', script],
    user: opts.user ?? { uid: 0, gid: 0, additionalGids: [] },
    hostname: 'spectest',
    cgroupsPath: `/${CGROUP_PARENT}/${id}`,
    mounts: [],
    hostRlimitNofile: { soft: 20000, hard: 20000 },
    ...opts.extra,
  });
  await writeFile(path.join(bundle, 'config.json'), JSON.stringify(spec));
  const codes = Array.from({ length: 256 }, (_, i) => i);
  const res = await run([RUNC!, '--root', path.join(dir, 'runc'), 'run', '--bundle', bundle, id], {
    okCodes: codes,
    signal: AbortSignal.timeout(30_000),
  });
  const out = new Map<string, string>();
  for (const line of res.stdout.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out.set(line.slice(0, i), line.slice(i + 1));
  }
  return { out, stdout: res.stdout, stderr: res.stderr, code: res.exitCode };
}

function removeTestCgroups(): void {
  let controllers: string[] = [];
  try {
    controllers = readdirSync('/sys/fs/cgroup');
  } catch {
    return;
  }
  for (const c of controllers) {
    const parent = path.join('/sys/fs/cgroup', c, CGROUP_PARENT);
    for (const id of ids) {
      try {
        rmdirSync(path.join(parent, id));
      } catch {
        // Already removed by runc, or never created in this hierarchy.
      }
    }
    try {
      rmdirSync(parent);
    } catch {
      // Not there, or still in use by a concurrent run of this file.
    }
  }
}

describe('runc runs the generated spec', { skip }, () => {
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'berth-spec-'));
    rootfs = path.join(dir, 'rootfs');
    for (const d of ['bin', 'etc', 'mnt', 'run', 'tmp']) await mkdir(path.join(rootfs, d), { recursive: true });
    await copyFile(BUSYBOX, path.join(rootfs, 'bin/busybox'));
    for (const a of APPLETS) await symlink('busybox', path.join(rootfs, 'bin', a));
    await writeFile(path.join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n');
    await writeFile(path.join(rootfs, 'etc/group'), 'root:x:0:\napp:x:1000:\naudio:x:29:app\n');
  });

  after(async () => {
    for (const id of ids) {
      await run([RUNC!, '--root', path.join(dir, 'runc'), 'delete', '-f', id], { okCodes: [0, 1] }).catch(() => undefined);
    }
    removeTestCgroups();
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  test("default profile: Docker's capabilities, seccomp, masks, devices, limits", async () => {
    const script = [
      'echo capline="$(grep CapEff /proc/self/status)"',
      'echo seccomp="$(grep "^Seccomp:" /proc/self/status)"',
      'echo nnp="$(grep NoNewPrivs /proc/self/status)"',
      'echo interrupts=$(wc -c < /proc/interrupts)',
      'if n=$(cat /proc/kcore 2>/dev/null | wc -c); then echo kcore=$n; else echo kcore=fail; fi',
      'unshare -U true 2>/dev/null; echo unshare=$?',
      'mount -t tmpfs x /mnt 2>/dev/null; echo mount=$?',
      'echo nofile=$(ulimit -n)',
      'echo mem=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)',
      'echo pids=$(cat /sys/fs/cgroup/pids/pids.max)',
      'echo quota=$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us)',
      '(echo x > /proc/sys/kernel/hostname) 2>/dev/null; echo procsys=$?',
      'mknod /tmp/fuse c 10 229; echo mknod=$?',
      'echo fuse="$(cat /tmp/fuse 2>&1)"',
      '(cat /dev/null && echo ok > /dev/null) 2>/dev/null; echo devnull=$?',
      'echo host=$(cat /proc/sys/kernel/hostname) env=$HOSTNAME/$SPEC_TEST',
    ].join('\n');
    const { out, stderr, code } = await runIn(script, { hc: { Memory: 64 << 20, PidsLimit: 64, NanoCpus: 500_000_000 } });
    assert.equal(code, 0, stderr);
    assert.match(out.get('capline') ?? '', /CapEff:\s+00000000a80425fb/);
    assert.match(out.get('seccomp') ?? '', /Seccomp:\s+2/);
    assert.match(out.get('nnp') ?? '', /NoNewPrivs:\s+0/);
    assert.equal(out.get('interrupts'), '0');
    assert.ok(['0', 'fail'].includes(out.get('kcore') ?? ''), `kcore=${out.get('kcore')}`);
    assert.notEqual(out.get('unshare'), '0');
    assert.notEqual(out.get('mount'), '0');
    assert.ok(Number(out.get('nofile')) <= 20000 && Number(out.get('nofile')) > 0, `nofile=${out.get('nofile')}`);
    assert.equal(out.get('mem'), String(64 << 20));
    assert.equal(out.get('pids'), '64');
    assert.equal(out.get('quota'), '50000');
    assert.notEqual(out.get('procsys'), '0');
    assert.equal(out.get('mknod'), '0');
    assert.match(out.get('fuse') ?? '', /can't open.*Operation not permitted/);
    assert.equal(out.get('devnull'), '0');
    assert.equal(out.get('host'), 'spectest env=spectest/1');
  });

  test('--cap-add SYS_ADMIN allows mount', async () => {
    const { out, stderr, code } = await runIn(
      'mount -t tmpfs x /mnt; echo mount=$?; echo capline="$(grep CapEff /proc/self/status)"',
      { hc: { CapAdd: ['SYS_ADMIN'] } },
    );
    assert.equal(code, 0, stderr);
    assert.equal(out.get('mount'), '0');
    assert.match(out.get('capline') ?? '', /00000000a82425fb/);
  });

  test('a resolved user runs with its uid, gid and supplementary groups', async () => {
    const user = await resolveUser(rootfs, 'app');
    const { out, stdout, stderr, code } = await runIn('echo id="$(id)"; touch /dev/shm/x; echo shm=$?', {
      user: { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids },
    });
    assert.equal(code, 0, `${stderr}${stdout}`);
    assert.match(out.get('id') ?? '', /^uid=1000\(app\) gid=1000\(app\) groups=.*29\(audio\)/);
    assert.equal(out.get('shm'), '0');
  });

  test('read-only rootfs keeps tmpfs, /dev and /dev/shm writable', async () => {
    const script = [
      'touch /rootfile 2>/dev/null; echo rootfile=$?',
      'touch /run/x; echo run=$?',
      'touch /dev/shm/x; echo shm=$?',
      'touch /dev/x; echo dev=$?',
      'echo runopts="$(grep " /run " /proc/mounts)"',
    ].join('\n');
    const { out, stdout, stderr, code } = await runIn(script, { hc: { ReadonlyRootfs: true, Tmpfs: { '/run': 'rw,size=65536k' } } });
    assert.equal(code, 0, `${stderr}${stdout}`);
    assert.notEqual(out.get('rootfile'), '0');
    assert.equal(out.get('run'), '0');
    assert.equal(out.get('shm'), '0');
    assert.equal(out.get('dev'), '0');
    assert.match(out.get('runopts') ?? '', /rw,nosuid,nodev,noexec.*size=65536k/);
  });

  test('privileged gets every available capability and no seccomp filter', async () => {
    const { out, stderr, code } = await runIn(
      'echo capline="$(grep CapEff /proc/self/status)"; echo seccomp="$(grep "^Seccomp:" /proc/self/status)"; echo interrupts=$(wc -c < /proc/interrupts)',
      { hc: { Privileged: true } },
    );
    assert.equal(code, 0, stderr);
    assert.match(out.get('capline') ?? '', new RegExp(capabilityMask(allCapabilities())));
    assert.match(out.get('seccomp') ?? '', /Seccomp:\s+0/);
    assert.notEqual(out.get('interrupts'), '0');
  });

  test('init runs the command under /sbin/docker-init', { skip: !existsSync(TINI) && 'no tini-static' }, async () => {
    const { out, stderr, code } = await runIn('echo pid1="$(head -c 17 /proc/1/cmdline | tr "\\0" " ")"; echo me=$$', {
      hc: { Init: true },
      extra: { initPath: TINI },
    });
    assert.equal(code, 0, stderr);
    assert.equal(out.get('pid1'), '/sbin/docker-init');
    assert.notEqual(out.get('me'), '1');
  });

  test('exit codes pass through', async () => {
    const { code } = await runIn('exit 7');
    assert.equal(code, 7);
  });
});
