import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileIgnore, DockerfileError, dockerignoreNameFor, readIgnorePatterns } from './index.ts';

function check(patterns: string, cases: Record<string, boolean>): void {
  const m = compileIgnore(patterns);
  for (const [path, want] of Object.entries(cases)) assert.equal(m.ignores(path), want, `${path} with ${JSON.stringify(patterns)}`);
}

describe('readIgnorePatterns', () => {
  it('drops comments and blank lines, cleans patterns, keeps !', () => {
    assert.deepEqual(readIgnorePatterns('\uFEFF# comment\n\n  a/b/  \n/abs\n./rel\n! /neg\nx/../y\n a # b\r\n'), [
      'a/b',
      'abs',
      'rel',
      '!neg',
      'y',
      'a # b',
    ]);
  });

  it('a comment must start the line', () => {
    assert.deepEqual(readIgnorePatterns(' #x'), ['#x']);
  });
});

describe('compileIgnore: matching', () => {
  it('plain names match at the root only', () => {
    check('node_modules\n', { node_modules: true, 'a/node_modules': false, node_modules2: false });
  });

  it('a matched directory excludes everything below it', () => {
    check('build\n', { build: true, 'build/a': true, 'build/a/b/c': true, buildx: false });
    check('a/b\n', { 'a/b/c': true, a: false, 'a/c': false });
  });

  it('* and ? do not cross /', () => {
    check('*.log\n', { 'x.log': true, '.log': true, 'a/x.log': false });
    check('*/*.log\n', { 'a/x.log': true, 'a/b/x.log': false, 'x.log': false });
    check('file?.txt\n', { 'file1.txt': true, 'file12.txt': false, 'file/.txt': false });
  });

  it('** matches any number of directories', () => {
    check('**/*.go\n', { 'a.go': true, 'x/a.go': true, 'x/y/z/a.go': true, 'a.goo': false });
    check('a/**/b\n', { 'a/b': true, 'a/x/b': true, 'a/x/y/b': true, 'a/b/c': true, 'b': false });
    check('a/**\n', { 'a/x': true, 'a/x/y': true, a: false });
    check('**\n', { anything: true, 'a/b': true });
    check('**/tmp\n', { tmp: true, 'x/tmp': true, 'x/tmp/y': true });
  });

  it('character classes and escapes', () => {
    check('[a-c].txt\n', { 'a.txt': true, 'c.txt': true, 'd.txt': false });
    check('[^a-c].txt\n', { 'a.txt': false, 'd.txt': true });
    check('\\*.txt\n', { '*.txt': true, 'a.txt': false });
    check('a\\?b\n', { 'a?b': true, axb: false });
  });

  it('regexp characters are literal', () => {
    check('a.b\n(x)+|{y}$\n', { 'a.b': true, axb: false, '(x)+|{y}$': true });
  });

  it('! exceptions re-include, the last match wins', () => {
    check('*.md\n!README.md\n', { 'a.md': true, 'README.md': false });
    check('*.md\n!README.md\nREADME*\n', { 'README.md': true });
    check('!keep\nkeep\n', { keep: true });
    check('docs\n!docs/keep.md\n', { docs: true, 'docs/a.md': true, 'docs/keep.md': false });
  });

  it('an exception under an excluded directory', () => {
    check('build/\n!build/out\n', { 'build/x': true, 'build/out': false, 'build/out/y': false });
  });

  it('everything but some', () => {
    check('*\n!src\n!package.json\n', { 'src/a.ts': false, 'package.json': false, 'README.md': true, 'test/x': true });
  });

  it('leading / and ./ are ignored', () => {
    check('/abs\n./rel\n', { abs: true, rel: true, 'x/abs': false });
  });

  it('an empty file ignores nothing', () => {
    check('', { a: false, 'a/b': false });
  });

  it('rejects a lone !', () => {
    assert.throws(() => compileIgnore('!\n'), (err: unknown) => err instanceof DockerfileError && err.message === 'illegal exclusion pattern: "!"');
  });

  it('rejects an unterminated character class', () => {
    assert.throws(() => compileIgnore('[abc\n'), DockerfileError);
  });
});

describe('compileIgnore: mayMatchUnder', () => {
  it('false when nothing can match below', () => {
    const m = compileIgnore('node_modules\n*.log\n');
    assert.equal(m.mayMatchUnder('node_modules'), false);
    assert.equal(m.ignores('node_modules'), true);
    assert.equal(m.mayMatchUnder('src'), false);
    assert.equal(m.mayMatchUnder(''), true);
    assert.equal(m.mayMatchUnder('.'), true);
  });

  it('true when a pattern reaches below', () => {
    const m = compileIgnore('src/*.gen.ts\n');
    assert.equal(m.mayMatchUnder('src'), true);
    assert.equal(m.mayMatchUnder('src/sub'), false);
    assert.equal(m.mayMatchUnder('lib'), false);
  });

  it('an exception below an excluded directory keeps the walker going', () => {
    const m = compileIgnore('build\n!build/out/keep\n');
    assert.equal(m.ignores('build'), true);
    assert.equal(m.mayMatchUnder('build'), true);
    assert.equal(m.mayMatchUnder('build/out'), true);
    assert.equal(m.mayMatchUnder('build/other'), false);
    assert.equal(m.ignores('build/other/x'), true);
  });

  it('** reaches below everything', () => {
    const m = compileIgnore('vendor\n!**/*.go\n');
    assert.equal(m.mayMatchUnder('vendor'), true);
    assert.equal(m.ignores('vendor/x.go'), false);
    assert.equal(m.ignores('vendor/x.c'), true);
  });

  it('wildcards in directory segments', () => {
    const m = compileIgnore('pkg/*/test\n');
    assert.equal(m.mayMatchUnder('pkg'), true);
    assert.equal(m.mayMatchUnder('pkg/a'), true);
    assert.equal(m.mayMatchUnder('pkg/a/test'), false);
    assert.equal(m.mayMatchUnder('other'), false);
  });

  it('agrees with ignores below a skipped directory', () => {
    const text = 'a\n!a/b\nc/**/d\n!c/x\n*.tmp\n';
    const m = compileIgnore(text);
    const dirs = ['a', 'a/b', 'a/z', 'c', 'c/x', 'c/y', 'e', 'e/f'];
    const leaves = ['k', 'k.tmp', 'd', 'b/d', 'q/r'];
    for (const dir of dirs) {
      if (m.mayMatchUnder(dir)) continue;
      for (const leaf of leaves) assert.equal(m.ignores(`${dir}/${leaf}`), m.ignores(dir), `${dir}/${leaf}`);
    }
  });
});

describe('dockerignoreNameFor', () => {
  it('appends .dockerignore to the Dockerfile path', () => {
    assert.equal(dockerignoreNameFor('Dockerfile'), 'Dockerfile.dockerignore');
    assert.equal(dockerignoreNameFor('foo/Dockerfile.dev'), 'foo/Dockerfile.dev.dockerignore');
  });
});
