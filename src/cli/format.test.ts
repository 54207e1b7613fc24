import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesSize, describeState, displayablePorts, ellipsis, formatG, goQuote, humanDuration, humanSize, renderTable, shortId, timeAgo } from './format.ts';

test('humanDuration follows go-units', () => {
  assert.equal(humanDuration(0.5), 'Less than a second');
  assert.equal(humanDuration(1), '1 second');
  assert.equal(humanDuration(3), '3 seconds');
  assert.equal(humanDuration(59.9), '59 seconds');
  assert.equal(humanDuration(60), 'About a minute');
  assert.equal(humanDuration(119), 'About a minute');
  assert.equal(humanDuration(120), '2 minutes');
  assert.equal(humanDuration(59 * 60), '59 minutes');
  assert.equal(humanDuration(3600), 'About an hour');
  assert.equal(humanDuration(100000), '28 hours');
  assert.equal(humanDuration(47 * 3600), '47 hours');
  assert.equal(humanDuration(48 * 3600), '2 days');
  assert.equal(humanDuration(3_600_000), '5 weeks');
  assert.equal(humanDuration(90 * 86400), '3 months');
  assert.equal(humanDuration(3 * 365 * 86400), '3 years');
});

test('timeAgo from unix seconds and RFC 3339', () => {
  const now = Date.parse('2024-01-01T00:10:00Z');
  assert.equal(timeAgo(now / 1000 - 125, now), '2 minutes ago');
  assert.equal(timeAgo('2024-01-01T00:09:59.5Z', now), 'Less than a second ago');
});

test('humanSize: decimal units, 3 significant digits, Go %g', () => {
  assert.equal(humanSize(0), '0B');
  assert.equal(humanSize(12), '12B');
  assert.equal(humanSize(999), '999B');
  assert.equal(humanSize(1234), '1.23kB');
  assert.equal(humanSize(4263424), '4.26MB');
  assert.equal(humanSize(1_000_000), '1MB');
  assert.equal(humanSize(1_500_000_000), '1.5GB');
  assert.equal(humanSize(999_999), '1e+03kB');
  assert.equal(humanSize(4263424, 4), '4.263MB');
});

test('bytesSize: binary units, 4 significant digits', () => {
  assert.equal(bytesSize(0), '0B');
  assert.equal(bytesSize(1536), '1.5KiB');
  assert.equal(bytesSize(7.6 * 1024 ** 3), '7.6GiB');
  assert.equal(bytesSize(1_572_864), '1.5MiB');
});

test('formatG matches Go for small and exponent forms', () => {
  assert.equal(formatG(0.0001234, 3), '0.000123');
  assert.equal(formatG(0.00001234, 3), '1.23e-05');
  assert.equal(formatG(100, 3), '100');
  assert.equal(formatG(2.5, 4), '2.5');
});

test('describeState gives docker status texts', () => {
  const now = Date.parse('2024-01-01T00:10:00Z');
  assert.equal(describeState({ Status: 'running', Running: true, StartedAt: '2024-01-01T00:09:57Z' }, now), 'Up 3 seconds');
  assert.equal(describeState({ Status: 'paused', Running: true, Paused: true, StartedAt: '2024-01-01T00:00:00Z' }, now), 'Up 10 minutes (Paused)');
  assert.equal(describeState({ Status: 'exited', ExitCode: 0, StartedAt: '2024-01-01T00:00:00Z', FinishedAt: '2024-01-01T00:08:00Z' }, now), 'Exited (0) 2 minutes ago');
  assert.equal(describeState({ Status: 'created', StartedAt: '0001-01-01T00:00:00Z' }, now), 'Created');
  assert.equal(describeState({ Status: 'running', Running: true, StartedAt: '2024-01-01T00:09:59.9Z', Health: { Status: 'healthy' } }, now), 'Up Less than a second (healthy)');
  assert.equal(describeState({ Status: 'dead', Dead: true }, now), 'Dead');
});

test('ids, ellipsis and Go quoting', () => {
  assert.equal(shortId('sha256:ab12cd34ef56ab12cd34'), 'ab12cd34ef56');
  assert.equal(shortId('0123456789abcdef'), '0123456789ab');
  assert.equal(ellipsis("sh -c 'while true; do sleep 1; done'", 20), "sh -c 'while true; …");
  assert.equal(ellipsis('short', 20), 'short');
  assert.equal(goQuote('say "hi"\n\\'), '"say \\"hi\\"\\n\\\\"');
});

test('displayablePorts folds ranges and lists mappings like docker ps', () => {
  assert.equal(
    displayablePorts([
      { IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
      { IP: '::', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
      { PrivatePort: 53, Type: 'udp' },
    ]),
    '53/udp, 0.0.0.0:8080->80/tcp, [::]:8080->80/tcp',
  );
  assert.equal(
    displayablePorts([
      { PrivatePort: 7001, Type: 'tcp' },
      { PrivatePort: 7000, Type: 'tcp' },
      { PrivatePort: 7002, Type: 'tcp' },
      { PrivatePort: 9000, Type: 'tcp' },
    ]),
    '7000-7002/tcp, 9000/tcp',
  );
  assert.equal(
    displayablePorts([
      { IP: '0.0.0.0', PrivatePort: 5000, PublicPort: 5000, Type: 'tcp' },
      { IP: '0.0.0.0', PrivatePort: 5001, PublicPort: 5001, Type: 'tcp' },
    ]),
    '0.0.0.0:5000-5001->5000-5001/tcp',
  );
  assert.equal(displayablePorts([]), '');
});

test('renderTable pads like tabwriter(minwidth 10, padding 3) and leaves the last column alone', () => {
  assert.equal(renderTable([['A', 'LONGER HEADER', 'Z'], ['abcdefghijkl', 'x', 'last']]), 'A              LONGER HEADER   Z\nabcdefghijkl   x               last\n');
  assert.equal(renderTable([['UID', 'PID'], ['root', '1']], { minWidth: 20 }), `UID${' '.repeat(17)}PID\nroot${' '.repeat(16)}1\n`);
});
