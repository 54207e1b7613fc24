import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';

const BERTH = join(resolve(import.meta.dirname, '../..'), 'bin/berth');

test('berth completion bash is valid bash and completes commands and group subcommands', () => {
  const script = execFileSync(BERTH, ['completion', 'bash'], { encoding: 'utf8' });
  assert.equal(spawnSync('bash', ['-n'], { input: script }).status, 0);
  const complete = (words: string[]): string =>
    execFileSync('bash', ['-c', `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _berth; printf '%s\\n' "\${COMPREPLY[@]}"`], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
  assert.deepEqual(complete(['berth', 'comp']).trim().split('\n').sort(), ['completion', 'compose']);
  assert.match(complete(['berth', 'network', 'con']), /^connect\n$/);
  assert.equal(spawnSync(BERTH, ['completion', 'fish']).status, 1);
});
