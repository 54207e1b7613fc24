import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderListing } from './listing.ts';
import { containerRow } from './commands/ps.ts';
import { imageRows } from './commands/images.ts';
import { formatEvent } from './commands/events.ts';
import { timestampArg } from './commands/logs.ts';
import { cpuPercent, memoryUsed, statsRow } from './stats.ts';

const now = Date.parse('2024-01-01T01:00:00Z');
const container = {
  Id: '0123456789abcdef0123456789abcdef',
  Names: ['/web', '/other/link'],
  Image: 'busybox@sha256:abcd',
  ImageID: 'sha256:ffff',
  Command: "sh -c 'while true; do sleep 1; done'",
  Created: now / 1000 - 125,
  Ports: [{ IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' }],
  Labels: { b: '2', a: '1' },
  State: 'running',
  Status: 'Up 2 minutes',
  SizeRw: 12,
  SizeRootFs: 4263424,
};

test('ps rows are computed as docker shows them', () => {
  const r = containerRow(container, { trunc: true, now });
  assert.equal(r['ID'], '0123456789ab');
  assert.equal(r['Image'], 'busybox');
  assert.equal(r['Command'], '"sh -c \'while true; …"');
  assert.equal(r['RunningFor'], '2 minutes ago');
  assert.equal(r['Ports'], '0.0.0.0:8080->80/tcp');
  assert.equal(r['Names'], 'web');
  assert.equal(r['Labels'], 'a=1,b=2');
  assert.equal(r['Size'], '12B (virtual 4.26MB)');
  const full = containerRow(container, { trunc: false, now });
  assert.equal(full['Image'], 'busybox@sha256:abcd');
  assert.equal(full['Names'], 'web,other/link');
  assert.equal(containerRow({ ...container, Image: 'sha256:ffff00001111', ImageID: 'sha256:ffff00001111aaaa' }, { trunc: true, now })['Image'], 'ffff00001111');
  assert.equal(containerRow({ Id: 'x', State: 'created', Status: '' }, { trunc: true, now })['Status'], 'Created');
});

test('default table, table templates with headers, plain templates, json', () => {
  const rows = [containerRow(container, { trunc: true, now })];
  const table = renderListing(rows, { format: '', defaultTable: 'table {{.ID}}\t{{.Names}}', headers: { ID: 'CONTAINER ID', Names: 'NAMES' } });
  assert.equal(table, 'CONTAINER ID   NAMES\n0123456789ab   web\n');
  const labelled = renderListing(rows, { format: 'table {{.Names}}\\t{{.Label "a"}}', defaultTable: '', headers: { Names: 'NAMES', Label: 'LABEL' } });
  assert.equal(labelled, 'NAMES     a\nweb       1\n');
  assert.equal(renderListing(rows, { format: '{{.Names}}:{{.Status}}', defaultTable: '', headers: {} }), 'web:Up 2 minutes\n');
  const json = JSON.parse(renderListing(rows, { format: 'json', defaultTable: '', headers: {} })) as Record<string, unknown>;
  assert.equal(json['Names'], 'web');
  assert.equal(json['Label'], undefined);
});

test('image rows: one per tag, digests only on request, untagged as <none>', () => {
  const img = { Id: 'sha256:ab12cd34ef56aaaa', RepoTags: ['busybox:latest', 'busybox:1.36', 'reg:5000/x/y:2'], RepoDigests: ['busybox@sha256:99'], Created: now / 1000 - 30, Size: 1234 };
  const rows = imageRows(img, { trunc: true, digests: false, now });
  assert.deepEqual(rows.map((r) => [r['Repository'], r['Tag'], r['Digest'], r['ID'], r['CreatedSince'], r['Size']]), [
    ['busybox', 'latest', '<none>', 'ab12cd34ef56', '30 seconds ago', '1.23kB'],
    ['busybox', '1.36', '<none>', 'ab12cd34ef56', '30 seconds ago', '1.23kB'],
    ['reg:5000/x/y', '2', '<none>', 'ab12cd34ef56', '30 seconds ago', '1.23kB'],
  ]);
  assert.equal(imageRows(img, { trunc: true, digests: true, now })[0]!['Digest'], 'sha256:99');
  const dangling = imageRows({ Id: 'sha256:1', RepoTags: [], RepoDigests: ['x@sha256:2'] }, { trunc: false, digests: true, now });
  assert.deepEqual(dangling.map((r) => [r['Repository'], r['Tag'], r['Digest'], r['ID']]), [['x', '<none>', 'sha256:2', 'sha256:1']]);
  assert.deepEqual(imageRows({ Id: 'sha256:1' }, { trunc: true, digests: false, now }).map((r) => [r['Repository'], r['Tag']]), [['<none>', '<none>']]);
});

test('stats numbers are derived as the docker CLI does', () => {
  const s = {
    id: '0123456789abcdef',
    name: '/web',
    cpu_stats: { cpu_usage: { total_usage: 2_000_000_000 }, system_cpu_usage: 20_000_000_000, online_cpus: 2 },
    precpu_stats: { cpu_usage: { total_usage: 1_000_000_000 }, system_cpu_usage: 10_000_000_000 },
    memory_stats: { usage: 3 * 1024 * 1024, limit: 100 * 1024 * 1024, stats: { inactive_file: 1024 * 1024 } },
    networks: { eth0: { rx_bytes: 1500, tx_bytes: 0 }, eth1: { rx_bytes: 500, tx_bytes: 20 } },
    blkio_stats: { io_service_bytes_recursive: [{ op: 'Read', value: 4096 }, { op: 'write', value: 1_000_000 }, { op: 'Total', value: 1 }] },
    pids_stats: { current: 3 },
  };
  assert.equal(cpuPercent(s), 20);
  assert.equal(memoryUsed(s), 2 * 1024 * 1024);
  assert.equal(memoryUsed({ memory_stats: { usage: 10, stats: { total_inactive_file: 4, inactive_file: 1 } } }), 6);
  assert.deepEqual(statsRow(s), {
    ID: '0123456789ab',
    Name: 'web',
    Container: '0123456789ab',
    CPUPerc: '20.00%',
    MemUsage: '2MiB / 100MiB',
    MemPerc: '2.00%',
    NetIO: '2kB / 20B',
    BlockIO: '4.1kB / 1MB',
    PIDs: '3',
  });
  assert.equal(statsRow({}).CPUPerc, '0.00%');
});

test('events print like docker and --since/--until accept durations and dates', () => {
  const prev = process.env['TZ'];
  const line = formatEvent({ Type: 'container', Action: 'start', Actor: { ID: 'abc', Attributes: { name: 'web', image: 'busybox' } }, timeNano: 1704067200123456789 });
  assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}(Z|[+-]\d\d:\d\d) container start abc \(image=busybox, name=web\)$/);
  assert.equal(prev, process.env['TZ']);
  assert.equal(timestampArg('1700000000'), '1700000000');
  assert.equal(timestampArg('10m', 1_000_000_000), (1_000_000 - 600).toFixed(9));
  assert.equal(timestampArg('1h30m', 10_000_000), (10_000 - 5400).toFixed(9));
  assert.equal(timestampArg('2024-01-01T00:00:00Z'), '1704067200.000000000');
  assert.throws(() => timestampArg('yesterday'), /failed to parse/);
});
