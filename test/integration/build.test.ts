// Dockerfile builds in berthd: real RUN steps in containers, COPY/ADD layers, the step cache,
// multi-stage builds, .dockerignore, failures, and the docker CLI's classic builder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync, readFileSync, utimesSync, copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { api, berth, isRoot, runProgram, stopProcess, type TestDaemon } from '../helpers/daemon.ts';
import { runToExit, useDaemon } from '../helpers/containers.ts';

const DOCKER = ['/usr/local/bin/docker', '/usr/bin/docker'].find((p) => existsSync(p));
const BUSYBOX = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));
const skip = !isRoot ? 'integration tests need root' : false;
let d: TestDaemon;

useDaemon(skip, (x) => (d = x));

function contextDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(d.dir, 'ctx-'));
  for (const [name, body] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), body);
  }
  return dir;
}

const build = (dir: string, ...args: string[]) => berth(d, ['build', ...args, dir], { timeoutMs: 120_000 });

async function imageId(ref: string): Promise<string | undefined> {
  const r = await api(d, 'GET', `/images/${ref}/json`);
  return r.status === 200 ? r.json().Id : undefined;
}

async function intermediates(): Promise<number> {
  const all = (await api(d, 'GET', '/containers/json?all=1')).json() as Array<{ Labels: Record<string, string> }>;
  return all.filter((c) => c.Labels?.['com.berth.build'] !== undefined).length;
}

test('a Dockerfile builds: ENV, WORKDIR, COPY, RUN, CMD, LABEL, USER, EXPOSE; the image runs; history has every step', { skip }, async () => {
  const dir = contextDir({
    Dockerfile: [
      'FROM busybox',
      'ENV GREETING=hello NAME="berth builder"',
      'WORKDIR /app',
      'COPY greet.sh ./',
      'COPY conf/ /etc/app/',
      'RUN chmod +x greet.sh && echo "built $GREETING" > built.txt && ls /etc/app > listing',
      'LABEL org.example.step=copy',
      'EXPOSE 8080/tcp',
      'CMD ["./greet.sh"]',
      '',
    ].join('\n'),
    'greet.sh': '#!/bin/sh\necho "$GREETING, $NAME: $(cat built.txt) $(cat listing | tr "\\n" " ")"\n',
    'conf/a.conf': 'a',
    'conf/b.conf': 'b',
  });
  const r = await build(dir, '-t', 'built:1');
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /Step 1\/9 : FROM busybox/);
  assert.match(r.stdout, /Successfully built [0-9a-f]{12}/);
  assert.match(r.stdout, /Successfully tagged built:1/);
  const run = await runToExit(d, { Image: 'built:1' });
  assert.equal(run.stdout, 'hello, berth builder: built hello a.conf b.conf \n');
  const img = (await api(d, 'GET', '/images/built:1/json')).json();
  assert.equal(img.Config.WorkingDir, '/app');
  assert.deepEqual(img.Config.Cmd, ['./greet.sh']);
  assert.equal(img.Config.Labels['org.example.step'], 'copy');
  assert.ok('8080/tcp' in img.Config.ExposedPorts);
  assert.ok(img.Config.Env.includes('NAME=berth builder'));
  const hist = (await api(d, 'GET', '/images/built:1/history')).json() as Array<{ CreatedBy: string }>;
  assert.ok(hist.some((h) => /COPY/.test(h.CreatedBy)));
  assert.ok(hist.some((h) => /chmod \+x greet.sh/.test(h.CreatedBy)));
  assert.equal(await intermediates(), 0, 'intermediate containers removed');
  await api(d, 'DELETE', `/containers/${run.id}`);
});

test('the cache: a rebuild reuses every step; a changed file rebuilds from its COPY on; mtimes alone do not', { skip }, async () => {
  const dir = contextDir({
    Dockerfile: 'FROM busybox\nRUN echo one > /one\nCOPY data.txt /data.txt\nRUN cat /data.txt > /copy\n',
    'data.txt': 'v1\n',
  });
  const first = await build(dir, '-t', 'cached:1');
  assert.equal(first.code, 0, first.stderr);
  const id1 = await imageId('cached:1');
  const again = await build(dir, '-t', 'cached:1');
  assert.equal(again.code, 0, again.stderr);
  assert.equal((again.stdout.match(/Using cache/g) ?? []).length, 3, again.stdout);
  assert.equal(await imageId('cached:1'), id1);
  utimesSync(join(dir, 'data.txt'), new Date(), new Date(Date.now() + 60_000));
  const touched = await build(dir, '-t', 'cached:1');
  assert.equal((touched.stdout.match(/Using cache/g) ?? []).length, 3, 'a new mtime is not a change');
  writeFileSync(join(dir, 'data.txt'), 'v2\n');
  const changed = await build(dir, '-t', 'cached:2');
  assert.equal(changed.code, 0, changed.stderr);
  assert.equal((changed.stdout.match(/Using cache/g) ?? []).length, 1, 'only the RUN before the COPY is reused');
  assert.notEqual(await imageId('cached:2'), id1);
  const out = await runToExit(d, { Image: 'cached:2', Cmd: ['cat', '/copy'] });
  assert.equal(out.stdout, 'v2\n');
  const nocache = await build(dir, '--no-cache', '-t', 'cached:3');
  assert.doesNotMatch(nocache.stdout, /Using cache/);
  await api(d, 'DELETE', `/containers/${out.id}`);
});

test('multi-stage: COPY --from a stage, --target, stages the target does not need are skipped', { skip }, async () => {
  const dir = contextDir({
    Dockerfile: [
      'FROM busybox AS builder',
      'RUN mkdir /out && echo artifact > /out/result',
      'FROM busybox AS broken',
      'RUN exit 7',
      'FROM busybox',
      'COPY --from=builder /out/result /result',
      'CMD ["cat", "/result"]',
    ].join('\n'),
  });
  const r = await build(dir, '-t', 'multi:1');
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.doesNotMatch(r.stdout, /exit 7/);
  assert.equal((await runToExit(d, { Image: 'multi:1' })).stdout, 'artifact\n');
  const t = await build(dir, '--target', 'builder', '-t', 'multi:builder');
  assert.equal(t.code, 0, t.stderr);
  assert.equal((await runToExit(d, { Image: 'multi:builder', Cmd: ['cat', '/out/result'] })).stdout, 'artifact\n');
  const bad = await build(dir, '--target', 'nope');
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /failed to reach build target nope/);
});

test('.dockerignore excludes files (with ! exceptions); build args reach RUN and are not kept in the image', { skip }, async () => {
  const dir = contextDir({
    Dockerfile: 'FROM busybox\nARG FLAVOR=plain\nCOPY . /ctx\nRUN echo "$FLAVOR" > /flavor\n',
    '.dockerignore': '*.secret\nlogs/\n!logs/keep.log\n',
    'a.txt': 'a',
    'key.secret': 'nope',
    'logs/x.log': 'x',
    'logs/keep.log': 'keep',
  });
  const r = await build(dir, '--build-arg', 'FLAVOR=spicy', '--build-arg', 'UNUSED=1', '-t', 'ign:1');
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /build-args \[UNUSED\] were not consumed/);
  const ls = await runToExit(d, { Image: 'ign:1', Cmd: ['sh', '-c', 'cd /ctx && find . -type f | sort; cat /flavor; echo "env:$FLAVOR"'] });
  assert.equal(ls.stdout, './.dockerignore\n./Dockerfile\n./a.txt\n./logs/keep.log\nspicy\nenv:\n');
});

test('FROM scratch with the busybox binary; ADD unpacks a local tar.gz', { skip: skip || (!BUSYBOX ? 'no static busybox' : false) }, async () => {
  const dir = contextDir({ Dockerfile: 'FROM scratch\nCOPY busybox /bin/busybox\nADD tree.tar.gz /opt/\nCMD ["/bin/busybox", "cat", "/opt/tree/leaf"]\n' });
  copyFileSync(BUSYBOX!, join(dir, 'busybox'));
  const src = mkdtempSync(join(d.dir, 'tree-'));
  mkdirSync(join(src, 'tree'));
  writeFileSync(join(src, 'tree', 'leaf'), 'from the archive\n');
  execFileSync('tar', ['-C', src, '-czf', join(dir, 'tree.tar.gz'), 'tree']);
  const r = await build(dir, '-t', 'scratchy:1');
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.equal((await runToExit(d, { Image: 'scratchy:1' })).stdout, 'from the archive\n');
  const img = (await api(d, 'GET', '/images/scratchy:1/json')).json();
  assert.equal(img.RootFS.Layers.length, 2);
});

test('RUN --mount=type=cache persists between builds and stays out of the image', { skip }, async () => {
  const dir = contextDir({ Dockerfile: 'FROM busybox\nARG N\nRUN --mount=type=cache,target=/cache echo "$N" >> /cache/runs && wc -l < /cache/runs > /count\n' });
  assert.equal((await build(dir, '--build-arg', 'N=1', '-t', 'cm:1')).code, 0);
  const r = await build(dir, '--build-arg', 'N=2', '-t', 'cm:2');
  assert.equal(r.code, 0, r.stderr + r.stdout);
  // The mount point the runtime made is not left in the layer either.
  assert.equal((await runToExit(d, { Image: 'cm:2', Cmd: ['sh', '-c', 'cat /count; test -e /cache || echo no-cache-dir'] })).stdout, '2\nno-cache-dir\n');
});

test('a failing RUN: the step, command and exit code; nothing tagged; no container left', { skip }, async () => {
  const dir = contextDir({ Dockerfile: 'FROM busybox\nRUN echo before\nRUN sh -c "echo failing >&2; exit 3"\n' });
  const r = await build(dir, '-t', 'fails:1');
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /The command '\/bin\/sh -c sh -c "echo failing >&2; exit 3"' returned a non-zero code: 3/);
  assert.match(r.stdout, /failing/);
  assert.equal(await imageId('fails:1'), undefined);
  assert.equal(await intermediates(), 0);
});

test('Dockerfile errors carry Docker\'s messages; paths outside the context are refused (cases 15, 16)', { skip }, async () => {
  const cases: Array<[string, RegExp]> = [
    ['', /cannot be empty|file with no instructions/],
    ['# only a comment\n', /file with no instructions/],
    ['FORM alpine\n', /unknown instruction: FORM/i],
    ['FROM busybox\nCOPY ../../etc/passwd /\n', /forbidden path outside the build context|not found/],
    [`FROM busybox\nRUN echo ${'x'.repeat(70_000)}\n`, /line greater than max allowed size of 65535/],
  ];
  for (const [text, msg] of cases) {
    const dir = contextDir({ Dockerfile: text });
    const r = await build(dir);
    assert.notEqual(r.code, 0, text.slice(0, 40));
    assert.match(r.stderr, msg, text.slice(0, 40));
  }
  // Context entries named dir/../foo and /bar are cleaned; new content is never a stale cache hit.
  const { packEntries } = await import('../../src/adapters/tar/index.ts');
  const tarOf = async (content: string): Promise<Buffer> => {
    const chunks: Buffer[] = [];
    const s = packEntries([
      { name: 'Dockerfile', type: 'file', mode: 0o644, content: Buffer.from('FROM busybox\nCOPY foo bar /\nCMD ["cat", "/foo", "/bar"]\n') },
      { name: 'dir/../foo', type: 'file', mode: 0o644, content: Buffer.from(content) },
      { name: '/bar', type: 'file', mode: 0o644, content: Buffer.from(content) },
    ]);
    for await (const c of s) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  };
  for (const v of ['one\n', 'two\n']) {
    const r = await api(d, 'POST', '/build?t=cleaned:1', await tarOf(v), { 'Content-Type': 'application/x-tar' });
    assert.equal(r.status, 200, r.text());
    assert.match(r.text(), /Successfully tagged/);
    assert.equal((await runToExit(d, { Image: 'cleaned:1' })).stdout, v + v);
  }
});

test('docker build (classic builder) against berthd', { skip: skip || (!DOCKER ? 'docker CLI not installed' : false) }, async () => {
  const dir = contextDir({ Dockerfile: 'FROM busybox\nCOPY hello.txt /\nRUN cat /hello.txt\nCMD ["cat", "/hello.txt"]\n', 'hello.txt': 'hello from docker build\n' });
  const r = await runProgram(DOCKER!, ['build', '-t', 'dockerbuilt:1', dir], { env: { DOCKER_HOST: d.host, DOCKER_BUILDKIT: '0', DOCKER_CONFIG: join(d.dir, 'docker-config') }, timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /Successfully tagged dockerbuilt:1/);
  const run = await runProgram(DOCKER!, ['run', '--rm', 'dockerbuilt:1'], { env: { DOCKER_HOST: d.host, DOCKER_CONFIG: join(d.dir, 'docker-config') } });
  assert.equal(run.stdout, 'hello from docker build\n');
  rmSync(dir, { recursive: true, force: true });
  void readFileSync;
});

test('ONBUILD triggers run in the child build; COPY --exclude leaves files out', { skip }, async () => {
  const parent = contextDir({ Dockerfile: 'FROM busybox\nMAINTAINER berth tests\nONBUILD RUN echo triggered > /trigger\n' });
  assert.equal((await build(parent, '-t', 'onbuild-base:1')).code, 0);
  assert.equal((await api(d, 'GET', '/images/onbuild-base:1/json')).json().Author, 'berth tests');
  const child = contextDir({ Dockerfile: 'FROM onbuild-base:1\nCOPY --exclude=*.log src/ /src/\n', 'src/a.txt': 'a', 'src/b.log': 'b', 'src/sub/c.log': 'c' });
  const r = await build(child, '-t', 'onbuild-child:1');
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /Executing 1 build trigger/);
  const out = await runToExit(d, { Image: 'onbuild-child:1', Cmd: ['sh', '-c', 'cat /trigger; find /src -type f | sort'] });
  assert.equal(out.stdout, 'triggered\n/src/a.txt\n');
  const img = (await api(d, 'GET', '/images/onbuild-child:1/json')).json();
  assert.equal(img.Config.OnBuild, null);
});

test('heredocs: RUN <<EOF runs a script, COPY <<EOF writes a file with variables expanded', { skip }, async () => {
  const dir = contextDir({
    Dockerfile: ['FROM busybox', 'ENV WHO=heredoc', 'RUN <<EOF', 'echo one > /h1', 'echo two >> /h1', 'EOF', 'COPY <<EOF /greeting', 'hello $WHO', 'EOF', 'CMD ["sh", "-c", "cat /h1 /greeting"]', ''].join('\n'),
  });
  const r = await build(dir, '-t', 'heredoc:1');
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.equal((await runToExit(d, { Image: 'heredoc:1' })).stdout, 'one\ntwo\nhello heredoc\n');
});

test('ADD <url> is fetched by the daemon and checked against --checksum', { skip }, async () => {
  const { createServer } = await import('node:http');
  const body = 'served over http\n';
  const server = createServer((_req, res) => res.end(body));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/files/payload.txt`;
  try {
    const { createHash } = await import('node:crypto');
    const sum = `sha256:${createHash('sha256').update(body).digest('hex')}`;
    const ok = contextDir({ Dockerfile: `FROM busybox\nADD --checksum=${sum} ${url} /dl/\nCMD ["cat", "/dl/payload.txt"]\n` });
    const r = await build(ok, '-t', 'addurl:1');
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal((await runToExit(d, { Image: 'addurl:1' })).stdout, body);
    const bad = contextDir({ Dockerfile: `FROM busybox\nADD --checksum=sha256:${'0'.repeat(64)} ${url} /dl/\n` });
    const b = await build(bad);
    assert.notEqual(b.code, 0);
    assert.match(b.stderr, /digest mismatch/);
  } finally {
    server.close();
  }
});

test('kill -9 of berthd mid-build: nothing tagged, and the build\'s container is gone after restart (case 19); the cache survives', { skip }, async () => {
  const earlier = contextDir({ Dockerfile: 'FROM busybox\nRUN echo kept > /kept\n', 'x.txt': 'x' });
  assert.equal((await build(earlier, '-t', 'kept:1')).code, 0);
  const dir = contextDir({ Dockerfile: 'FROM busybox\nRUN sleep 30\n' });
  const building = build(dir, '-t', 'killed:1');
  const { waitFor } = await import('../helpers/containers.ts');
  await waitFor(async () => (await intermediates()) > 0, 20_000, 'the RUN container');
  await d.stop({ signal: 'SIGKILL' });
  const r = await building;
  assert.notEqual(r.code, 0);
  await d.restart();
  assert.equal(await imageId('killed:1'), undefined);
  await waitFor(async () => (await intermediates()) === 0, 20_000, 'leftover build containers removed');
  // Steps built before the crash come from the cache after it.
  const again = await build(earlier, '-t', 'kept:2');
  assert.match(again.stdout, /Using cache/);
  assert.equal(await imageId('kept:2'), await imageId('kept:1'));
});

test('RUN --mount=type=secret: the value reaches RUN and never a layer, the history or the cache key', { skip }, async () => {
  const value = 's3cr3t-v4lue-' + Math.random().toString(36).slice(2);
  const dir = contextDir({
    Dockerfile: [
      'FROM busybox',
      'RUN --mount=type=secret,id=tok wc -c < /run/secrets/tok > /len && stat -c "%a %u" /run/secrets/tok > /perm',
      'RUN --mount=type=secret,id=tok,target=/etc/tok,mode=0444,uid=1000 stat -c "%a %u" /etc/tok > /perm2',
      'RUN --mount=type=secret,id=absent test ! -e /run/secrets/absent && echo skipped > /absent',
      'RUN --mount=type=secret,id=tok,env=TOK_ENV printf %s "$TOK_ENV" | wc -c > /envlen && test ! -e /run/secrets/tok && echo no-file > /envfile',
      '',
    ].join('\n'),
  });
  writeFileSync(join(d.dir, 'tok.txt'), value);
  const r = await build(dir, '--secret', `id=tok,src=${join(d.dir, 'tok.txt')}`, '-t', 'sec:1');
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const out = await runToExit(d, { Image: 'sec:1', Cmd: ['sh', '-c', 'cat /len /perm /perm2 /absent /envlen /envfile; ls -d /run/secrets /etc/tok 2>&1 | grep -c "No such file"'] });
  assert.equal(out.stdout, `${value.length}\n400 0\n444 1000\nskipped\n${value.length}\nno-file\n2\n`);
  const cfg = (await api(d, 'GET', '/images/sec:1/json')).json();
  assert.ok(!JSON.stringify(cfg).includes(value) && !JSON.stringify(cfg.Config.Env).includes('TOK_ENV'), 'the env secret is not in the image config');
  const hist = (await api(d, 'GET', '/images/sec:1/history')).json() as Array<{ CreatedBy: string }>;
  assert.ok(!JSON.stringify(hist).includes(value));
  const saved = join(d.dir, 'sec.tar');
  assert.equal((await berth(d, ['save', '-o', saved, 'sec:1'])).code, 0);
  assert.ok(!readFileSync(saved).includes(value), 'the secret is in no layer of the saved image');
  // Another value from the environment: the cache does not key on values.
  const withEnv = await berth(d, ['build', '--secret', 'id=tok,env=TOKVAR', '-t', 'sec:2', dir], { env: { TOKVAR: 'other' }, timeoutMs: 120_000 });
  assert.equal(withEnv.code, 0, withEnv.stderr);
  assert.equal(await imageId('sec:2'), await imageId('sec:1'));
  // A required secret that was not given fails the step with its name.
  const req = contextDir({ Dockerfile: 'FROM busybox\nRUN --mount=type=secret,id=needed,required cat /run/secrets/needed\n' });
  const failed = await build(req, '-t', 'sec:3');
  assert.notEqual(failed.code, 0);
  assert.match(failed.stderr, /secret needed: not found/);
});

test('RUN --mount=type=bind of the context and of a stage: read-only by default, rw writes discarded, content in the cache key', { skip }, async () => {
  const dir = contextDir({
    Dockerfile: [
      'FROM busybox AS tools',
      'RUN mkdir /out && echo tool-v1 > /out/tool',
      'FROM busybox',
      'RUN --mount=type=bind,source=src,target=/src cat /src/a.txt > /got && (touch /src/x 2>/dev/null && echo rw || echo ro) > /mode',
      'RUN --mount=type=bind,from=tools,source=/out,target=/t,rw cat /t/tool > /tool && echo junk > /t/junk',
      'RUN --mount=type=bind,target=/ctx ls /ctx > /ls',
      'RUN --mount=type=bind,source=src/a.txt,target=/one.txt cat /one.txt > /one',
      '',
    ].join('\n'),
    'src/a.txt': 'first\n',
    'hidden.txt': 'ignored\n',
    '.dockerignore': 'hidden.txt\n',
  });
  const r = await build(dir, '-t', 'bind:1');
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const show = async (ref: string): Promise<string> =>
    (await runToExit(d, { Image: ref, Cmd: ['sh', '-c', 'cat /got /mode /tool /one; tr "\\n" " " < /ls; echo; ls -d /src /t /ctx /one.txt 2>&1 | grep -c "No such file"'] })).stdout;
  assert.equal(await show('bind:1'), 'first\nro\ntool-v1\nfirst\nDockerfile src \n4\n');
  const cached = await build(dir, '-t', 'bind:2');
  assert.equal(await imageId('bind:2'), await imageId('bind:1'));
  assert.equal(cached.stdout.match(/Using cache/g)?.length, 5);
  writeFileSync(join(dir, 'src/a.txt'), 'second\n');
  const changed = await build(dir, '-t', 'bind:3');
  assert.equal(changed.code, 0, changed.stderr);
  assert.equal(await show('bind:3'), 'second\nro\ntool-v1\nsecond\nDockerfile src \n4\n');
});

test('independent stages build side by side; the output still reads stage by stage, in step order', { skip }, async () => {
  const dir = contextDir({
    Dockerfile: [
      'FROM busybox AS a',
      'RUN cut -d" " -f1 /proc/uptime > /start && sleep 1 && cut -d" " -f1 /proc/uptime > /end',
      'FROM busybox AS b',
      'RUN cut -d" " -f1 /proc/uptime > /start && sleep 1 && cut -d" " -f1 /proc/uptime > /end',
      'FROM busybox',
      'COPY --from=a /start /a.start',
      'COPY --from=a /end /a.end',
      'COPY --from=b /start /b.start',
      'COPY --from=b /end /b.end',
      '',
    ].join('\n'),
  });
  const r = await build(dir, '--no-cache', '-t', 'par:1');
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const steps = [...r.stdout.matchAll(/^Step (\d+)\/9 :/gm)].map((m) => Number(m[1]));
  assert.deepEqual(steps, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const out = await runToExit(d, { Image: 'par:1', Cmd: ['cat', '/a.start', '/a.end', '/b.start', '/b.end'] });
  // /proc/uptime: one clock for every container on the host.
  const [as, ae, bs, be] = out.stdout.trim().split('\n').map(Number);
  assert.ok(as! < be! && bs! < ae!, `the two RUN steps overlapped in time (a ${as}–${ae}, b ${bs}–${be})`);
  // A failing stage stops the build, with its own output shown.
  const bad = contextDir({ Dockerfile: 'FROM busybox AS a\nRUN sleep 2\nFROM busybox AS b\nRUN echo b-fails; exit 4\nFROM busybox\nCOPY --from=a /bin/sh /x\nCOPY --from=b /bin/sh /y\n' });
  const f = await build(bad, '--no-cache', '-t', 'par:2');
  assert.equal(f.code, 4, f.stderr);
  assert.match(f.stdout, /b-fails/);
  assert.equal(await imageId('par:2'), undefined);
  assert.equal(await intermediates(), 0);
});

test('COPY and ADD --parents keep source paths under the destination; /./ marks where they start', { skip }, async () => {
  const dir = contextDir({
    Dockerfile: [
      'FROM busybox',
      'COPY --parents x/a.txt y/sub/*.txt top.txt /dest/',
      'COPY --parents ./src/./*/main.go /app/',
      'COPY --parents y/sub /d2',
      'ADD --parents x/a.txt /added/',
      '',
    ].join('\n'),
    'x/a.txt': 'a',
    'y/sub/b.txt': 'b',
    'y/sub/c.md': 'c',
    'src/foo/main.go': 'foo',
    'src/bar/main.go': 'bar',
    'top.txt': 't',
  });
  const r = await build(dir, '-t', 'parents:1');
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const out = await runToExit(d, { Image: 'parents:1', Cmd: ['sh', '-c', 'cd / && find added dest app d2 -type f | sort'] });
  assert.deepEqual(out.stdout.trim().split('\n'), ['added/x/a.txt', 'app/bar/main.go', 'app/foo/main.go', 'd2/y/sub/b.txt', 'd2/y/sub/c.md', 'dest/top.txt', 'dest/x/a.txt', 'dest/y/sub/b.txt']);
});

test('on a terminal, berth build draws the compact view; --progress=plain keeps the classic text', { skip }, async () => {
  const dir = contextDir({ Dockerfile: 'FROM busybox\nRUN echo view-output-line\nRUN echo second > /s\n' });
  // script(1) gives berth a pseudo-terminal.
  const tty = await runProgram('script', ['-qec', `${join(import.meta.dirname, '../../bin/berth')} build --no-cache -t view:1 ${dir}`, '/dev/null'], { env: { BERTH_HOST: d.host, COLUMNS: '100' }, timeoutMs: 120_000 });
  assert.equal(tty.code, 0, tty.stdout + tty.stderr);
  assert.match(tty.stdout, /\[\+\] Building \d+\.\ds \(3\/3\) FINISHED/);
  assert.match(tty.stdout, / => \[2\/3\] RUN echo view-output-line +\d+\.\ds/);
  assert.match(tty.stdout, /Successfully tagged view:1/);
  assert.doesNotMatch(tty.stdout, /^Step 1\/3 :/m);
  const plain = await runProgram('script', ['-qec', `${join(import.meta.dirname, '../../bin/berth')} build --progress=plain -t view:2 ${dir}`, '/dev/null'], { env: { BERTH_HOST: d.host }, timeoutMs: 120_000 });
  assert.equal(plain.code, 0, plain.stdout);
  assert.match(plain.stdout, /Step 1\/3 : FROM busybox/);
  // A failing step on a terminal: FAILED, its output, the error, the exit code.
  const bad = contextDir({ Dockerfile: 'FROM busybox\nRUN echo before-fail; exit 7\n' });
  const failed = await runProgram('script', ['-qec', `${join(import.meta.dirname, '../../bin/berth')} build ${bad}`, '/dev/null'], { env: { BERTH_HOST: d.host }, timeoutMs: 120_000 });
  assert.equal(failed.code, 7);
  assert.match(failed.stdout, /FAILED/);
  assert.match(failed.stdout, / => => # before-fail/);
  assert.match(failed.stdout, /returned a non-zero code: 7/);
});

test('remote contexts: a Git repository (ref and subdirectory) over HTTP, a tar.gz URL, a Dockerfile URL; other remotes refused', { skip }, async () => {
  const { createServer } = await import('node:http');
  const { readFileSync: read, statSync } = await import('node:fs');
  const root = mkdtempSync(join(d.dir, 'remote-'));
  const work = join(root, 'work');
  mkdirSync(join(work, 'sub'), { recursive: true });
  writeFileSync(join(work, 'sub', 'Dockerfile'), 'FROM busybox\nCOPY hello.txt /hello.txt\n');
  writeFileSync(join(work, 'sub', 'hello.txt'), 'from git\n');
  const git = (...a: string[]) => execFileSync('git', ['-c', 'user.email=t@t', '-c', 'user.name=t', ...a], { cwd: work, stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  git('add', '.');
  git('commit', '-q', '-m', 'one');
  git('tag', 'v1');
  writeFileSync(join(work, 'sub', 'hello.txt'), 'from git, later\n');
  git('commit', '-q', '-am', 'two');
  execFileSync('git', ['clone', '-q', '--bare', work, join(root, 'srv', 'repo.git')]);
  execFileSync('git', ['update-server-info'], { cwd: join(root, 'srv', 'repo.git') });
  execFileSync('tar', ['-C', join(work, 'sub'), '-czf', join(root, 'srv', 'ctx.tar.gz'), '.']);
  writeFileSync(join(root, 'srv', 'Dockerfile.txt'), 'FROM busybox\nRUN echo from-url > /u\n');
  // A static file server on 127.0.0.1: git's "dumb" HTTP protocol needs nothing more.
  const srv = createServer((req, res) => {
    const p = join(root, 'srv', decodeURIComponent((req.url ?? '/').split('?')[0]!));
    try {
      if (!p.startsWith(join(root, 'srv')) || !statSync(p).isFile()) throw new Error('nope');
      res.end(read(p));
    } catch {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(srv.address() as { port: number }).port}`;
  try {
    const show = async (ref: string, file: string): Promise<string> => (await runToExit(d, { Image: ref, Cmd: ['cat', file] })).stdout;
    const head = await build(`${base}/repo.git#:sub`, '-t', 'remote:git');
    assert.equal(head.code, 0, head.stderr + head.stdout);
    assert.equal(await show('remote:git', '/hello.txt'), 'from git, later\n');
    const tagged = await build(`${base}/repo.git#v1:sub`, '-t', 'remote:v1');
    assert.equal(tagged.code, 0, tagged.stderr + tagged.stdout);
    assert.equal(await show('remote:v1', '/hello.txt'), 'from git\n');
    const tgz = await build(`${base}/ctx.tar.gz`, '-t', 'remote:tgz');
    assert.equal(tgz.code, 0, tgz.stderr + tgz.stdout);
    assert.equal(await show('remote:tgz', '/hello.txt'), 'from git, later\n');
    const df = await build(`${base}/Dockerfile.txt`, '-t', 'remote:df');
    assert.equal(df.code, 0, df.stderr + df.stdout);
    assert.equal(await show('remote:df', '/u'), 'from-url\n');
    // Out of the repository, missing refs, and transports other than the network's are refused.
    assert.match((await build(`${base}/repo.git#:../..`)).stderr, /leaves the repository/);
    assert.match((await build(`${base}/repo.git#nosuchref`)).stderr, /unable to 'git clone'/);
    const ext = await api(d, 'POST', `/build?remote=${encodeURIComponent('ext::sh -c touch% /tmp/pwned')}`);
    assert.notEqual(ext.status, 200);
    assert.ok(!existsSync('/tmp/pwned'));
    assert.notEqual((await api(d, 'POST', `/build?remote=${encodeURIComponent('file:///etc')}`)).status, 200);
  } finally {
    srv.close();
  }
});

test('SHELL, ENTRYPOINT, STOPSIGNAL, HEALTHCHECK, VOLUME, COPY --link, RUN --network; -f, --label, --iidfile, --network, --pull', { skip }, async () => {
  const { spawn } = await import('node:child_process');
  const { createServer } = await import('node:net');
  const { BERTH } = await import('../helpers/daemon.ts');
  const dir = contextDir({
    'build/custom.Dockerfile': [
      'FROM busybox',
      'SHELL ["/bin/sh", "-e", "-c"]',
      // With the build on --network none every RUN has loopback only; RUN --network=none says so too.
      'RUN ls /sys/class/net > /nets-build',
      'RUN --network=none ls /sys/class/net > /nets-run',
      'ENTRYPOINT ["/bin/sh", "-c"]',
      'CMD ["echo default-cmd"]',
      'STOPSIGNAL SIGUSR1',
      'HEALTHCHECK --interval=5s --timeout=2s --retries=2 CMD true',
      'VOLUME /data',
      'COPY --link a.txt /linked/a.txt',
      '',
    ].join('\n'),
    'a.txt': 'linked\n',
  });
  const iid = join(d.dir, 'iid.txt');
  const r = await build(dir, '-f', join(dir, 'build/custom.Dockerfile'), '--label', 'team=berth', '--iidfile', iid, '--network', 'none', '-t', 'flags:1');
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const img = (await api(d, 'GET', '/images/flags:1/json')).json();
  assert.equal(readFileSync(iid, 'utf8'), img.Id);
  const c = img.Config;
  assert.deepEqual([c.Shell, c.Entrypoint, c.Cmd, c.StopSignal, c.Labels.team, Object.keys(c.Volumes)], [['/bin/sh', '-e', '-c'], ['/bin/sh', '-c'], ['echo default-cmd'], 'SIGUSR1', 'berth', ['/data']]);
  assert.deepEqual(c.Healthcheck, { Test: ['CMD-SHELL', 'true'], Interval: 5e9, Timeout: 2e9, Retries: 2 });
  const out = await runToExit(d, { Image: 'flags:1', Cmd: ['cat /nets-build /nets-run /linked/a.txt'] });
  assert.equal(out.stdout, 'lo\nlo\nlinked\n');
  // --pull: the base is fetched again from its registry (here berth's own on 127.0.0.1).
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const reg = spawn(BERTH, ['registry', 'serve', '--addr', `127.0.0.1:${port}`, '--root', join(d.dir, 'pull-reg')], { stdio: 'ignore' });
  try {
    const base = `127.0.0.1:${port}/base/img:1`;
    const { waitFor } = await import('../helpers/containers.ts');
    await waitFor(async () => fetch(`http://127.0.0.1:${port}/v2/`).then((x) => x.ok, () => false), 20_000, 'registry start');
    assert.equal((await berth(d, ['tag', 'busybox', base])).code, 0);
    assert.equal((await berth(d, ['push', '-q', base])).code, 0);
    const fromBase = contextDir({ Dockerfile: `FROM ${base}\nRUN cat /marker 2>/dev/null || echo none\n` });
    assert.equal((await build(fromBase, '-t', 'pulled:1')).code, 0);
    // The registry's image changes (a new layer): only --pull sees it.
    const marked = contextDir({ Dockerfile: 'FROM busybox\nRUN echo new-base > /marker\n' });
    assert.equal((await build(marked, '-t', base)).code, 0);
    assert.equal((await berth(d, ['push', '-q', base])).code, 0);
    assert.equal((await berth(d, ['tag', 'busybox', base])).code, 0);
    const cached = await build(fromBase, '-t', 'pulled:2');
    assert.match(cached.stdout, /Using cache/);
    const pulled = await build(fromBase, '--pull', '-t', 'pulled:3');
    assert.equal(pulled.code, 0, pulled.stderr + pulled.stdout);
    assert.match(pulled.stdout, /new-base/);
  } finally {
    await stopProcess(reg);
  }
});

test('RUN --mount=type=ssh: the client\'s agent socket for that step (SSH_AUTH_SOCK), nothing left in the layer', { skip: skip || (!existsSync('/usr/bin/ssh-agent') ? 'ssh-agent not installed' : false) }, async () => {
  const { spawnSync } = await import('node:child_process');
  const sock = join(mkdtempSync(join(d.dir, 'agent-')), 'agent.sock');
  const agent = spawnSync('ssh-agent', ['-a', sock], { encoding: 'utf8' });
  const pid = Number(/SSH_AGENT_PID=(\d+)/.exec(agent.stdout)?.[1]);
  try {
    const dir = contextDir({
      Dockerfile: [
        'FROM busybox',
        'RUN --mount=type=ssh test -S "$SSH_AUTH_SOCK" && echo "$SSH_AUTH_SOCK" > /sock',
        'RUN --mount=type=ssh,id=deploy,target=/tmp/deploy.sock test -S /tmp/deploy.sock && echo named > /named',
        '',
      ].join('\n'),
    });
    const r = await berth(d, ['build', '--ssh', 'default', '--ssh', `deploy=${sock}`, '-t', 'ssh:1', dir], { env: { SSH_AUTH_SOCK: sock }, timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const out = await runToExit(d, { Image: 'ssh:1', Cmd: ['sh', '-c', 'cat /sock /named; ls -d /run/buildkit /tmp/deploy.sock 2>&1 | grep -c "No such file"'] });
    assert.equal(out.stdout, '/run/buildkit/ssh_agent.0\nnamed\n2\n');
    // Asked for and not forwarded: the step fails with BuildKit's words.
    const need = contextDir({ Dockerfile: 'FROM busybox\nRUN --mount=type=ssh,id=missing,required true\n' });
    const failed = await build(need);
    assert.notEqual(failed.code, 0);
    assert.match(failed.stderr, /no SSH key "missing" forwarded from the client/);
    // The CLI refuses what is not an agent's socket.
    const notSock = await berth(d, ['build', '--ssh', `x=${join(dir, 'Dockerfile')}`, dir]);
    assert.notEqual(notSock.code, 0);
    assert.match(notSock.stderr, /is not a socket/);
  } finally {
    if (pid > 0) process.kill(pid);
  }
});
