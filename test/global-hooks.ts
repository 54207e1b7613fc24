// Around all test files: every temporary directory a test makes is named /tmp/berth-*; one that is
// still there after the run is a test that does not clean up, and fails the run. After the run,
// netavark's shared base chains are removed once no network has chains left, so a test run leaves
// the host's firewall as it found it; IPv6 forwarding, which netavark turns on for an IPv6 network,
// gets its setting back.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dropIdleNetavarkBase } from '../src/adapters/netavark/index.ts';

const ours = (): string[] => readdirSync(tmpdir()).filter((n) => n.startsWith('berth-'));
let before = new Set<string>();
const FORWARDING = '/proc/sys/net/ipv6/conf/all/forwarding';
let forwarding: string | undefined;

export async function globalSetup(): Promise<void> {
  before = new Set(ours());
  try {
    forwarding = readFileSync(FORWARDING, 'utf8').trim();
  } catch {
    forwarding = undefined;
  }
}

export async function globalTeardown(): Promise<void> {
  const left = ours().filter((n) => !before.has(n));
  if (process.getuid?.() === 0) {
    await dropIdleNetavarkBase().catch(() => {});
    try {
      if (forwarding !== undefined && readFileSync(FORWARDING, 'utf8').trim() !== forwarding) writeFileSync(FORWARDING, `${forwarding}\n`);
    } catch {
      // not ours to fix: IPv6 turned off, or no permission
    }
  }
  if (left.length > 0) {
    // Throwing here makes node's runner call the hook again and again; an exit code fails the run.
    console.error(`tests left temporary directories behind in ${tmpdir()}: ${left.join(', ')}`);
    process.exitCode = 1;
  }
}
