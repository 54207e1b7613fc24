import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { readSecrets } from './build.ts';

const decode = (h: string | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries(JSON.parse(Buffer.from(h!, 'base64').toString()) as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));

test('--secret: file, env, and the id alone (env var first, then a file of that name)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-secret-'));
  try {
    writeFileSync(join(dir, 'f'), 'from-file');
    assert.deepEqual(decode(readSecrets([`id=a,src=${join(dir, 'f')}`, 'id=b,env=V', 'id=C', 'type=env,id=D'], { V: 'from-env', C: 'c-env', D: 'd-env' })), {
      a: 'from-file',
      b: 'from-env',
      C: 'c-env',
      D: 'd-env',
    });
    assert.deepEqual(decode(readSecrets([`source=${join(dir, 'f')}`], {})), { f: 'from-file' });
    assert.equal(readSecrets([], {}), undefined);
    assert.throws(() => readSecrets(['id=x,env=MISSING'], {}), /environment variable MISSING is not set/);
    assert.throws(() => readSecrets(['id=x,bogus=1'], {}), /unexpected key 'bogus'/);
    assert.throws(() => readSecrets(['src'], {}), /expected key=value/);
    assert.throws(() => readSecrets([`id=x,src=${join(dir, 'nope')}`], {}), /secret x: ENOENT/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
