// After all test files: netavark's shared base chains are removed once no network has chains left,
// so a test run leaves the host's firewall as it found it.
import { dropIdleNetavarkBase } from '../src/adapters/netavark/index.ts';

export async function globalTeardown(): Promise<void> {
  if (process.getuid?.() !== 0) return;
  await dropIdleNetavarkBase().catch(() => {});
}
