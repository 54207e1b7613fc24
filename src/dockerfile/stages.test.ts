import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DockerfileError, duration, isProxyArg, parseDockerfile, predefinedArgs, splitStages } from './index.ts';

describe('splitStages', () => {
  it('meta ARGs, then one stage per FROM', () => {
    const { metaArgs, stages } = splitStages(
      parseDockerfile('ARG A=1\nARG B\nFROM x AS one\nRUN a\nCOPY b c\nFROM one\nFROM y\nCMD z\n'),
    );
    assert.deepEqual(
      metaArgs.map((i) => i.rest),
      ['A=1', 'B'],
    );
    assert.deepEqual(
      stages.map((s) => [s.index, s.from.rest, s.body.map((b) => b.keyword)]),
      [
        [0, 'x AS one', ['RUN', 'COPY']],
        [1, 'one', []],
        [2, 'y', ['CMD']],
      ],
    );
  });

  it('an ARG after a FROM belongs to the stage', () => {
    const { metaArgs, stages } = splitStages(parseDockerfile('FROM x\nARG A\n'));
    assert.deepEqual(metaArgs, []);
    assert.equal(stages[0]?.body[0]?.keyword, 'ARG');
  });

  it('refuses an instruction before the first FROM', () => {
    const parsed = parseDockerfile('FROM x\n');
    const bad = { ...parsed, instructions: [{ ...parsed.instructions[0]!, keyword: 'RUN', startLine: 4 }] };
    assert.throws(
      () => splitStages(bad),
      (err: unknown) => err instanceof DockerfileError && err.message === 'no build stage in current context' && err.line === 4,
    );
  });

  it('refuses a file of only ARGs', () => {
    assert.throws(
      () => splitStages(parseDockerfile('ARG A\n')),
      (err: unknown) => err instanceof DockerfileError && err.message === 'dockerfile contains no stages to build',
    );
  });
});

describe('predefinedArgs and isProxyArg', () => {
  it('target and build platform', () => {
    assert.deepEqual(Object.fromEntries(predefinedArgs({ os: 'linux', architecture: 'arm', variant: 'v7' })), {
      TARGETPLATFORM: 'linux/arm/v7',
      TARGETOS: 'linux',
      TARGETARCH: 'arm',
      TARGETVARIANT: 'v7',
      BUILDPLATFORM: 'linux/arm/v7',
      BUILDOS: 'linux',
      BUILDARCH: 'arm',
      BUILDVARIANT: 'v7',
    });
    const m = predefinedArgs({ os: 'linux', architecture: 'amd64' }, { build: { os: 'linux', architecture: 'arm64' } });
    assert.equal(m.get('TARGETPLATFORM'), 'linux/amd64');
    assert.equal(m.get('TARGETVARIANT'), '');
    assert.equal(m.get('BUILDPLATFORM'), 'linux/arm64');
  });

  it('proxy args in both cases', () => {
    for (const n of ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy']) {
      assert.equal(isProxyArg(n), true, n);
    }
    assert.equal(isProxyArg('Http_Proxy'), false);
    assert.equal(isProxyArg('PATH'), false);
  });
});

describe('duration', () => {
  it('reads Go durations in nanoseconds', () => {
    assert.equal(duration('30s'), 30e9);
    assert.equal(duration('1m30s'), 90e9);
    assert.equal(duration('1h'), 3600e9);
    assert.equal(duration('1.5s'), 1.5e9);
    assert.equal(duration('.5s'), 0.5e9);
    assert.equal(duration('300ms'), 300e6);
    assert.equal(duration('2us'), 2000);
    assert.equal(duration('2µs'), 2000);
    assert.equal(duration('7ns'), 7);
    assert.equal(duration('0'), 0);
    assert.equal(duration('-1s'), -1e9);
  });

  it('rejects what Go rejects', () => {
    assert.throws(() => duration(''), /time: invalid duration ""/u);
    assert.throws(() => duration('1'), /time: missing unit in duration "1"/u);
    assert.throws(() => duration('1d'), /time: unknown unit "d" in duration "1d"/u);
    assert.throws(() => duration('s'), /time: invalid duration "s"/u);
  });
});
