import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DockerfileError, expand, expandWords } from './index.ts';

const env = new Map([
  ['A', 'a'],
  ['B', 'b'],
  ['EMPTY', ''],
  ['SPACE', 'x  y'],
  ['PWD', '/home'],
]);

function fails(word: string, message: string): void {
  assert.throws(
    () => expand(word, env),
    (err: unknown) => err instanceof DockerfileError && err.message === message,
  );
}

describe('expand', () => {
  it('substitutes $VAR and ${VAR}', () => {
    assert.equal(expand('$A', env), 'a');
    assert.equal(expand('${A}', env), 'a');
    assert.equal(expand('x${A}y$B', env), 'xayb');
    assert.equal(expand('$A.$B', env), 'a.b');
    assert.equal(expand('$UNSET|${UNSET}', env), '|');
  });

  it('leaves a lone $ and $ before a non-name', () => {
    assert.equal(expand('$', env), '$');
    assert.equal(expand('a$.b', env), 'a$.b');
    assert.equal(expand('cost: 5$', env), 'cost: 5$');
  });

  it('reads a digit run as a positional parameter', () => {
    assert.equal(expand('he$1x', env), 'hex');
  });

  it('${VAR:-word} and ${VAR-word}', () => {
    assert.equal(expand('${A:-d}', env), 'a');
    assert.equal(expand('${UNSET:-d}', env), 'd');
    assert.equal(expand('${EMPTY:-d}', env), 'd');
    assert.equal(expand('${A-d}', env), 'a');
    assert.equal(expand('${UNSET-d}', env), 'd');
    assert.equal(expand('${EMPTY-d}', env), '');
  });

  it('${VAR:+word} and ${VAR+word}', () => {
    assert.equal(expand('${A:+w}', env), 'w');
    assert.equal(expand('${UNSET:+w}', env), '');
    assert.equal(expand('${EMPTY:+w}', env), '');
    assert.equal(expand('${A+w}', env), 'w');
    assert.equal(expand('${EMPTY+w}', env), 'w');
    assert.equal(expand('${UNSET+w}', env), '');
  });

  it('${VAR:?msg} and ${VAR?msg}', () => {
    assert.equal(expand('${A:?m}', env), 'a');
    assert.equal(expand('${EMPTY?m}', env), '');
    fails('${UNSET:?need it}', 'failed to process "${UNSET:?need it}": UNSET: need it');
    fails('${EMPTY:?}', 'failed to process "${EMPTY:?}": EMPTY: is not allowed to be empty');
    fails('${UNSET?}', 'failed to process "${UNSET?}": UNSET: is not allowed to be unset');
    fails('${UNSET:?$A here}', 'failed to process "${UNSET:?$A here}": UNSET: a here');
  });

  it('nests substitutions', () => {
    assert.equal(expand('${UNSET:-${A}}', env), 'a');
    assert.equal(expand('${UNSET:-${UNSET2:-deep}}', env), 'deep');
    assert.equal(expand('${A:+${B}-${A}}', env), 'b-a');
  });

  it('prefix, suffix and replacement patterns', () => {
    const e = new Map([['F', 'archive.tar.gz']]);
    assert.equal(expand('${F#*.}', e), 'tar.gz');
    assert.equal(expand('${F##*.}', e), 'gz');
    assert.equal(expand('${F%.*}', e), 'archive.tar');
    assert.equal(expand('${F%%.*}', e), 'archive');
    assert.equal(expand('${F/a/A}', e), 'Archive.tar.gz');
    assert.equal(expand('${F//a/A}', e), 'ArchivE.tAr.gz'.replace('E', 'e'));
  });

  it('reports bad substitutions', () => {
    fails('${', 'failed to process "${": syntax error: missing \'}\'');
    fails('${A', 'failed to process "${A": syntax error: missing \'}\'');
    fails('${}', 'failed to process "${}": syntax error: bad substitution');
    fails('${:-x}', 'failed to process "${:-x}": syntax error: bad substitution');
    fails('${A.b}', 'failed to process "${A.b}": unsupported modifier (.) in substitution');
    fails('${A:#x}', 'failed to process "${A:#x}": unsupported modifier (:#) in substitution');
  });

  it('escapes with backslash', () => {
    assert.equal(expand('\\$A', env), '$A');
    assert.equal(expand('\\${A}', env), '${A}');
    assert.equal(expand('a\\ b', env), 'a b');
    assert.equal(expand('a\\\\b', env), 'a\\b');
    assert.equal(expand('trailing\\', env), 'trailing');
  });

  it('escapes with backtick when it is the escape token', () => {
    assert.equal(expand('`$A', env, '`'), '$A');
    assert.equal(expand('c:\\$A', env, '`'), 'c:\\a');
    assert.equal(expand('``', env, '`'), '`');
  });

  it('single quotes keep everything literal', () => {
    assert.equal(expand("'$A ${B}'", env), '$A ${B}');
    assert.equal(expand("'a\\tb'", env), 'a\\tb');
    assert.equal(expand(`'"'`, env), '"');
    fails("'open", 'failed to process "\'open": unexpected end of statement while looking for matching single-quote');
  });

  it('double quotes expand and escape only ", $ and the escape', () => {
    assert.equal(expand('"$A ${B}"', env), 'a b');
    assert.equal(expand('"\\$A"', env), '$A');
    assert.equal(expand('"a\\"b"', env), 'a"b');
    assert.equal(expand('"a\\tb"', env), 'a\\tb');
    assert.equal(expand('"a\\\\b"', env), 'a\\b');
    assert.equal(expand(`"it's"`, env), "it's");
    fails('"open', 'failed to process "\\"open": unexpected end of statement while looking for matching double-quote');
  });

  it('removes quotes and keeps whitespace in one word', () => {
    assert.equal(expand('he"ll"o wo\'rl\'d', env), 'hello world');
    assert.equal(expand('$SPACE', env), 'x  y');
  });
});

describe('expandWords', () => {
  it('splits on unquoted whitespace', () => {
    assert.deepEqual(expandWords('a  b\tc', env), ['a', 'b', 'c']);
    assert.deepEqual(expandWords('  ', env), []);
  });

  it('keeps quoted and escaped whitespace', () => {
    assert.deepEqual(expandWords('"a b" c\\ d \'e f\'', env), ['a b', 'c d', 'e f']);
  });

  it('splits unquoted expansions, not quoted ones', () => {
    assert.deepEqual(expandWords('$SPACE', env), ['x', 'y']);
    assert.deepEqual(expandWords('"$SPACE"', env), ['x  y']);
    assert.deepEqual(expandWords('p$SPACE', env), ['px', 'y']);
  });

  it('drops empty unquoted words, keeps nothing for empty quotes', () => {
    assert.deepEqual(expandWords('$EMPTY a', env), ['a']);
  });

  it('honours the backtick escape', () => {
    assert.deepEqual(expandWords('a` b c', env, '`'), ['a b', 'c']);
  });
});
