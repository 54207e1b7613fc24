import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBus } from '../events/index.ts';
import { NetworkService, ipv6Gateway } from './index.ts';

async function service(engineId?: string): Promise<{ s: NetworkService; done: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-nets-'));
  const s = new NetworkService({ dataRoot: dir, events: new EventBus(), ...(engineId ? { engineId } : {}) });
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
    // Without an engine ID to make its unique local /48 from, there is no pool to take a subnet from.
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

test('IPv6 without a subnet: a /64 of the daemon\'s own /48, for user networks and, with --ipv6, the default bridge', async () => {
  const { s, done } = await service('engine-1');
  try {
    const a = s.find((await s.create({ Name: 'a', EnableIPv6: true })).Id);
    const b = s.find((await s.create({ Name: 'b', EnableIPv6: true })).Id);
    const [sa, sb] = [a.IPAM.Config[1]!, b.IPAM.Config[1]!];
    assert.match(sa.Subnet, /^fd[0-9a-f:]+::\/64$/);
    assert.notEqual(sa.Subnet, sb.Subnet);
    assert.equal(sa.Gateway, sa.Subnet.replace('::/64', '::1'));
    // The default bridge: the subnet given; kept when --fixed-cidr-v6 is no longer given; gone without --ipv6.
    let br = await s.ensureDefault({ bridgeName: 'b0', bip: '10.200.0.1/24', ipv6: true, fixedCidrV6: 'fd12:3456:789a:1::/64' });
    assert.equal(br.EnableIPv6, true);
    assert.deepEqual(br.IPAM.Config.map((c) => c.Subnet), ['10.200.0.0/24', 'fd12:3456:789a:1::/64']);
    const id = br.Id;
    br = await s.ensureDefault({ bridgeName: 'b0', bip: '10.200.0.1/24', ipv6: true });
    assert.equal(br.Id, id);
    br = await s.ensureDefault({ bridgeName: 'b0', ipv6: false });
    assert.equal(br.EnableIPv6, false);
    assert.deepEqual(br.IPAM.Config.map((c) => c.Subnet), ['10.200.0.0/24']);
    br = await s.ensureDefault({ bridgeName: 'b0', ipv6: true });
    assert.match(br.IPAM.Config[1]!.Subnet, /^fd[0-9a-f:]+::\/64$/);
    assert.ok(![sa.Subnet, sb.Subnet].includes(br.IPAM.Config[1]!.Subnet));
    await assert.rejects(s.ensureDefault({ bridgeName: 'b0', ipv6: true, fixedCidrV6: sa.Subnet }), /overlaps another network/);
  } finally {
    done();
  }
});
