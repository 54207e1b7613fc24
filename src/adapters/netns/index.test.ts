import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseNetDev } from './index.ts';

test('/proc/net/dev: counters per interface, loopback left out', () => {
  const text = [
    'Inter-|   Receive                                                |  Transmit',
    ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed',
    '    lo:     100       2    0    0    0     0          0         0      100       2    0    0    0     0       0          0',
    '  eth0:    1234      10    1    2    0     0          0         0      5678      20    3    4    0     0       0          0',
  ].join('\n');
  assert.deepEqual(parseNetDev(text), { eth0: { rx_bytes: 1234, rx_packets: 10, rx_errors: 1, rx_dropped: 2, tx_bytes: 5678, tx_packets: 20, tx_errors: 3, tx_dropped: 4 } });
});
