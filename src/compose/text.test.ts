import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BerthError } from '../core/errors.ts';
import { interpolate, parseDotEnv, shellSplit } from './index.ts';

const vars: Record<string, string> = { A: 'a', EMPTY: '', B: 'b' };
const lookup = (n: string): string | undefined => vars[n];
const sub = (s: string): string => interpolate(s, { lookup, key: 'services.web.image' });

function fails(fn: () => unknown, message: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof BerthError, String(err));
    assert.equal(err.kind, 'InvalidParameter');
    assert.equal(err.message, message);
    return true;
  });
}

describe('interpolate', () => {
  it('substitutes $VAR and ${VAR}, unset as empty', () => {
    assert.equal(sub('$A-${B}.$UNSET|${UNSET}'), 'a-b.|');
    assert.equal(sub('x${A}y$A_z'), 'xay');
  });
  it('applies :- and -', () => {
    assert.equal(sub('${UNSET:-d}'), 'd');
    assert.equal(sub('${EMPTY:-d}'), 'd');
    assert.equal(sub('${UNSET-d}'), 'd');
    assert.equal(sub('${EMPTY-d}'), '');
    assert.equal(sub('${A:-d}'), 'a');
    assert.equal(sub('${UNSET:-${A}x}'), 'ax');
    assert.equal(sub('${UNSET:-}'), '');
  });
  it('applies :+ and +', () => {
    assert.equal(sub('${A:+alt}'), 'alt');
    assert.equal(sub('${EMPTY:+alt}'), '');
    assert.equal(sub('${EMPTY+alt}'), 'alt');
    assert.equal(sub('${UNSET+alt}'), '');
  });
  it('applies :? and ?', () => {
    assert.equal(sub('${A:?no}'), 'a');
    assert.equal(sub('${EMPTY?no}'), '');
    fails(() => sub('${EMPTY:?must be set}'), 'required variable EMPTY is missing a value: must be set');
    fails(() => sub('${UNSET?err}'), 'required variable UNSET is missing a value: err');
    fails(() => sub('${UNSET:?}'), 'required variable UNSET is missing a value');
  });
  it('turns $$ into $', () => {
    assert.equal(sub('$$A and $${A}'), '$A and ${A}');
  });
  it('rejects malformed references', () => {
    const msg = (s: string): string =>
      `invalid interpolation format for services.web.image: ${JSON.stringify(s)}; you may need to escape any $ with another $`;
    fails(() => sub('${A'), msg('${A'));
    fails(() => sub('${}'), msg('${}'));
    fails(() => sub('${1A}'), msg('${1A}'));
    fails(() => sub('cost $5'), msg('cost $5'));
    fails(() => sub('end$'), msg('end$'));
  });
});

describe('parseDotEnv', () => {
  it('reads KEY=VALUE, export, comments and blanks', () => {
    const text = '# comment\n\nA=1\nexport B=two words\nC = spaced \nD=x # trailing\nE=a#b\nF=\n';
    assert.deepEqual(parseDotEnv(text), { A: '1', B: 'two words', C: 'spaced', D: 'x', E: 'a#b', F: '' });
  });
  it('handles quotes', () => {
    const text = `S='lit $A \\n # x'\nD="tab\\there \\"q\\" \\$A"\nM="line1\nline2"\nAFTER=1\n`;
    assert.deepEqual(parseDotEnv(text), {
      S: 'lit $A \\n # x',
      D: 'tab\there "q" $A',
      M: 'line1\nline2',
      AFTER: '1',
    });
  });
  it('expands earlier keys and the lookup in unquoted and double-quoted values', () => {
    const env = parseDotEnv('X=1\nY=${X}2\nZ="${OUT:-d}"\nW=$OUT\n', { lookup: (n) => (n === 'OUT' ? 'o' : undefined) });
    assert.deepEqual(env, { X: '1', Y: '12', Z: 'o', W: 'o' });
  });
  it('takes a bare key from the lookup, or leaves it out', () => {
    assert.deepEqual(parseDotEnv('HOME\nNOPE\n', { lookup: (n) => (n === 'HOME' ? '/h' : undefined) }), { HOME: '/h' });
  });
  it('accepts CRLF line ends', () => {
    assert.deepEqual(parseDotEnv('A=1\r\nB=2\r\n'), { A: '1', B: '2' });
  });
  it('rejects unterminated quotes and bad names', () => {
    fails(() => parseDotEnv('A="x\n', { file: '/p/.env' }), '/p/.env: line 2: unterminated quoted value');
    fails(() => parseDotEnv('A B=1\n', { file: '/p/.env' }), '/p/.env: line 1: unexpected character in variable name "A B=1"');
  });
});

describe('shellSplit', () => {
  it('splits on blanks and honours quotes and backslashes', () => {
    assert.deepEqual(shellSplit('  echo  hello   world '), ['echo', 'hello', 'world']);
    assert.deepEqual(shellSplit(`sh -c 'echo "$HOME"; exit 1'`), ['sh', '-c', 'echo "$HOME"; exit 1']);
    assert.deepEqual(shellSplit('nginx -g "daemon off;"'), ['nginx', '-g', 'daemon off;']);
    assert.deepEqual(shellSplit('a\\ b "c\\"d" e""f \'\''), ['a b', 'c"d', 'ef', '']);
    assert.deepEqual(shellSplit(''), []);
  });
  it('rejects an unterminated quote', () => {
    fails(() => shellSplit('echo "x'), 'invalid command line string: unterminated quote in "echo \\"x"');
  });
});
