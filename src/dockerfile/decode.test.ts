import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeInstruction, DockerfileError, parseDockerfile, type Instruction, type RawInstruction } from './index.ts';

const env = new Map([
  ['V', '1.2'],
  ['DIR', '/app'],
  ['USERNAME', 'bob'],
  ['SPACE', 'a b'],
]);

function raw(line: string, escape: '\\' | '`' = '\\'): RawInstruction {
  const text = escape === '`' ? `# escape=\`\nFROM base\n${line}\n` : `FROM base\n${line}\n`;
  const ins = line.startsWith('FROM ') ? parseDockerfile(text).instructions.at(-1) : parseDockerfile(text).instructions[1];
  assert.ok(ins);
  return ins;
}

function decode(line: string, escape: '\\' | '`' = '\\'): Instruction {
  return decodeInstruction(raw(line, escape), env, { escape });
}

/** A decode error, checked at parse time when it needs no variables. */
function fails(line: string, message: string): void {
  const check = (err: unknown): boolean => {
    assert.ok(err instanceof DockerfileError, String(err));
    assert.equal(err.message, message);
    assert.equal(err.line, 2);
    return true;
  };
  assert.throws(() => parseDockerfile(`FROM base\n${line}\n`), check);
}

function fields<K extends Instruction['kind']>(ins: Instruction, kind: K): Instruction & { kind: K } {
  assert.equal(ins.kind, kind);
  return ins as Instruction & { kind: K };
}

describe('decodeInstruction: FROM', () => {
  it('image, stage name, platform', () => {
    assert.deepEqual(decode('FROM alpine:$V'), { kind: 'FROM', image: 'alpine:1.2', startLine: 2, endLine: 2, original: 'FROM alpine:$V' });
    const f = fields(decode('FROM --platform=$BUILDPLATFORM golang AS Build'), 'FROM');
    assert.equal(f.stageName, 'build');
    assert.equal(f.platform, '');
    const g = fields(
      decodeInstruction(raw('FROM --platform=$BUILDPLATFORM golang as b-1.x_y'), env, {
        escape: '\\',
        platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
      }),
      'FROM',
    );
    assert.equal(g.platform, 'linux/arm64/v8');
    assert.equal(g.stageName, 'b-1.x_y');
  });

  it('rejects bad stage names and argument counts', () => {
    fails('FROM a AS 1st', 'invalid name for build stage: "1st", name can\'t start with a number or contain symbols');
    fails('FROM a AS b$c', 'invalid name for build stage: "b$c", name can\'t start with a number or contain symbols');
    fails('FROM a b', 'FROM requires either one or three arguments');
    fails('FROM a AS', 'FROM requires either one or three arguments');
    fails('FROM a TO b', 'FROM requires either one or three arguments');
    fails('FROM --foo=x a', 'unknown flag: foo');
  });

  it('rejects an image that expands to nothing', () => {
    assert.throws(() => decode('FROM $NOPE'), /base name \(\$NOPE\) should not be blank/u);
  });
});

describe('decodeInstruction: RUN, CMD, ENTRYPOINT', () => {
  it('shell form goes to the shell as written', () => {
    const r = fields(decode('RUN echo $V "$DIR" \\\n  && true'), 'RUN');
    assert.deepEqual(r.command, ['echo $V "$DIR"   && true']);
    assert.equal(r.shell, true);
    assert.deepEqual(r.mounts, []);
    assert.equal(r.network, undefined);
  });

  it('exec form is not expanded', () => {
    const r = fields(decode('RUN ["echo", "$V"]'), 'RUN');
    assert.deepEqual(r.command, ['echo', '$V']);
    assert.equal(r.shell, false);
    assert.deepEqual(fields(decode('CMD ["a", "b"]'), 'CMD').command, ['a', 'b']);
    assert.deepEqual(fields(decode('ENTRYPOINT ["/bin/sh", "-c"]'), 'ENTRYPOINT').command, ['/bin/sh', '-c']);
  });

  it('CMD and ENTRYPOINT shell form', () => {
    assert.deepEqual(fields(decode('CMD echo $V'), 'CMD'), {
      kind: 'CMD',
      command: ['echo $V'],
      shell: true,
      startLine: 2,
      endLine: 2,
      original: 'CMD echo $V',
    });
    assert.deepEqual(fields(decode('ENTRYPOINT exec top'), 'ENTRYPOINT').command, ['exec top']);
  });

  it('keeps heredocs on RUN', () => {
    const r = fields(decodeInstruction(parseDockerfile('FROM a\nRUN <<EOF\nhi\nEOF\n').instructions[1] as RawInstruction, env, { escape: '\\' }), 'RUN');
    assert.deepEqual(r.command, ['<<EOF']);
    assert.equal(r.heredocs[0]?.content, 'hi\n');
  });

  it('--network', () => {
    for (const n of ['default', 'none', 'host'] as const) assert.equal(fields(decode(`RUN --network=${n} x`), 'RUN').network, n);
    fails('RUN --network=bridge x', 'invalid network mode "bridge"');
    fails('RUN --network x', 'missing a value on flag: network');
  });

  it('--security', () => {
    assert.equal(fields(decode('RUN --security=insecure x'), 'RUN').security, 'insecure');
  });

  it('rejects unknown and duplicate flags', () => {
    fails('RUN --foo=bar x', 'unknown flag: foo');
    fails('CMD --foo x', 'unknown flag: foo');
    fails('RUN --network=none --network=host x', 'duplicate flag specified: network');
  });
});

describe('decodeInstruction: RUN --mount', () => {
  const mount = (spec: string): unknown => fields(decode(`RUN --mount=${spec} x`), 'RUN').mounts[0];

  it('cache', () => {
    assert.deepEqual(mount('type=cache,target=/root/.cache,id=go,sharing=locked,mode=0755,uid=1000,gid=1000'), {
      type: 'cache',
      target: '/root/.cache',
      readonly: false,
      id: 'go',
      sharing: 'locked',
      mode: 0o755,
      uid: 1000,
      gid: 1000,
    });
    assert.deepEqual(mount('type=cache,target=/x,from=builder,source=/c,ro'), {
      type: 'cache',
      target: '/x',
      readonly: true,
      from: 'builder',
      source: '/c',
    });
    assert.deepEqual(mount('type=cache,dst=/x,readonly=false'), { type: 'cache', target: '/x', readonly: false });
  });

  it('bind is the default type and read-only by default', () => {
    assert.deepEqual(mount('target=/src'), { type: 'bind', target: '/src', readonly: true });
    assert.deepEqual(mount('type=bind,source=.,target=/src,rw'), { type: 'bind', target: '/src', source: '.', readonly: false });
    assert.deepEqual(mount('type=bind,from=build,src=/out,destination=/in,readwrite=true'), {
      type: 'bind',
      target: '/in',
      from: 'build',
      source: '/out',
      readonly: false,
    });
  });

  it('secret: id and target defaults, required', () => {
    assert.deepEqual(mount('type=secret,id=npmrc'), {
      type: 'secret',
      target: '/run/secrets/npmrc',
      readonly: true,
      id: 'npmrc',
    });
    assert.deepEqual(mount('type=secret,target=/root/.npmrc,required'), {
      type: 'secret',
      target: '/root/.npmrc',
      readonly: true,
      id: '.npmrc',
      required: true,
    });
    // With env= and no target the secret is a variable only (an empty target: no file).
    assert.deepEqual(mount('type=secret,id=a,env=TOKEN,required=false'), {
      type: 'secret',
      target: '',
      readonly: true,
      id: 'a',
      env: 'TOKEN',
      required: false,
    });
    assert.equal((mount('type=secret,id=a,env=TOKEN,target=/etc/a') as { target: string }).target, '/etc/a');
  });

  it('tmpfs with size', () => {
    assert.deepEqual(mount('type=tmpfs,target=/tmp,size=64m'), { type: 'tmpfs', target: '/tmp', readonly: false, size: 64 * 1024 * 1024 });
    assert.deepEqual(mount('type=tmpfs,target=/tmp,size=1024'), { type: 'tmpfs', target: '/tmp', readonly: false, size: 1024 });
  });

  it('ssh', () => {
    assert.deepEqual(mount('type=ssh'), { type: 'ssh', target: '', readonly: true, id: 'default' });
  });

  it('expands values', () => {
    assert.deepEqual(mount('type=cache,target=$DIR/cache,id=c-$V'), { type: 'cache', target: '/app/cache', readonly: false, id: 'c-1.2' });
  });

  it('several mounts in order, CSV quoting', () => {
    const r = fields(decode('RUN --mount=type=cache,target=/a --mount="type=bind,target=/b c" x'), 'RUN');
    assert.deepEqual(
      r.mounts.map((m) => m.target),
      ['/a', '/b c'],
    );
  });

  it('rejects bad mounts with BuildKit\'s words', () => {
    fails('RUN --mount=type=foo,target=/x x', 'unsupported mount type "foo"');
    fails('RUN --mount=type=cahce,target=/x x', 'unsupported mount type "cahce" (did you mean cache?)');
    fails('RUN --mount=type=cache,target=/x,sharing=all x', 'unsupported sharing value "all"');
    fails('RUN --mount=type=cache,target=/x,bogus=1 x', "unexpected key 'bogus' in 'bogus=1'");
    fails('RUN --mount=type=cache,target=/x,targte=1 x', "unexpected key 'targte' in 'targte=1' (did you mean target?)");
    fails('RUN --mount=type=cache,target=/x,bogus x', "invalid field 'bogus' must be a key=value pair");
    fails('RUN --mount=type=bind,target=/x,mode=0755 x', 'mode not allowed for "bind" type mounts');
    fails('RUN --mount=type=tmpfs,target=/x,uid=1 x', 'uid not allowed for "tmpfs" type mounts');
    fails('RUN --mount=type=cache,target=/x,size=1m x', "unexpected key 'size' for mount type 'cache'");
    fails('RUN --mount=type=cache,target=/x,required x', "unexpected key 'required' for mount type 'cache'");
    fails('RUN --mount=type=cache,target=/x,mode=999 x', 'invalid value 999 for mode');
    fails('RUN --mount=type=cache,target=/x,uid=-1 x', 'invalid value -1 for uid');
    fails('RUN --mount=type=bind,target=/x,ro=maybe x', 'invalid value for ro: maybe');
    fails('RUN --mount=type=secret x', 'invalid secret mount. one of source, target required');
    fails('RUN --mount=type=secret,id=a,from=b x', 'secret mount should not have a from');
    fails('RUN --mount=type=secret,id=a,source=b x', "both source and id can't be set");
    fails('RUN --mount=type=bind,target=/x,sharing=shared x', 'invalid cache sharing set for bind mount');
    fails('RUN --mount x', 'missing a value on flag: mount');
  });
});

describe('decodeInstruction: ENV and LABEL', () => {
  it('key=value pairs with quotes and expansion', () => {
    assert.deepEqual(fields(decode('ENV a=b c="d e" f=$V g=\'$V\' h=x\\ y'), 'ENV').pairs, [
      ['a', 'b'],
      ['c', 'd e'],
      ['f', '1.2'],
      ['g', '$V'],
      ['h', 'x y'],
    ]);
  });

  it('legacy ENV key value with spaces', () => {
    assert.deepEqual(fields(decode('ENV PATH /usr/bin:$DIR  and more'), 'ENV').pairs, [['PATH', '/usr/bin:/app  and more']]);
  });

  it('an empty value', () => {
    assert.deepEqual(fields(decode('ENV a= b=""'), 'ENV').pairs, [
      ['a', ''],
      ['b', ''],
    ]);
  });

  it('LABEL', () => {
    assert.deepEqual(fields(decode('LABEL "com.example.vendor"="ACME Inc" version=$V'), 'LABEL').pairs, [
      ['com.example.vendor', 'ACME Inc'],
      ['version', '1.2'],
    ]);
    assert.deepEqual(fields(decode('LABEL description This text'), 'LABEL').pairs, [['description', 'This text']]);
  });

  it('errors', () => {
    fails('ENV', 'ENV requires at least one argument');
    fails('LABEL', 'LABEL requires at least one argument');
    fails('ENV =x', 'ENV names can not be blank');
    fails('ENV a=b c', 'Syntax error - can\'t find = in "c". Must be of the form: name=value');
    fails('LABEL k', 'LABEL must have two arguments');
    fails('ENV --x=1 a=b', 'unknown flag: x');
  });

  it('the backtick escape', () => {
    assert.deepEqual(fields(decode('ENV a=x` y b=`$V', '`'), 'ENV').pairs, [
      ['a', 'x y'],
      ['b', '$V'],
    ]);
  });
});

describe('decodeInstruction: ARG', () => {
  it('names with and without defaults, several', () => {
    assert.deepEqual(fields(decode('ARG A B=2 C="x $V" D='), 'ARG').args, [
      { name: 'A' },
      { name: 'B', default: '2' },
      { name: 'C', default: 'x 1.2' },
      { name: 'D', default: '' },
    ]);
  });

  it('errors', () => {
    fails('ARG', 'ARG requires at least one argument');
    fails('ARG =x', 'ARG names can not be blank');
  });
});

describe('decodeInstruction: EXPOSE, USER, WORKDIR, STOPSIGNAL, MAINTAINER', () => {
  it('EXPOSE ports, protocols, ranges, expanded and sorted as written', () => {
    assert.deepEqual(fields(decode('EXPOSE 80/tcp 53/udp 8000-8010 $V'), 'EXPOSE').ports, ['1.2', '53/udp', '80/tcp', '8000-8010']);
    fails('EXPOSE', 'EXPOSE requires at least one argument');
  });

  it('USER, WORKDIR and STOPSIGNAL expand the whole argument', () => {
    assert.equal(fields(decode('USER $USERNAME:staff'), 'USER').user, 'bob:staff');
    assert.equal(fields(decode('WORKDIR $DIR/src'), 'WORKDIR').path, '/app/src');
    assert.equal(fields(decode('WORKDIR "/a b"'), 'WORKDIR').path, '/a b');
    assert.equal(fields(decode('STOPSIGNAL SIGTERM'), 'STOPSIGNAL').signal, 'SIGTERM');
    fails('USER', 'USER requires exactly one argument');
    fails('WORKDIR', 'WORKDIR requires exactly one argument');
    fails('STOPSIGNAL', 'STOPSIGNAL requires exactly one argument');
  });

  it('MAINTAINER is kept as written', () => {
    assert.equal(fields(decode('MAINTAINER Jo $V <jo@x>'), 'MAINTAINER').name, 'Jo $V <jo@x>');
    fails('MAINTAINER', 'MAINTAINER requires exactly one argument');
  });
});

describe('decodeInstruction: VOLUME', () => {
  it('shell and JSON forms, expanded', () => {
    assert.deepEqual(fields(decode('VOLUME /data $DIR/logs'), 'VOLUME').paths, ['/data', '/app/logs']);
    assert.deepEqual(fields(decode('VOLUME ["/a b", "$DIR"]'), 'VOLUME').paths, ['/a b', '/app']);
  });

  it('errors', () => {
    fails('VOLUME', 'VOLUME requires at least one argument');
    fails('VOLUME []', 'VOLUME requires at least one argument');
    fails('VOLUME ["/a", " "]', 'VOLUME specified can not be an empty string');
  });
});

describe('decodeInstruction: HEALTHCHECK', () => {
  it('NONE', () => {
    assert.deepEqual(fields(decode('HEALTHCHECK NONE'), 'HEALTHCHECK').healthcheck, { test: ['NONE'] });
    assert.deepEqual(fields(decode('healthcheck none'), 'HEALTHCHECK').healthcheck, { test: ['NONE'] });
  });

  it('CMD shell and exec forms with every option', () => {
    assert.deepEqual(
      fields(decode('HEALTHCHECK --interval=30s --timeout=1m30s --start-period=1.5s --start-interval=500ms --retries=3 CMD curl -f http://localhost/ || exit 1'), 'HEALTHCHECK')
        .healthcheck,
      {
        test: ['CMD-SHELL', 'curl -f http://localhost/ || exit 1'],
        intervalNs: 30e9,
        timeoutNs: 90e9,
        startPeriodNs: 1.5e9,
        startIntervalNs: 500e6,
        retries: 3,
      },
    );
    assert.deepEqual(fields(decode('HEALTHCHECK CMD ["/bin/check", "$V"]'), 'HEALTHCHECK').healthcheck, {
      test: ['CMD', '/bin/check', '$V'],
    });
    assert.deepEqual(fields(decode('HEALTHCHECK --interval=0s --retries=0 CMD x'), 'HEALTHCHECK').healthcheck, {
      test: ['CMD-SHELL', 'x'],
      intervalNs: 0,
      retries: 0,
    });
  });

  it('errors', () => {
    fails('HEALTHCHECK', 'HEALTHCHECK requires at least one argument');
    fails('HEALTHCHECK NONE x', 'HEALTHCHECK NONE takes no arguments');
    fails('HEALTHCHECK CMD', 'Missing command after HEALTHCHECK CMD');
    fails('HEALTHCHECK RUN x', 'Unknown type "RUN" in HEALTHCHECK (try CMD)');
    fails('HEALTHCHECK --interval=1us CMD x', 'Interval "interval" cannot be less than 1ms');
    fails('HEALTHCHECK --timeout=5 CMD x', 'time: missing unit in duration "5"');
    fails('HEALTHCHECK --timeout=5y CMD x', 'time: unknown unit "y" in duration "5y"');
    fails('HEALTHCHECK --timeout=abc CMD x', 'time: invalid duration "abc"');
    fails('HEALTHCHECK --retries=-1 CMD x', '--retries cannot be negative (-1)');
    fails('HEALTHCHECK --retries=x CMD x', 'strconv.ParseInt: parsing "x": invalid syntax');
    fails('HEALTHCHECK --foo=1 CMD x', 'unknown flag: foo');
  });
});

describe('decodeInstruction: SHELL and ONBUILD', () => {
  it('SHELL needs JSON', () => {
    assert.deepEqual(fields(decode('SHELL ["powershell", "-command"]'), 'SHELL').shell, ['powershell', '-command']);
    fails('SHELL /bin/bash -c', 'SHELL requires the arguments to be in JSON form');
    fails('SHELL', 'SHELL requires at least one argument');
    fails('SHELL []', 'SHELL requires at least one argument');
  });

  it('ONBUILD keeps its expression unexpanded (the trigger is checked when it runs)', () => {
    assert.equal(fields(decode('ONBUILD FOO x'), 'ONBUILD').expression, 'FOO x');
    assert.equal(fields(decode('ONBUILD RUN echo $V'), 'ONBUILD').expression, 'RUN echo $V');
    assert.equal(fields(decode('onbuild   COPY . /src'), 'ONBUILD').expression, 'COPY . /src');
  });

  it('ONBUILD with a heredoc carries its body', () => {
    const ins = parseDockerfile('FROM a\nONBUILD RUN <<EOF\necho hi\nEOF\n').instructions[1] as RawInstruction;
    assert.equal(fields(decodeInstruction(ins, env, { escape: '\\' }), 'ONBUILD').expression, 'RUN <<EOF\necho hi\nEOF');
  });

  it('refuses what Docker refuses', () => {
    fails('ONBUILD ONBUILD RUN x', 'Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
    fails('ONBUILD FROM x', "FROM isn't allowed as an ONBUILD trigger");
    fails('ONBUILD maintainer x', "MAINTAINER isn't allowed as an ONBUILD trigger");
    fails('ONBUILD', 'ONBUILD requires at least one argument');
  });
});

describe('decodeInstruction: COPY and ADD', () => {
  it('sources and dest from words, expanded', () => {
    const c = fields(decode('COPY a $DIR/b /dest/'), 'COPY');
    assert.deepEqual(c.sources, ['a', '/app/b']);
    assert.equal(c.dest, '/dest/');
    assert.equal(c.link, false);
    assert.equal(c.parents, false);
    assert.deepEqual(c.exclude, []);
    assert.equal(c.from, undefined);
    assert.deepEqual(c.heredocs, []);
  });

  it('sources and dest from JSON, expanded', () => {
    const c = fields(decode('COPY ["a b", "$DIR"]'), 'COPY');
    assert.deepEqual(c.sources, ['a b']);
    assert.equal(c.dest, '/app');
  });

  it('COPY flags', () => {
    const c = fields(decode('COPY --from=build --chown=$USERNAME:staff --chmod=755 --link --parents --exclude=*.md --exclude=$V a b'), 'COPY');
    assert.equal(c.from, 'build');
    assert.equal(c.chown, 'bob:staff');
    assert.equal(c.chmod, '755');
    assert.equal(c.link, true);
    assert.equal(c.parents, true);
    assert.deepEqual(c.exclude, ['*.md', '1.2']);
    assert.equal(fields(decode('COPY --link=false a b'), 'COPY').link, false);
  });

  it('ADD flags', () => {
    const a = fields(decode('ADD --checksum=sha256:abc --keep-git-dir --unpack=false --chown=1 https://x/y.tgz /z'), 'ADD');
    assert.equal(a.checksum, 'sha256:abc');
    assert.equal(a.keepGitDir, true);
    assert.equal(a.unpack, false);
    assert.equal(a.chown, '1');
    assert.equal(fields(decode('ADD a b'), 'ADD').keepGitDir, undefined);
  });

  it('heredoc sources', () => {
    const ins = parseDockerfile('FROM a\nCOPY <<-EOF x /dest\n\thello $V\n\tEOF\n').instructions[1] as RawInstruction;
    const c = fields(decodeInstruction(ins, env, { escape: '\\' }), 'COPY');
    assert.deepEqual(c.sources, ['x']);
    assert.equal(c.dest, '/dest');
    assert.deepEqual(c.heredocs, [{ name: 'EOF', content: 'hello $V\n', expand: true, chomp: true }]);
  });

  it('errors', () => {
    const two = 'requires at least two arguments, but only one was provided. Destination could not be determined';
    fails('COPY a', `COPY ${two}`);
    fails('COPY', `COPY ${two}`);
    fails('ADD ["a"]', `ADD ${two}`);
    fails('COPY --checksum=x a b', 'unknown flag: checksum');
    fails('COPY --keep-git-dir a b', 'unknown flag: keep-git-dir');
    fails('ADD --from=x a b', 'unknown flag: from');
    assert.equal(fields(decode('ADD --parents a b'), 'ADD').parents, true);
    fails('COPY --link=maybe a b', 'expecting boolean value for flag link, not: maybe');
    fails('COPY --from a b', 'missing a value on flag: from');
    fails('COPY --from=a --from=b a b', 'duplicate flag specified: from');
    fails('COPY a <<EOF\nx\nEOF', 'COPY cannot accept a heredoc as a destination');
  });
});

describe('decodeInstruction: errors carry the line', () => {
  it('an expansion error', () => {
    const ins = parseDockerfile('FROM a\n\nWORKDIR ${NOPE:?set it}\n').instructions[1] as RawInstruction;
    assert.throws(
      () => decodeInstruction(ins, env, { escape: '\\' }),
      (err: unknown) =>
        err instanceof DockerfileError && err.line === 3 && err.message === 'failed to process "${NOPE:?set it}": NOPE: set it',
    );
  });
});
