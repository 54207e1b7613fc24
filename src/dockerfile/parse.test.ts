import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DockerfileError, parseDockerfile, type RawInstruction } from './index.ts';

function fails(text: string, message: string, line: number): void {
  assert.throws(
    () => parseDockerfile(text),
    (err: unknown) => {
      assert.ok(err instanceof DockerfileError, `not a DockerfileError: ${String(err)}`);
      assert.equal(err.message, message);
      assert.equal(err.line, line);
      assert.equal(err.kind, 'InvalidParameter');
      return true;
    },
  );
}

function only(text: string, index = 1): RawInstruction {
  const ins = parseDockerfile(text).instructions[index];
  assert.ok(ins);
  return ins;
}

describe('parseDockerfile: lines', () => {
  it('parses instructions with lines, keyword case-insensitive', () => {
    const p = parseDockerfile('from alpine\nRun echo hi\n');
    assert.deepEqual(
      p.instructions.map((i) => [i.keyword, i.rest, i.startLine, i.endLine]),
      [
        ['FROM', 'alpine', 1, 1],
        ['RUN', 'echo hi', 2, 2],
      ],
    );
    assert.equal(p.directives.escape, '\\');
    assert.deepEqual(p.warnings, []);
  });

  it('joins continuation lines and keeps the inner whitespace', () => {
    const ins = only('FROM a\nRUN echo a \\\n  b \\\n  c\nCMD x\n');
    assert.equal(ins.rest, 'echo a   b   c');
    assert.equal(ins.original, 'RUN echo a   b   c');
    assert.equal(ins.startLine, 2);
    assert.equal(ins.endLine, 4);
  });

  it('accepts whitespace after the continuation character', () => {
    assert.equal(only('FROM a\nRUN a \\  \t\n b\n').rest, 'a  b');
  });

  it('does not continue on a doubled escape', () => {
    const p = parseDockerfile('FROM a\nRUN echo a\\\\\nRUN b\n');
    assert.equal(p.instructions.length, 3);
    assert.equal(p.instructions[1]?.rest, 'echo a\\\\');
  });

  it('a line that is only the escape continues', () => {
    assert.equal(only('FROM a\nRUN a \\\n\\\n b\n').rest, 'a  b');
  });

  it('skips comments inside a continuation run', () => {
    const ins = only('FROM a\nRUN a \\\n# comment\n   # indented comment\n  b\n');
    assert.equal(ins.rest, 'a   b');
    assert.equal(ins.endLine, 5);
  });

  it('skips empty continuation lines with a warning', () => {
    const p = parseDockerfile('FROM a\nRUN a \\\n\n   \n  b\n');
    assert.equal(p.instructions[1]?.rest, 'a   b');
    assert.equal(p.instructions[1]?.endLine, 5);
    assert.deepEqual(p.warnings, ['Empty continuation line found in: RUN a   b']);
  });

  it('ends a continuation at end of file', () => {
    const p = parseDockerfile('FROM a\nRUN a \\');
    assert.equal(p.instructions[1]?.rest, 'a');
  });

  it('handles CRLF input and a BOM', () => {
    const p = parseDockerfile('\uFEFFFROM a\r\nRUN a \\\r\n b\r\nCMD c\r\n');
    assert.deepEqual(
      p.instructions.map((i) => i.rest),
      ['a', 'a  b', 'c'],
    );
  });

  it('skips comments, blank lines and indentation', () => {
    const p = parseDockerfile('# hello\n\n   FROM a\n\t# c\n   RUN x # not a comment\n');
    assert.deepEqual(
      p.instructions.map((i) => [i.keyword, i.rest, i.startLine]),
      [
        ['FROM', 'a', 3],
        ['RUN', 'x # not a comment', 5],
      ],
    );
  });
});

describe('parseDockerfile: directives', () => {
  it('reads syntax, escape and check, keys case-insensitive', () => {
    const p = parseDockerfile('# syntax=docker/dockerfile:1\n#ESCAPE = `\n# Check=skip=all\nFROM a\nRUN a `\n b\n');
    assert.deepEqual(p.directives, { syntax: 'docker/dockerfile:1', escape: '`', check: 'skip=all' });
    assert.equal(p.instructions[1]?.rest, 'a  b');
  });

  it('with the backtick escape, a backslash is an ordinary character', () => {
    const p = parseDockerfile('# escape=`\nFROM a\nRUN dir c:\\\nRUN b\n');
    assert.equal(p.instructions.length, 3);
    assert.equal(p.instructions[1]?.rest, 'dir c:\\');
  });

  it('accepts escape=\\', () => {
    assert.equal(parseDockerfile('# escape=\\\nFROM a\n').directives.escape, '\\');
  });

  it('ignores directives after an instruction', () => {
    const p = parseDockerfile('FROM a\n# escape=`\nRUN a \\\n b\n');
    assert.equal(p.directives.escape, '\\');
    assert.equal(p.instructions[1]?.rest, 'a  b');
  });

  it('ignores directives after a blank line', () => {
    assert.equal(parseDockerfile('\n# escape=`\nFROM a\n').directives.escape, '\\');
  });

  it('ignores directives after an ordinary comment', () => {
    assert.equal(parseDockerfile('# hello\n# escape=`\nFROM a\n').directives.escape, '\\');
  });

  it('ignores directives after an unknown directive', () => {
    assert.equal(parseDockerfile('# foo=bar\n# escape=`\nFROM a\n').directives.escape, '\\');
  });

  it('rejects a repeated directive', () => {
    fails('# escape=`\n# escape=\\\nFROM a\n', 'only one escape parser directive can be used', 2);
  });

  it('rejects a bad escape token', () => {
    fails('# escape=x\nFROM a\n', "invalid escape token 'x' does not match ` or \\", 1);
  });
});

describe('parseDockerfile: flags, rest and exec form', () => {
  it('splits leading flags', () => {
    const ins = only('FROM a\nRUN --mount=type=cache,target=/x --network=none echo --not-a-flag\n');
    assert.deepEqual(ins.flags, [
      { name: 'mount', value: 'type=cache,target=/x' },
      { name: 'network', value: 'none' },
    ]);
    assert.equal(ins.rest, 'echo --not-a-flag');
    const copy = only('FROM a\nCOPY --link --from=b  a b\n');
    assert.deepEqual(copy.flags, [
      { name: 'link', value: undefined },
      { name: 'from', value: 'b' },
    ]);
    assert.equal(copy.rest, 'a b');
  });

  it('removes quotes in flag values and stops at --', () => {
    const ins = only('FROM a\nCOPY --chown="a b" -- --x /y\n');
    assert.deepEqual(ins.flags, [{ name: 'chown', value: 'a b' }]);
    assert.equal(ins.rest, '--x /y');
  });

  it('parses flags on FROM', () => {
    const ins = parseDockerfile('FROM --platform=$BUILDPLATFORM golang AS build\n').instructions[0];
    assert.deepEqual(ins?.flags, [{ name: 'platform', value: '$BUILDPLATFORM' }]);
    assert.equal(ins?.rest, 'golang AS build');
  });

  it('sets json for exec form', () => {
    for (const kw of ['RUN', 'CMD', 'ENTRYPOINT', 'SHELL', 'VOLUME']) {
      assert.deepEqual(only(`FROM a\n${kw} ["a", "b c"]\n`).json, ['a', 'b c'], kw);
    }
    assert.deepEqual(only('FROM a\nCOPY ["a b", "/c"]\n').json, ['a b', '/c']);
    assert.deepEqual(only('FROM a\nADD ["a", "/c"]\n').json, ['a', '/c']);
    assert.deepEqual(only('FROM a\nCMD []\n').json, []);
  });

  it('falls back to shell form for malformed JSON', () => {
    for (const rest of ["['a']", '["a"', '["a" "b"]', '["a"] x', '[a]']) {
      const ins = only(`FROM a\nRUN ${rest}\n`);
      assert.equal(ins.json, undefined, rest);
      assert.equal(ins.rest, rest);
    }
  });

  it('rejects a JSON array of non-strings', () => {
    fails('FROM a\nCMD ["a", 1]\n', 'when using JSON array syntax, arrays must be comprised of strings only', 2);
  });

  it('does not read JSON for other instructions', () => {
    assert.equal(only('FROM a\nLABEL ["a"]=b\n').json, undefined);
    assert.equal(only('FROM a\nWORKDIR ["a"]\n').json, undefined);
  });

  it('reads the JSON of HEALTHCHECK CMD', () => {
    assert.deepEqual(only('FROM a\nHEALTHCHECK --retries=2 CMD ["curl", "x"]\n').json, ['curl', 'x']);
  });
});

describe('parseDockerfile: heredocs', () => {
  it('reads a RUN heredoc', () => {
    const ins = only('FROM a\nRUN <<EOF\necho hi\n  echo there\nEOF\nCMD x\n');
    assert.deepEqual(ins.heredocs, [{ name: 'EOF', content: 'echo hi\n  echo there\n', expand: true, chomp: false }]);
    assert.equal(ins.rest, '<<EOF');
    assert.equal(ins.endLine, 5);
  });

  it('reads <<-EOF, stripping leading tabs from the body and the delimiter', () => {
    const ins = only('FROM a\nRUN <<-EOF\n\techo hi\n\t\tx\n\tEOF\n');
    assert.deepEqual(ins.heredocs, [{ name: 'EOF', content: 'echo hi\nx\n', expand: true, chomp: true }]);
  });

  it('a quoted delimiter turns expansion off', () => {
    assert.equal(only('FROM a\nRUN <<"EOF"\n$x\nEOF\n').heredocs[0]?.expand, false);
    assert.equal(only("FROM a\nRUN <<'EOF'\n$x\nEOF\n").heredocs[0]?.expand, false);
    assert.equal(only('FROM a\nRUN <<E"O"F\n$x\nEOF\n').heredocs[0]?.name, 'EOF');
  });

  it('reads several heredocs in order', () => {
    const ins = only('FROM a\nCOPY <<A <<B /dest/\na\nA\nb\nB\n');
    assert.deepEqual(
      ins.heredocs.map((h) => [h.name, h.content]),
      [
        ['A', 'a\n'],
        ['B', 'b\n'],
      ],
    );
    assert.equal(ins.endLine, 6);
  });

  it('finds heredocs after a command and with a space', () => {
    assert.equal(only('FROM a\nRUN python3 <<EOF\nprint(1)\nEOF\n').heredocs[0]?.content, 'print(1)\n');
    assert.equal(only('FROM a\nRUN cat << EOF > /x\nhi\nEOF\n').heredocs[0]?.name, 'EOF');
    assert.equal(only('FROM a\nRUN cat 3<<EOF\nhi\nEOF\n').heredocs[0]?.name, 'EOF');
  });

  it('keeps an empty body empty', () => {
    assert.equal(only('FROM a\nRUN <<EOF\nEOF\n').heredocs[0]?.content, '');
  });

  it('only RUN, COPY and ADD take heredocs, not in exec form', () => {
    const p = parseDockerfile('FROM a\nCMD cat <<EOF\nRUN x\n');
    assert.deepEqual(p.instructions[1]?.heredocs, []);
    assert.equal(p.instructions.length, 3);
    const q = parseDockerfile('FROM a\nRUN ["cat", "<<EOF"]\n');
    assert.deepEqual(q.instructions[1]?.heredocs, []);
  });

  it('an ONBUILD RUN takes a heredoc', () => {
    assert.equal(only('FROM a\nONBUILD RUN <<EOF\nx\nEOF\n').heredocs[0]?.content, 'x\n');
  });

  it('<< without a word is not a heredoc', () => {
    assert.deepEqual(only('FROM a\nRUN echo "<<" a\n').heredocs, []);
  });

  it('rejects an unterminated heredoc at its instruction', () => {
    fails('FROM a\nRUN <<EOF\necho\n', 'unterminated heredoc', 2);
  });
});

describe('parseDockerfile: errors', () => {
  it('an empty file', () => {
    fails('', 'the Dockerfile cannot be empty', 1);
  });

  it('only comments and blank lines', () => {
    fails('# just a comment\n\n# another\n', 'file with no instructions', 3);
    fails('\n\n', 'file with no instructions', 2);
  });

  it('an unknown instruction, with a suggestion', () => {
    fails('FORM alpine\n', 'unknown instruction: FORM (did you mean FROM?)', 1);
    fails('FROM a\nrunn x\n', 'unknown instruction: runn (did you mean run?)', 2);
    fails('FROM a\nCopy x y\nWorkDri /x\n', 'unknown instruction: WorkDri (did you mean workdir?)', 3);
    fails('FROM a\nFOOBARBAZ x\n', 'unknown instruction: FOOBARBAZ', 2);
  });

  it('a line over 65535 bytes', () => {
    fails(`FROM a\nRUN ${'x'.repeat(70 * 1024)}\n`, 'dockerfile line greater than max allowed size of 65535', 2);
    fails(`FROM a\nRUN ${'é'.repeat(33000)}\n`, 'dockerfile line greater than max allowed size of 65535', 2);
  });

  it('a line of exactly 65535 bytes is accepted', () => {
    const line = `RUN ${'x'.repeat(65535 - 4)}`;
    assert.equal(parseDockerfile(`FROM a\n${line}\n`).instructions[1]?.original, line);
  });

  it('instructions before the first FROM', () => {
    fails('ENV a=b\nFROM a\n', 'no build stage in current context', 1);
    fails('ARG x\n\nRUN y\nFROM a\n', 'no build stage in current context', 3);
  });

  it('ARG before FROM is allowed', () => {
    const p = parseDockerfile('ARG V=1\nARG B\nFROM a:$V\n');
    assert.deepEqual(
      p.instructions.map((i) => i.keyword),
      ['ARG', 'ARG', 'FROM'],
    );
  });

  it('checks every instruction at parse time, in order', () => {
    fails('FROM a\nCOPY x\n', 'COPY requires at least two arguments, but only one was provided. Destination could not be determined', 2);
    fails('FROM a\nRUN --foo x\n', 'unknown flag: foo', 2);
    fails('ENV a=b\nFORM x\n', 'no build stage in current context', 1);
  });

  it('ENV and LABEL shape errors', () => {
    fails('FROM a\nENV a\n', 'ENV must have two arguments', 2);
    fails('FROM a\nLABEL a=b c\n', 'Syntax error - can\'t find = in "c". Must be of the form: name=value', 2);
  });

  it('warns about MAINTAINER', () => {
    assert.deepEqual(parseDockerfile('FROM a\nMAINTAINER me\n').warnings, [
      'MAINTAINER instruction is deprecated in favor of using label (line 2)',
    ]);
  });
});
