import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_HOST, parseHost, resolveHost } from './host.ts';

test('host precedence: flag > BERTH_HOST > DOCKER_HOST > default', () => {
  const env = { BERTH_HOST: 'unix:///b.sock', DOCKER_HOST: 'unix:///d.sock' };
  assert.equal(resolveHost({ flag: 'tcp://1.2.3.4:1', env }), 'tcp://1.2.3.4:1');
  assert.equal(resolveHost({ env }), 'unix:///b.sock');
  assert.equal(resolveHost({ env: { DOCKER_HOST: 'unix:///d.sock' } }), 'unix:///d.sock');
  assert.equal(resolveHost({ env: {} }), DEFAULT_HOST);
  assert.equal(resolveHost({ flag: '', env: { BERTH_HOST: '' } }), DEFAULT_HOST);
  assert.equal(DEFAULT_HOST, 'unix:///run/berth/berth.sock');
});

test('parseHost understands unix and tcp forms', () => {
  assert.deepEqual(parseHost('unix:///run/x.sock'), { kind: 'unix', socketPath: '/run/x.sock', url: 'unix:///run/x.sock' });
  assert.deepEqual(parseHost('/run/x.sock'), { kind: 'unix', socketPath: '/run/x.sock', url: 'unix:///run/x.sock' });
  assert.deepEqual(parseHost('tcp://127.0.0.1:2375'), { kind: 'tcp', host: '127.0.0.1', port: 2375, url: 'tcp://127.0.0.1:2375' });
  assert.deepEqual(parseHost('tcp://[::1]:80'), { kind: 'tcp', host: '::1', port: 80, url: 'tcp://[::1]:80' });
  assert.deepEqual(parseHost('localhost:1234'), { kind: 'tcp', host: 'localhost', port: 1234, url: 'tcp://localhost:1234' });
  assert.throws(() => parseHost('unix://'), /empty socket path/);
  assert.throws(() => parseHost('ssh://host'), /unsupported scheme/);
  assert.throws(() => parseHost('tcp://h:99999'), /bad port/);
});
