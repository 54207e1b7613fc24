import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBus } from '../events/index.ts';
import { NetworkService, ipv6Gateway } from './index.ts';

async function service(): Promise<{ s: NetworkService; done: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-nets-'));
  const s = new NetworkService({ dataRoot: dir, events: new EventBus() });
  await s.load();
  return { s, done: () => rmSync(dir, { recursive: true, force: true }) };
}

test('an IPv6 network: its subnet after the IPv4 one, a gateway only as given, addresses handed out in order and freed', async () => {
  const { s, done } = await service();
  try {
    const { Id } = await s.create({ Name: 'six', EnableIPv6: true, IPAM: { Config: [{ Subnet: 'FD00:0AB::/64' }, { Subnet: '10.123.4.0/24' }] } });
    const n = s.find(Id);
    assert.equal(n.EnableIPv6, true);
    assert.deepEqual(n.IPAM.Config.map((c) => c.Subnet), ['10.123.4.0/24', 'fd00:ab::/64']);
    assert.equal(n.IPAM.Config[1]!.Gateway, '');
    assert.equal(ipv6Gateway(n), 'fd00:ab::1');
    assert.equal(s.allocate6(Id), 'fd00:ab::2');
    assert.equal(s.allocate6(Id, 'fd00:ab::99'), 'fd00:ab::99');
    assert.throws(() => s.allocate6(Id, 'fd00:ab:0::99'), /Address already in use/);
    assert.throws(() => s.allocate6(Id, 'fd00:ab::1'), /Address already in use/);
    assert.throws(() => s.allocate6(Id, 'fd00:cd::5'), /no configured subnet/);
    assert.equal(s.allocate6(Id), 'fd00:ab::3');
    s.release(Id, '', 'fd00:ab::2');
    assert.equal(s.allocate6(Id), 'fd00:ab::2');
    const info = s.netavarkInfo(n);
    assert.equal(info.ipv6_enabled, true);
    assert.deepEqual(info.subnets[1], { subnet: 'fd00:ab::/64', gateway: 'fd00:ab::1' });
    // Overlapping IPv6 subnets, a gateway outside, --ipv6 without a subnet, and a request on an IPv4 network.
    await assert.rejects(s.create({ Name: 'six2', EnableIPv6: true, IPAM: { Config: [{ Subnet: 'fd00::/16' }] } }), /Pool overlaps/);
    await assert.rejects(s.create({ Name: 'six3', EnableIPv6: true, IPAM: { Config: [{ Subnet: 'fd01::/64', Gateway: 'fd02::1' }] } }), /gateway fd02::1 is not in subnet fd01::\/64/);
    await assert.rejects(s.create({ Name: 'six4', EnableIPv6: true }), /IPv6 address pool/);
    await assert.rejects(s.create({ Name: 'six5', EnableIPv6: 'yes' }), /EnableIPv6 must be a boolean/);
    const four = (await s.create({ Name: 'four' })).Id;
    assert.equal(s.allocate6(four), undefined);
    assert.throws(() => s.allocate6(four, 'fd00:ab::7'), /has no IPv6 subnet/);
    // A given gateway is kept (canonical) and skipped.
    const g = (await s.create({ Name: 'six6', EnableIPv6: true, IPAM: { Config: [{ Subnet: 'fd05::/120', Gateway: 'FD05::0002' }] } })).Id;
    assert.equal(s.find(g).IPAM.Config[1]!.Gateway, 'fd05::2');
    assert.equal(s.allocate6(g), 'fd05::1');
    assert.equal(s.allocate6(g), 'fd05::3');
  } finally {
    done();
  }
});
