import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseProgramVersion } from './version.ts';

test('versions and commits of runc, conmon and tini as they print them', () => {
  assert.deepEqual(parseProgramVersion('runc version 1.1.5+ds1\ncommit: 1.1.5+ds1-1+deb12u1\nspec: 1.0.2-dev\ngo: go1.19.8\nlibseccomp: 2.5.4\n'), { version: '1.1.5+ds1', commit: '1.1.5+ds1-1+deb12u1' });
  assert.deepEqual(parseProgramVersion('conmon version 2.1.6\ncommit: unknown\n'), { version: '2.1.6', commit: '' });
  assert.deepEqual(parseProgramVersion('tini version 0.19.0 - git.de40ad0\n'), { version: '0.19.0', commit: 'de40ad0' });
  assert.deepEqual(parseProgramVersion('tini version 0.19.0\n'), { version: '0.19.0', commit: '' });
});
