// Linux capabilities: Docker's default set and the --cap-add/--cap-drop arithmetic.
import { readFileSync } from 'node:fs';
import { invalidParameter } from '../../core/errors.ts';

/** Every capability the kernel defines, in bit order (bit n = index n), up to CAP_CHECKPOINT_RESTORE (40). */
export const ALL_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
];

const KNOWN = new Set(ALL_CAPABILITIES);

const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

/** Docker's 14 default capabilities. */
export function defaultCapabilities(): string[] {
  return [...DEFAULT_CAPABILITIES];
}

let hostCaps: readonly string[] | undefined;
/**
 * The capabilities this process may hand on (its bounding set). The runtime fails to start a
 * container asking for more, e.g. CAP_SYS_RESOURCE on hosts that withhold it.
 */
export function hostCapabilities(): readonly string[] {
  if (hostCaps === undefined) {
    let caps: readonly string[] = ALL_CAPABILITIES;
    try {
      const line = /^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
      if (line?.[1] !== undefined) {
        const mask = BigInt(`0x${line[1]}`);
        caps = ALL_CAPABILITIES.filter((_, bit) => (mask >> BigInt(bit)) & 1n);
      }
    } catch {
      // Not Linux or no procfs: assume everything is available and let the runtime judge.
    }
    hostCaps = caps;
  }
  return hostCaps;
}

/** Every capability available on this host, for privileged containers and --cap-add ALL. */
export function allCapabilities(available: readonly string[] = hostCapabilities()): string[] {
  return ALL_CAPABILITIES.filter((c) => available.includes(c));
}

/** 'net_admin', 'NET_ADMIN' and 'CAP_NET_ADMIN' name one capability; 'all' stays 'ALL'. */
function normalize(names: readonly string[], available?: readonly string[], field?: string): string[] {
  const out: string[] = [];
  for (const raw of names) {
    const upper = raw.trim().toUpperCase();
    if (upper === 'ALL') {
      out.push('ALL');
      continue;
    }
    const cap = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
    if (!KNOWN.has(cap)) throw invalidParameter(`${field ? `invalid ${field}: ` : ''}unknown capability: "${cap}"`);
    if (available && !available.includes(cap)) {
      throw invalidParameter(`capability not supported by your kernel or not available in the current environment: "${cap}"`);
    }
    out.push(cap);
  }
  return out;
}

/**
 * Applies --cap-add and --cap-drop to a base set the way Docker does: adding ALL grants every
 * capability except the dropped ones; dropping ALL keeps only the added ones; otherwise drops
 * apply first, then adds. The result has no duplicates. `available` (default: this host's bounding
 * set) limits ALL and refuses an explicit add the host cannot grant.
 */
export function applyCapChanges(
  base: string[],
  add: string[] | null | undefined,
  drop: string[] | null | undefined,
  available: readonly string[] = hostCapabilities(),
): string[] {
  const adds = normalize(add ?? [], available, 'CapAdd');
  const drops = normalize(drop ?? [], undefined, 'CapDrop');
  let caps: string[];
  if (adds.includes('ALL')) {
    caps = allCapabilities(available).filter((c) => !drops.includes(c));
  } else if (drops.includes('ALL')) {
    caps = adds;
  } else {
    caps = [...normalize(base).filter((c) => c !== 'ALL' && !drops.includes(c)), ...adds];
  }
  return [...new Set(caps)];
}

/** The capability set as the hex bitmask /proc/<pid>/status shows (CapEff), 16 digits. */
export function capabilityMask(caps: readonly string[]): string {
  let mask = 0n;
  for (const c of caps) {
    const bit = ALL_CAPABILITIES.indexOf(c);
    if (bit >= 0) mask |= 1n << BigInt(bit);
  }
  return mask.toString(16).padStart(16, '0');
}
