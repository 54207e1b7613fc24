import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isKind } from '../../core/errors.ts';
import { ALL_CAPABILITIES, allCapabilities, applyCapChanges, capabilityMask, defaultCapabilities } from './capabilities.ts';

const ALL = ALL_CAPABILITIES;

test('Docker default set has 14 capabilities and the CapEff mask a80425fb', () => {
  const caps = defaultCapabilities();
  assert.equal(caps.length, 14);
  assert.equal(capabilityMask(caps), '00000000a80425fb');
  assert.ok(!caps.includes('CAP_SYS_ADMIN'));
});

test('the full list covers bits 0..40', () => {
  assert.equal(ALL.length, 41);
  assert.equal(ALL[21], 'CAP_SYS_ADMIN');
  assert.equal(ALL[40], 'CAP_CHECKPOINT_RESTORE');
  assert.equal(capabilityMask(ALL), '000001ffffffffff');
});

test('add accepts short, prefixed and lower-case names', () => {
  const caps = applyCapChanges(defaultCapabilities(), ['net_admin', 'CAP_SYS_ADMIN', 'Sys_Ptrace'], null, ALL);
  assert.deepEqual(caps.slice(-3), ['CAP_NET_ADMIN', 'CAP_SYS_ADMIN', 'CAP_SYS_PTRACE']);
  assert.equal(caps.length, 17);
});

test('drop removes, and adding an existing capability does not duplicate it', () => {
  const caps = applyCapChanges(defaultCapabilities(), ['chown'], ['NET_RAW', 'cap_mknod'], ALL);
  assert.ok(!caps.includes('CAP_NET_RAW'));
  assert.ok(!caps.includes('CAP_MKNOD'));
  assert.equal(caps.filter((c) => c === 'CAP_CHOWN').length, 1);
  assert.equal(caps.length, 12);
});

test('drop ALL keeps only the added ones', () => {
  assert.deepEqual(applyCapChanges(defaultCapabilities(), ['NET_BIND_SERVICE'], ['all'], ALL), ['CAP_NET_BIND_SERVICE']);
  assert.deepEqual(applyCapChanges(defaultCapabilities(), null, ['ALL'], ALL), []);
});

test('add ALL grants every available capability minus the drops', () => {
  const caps = applyCapChanges(defaultCapabilities(), ['ALL'], ['sys_admin'], ALL);
  assert.equal(caps.length, 40);
  assert.ok(!caps.includes('CAP_SYS_ADMIN'));
  const limited = applyCapChanges(defaultCapabilities(), ['all'], undefined, ALL.filter((c) => c !== 'CAP_SYS_RESOURCE'));
  assert.ok(!limited.includes('CAP_SYS_RESOURCE'));
  assert.equal(limited.length, 40);
});

test('no changes returns the base set', () => {
  assert.deepEqual(applyCapChanges(defaultCapabilities(), [], undefined, ALL), defaultCapabilities());
});

test('unknown capability is an invalid parameter with Docker wording', () => {
  assert.throws(
    () => applyCapChanges(defaultCapabilities(), ['FOO'], null, ALL),
    (err: unknown) => isKind(err, 'InvalidParameter') && (err as Error).message === 'invalid CapAdd: unknown capability: "CAP_FOO"',
  );
  assert.throws(() => applyCapChanges(defaultCapabilities(), null, ['cap_bogus'], ALL), /invalid CapDrop: unknown capability: "CAP_BOGUS"$/);
});

test('adding a capability the host withholds is refused', () => {
  assert.throws(
    () => applyCapChanges(defaultCapabilities(), ['SYS_RESOURCE'], null, ALL.filter((c) => c !== 'CAP_SYS_RESOURCE')),
    (err: unknown) => isKind(err, 'InvalidParameter') && /not available in the current environment: "CAP_SYS_RESOURCE"/.test((err as Error).message),
  );
});

test('allCapabilities is limited to what is available', () => {
  assert.deepEqual(allCapabilities(['CAP_KILL', 'CAP_CHOWN']), ['CAP_CHOWN', 'CAP_KILL']);
  assert.equal(allCapabilities(ALL).length, 41);
});
