import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePlatform, platformMatches } from './manifest.ts';

test('parsePlatform spells architectures as OCI does; bad ones are refused', () => {
  assert.deepEqual(parsePlatform('linux/x86_64'), { os: 'linux', architecture: 'amd64' });
  assert.deepEqual(parsePlatform('Linux/aarch64/v8'), { os: 'linux', architecture: 'arm64', variant: 'v8' });
  assert.deepEqual(parsePlatform('linux/arm/v7'), { os: 'linux', architecture: 'arm', variant: 'v7' });
  assert.throws(() => parsePlatform('linux'), /expected os\/arch/);
  assert.throws(() => parsePlatform('linux/amd64/v1/x'), /expected os\/arch/);
});

test('platformMatches: OS and architecture, the variant only when asked (arm64 defaults to v8)', () => {
  const amd64 = { os: 'linux', architecture: 'amd64' };
  assert.ok(platformMatches(parsePlatform('linux/x86_64'), amd64));
  assert.ok(!platformMatches(parsePlatform('linux/s390x'), amd64));
  assert.ok(!platformMatches(parsePlatform('windows/amd64'), amd64));
  assert.ok(platformMatches(parsePlatform('linux/arm64/v8'), { os: 'linux', architecture: 'arm64' }));
  assert.ok(!platformMatches(parsePlatform('linux/arm/v6'), { os: 'linux', architecture: 'arm', variant: 'v7' }));
  assert.ok(platformMatches(parsePlatform('linux/arm'), { os: 'linux', architecture: 'arm', variant: 'v7' }));
});
