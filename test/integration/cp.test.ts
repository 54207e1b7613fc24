// The container archive API (HEAD/GET/PUT /containers/{id}/archive) and `berth cp`, with berth's
// CLI and the official docker CLI, and the copy's safety against a hostile container.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, readdirSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { api, berth, runProgram, isRoot, type TestDaemon } from '../helpers/daemon.ts';
import { create, inspect, runToExit, useDaemon, waitFor } from '../helpers/containers.ts';

const DOCKER = ['/usr/local/bin/docker', '/usr/bin/docker'].find((p) => existsSync(p));
const skip = !isRoot ? 'integration tests need root' : false;
const skipDocker = skip || (!DOCKER ? 'docker CLI not installed: skipping compatibility tests' : false);
let d: TestDaemon;

useDaemon(skip, (x) => (d = x));

function docker(args: string[], input?: string) {
  return runProgram(DOCKER!, args, { env: { DOCKER_HOST: d.host, DOCKER_CONFIG: `${d.dir}/docker-config` }, ...(input !== undefined ? { input } : {}) });
}

/** A tar made by the host's tar(1) from a directory. */
function tarOf(dir: string, ...names: string[]): Buffer {
  const r = spawnSync('tar', ['-C', dir, '-c', ...names]);
  assert.equal(r.status, 0, r.stderr.toString());
  return r.stdout;
}

function tarList(buf: Buffer): string[] {
  const r = spawnSync('tar', ['-tv'], { input: buf, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split('\n');
}

function tarNames(buf: Buffer): string[] {
  const r = spawnSync('tar', ['-t'], { input: buf, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split('\n');
}

function statHeader(h: string | string[] | undefined): { name: string; size: number; mode: number; mtime: string; linkTarget: string } {
  assert.equal(typeof h, 'string');
  return JSON.parse(Buffer.from(h as string, 'base64').toString());
}

async function running(cmd: string, body: Record<string, unknown> = {}, name?: string): Promise<string> {
  const id = await create(d, { Cmd: ['sh', '-c', cmd], ...body }, name);
  const s = await api(d, 'POST', `/containers/${id}/start`);
  assert.equal(s.status, 204, s.text());
  return id;
}

async function exec(id: string, cmd: string): Promise<string> {
  const r = await berth(d, ['exec', id, 'sh', '-c', cmd]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

function tmp(): string {
  return mkdtempSync('/tmp/berth-cp-');
}

test('HEAD archive: the stat header, 404 and 400', { skip }, async () => {
  const id = await running('mkdir -p /data && echo hello > /data/f && ln -s /bin/busybox /data/l && sleep 300');
  await waitFor(async () => (await api(d, 'HEAD', `/containers/${id}/archive?path=/data/l`)).status === 200);
  const f = await api(d, 'HEAD', `/containers/${id}/archive?path=/data/f`);
  assert.equal(f.status, 200);
  const st = statHeader(f.headers['x-docker-container-path-stat']);
  assert.equal(st.name, 'f');
  assert.equal(st.size, 6);
  assert.equal(st.mode, 0o644);
  assert.match(st.mtime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  assert.equal(st.linkTarget, '');
  const dir = statHeader((await api(d, 'HEAD', `/containers/${id}/archive?path=/data`)).headers['x-docker-container-path-stat']);
  assert.equal(dir.mode, 2 ** 31 + 0o755);
  const link = statHeader((await api(d, 'HEAD', `/containers/${id}/archive?path=/data/l`)).headers['x-docker-container-path-stat']);
  assert.equal(link.mode, 2 ** 27 + 0o777);
  assert.equal(link.linkTarget, '/bin/busybox');
  assert.equal((await api(d, 'HEAD', `/containers/${id}/archive?path=/nope`)).status, 404);
  assert.equal((await api(d, 'HEAD', `/containers/${id}/archive`)).status, 400);
  const g = await api(d, 'GET', `/containers/${id}/archive?path=/nope`);
  assert.equal(g.status, 404);
  assert.equal(g.json().message, `Could not find the file /nope in container ${id}`);
});

test('GET archive: file, directory and P/. as Docker names them; PUT into a running container', { skip }, async () => {
  const id = await running('mkdir -p /data/sub && echo one > /data/one && echo two > /data/sub/two && ln -s / /data/root && sleep 300');
  await waitFor(async () => (await api(d, 'HEAD', `/containers/${id}/archive?path=/data/root`)).status === 200);
  const file = await api(d, 'GET', `/containers/${id}/archive?path=/data/one`);
  assert.equal(file.status, 200);
  assert.equal(statHeader(file.headers['x-docker-container-path-stat']).name, 'one');
  assert.deepEqual(tarNames(file.body), ['one']);
  const dir = await api(d, 'GET', `/containers/${id}/archive?path=/data`);
  assert.deepEqual(tarNames(dir.body), ['data/', 'data/one', 'data/root', 'data/sub/', 'data/sub/two']);
  assert.ok(tarList(dir.body).some((l) => l.startsWith('l') && l.includes('data/root -> /')));
  const dot = await api(d, 'GET', `/containers/${id}/archive?path=/data/.`);
  assert.deepEqual(tarNames(dot.body), ['./', './one', './root', './sub/', './sub/two']);

  const src = tmp();
  try {
    mkdirSync(join(src, 'in'));
    writeFileSync(join(src, 'in', 'a'), 'A');
    const put = await api(d, 'PUT', `/containers/${id}/archive?path=/data`, tarOf(src, 'in'), { 'Content-Type': 'application/x-tar' });
    assert.equal(put.status, 200, put.text());
    assert.equal(await exec(id, 'cat /data/in/a'), 'A');
    const gz = await api(d, 'PUT', `/containers/${id}/archive?path=/data/sub`, gzipSync(tarOf(src, 'in')));
    assert.equal(gz.status, 200, gz.text());
    assert.equal(await exec(id, 'cat /data/sub/in/a'), 'A');
    const notDir = await api(d, 'PUT', `/containers/${id}/archive?path=/data/one`, tarOf(src, 'in'));
    assert.equal(notDir.status, 400);
    assert.equal(notDir.json().message, 'extraction point is not a directory');
    const missing = await api(d, 'PUT', `/containers/${id}/archive?path=/nope`, tarOf(src, 'in'));
    assert.equal(missing.status, 404);
    assert.equal(missing.json().message, `Could not find the file /nope in container ${id}`);
  } finally {
    rmSync(src, { recursive: true, force: true });
  }
});

test('berth cp out of a container: file, new name, directory, P/., into a directory, and -', { skip }, async () => {
  const id = await running('mkdir -p /data/sub && echo one > /data/one && echo two > /data/sub/two && ln -s one /data/link && sleep 300', {}, 'cpout');
  await waitFor(async () => (await api(d, 'HEAD', `/containers/${id}/archive?path=/data/link`)).status === 200);
  const out = tmp();
  try {
    let r = await berth(d, ['cp', 'cpout:/data/one', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(out, 'one'), 'utf8'), 'one\n');
    r = await berth(d, ['cp', 'cpout:/data/one', join(out, 'renamed')]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(out, 'renamed'), 'utf8'), 'one\n');
    r = await berth(d, ['cp', 'cpout:/data', join(out, 'copy')]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readdirSync(join(out, 'copy')).sort(), ['link', 'one', 'sub']);
    assert.equal(readFileSync(join(out, 'copy/sub/two'), 'utf8'), 'two\n');
    assert.ok(lstatSync(join(out, 'copy/link')).isSymbolicLink());
    r = await berth(d, ['cp', 'cpout:/data', join(out, 'copy')]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(join(out, 'copy/data/sub/two')), 'an existing directory receives the copy inside it');
    mkdirSync(join(out, 'contents'));
    r = await berth(d, ['cp', 'cpout:/data/sub/.', join(out, 'contents')]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readdirSync(join(out, 'contents')), ['two']);
    r = await berth(d, ['cp', '-L', 'cpout:/data/link', join(out, 'followed')]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(out, 'followed'), 'utf8'), 'one\n');
    const tarOut = spawnSync(join(import.meta.dirname, '../../bin/berth'), ['cp', 'cpout:/data/sub', '-'], { env: { ...process.env, BERTH_HOST: d.host } });
    assert.equal(tarOut.status, 0, tarOut.stderr.toString());
    assert.deepEqual(tarNames(tarOut.stdout), ['sub/', 'sub/two']);
    r = await berth(d, ['cp', 'cpout:/nope', out]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'Error response from daemon: Could not find the file /nope in container cpout\n');
    r = await berth(d, ['container', 'cp', 'cpout:/data', join(out, 'one')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot copy directory/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('berth cp into a container: new name, into a directory, P/., stdin tar, stopped and created containers', { skip }, async () => {
  const src = tmp();
  try {
    mkdirSync(join(src, 'dir/inner'), { recursive: true });
    writeFileSync(join(src, 'dir/inner/f'), 'F');
    writeFileSync(join(src, 'file'), 'FILE');
    const stopped = await runToExit(d, { Cmd: ['true'] }, 'cpstopped');
    const created = await create(d, { Cmd: ['true'] }, 'cpcreated');
    for (const name of ['cpstopped', 'cpcreated']) {
      let r = await berth(d, ['cp', join(src, 'file'), `${name}:/tmp/newname`]);
      assert.equal(r.code, 0, r.stderr);
      r = await berth(d, ['cp', join(src, 'dir'), `${name}:/tmp`]);
      assert.equal(r.code, 0, r.stderr);
      r = await berth(d, ['cp', `${join(src, 'dir')}/.`, `${name}:/root`]);
      assert.equal(r.code, 0, r.stderr);
      r = await berth(d, ['cp', '-', `${name}:/etc`], { input: tarOf(src, 'file').toString('latin1') });
      // (the input is text; the tar of a short text file is text too)
      assert.equal(r.code, 0, r.stderr);
      r = await berth(d, ['cp', join(src, 'file'), `${name}:/nodir/x`]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /Could not find the file \/nodir in container/);
    }
    await api(d, 'POST', `/containers/${created}/start`);
    const check = 'cat /tmp/newname /tmp/dir/inner/f /root/inner/f /etc/file';
    for (const id of [stopped.id, created]) {
      const res = await runToExit(d, { Image: (await api(d, 'POST', `/commit?container=${id}&repo=cpcheck${id.slice(0, 6)}`)).json().Id, Cmd: ['sh', '-c', check] });
      assert.equal(res.stdout, 'FILEFFFILE', res.stderr);
    }
    assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(`${stopped.id}/merged`), 'temporary mount left');
  } finally {
    rmSync(src, { recursive: true, force: true });
  }
});

test('cp reaches a running container\'s named volume and tmpfs; a read-only rootfs refuses', { skip }, async () => {
  const id = await running('sleep 300', { HostConfig: { Binds: ['cpvol:/vol'], Tmpfs: { '/scratch': '' } } }, 'cpvol');
  const src = tmp();
  try {
    writeFileSync(join(src, 'v'), 'VOL');
    let r = await berth(d, ['cp', join(src, 'v'), 'cpvol:/vol/v']);
    assert.equal(r.code, 0, r.stderr);
    r = await berth(d, ['cp', join(src, 'v'), 'cpvol:/scratch/']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await exec(id, 'cat /vol/v /scratch/v'), 'VOLVOL');
    const mp = (await api(d, 'GET', '/volumes/cpvol')).json().Mountpoint as string;
    assert.equal(readFileSync(join(mp, 'v'), 'utf8'), 'VOL');
    const back = await api(d, 'GET', `/containers/${id}/archive?path=/scratch/v`);
    assert.equal(back.status, 200);
    const ro = await running('sleep 300', { HostConfig: { ReadonlyRootfs: true, Binds: ['cprovol:/rw'] } });
    const put = await api(d, 'PUT', `/containers/${ro}/archive?path=/tmp`, tarOf(src, 'v'));
    assert.equal(put.status, 403);
    assert.equal(put.json().message, 'container rootfs is marked read-only');
    const ok = await api(d, 'PUT', `/containers/${ro}/archive?path=/rw`, tarOf(src, 'v'));
    assert.equal(ok.status, 200, ok.text());
    // Stopped: the volume is reached through its host directory.
    await api(d, 'POST', `/containers/${id}/kill`);
    await waitFor(async () => (await inspect(d, id)).State.Running === false);
    const stoppedGet = await api(d, 'GET', `/containers/${id}/archive?path=/vol/v`);
    assert.equal(stoppedGet.status, 200);
    assert.deepEqual(tarNames(stoppedGet.body), ['v']);
  } finally {
    rmSync(src, { recursive: true, force: true });
  }
});

test('cp -a keeps the archive\'s owners as the container user; without -a the archive\'s own', { skip }, async () => {
  const id = await running('sleep 300', { User: 'nobody' }, 'cpown');
  const src = tmp();
  try {
    writeFileSync(join(src, 'owned'), 'o');
    spawnSync('chown', ['1234:4321', join(src, 'owned')]);
    let r = await berth(d, ['cp', join(src, 'owned'), 'cpown:/tmp/plain']);
    assert.equal(r.code, 0, r.stderr);
    r = await berth(d, ['cp', '-a', join(src, 'owned'), 'cpown:/tmp/archived']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await exec(id, 'stat -c %u:%g /tmp/plain /tmp/archived'), '1234:4321\n65534:65534\n');
  } finally {
    rmSync(src, { recursive: true, force: true });
  }
});

test('docker cp against berthd: both directions, files and directories, errors', { skip: skipDocker }, async () => {
  await running('mkdir -p /data/sub && echo one > /data/one && echo two > /data/sub/two && sleep 300', {}, 'dcp');
  await waitFor(async () => (await api(d, 'HEAD', '/containers/dcp/archive?path=/data/sub/two')).status === 200);
  const dir = tmp();
  try {
    let r = await docker(['cp', 'dcp:/data/one', join(dir, 'one')]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(dir, 'one'), 'utf8'), 'one\n');
    r = await docker(['cp', 'dcp:/data', join(dir, 'data')]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(dir, 'data/sub/two'), 'utf8'), 'two\n');
    writeFileSync(join(dir, 'up'), 'UP');
    r = await docker(['cp', join(dir, 'up'), 'dcp:/data/sub/up-renamed']);
    assert.equal(r.code, 0, r.stderr);
    r = await docker(['cp', join(dir, 'data'), 'dcp:/tmp/']);
    assert.equal(r.code, 0, r.stderr);
    r = await docker(['cp', join(dir, 'data') + '/.', 'dcp:/root']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await exec('dcp', 'cat /data/sub/up-renamed /tmp/data/one /root/sub/two'), 'UPone\ntwo\n');
    r = await docker(['cp', 'dcp:/nope', dir]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Error response from daemon: Could not find the file \/nope in container dcp/);
    r = await docker(['cp', join(dir, 'up'), 'dcp:/nodir/x']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Could not find the file \/nodir in container dcp/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// Case 29 (CVE-2018-15664): the container swaps /data between a directory and a symlink to / as
// fast as it can while we copy from and into /data/etc. The full case runs 1,000 copies; this
// test runs 200 (100 each way) to stay quick, which crosses the swap many times.
test('a container flipping a directory and a symlink to / never makes cp touch the host', { skip }, async () => {
  const tag = `${process.pid}-${Date.now()}`;
  const secret = `/etc/berth-cp-secret-${tag}`;
  const canary = `/etc/berth-cp-canary-${tag}`;
  writeFileSync(secret, `HOST SECRET ${tag}\n`);
  const src = tmp();
  try {
    writeFileSync(join(src, `berth-cp-canary-${tag}`), 'planted');
    const script = [
      `mkdir -p /real/etc && echo inside > /real/etc/berth-cp-secret-${tag}`,
      'while :; do mv /real /data; mv /data /real; ln -s / /data; rm /data; done',
    ].join('; ');
    const id = await running(script, {}, 'flipper');
    const body = tarOf(src, `berth-cp-canary-${tag}`);
    let got = 0;
    let put = 0;
    const one = async (i: number): Promise<void> => {
      if (i % 2 === 0) {
        const r = await api(d, 'GET', `/containers/${id}/archive?path=/data/etc/berth-cp-secret-${tag}`);
        assert.ok([200, 404].includes(r.status), `GET ${r.status} ${r.text()}`);
        assert.ok(!r.body.includes(`HOST SECRET ${tag}`), 'a host file came back in an archive');
        if (r.status === 200) got++;
      } else {
        const r = await api(d, 'PUT', `/containers/${id}/archive?path=/data/etc`, body);
        assert.ok([200, 400, 404, 500].includes(r.status), `PUT ${r.status} ${r.text()}`);
        if (r.status === 200) put++;
      }
      assert.ok(!existsSync(canary), 'cp wrote into the host');
    };
    for (let i = 0; i < 200; i += 4) await Promise.all([one(i), one(i + 1), one(i + 2), one(i + 3)]);
    assert.ok(!existsSync(canary));
    assert.equal(readFileSync(secret, 'utf8'), `HOST SECRET ${tag}\n`);
    assert.ok(got + put > 0, 'no copy ever succeeded: the race was not exercised');
  } finally {
    rmSync(secret, { force: true });
    rmSync(canary, { force: true });
    rmSync(src, { recursive: true, force: true });
  }
});

/** A tar made entry by entry, for bodies no tar(1) would write. */
async function craftTar(entries: Array<{ name: string; type?: 'file' | 'symlink' | 'link' | 'directory'; linkname?: string; body?: string }>): Promise<Buffer> {
  const tar = (await import('tar-stream')).default;
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of pack) chunks.push(Buffer.from(c as Uint8Array));
  })();
  for (const e of entries) {
    await new Promise<void>((res, rej) => pack.entry({ name: e.name, type: e.type ?? 'file', mode: 0o644, ...(e.linkname ? { linkname: e.linkname } : {}) }, e.body ?? '', (err) => (err ? rej(err) : res())));
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

test('crafted archives stay inside the container root (cases 10-12)', { skip }, async () => {
  const tag = `${process.pid}-${Date.now()}`;
  const id = await running('mkdir -p /dest && sleep 300', {}, 'crafted');
  await waitFor(async () => (await api(d, 'HEAD', `/containers/${id}/archive?path=/dest`)).status === 200);
  const put = async (entries: Parameters<typeof craftTar>[0]) => api(d, 'PUT', `/containers/${id}/archive?path=/dest`, await craftTar(entries));
  const name = `berth-cp-escape-${tag}`;
  const hostPlaces = ['/', '/tmp', '/etc', d.dir, join(d.dataRoot, 'containers'), join(d.dataRoot, 'containers', id)];
  const nothingOnHost = (): void => {
    for (const p of hostPlaces) assert.ok(!existsSync(join(p, name)), `${join(p, name)} was written on the host`);
  };
  let r = await put([{ name: `../${name}`, body: 'x' }]);
  assert.equal(r.status, 400);
  assert.match(r.json().message, /breakout/);
  r = await put([{ name: `/../../${name}`, body: 'abs' }]);
  assert.equal(r.status, 200, r.text());
  assert.equal(await exec(id, `cat /dest/${name}`), 'abs');
  r = await put([{ name: 'evil', type: 'symlink', linkname: '/' }, { name: `evil/${name}`, body: 'through evil' }]);
  assert.equal(r.status, 200, r.text());
  assert.equal(await exec(id, `cat /${name}`), 'through evil');
  r = await put([{ name: 'up', type: 'symlink', linkname: '../../../../..' }]);
  assert.equal(r.status, 400);
  r = await put([{ name: 'hl', type: 'link', linkname: `../${name}` }]);
  assert.equal(r.status, 400);
  assert.match(r.json().message, /breakout/);
  r = await put([{ name: 'hl2', type: 'link', linkname: 'evil/etc/passwd' }]);
  assert.equal(r.status, 200, r.text());
  assert.equal(await exec(id, 'head -1 /dest/hl2'), 'root:x:0:0:root:/root:/bin/sh\n');
  // The same through a stopped container, whose root is a mount on the host.
  await api(d, 'POST', `/containers/${id}/kill`);
  await waitFor(async () => (await inspect(d, id)).State.Running === false);
  r = await put([{ name: 'evil2', type: 'symlink', linkname: '/' }, { name: `evil2/stopped-${name}`, body: 's' }]);
  assert.equal(r.status, 200, r.text());
  for (const p of hostPlaces) assert.ok(!existsSync(join(p, `stopped-${name}`)));
  nothingOnHost();
});

test('a PUT body compressed with xz is refused and nothing from the container runs (case 30)', { skip }, async () => {
  const tag = `${process.pid}-${Date.now()}`;
  const marker = `/tmp/berth-cp-xz-ran-${tag}`;
  const fake = `#!/bin/sh\\ntouch ${marker}\\ncat\\n`;
  const id = await running(`mkdir -p /usr/bin /usr/local/bin && for p in /usr/bin/xz /usr/local/bin/xz /bin/xz /usr/bin/bzip2 /bin/bzip2; do printf '${fake}' > $p; chmod +x $p; done; sleep 300`, {}, 'xzbody');
  await waitFor(async () => (await api(d, 'HEAD', `/containers/${id}/archive?path=/bin/bzip2`)).status === 200);
  const xz = Buffer.concat([Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), Buffer.alloc(64)]);
  let r = await api(d, 'PUT', `/containers/${id}/archive?path=/tmp`, xz);
  assert.equal(r.status, 400);
  assert.match(r.json().message, /xz-compressed archives are not supported/);
  r = await api(d, 'PUT', `/containers/${id}/archive?path=/tmp`, Buffer.concat([Buffer.from('BZh91AY&SY'), Buffer.alloc(64)]));
  assert.equal(r.status, 400);
  assert.ok(!existsSync(marker));
  assert.equal(await exec(id, `test -e ${marker} && echo ran || echo clean`), 'clean\n');
});

test('a reader that goes away mid-archive leaves the daemon serving', { skip }, async () => {
  const id = await running('sleep 300');
  const { request } = await import('node:http');
  await new Promise<void>((resolve) => {
    const req = request({ socketPath: d.socket, path: `/containers/${id}/archive?path=/`, method: 'GET' }, (res) => {
      res.once('data', () => {
        req.destroy();
        resolve();
      });
    });
    req.on('error', () => resolve());
    req.end();
  });
  await new Promise((r) => setTimeout(r, 200));
  assert.equal((await api(d, 'GET', '/_ping')).status, 200);
  assert.equal((await api(d, 'HEAD', `/containers/${id}/archive?path=/bin`)).status, 200);
});

test('archive works on a paused container', { skip }, async () => {
  const id = await running('echo paused > /p; sleep 300');
  await waitFor(async () => (await api(d, 'HEAD', `/containers/${id}/archive?path=/p`)).status === 200);
  assert.equal((await api(d, 'POST', `/containers/${id}/pause`)).status, 204);
  try {
    const g = await api(d, 'GET', `/containers/${id}/archive?path=/p`);
    assert.equal(g.status, 200);
    assert.equal(spawnSync('tar', ['-xO'], { input: g.body, encoding: 'utf8' }).stdout, 'paused\n');
    const src = tmp();
    writeFileSync(join(src, 'q'), 'q');
    const p = await api(d, 'PUT', `/containers/${id}/archive?path=/`, tarOf(src, 'q'));
    rmSync(src, { recursive: true, force: true });
    assert.equal(p.status, 200, p.text());
  } finally {
    await api(d, 'POST', `/containers/${id}/unpause`);
  }
  assert.equal(await exec(id, 'cat /q'), 'q');
});
