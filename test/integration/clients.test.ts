// Real clients nobody here wrote, unchanged, against a throwaway berthd: the Docker SDK for
// Python (Debian python3-docker) and docker-compose v1 (Debian docker-compose).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { api, isRoot, runProgram, type TestDaemon } from '../helpers/daemon.ts';
import { create, inspect, useDaemon } from '../helpers/containers.ts';

const PYTHON = '/usr/bin/python3';
const COMPOSE = '/usr/bin/docker-compose';
const skip = !isRoot ? 'integration tests need root' : false;
let d: TestDaemon;

useDaemon(skip, (x) => (d = x));

const haveSdk = existsSync(PYTHON) && (await runProgram(PYTHON, ['-c', 'import docker'])).code === 0;

test('Docker SDK for Python: run, list, logs(stream), exec_run, networks, volumes, images.build, remove', { skip: skip || (!haveSdk ? 'python3-docker is not installed (scripts/setup installs it)' : false) }, async () => {
  const script = `
import docker, io, sys
c = docker.DockerClient(base_url='unix://${d.socket}')
out = []
out.append(c.containers.run('busybox', 'echo hi', remove=True).decode())
ct = c.containers.run('busybox', 'sh -c "echo a; sleep 0.2; echo b"', detach=True, name='sdk1')
out.append(','.join(x.name for x in c.containers.list(all=True)))
out.append(''.join(x.decode() for x in ct.logs(stream=True, follow=True)))
out.append(str(ct.wait()['StatusCode']))
ct2 = c.containers.run('busybox', 'sleep 30', detach=True)
r = ct2.exec_run('sh -c "echo from exec; exit 4"')
out.append('%d:%s' % (r.exit_code, r.output.decode()))
net = c.networks.create('sdknet'); out.append(net.name)
vol = c.volumes.create('sdkvol'); out.append(vol.name)
img, _ = c.images.build(fileobj=io.BytesIO(b'FROM busybox\\nRUN echo built > /b\\nCMD ["cat", "/b"]\\n'), tag='sdkbuilt:1', rm=True)
out.append(','.join(img.tags))
out.append(c.containers.run('sdkbuilt:1', remove=True).decode())
ct2.remove(force=True); ct.remove(); net.remove(); vol.remove()
out.append(str(len(c.containers.list(all=True))))
print('|'.join(o.strip() for o in out))
`;
  const r = await runProgram(PYTHON, ['-c', script], { timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'hi|sdk1|a\nb|0|4:from exec|sdknet|sdkvol|sdkbuilt:1|built|0');
});

test('docker-compose v1: up -d of two services reaching each other by name, ps, logs, exec, down -v', { skip: skip || (!existsSync(COMPOSE) ? 'docker-compose is not installed (scripts/setup installs it)' : false) }, async () => {
  const dir = join(d.dir, 'proj');
  mkdirSync(dir);
  writeFileSync(
    join(dir, 'docker-compose.yml'),
    [
      'version: "3.8"',
      'services:',
      '  web:',
      '    image: busybox',
      '    command: sh -c "mkdir -p /www && echo served-by-web > /www/index.html && httpd -f -p 80 -h /www"',
      '    volumes:',
      '      - data:/data',
      '  client:',
      '    image: busybox',
      `    command: sh -c "for i in 1 2 3 4 5 6 7 8 9 10; do printf 'GET / HTTP/1.0\\\\r\\\\n\\\\r\\\\n' | nc web 80 | tail -1 && break; sleep 0.3; done; sleep 300"`,
      '    depends_on:',
      '      - web',
      'volumes:',
      '  data:',
      '',
    ].join('\n'),
  );
  const env = { DOCKER_HOST: d.host, COMPOSE_PROJECT_NAME: 'berthproj' };
  const compose = (...args: string[]) => runProgram(COMPOSE, ['-f', join(dir, 'docker-compose.yml'), ...args], { env, timeoutMs: 120_000 });
  try {
    const up = await compose('up', '-d');
    assert.equal(up.code, 0, up.stderr);
    const ps = await compose('ps');
    assert.match(ps.stdout, /berthproj_web_1 .* Up/);
    assert.match(ps.stdout, /berthproj_client_1 .* Up/);
    let logs = '';
    for (let i = 0; i < 50 && !logs.includes('served-by-web'); i++) {
      logs = (await compose('logs', 'client')).stdout;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.match(logs, /served-by-web/);
    const ex = await compose('exec', '-T', 'web', 'cat', '/www/index.html');
    assert.equal(ex.stdout, 'served-by-web\n', ex.stderr);
  } finally {
    const down = await compose('down', '-v', '-t', '1');
    assert.equal(down.code, 0, down.stderr);
  }
  assert.equal(((await api(d, 'GET', '/containers/json?all=1')).json() as unknown[]).length, 0);
  assert.equal(((await api(d, 'GET', '/volumes')).json().Volumes ?? []).filter((v: { Name: string }) => v.Name.startsWith('berthproj')).length, 0);
});

test('a stopped container can leave its create-time network and rejoin it with aliases', { skip }, async () => {
  assert.equal((await api(d, 'POST', '/networks/create', { Name: 'rejoin' })).status, 201);
  const id = await create(d, { Cmd: ['sleep', '30'], HostConfig: { NetworkMode: 'rejoin' } }, 'rejoiner');
  assert.equal((await api(d, 'POST', '/networks/rejoin/disconnect', { Container: id })).status, 200);
  assert.equal((await api(d, 'POST', '/networks/rejoin/disconnect', { Container: id })).status, 404);
  assert.equal((await api(d, 'POST', '/networks/rejoin/connect', { Container: id, EndpointConfig: { Aliases: ['svc-alias'] } })).status, 200);
  assert.equal((await api(d, 'POST', `/containers/${id}/start`)).status, 204);
  const other = await create(d, { Cmd: ['nslookup', 'svc-alias'], HostConfig: { NetworkMode: 'rejoin' } });
  const waiting = api(d, 'POST', `/containers/${other}/wait?condition=next-exit`);
  await api(d, 'POST', `/containers/${other}/start`);
  assert.equal((await waiting).json().StatusCode, 0);
  assert.ok((await inspect(d, id)).NetworkSettings.Networks.rejoin);
  await api(d, 'DELETE', `/containers/${id}?force=1`);
  await api(d, 'DELETE', `/containers/${other}?force=1`);
  await api(d, 'DELETE', '/networks/rejoin');
});

test('dockerode: create/attach/start/wait/remove, followProgress on pull and build, exec with hijack', { skip }, async () => {
  const { default: Docker } = await import('dockerode');
  const { PassThrough } = await import('node:stream');
  const { packEntries } = await import('../../src/adapters/tar/index.ts');
  const { makeFakeImage, startFakeRegistry } = await import('../helpers/registries.ts');
  const docker = new Docker({ socketPath: d.socket });
  const collect = (s: NodeJS.ReadableStream): Promise<string> =>
    new Promise((resolve) => {
      let t = '';
      s.on('data', (c: Buffer) => (t += c.toString()));
      s.on('end', () => resolve(t));
    });

  const c = await docker.createContainer({ Image: 'busybox', Cmd: ['sh', '-c', 'echo out; echo err >&2; exit 5'], AttachStdout: true, AttachStderr: true });
  const stream = await c.attach({ stream: true, stdout: true, stderr: true });
  const out = new PassThrough();
  const err = new PassThrough();
  docker.modem.demuxStream(stream, out, err);
  stream.on('end', () => {
    out.end();
    err.end();
  });
  const texts = Promise.all([collect(out), collect(err)]);
  await c.start();
  assert.equal((await c.wait()).StatusCode, 5);
  assert.deepEqual(await texts, ['out\n', 'err\n']);
  await c.remove();

  const follow = (s: NodeJS.ReadableStream): Promise<Array<Record<string, unknown>>> =>
    new Promise((resolve, reject) => docker.modem.followProgress(s, (e: Error | null, res: Array<Record<string, unknown>>) => (e ? reject(e) : resolve(res))));
  const ctx = packEntries([{ name: 'Dockerfile', type: 'file', mode: 0o644, content: Buffer.from('FROM busybox\nRUN echo dockerode > /d\n') }]);
  const built = await follow(await docker.buildImage(ctx as unknown as NodeJS.ReadableStream, { t: 'dockerode:1' }));
  assert.ok(built.some((m) => typeof m.stream === 'string' && (m.stream as string).includes('Successfully tagged dockerode:1')));

  const reg = await startFakeRegistry(await makeFakeImage());
  try {
    const pulled = await follow(await docker.pull(`${reg.host}/fake/app:v1`));
    assert.ok(pulled.some((m) => typeof m.status === 'string' && (m.status as string).startsWith('Status: Downloaded newer image')));
  } finally {
    await reg.stop();
  }

  const sleeper = await docker.createContainer({ Image: 'dockerode:1', Cmd: ['sleep', '30'] });
  await sleeper.start();
  const exec = await sleeper.exec({ Cmd: ['sh', '-c', 'read line; echo "got $line"; cat /d'], AttachStdin: true, AttachStdout: true, AttachStderr: true });
  const duplex = await exec.start({ hijack: true, stdin: true });
  const eo = new PassThrough();
  docker.modem.demuxStream(duplex, eo, new PassThrough());
  duplex.on('end', () => eo.end());
  const got = collect(eo);
  duplex.write('ping\n');
  assert.equal(await got, 'got ping\ndockerode\n');
  assert.equal((await exec.inspect()).ExitCode, 0);
  await sleeper.remove({ force: true });
});

test('testcontainers: a GenericContainer from busybox with an exposed port and a log wait strategy, started and stopped', { skip }, async () => {
  // Ryuk (the reaper) is an image from Docker Hub; without the internet it is turned off and the
  // test stops its container itself.
  process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
  process.env.DOCKER_HOST = d.host;
  process.env.TESTCONTAINERS_HOST_OVERRIDE = '127.0.0.1';
  // Its lock file goes to the temporary directory: the daemon's, removed with it, not /tmp.
  process.env.TMPDIR = d.dir;
  const { GenericContainer, Wait } = await import('testcontainers');
  const started = await new GenericContainer('busybox')
    .withCommand(['sh', '-c', 'mkdir -p /www && echo via-testcontainers > /www/index.html && echo ready && exec httpd -f -p 8080 -h /www'])
    .withExposedPorts(8080)
    .withWaitStrategy(Wait.forLogMessage('ready'))
    .withPullPolicy({ shouldPull: () => false })
    .start();
  try {
    const port = started.getMappedPort(8080);
    const { createConnection } = await import('node:net');
    const body = await new Promise<string>((resolve, reject) => {
      const s = createConnection({ host: '127.0.0.1', port }, () => s.write('GET / HTTP/1.0\r\n\r\n'));
      let t = '';
      s.on('data', (c: Buffer) => (t += c.toString()));
      s.on('end', () => resolve(t));
      s.on('error', reject);
    });
    assert.match(body, /via-testcontainers/);
  } finally {
    await started.stop({ timeout: 1 });
  }
  assert.equal(((await api(d, 'GET', '/containers/json?all=1')).json() as unknown[]).length, 0);
});

const DOCKER = ['/usr/local/bin/docker', '/usr/bin/docker'].find((p) => existsSync(p));
const haveComposePlugin = DOCKER !== undefined && (await runProgram(DOCKER, ['compose', 'version'])).code === 0;

test('docker compose (v2 plugin): up -d, ps, exec, down through berthd', { skip: skip || (!haveComposePlugin ? 'the docker compose plugin is not installed: skipping' : false) }, async () => {
  const dir = join(d.dir, 'v2proj');
  mkdirSync(dir);
  writeFileSync(join(dir, 'compose.yaml'), ['services:', '  app:', '    image: busybox', '    command: ["sh", "-c", "echo up > /state; exec sleep 300"]', '    stop_signal: SIGKILL', ''].join('\n'));
  const compose = (...args: string[]) => runProgram(DOCKER!, ['compose', '-f', join(dir, 'compose.yaml'), '-p', 'v2proj', ...args], { env: { DOCKER_HOST: d.host }, timeoutMs: 120_000 });
  try {
    const up = await compose('up', '-d');
    assert.equal(up.code, 0, up.stderr);
    assert.match((await compose('ps')).stdout, /v2proj-app-1/);
    assert.equal((await compose('exec', '-T', 'app', 'cat', '/state')).stdout, 'up\n');
  } finally {
    const down = await compose('down', '-t', '0');
    assert.equal(down.code, 0, down.stderr);
  }
});
