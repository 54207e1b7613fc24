// `berth bootstrap busybox`: a one-layer busybox image built from the host's static busybox, with
// no registry. The archive is reproducible (sorted entries, root ownership, one fixed timestamp),
// so the same busybox binary always gives the same image ID.
import { open, stat } from 'node:fs/promises';
import { invalidParameter, notFound } from '../../core/errors.ts';
import { listApplets } from '../../adapters/busybox/index.ts';
import { packEntries, type PackEntry } from '../../adapters/tar/index.ts';
import type { ImageStore, ImageRecord } from '../../stores/images.ts';

/** Timestamp of every entry and of the image: a host's clock or file dates would break reproducibility. */
export const BOOTSTRAP_TIME = new Date('2024-01-01T00:00:00Z');
const DEFAULT_PATHS = ['/bin/busybox', '/usr/bin/busybox'];
const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const APPLET_RE = /^[a-zA-Z0-9_.[\]-]{1,64}$/;

/** The host's architecture in OCI's vocabulary. */
function ociArchitecture(): string {
  const map: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return map[process.arch] ?? process.arch;
}

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n';
const GROUP = 'root:x:0:\nnobody:x:65534:\n';

export interface BootstrapOptions {
  ref?: string;
  busyboxPath?: string;
  signal?: AbortSignal;
}

/** True when the ELF file has no program interpreter, i.e. it runs without the host's libc. */
export async function isStaticElf(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(64);
    await fh.read(head, 0, 64, 0);
    if (head.readUInt32BE(0) !== 0x7f454c46) return false;
    const is64 = head[4] === 2;
    const le = head[5] === 1;
    const u16 = (b: Buffer, o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
    const u32 = (b: Buffer, o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
    const phoff = is64 ? Number(le ? head.readBigUInt64LE(32) : head.readBigUInt64BE(32)) : u32(head, 28);
    const phentsize = u16(head, is64 ? 54 : 42);
    const phnum = u16(head, is64 ? 56 : 44);
    if (phnum > 4096 || phentsize < 4) return false;
    const table = Buffer.alloc(phentsize * phnum);
    await fh.read(table, 0, table.length, phoff);
    const PT_INTERP = 3;
    for (let i = 0; i < phnum; i++) if (u32(table, i * phentsize) === PT_INTERP) return false;
    return true;
  } finally {
    await fh.close();
  }
}

async function findBusybox(given: string | undefined): Promise<string> {
  for (const p of given !== undefined ? [given] : DEFAULT_PATHS) {
    try {
      if ((await stat(p)).isFile()) return p;
    } catch {
      // Try the next one.
    }
  }
  throw notFound(`busybox not found at ${given ?? DEFAULT_PATHS.join(' or ')}: install busybox-static`);
}

/** The tar entries of the busybox root filesystem, sorted by name. */
export async function busyboxEntries(busybox: string, opts: { signal?: AbortSignal } = {}): Promise<PackEntry[]> {
  const size = (await stat(busybox)).size;
  const applets = [...new Set(await listApplets(busybox, opts))]
    .filter((a) => a !== '' && a !== 'busybox' && APPLET_RE.test(a))
    .sort();
  if (!applets.includes('sh')) throw invalidParameter(`${busybox} --list names no sh applet`);
  const dir = (name: string, mode: number): PackEntry => ({ name, type: 'directory', mode, mtime: BOOTSTRAP_TIME });
  const entries: PackEntry[] = [
    dir('bin', 0o755),
    { name: 'bin/busybox', type: 'file', mode: 0o755, mtime: BOOTSTRAP_TIME, content: { path: busybox, size } },
    ...applets.map((a): PackEntry => ({ name: `bin/${a}`, type: 'symlink', mode: 0o777, linkname: 'busybox', mtime: BOOTSTRAP_TIME })),
    dir('dev', 0o755),
    dir('etc', 0o755),
    { name: 'etc/group', type: 'file', mode: 0o644, mtime: BOOTSTRAP_TIME, content: Buffer.from(GROUP) },
    { name: 'etc/passwd', type: 'file', mode: 0o644, mtime: BOOTSTRAP_TIME, content: Buffer.from(PASSWD) },
    dir('home', 0o755),
    dir('proc', 0o555),
    dir('root', 0o700),
    dir('sys', 0o555),
    dir('tmp', 0o1777),
    dir('var', 0o755),
  ];
  return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Builds (or finds again) the busybox image and tags it. */
export async function bootstrapBusybox(store: Pick<ImageStore, 'createImage'>, opts: BootstrapOptions = {}): Promise<ImageRecord> {
  const busybox = await findBusybox(opts.busyboxPath);
  if (!(await isStaticElf(busybox))) {
    throw invalidParameter(`${busybox} is not statically linked: install busybox-static`);
  }
  const entries = await busyboxEntries(busybox, opts.signal ? { signal: opts.signal } : {});
  // Docker's form, without milliseconds.
  const created = BOOTSTRAP_TIME.toISOString().replace('.000Z', 'Z');
  const createOpts: Parameters<ImageStore['createImage']>[0] = {
    layerTars: [packEntries(entries)],
    ref: opts.ref ?? 'busybox:latest',
    config: {
      architecture: ociArchitecture(),
      os: 'linux',
      created,
      config: { Env: [PATH_ENV], Cmd: ['sh'] },
      history: [{ created, created_by: 'berth bootstrap busybox' }],
    },
  };
  if (opts.signal !== undefined) createOpts.signal = opts.signal;
  return store.createImage(createOpts);
}
