import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bigIntToIpv6, canonicalIpv6, contains6, formatCidr6, freeSubnet64, ipv6ToBigInt, overlaps6, parseCidr6, ulaBase } from './ipv6.ts';

test('IPv6 addresses: canonical short form, to and from integers', () => {
  assert.equal(canonicalIpv6('FD00:BEEF:0001:0000:0000:0000:0000:0002'), 'fd00:beef:1::2');
  assert.equal(canonicalIpv6('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1');
  assert.equal(canonicalIpv6('::ffff:1.2.3.4'), '::ffff:102:304');
  assert.equal(ipv6ToBigInt('::1'), 1n);
  assert.equal(ipv6ToBigInt('fd00::'), 0xfd00n << 112n);
  assert.equal(bigIntToIpv6((0xfd00n << 112n) + 2n), 'fd00::2');
  assert.equal(bigIntToIpv6(ipv6ToBigInt('fd00:beef:1::ff:1')), 'fd00:beef:1::ff:1');
  for (const bad of ['1.2.3.4', 'fd00::1::2', 'fd00:zz::1', '[::1]', 'fd00::/64', '']) assert.throws(() => canonicalIpv6(bad), /invalid IPv6 address/);
});

test('IPv6 subnets: parsed, host bits refused, overlap and containment', () => {
  const a = parseCidr6('fd00:beef:1::/64');
  assert.equal(formatCidr6(a), 'fd00:beef:1::/64');
  assert.ok(contains6(a, ipv6ToBigInt('fd00:beef:1::ffff')));
  assert.ok(!contains6(a, ipv6ToBigInt('fd00:beef:2::1')));
  assert.ok(overlaps6(a, parseCidr6('fd00:beef::/32')));
  assert.ok(!overlaps6(a, parseCidr6('fd00:beef:2::/64')));
  assert.throws(() => parseCidr6('fd00:beef:1::1/64'), /host bits set \(did you mean fd00:beef:1::\/64\?\)/);
  assert.throws(() => parseCidr6('10.0.0.0/24'), /expected IPv6 CIDR/);
  assert.throws(() => parseCidr6('fd00::/4'), /prefix must be between/);
  assert.throws(() => parseCidr6('fd00::/128'), /prefix must be between/);
});

test('the daemon\'s unique local /48 comes from its engine ID; /64s are handed out first free first', () => {
  const a = ulaBase('engine-a');
  assert.equal(a.prefix, 48);
  assert.match(formatCidr6(a), /^fd[0-9a-f]{2}(:[0-9a-f]{1,4}){2}::\/48$/);
  assert.deepEqual(ulaBase('engine-a'), a);
  assert.notDeepEqual(ulaBase('engine-b'), a);
  const first = freeSubnet64(a, [])!;
  assert.equal(first.base, a.base);
  assert.equal(first.prefix, 64);
  const second = freeSubnet64(a, [first])!;
  assert.equal(second.base, a.base + (1n << 64n));
  // A host route over the first /56 pushes the pick past it.
  assert.equal(freeSubnet64(a, [{ base: a.base, prefix: 56 }])!.base, a.base + (256n << 64n));
  assert.equal(freeSubnet64({ base: a.base, prefix: 63 }, [{ base: a.base, prefix: 63 }]), undefined);
});
