import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { fails, loadText } from './fixture.test.ts';
import { type Project, type Service, configHash, serviceOrder, toYaml } from './index.ts';
import { formatDuration } from './to-yaml.ts';

/** The value at a path of keys and indexes in a parsed document. */
function pick(v: unknown, ...path: (string | number)[]): unknown {
  return path.reduce<unknown>((o, k) => (o as Record<string | number, unknown> | undefined)?.[k], v);
}

function projectOf(deps: Record<string, string[]>): Project {
  const services: Record<string, Service> = {};
  for (const [name, on] of Object.entries(deps)) {
    const s = loadText(`services:\n  s:\n    image: x\n`).services['s'] as Service;
    s.name = name;
    s.dependsOn = Object.fromEntries(on.map((d) => [d, { condition: 'service_started', restart: false, required: true }]));
    services[name] = s;
  }
  return { name: 'p', workingDir: '/', files: [], services, disabled: {}, networks: {}, volumes: {} };
}

describe('serviceOrder', () => {
  it('puts dependencies first, ties by name', () => {
    const diamond = projectOf({ top: ['left', 'right'], right: ['base'], left: ['base'], base: [], alone: [] });
    assert.deepEqual(serviceOrder(diamond), ['alone', 'base', 'left', 'right', 'top']);
    assert.deepEqual(serviceOrder(projectOf({ c: [], b: [], a: [] })), ['a', 'b', 'c']);
    assert.deepEqual(serviceOrder(projectOf({ a: ['z'], z: [] })), ['z', 'a']);
  });

  it('ignores dependencies on services not in the project', () => {
    assert.deepEqual(serviceOrder(projectOf({ a: ['gone'] })), ['a']);
  });

  it('refuses a cycle, naming it', () => {
    fails(() => serviceOrder(projectOf({ a: ['b'], b: ['c'], c: ['b'] })), 'dependency cycle detected: b -> c -> b');
  });
});

describe('configHash', () => {
  const text = 'services:\n  web:\n    image: x\n    environment: {A: "1", B: "2"}\n    labels: {l: v}\n';

  it('is a sha256 hex, stable across key order', () => {
    const a = loadText(text).services['web'] as Service;
    const b = loadText('services:\n  web:\n    labels: [l=v]\n    environment: [B=2, A=1]\n    image: x\n').services['web'] as Service;
    assert.match(configHash(a), /^[0-9a-f]{64}$/u);
    assert.equal(configHash(a), configHash(b));
    const shuffled = Object.fromEntries(Object.entries(a).reverse()) as unknown as Service;
    assert.equal(configHash(shuffled), configHash(a));
  });

  it('changes when a field changes', () => {
    const a = loadText(text).services['web'] as Service;
    const h = configHash(a);
    assert.notEqual(configHash({ ...a, image: 'y' }), h);
    assert.notEqual(configHash({ ...a, environment: { A: '1', B: '3' } }), h);
    assert.notEqual(configHash({ ...a, ports: [{ target: 80, protocol: 'tcp' }] }), h);
    assert.notEqual(configHash({ ...a, command: ['a b'] }), configHash({ ...a, command: ['a', 'b'] }));
  });
});

describe('toYaml', () => {
  it('writes the project in long forms that read back the same', () => {
    const p = loadText(
      [
        'name: demo',
        'services:',
        '  web:',
        '    image: nginx',
        '    build: {context: ., args: {A: "1"}, target: prod}',
        '    command: nginx -g "daemon off;"',
        '    ports: ["127.0.0.1:8080:80", "9000-9001:9000-9001/udp"]',
        '    volumes: [data:/data:ro, ./html:/html, {type: tmpfs, target: /t, tmpfs: {size: 1k}}]',
        '    depends_on: [db]',
        '    environment: [A=1, B]',
        '    healthcheck: {test: curl x, interval: 90s, timeout: 500ms}',
        '    stop_grace_period: 1h2m3s',
        '    mem_limit: 1g',
        '    deploy: {replicas: 2}',
        '    networks: {front: {aliases: [w], ipv6_address: "fd00:1::9"}}',
        '  db:',
        '    image: postgres',
        'networks: {front: {enable_ipv6: true, ipam: {config: [{subnet: 10.1.0.0/16}, {subnet: "fd00:1::/64", ip_range: "fd00:1::/120"}]}}}',
        'volumes: {data: {external: true}}',
      ].join('\n'),
    );
    const doc: unknown = parse(toYaml(p));
    assert.equal(pick(doc, 'name'), 'demo');
    assert.deepEqual(Object.keys(pick(doc, 'services') as object), ['db', 'web']);
    const web = pick(doc, 'services', 'web');
    assert.deepEqual(pick(web, 'command'), ['nginx', '-g', 'daemon off;']);
    assert.deepEqual(pick(web, 'ports'), [
      { mode: 'ingress', host_ip: '127.0.0.1', target: 80, published: '8080', protocol: 'tcp' },
      { mode: 'ingress', target: 9000, published: '9000-9001', protocol: 'udp' },
    ]);
    assert.deepEqual(pick(web, 'volumes', 0), { type: 'volume', source: 'data', target: '/data', read_only: true, volume: {} });
    assert.equal(pick(web, 'volumes', 1, 'bind', 'create_host_path'), true);
    assert.deepEqual(pick(web, 'volumes', 2), { type: 'tmpfs', target: '/t', tmpfs: { size: 1024 } });
    assert.deepEqual(pick(web, 'depends_on'), { db: { condition: 'service_started', restart: false, required: true } });
    assert.deepEqual(pick(web, 'environment'), { A: '1', B: null });
    assert.deepEqual(pick(web, 'healthcheck'), { test: ['CMD-SHELL', 'curl x'], interval: '1m30s', timeout: '500ms' });
    assert.equal(pick(web, 'stop_grace_period'), '1h2m3s');
    assert.equal(pick(web, 'mem_limit'), String(1024 ** 3));
    assert.deepEqual(pick(web, 'deploy'), { replicas: 2 });
    assert.deepEqual(pick(web, 'networks'), { front: { aliases: ['w'], ipv6_address: 'fd00:1::9' } });
    assert.deepEqual(pick(web, 'build'), { context: p.workingDir, dockerfile: 'Dockerfile', args: { A: '1' }, target: 'prod' });
    assert.deepEqual(pick(doc, 'services', 'db', 'networks'), { default: null });
    assert.deepEqual(pick(doc, 'networks'), {
      default: { name: 'demo_default', driver: 'bridge' },
      front: { name: 'demo_front', driver: 'bridge', enable_ipv6: true, ipam: { config: [{ subnet: '10.1.0.0/16' }, { subnet: 'fd00:1::/64', ip_range: 'fd00:1::/120' }] } },
    });
    assert.deepEqual(pick(doc, 'volumes'), { data: { name: 'data', external: true } });
  });

  it('formats durations like Go', () => {
    assert.equal(formatDuration(0), '0s');
    assert.equal(formatDuration(1.5e9), '1.5s');
    assert.equal(formatDuration(60e9), '1m0s');
    assert.equal(formatDuration(3600e9), '1h0m0s');
    assert.equal(formatDuration(250e6), '250ms');
    assert.equal(formatDuration(3e3), '3µs');
  });
});
