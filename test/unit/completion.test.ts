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

test('berth completion zsh loads in zsh (through bashcompinit) and offers the commands', { skip: spawnSync('zsh', ['--version']).status !== 0 ? 'zsh not installed (scripts/setup installs it)' : false }, () => {
  const script = execFileSync(BERTH, ['completion', 'zsh'], { encoding: 'utf8' });
  assert.equal(spawnSync('zsh', ['-n'], { input: script }).status, 0);
  // Loaded as a user's .zshrc would eval it; then called as bashcompinit calls it (0-based arrays).
  const call = 'try() { setopt localoptions ksharrays; COMP_WORDS=(berth net); COMP_CWORD=1; _berth; print -l ${COMPREPLY[@]}; }; try';
  const out = execFileSync('zsh', ['-f', '-c', `autoload -U compinit && compinit -u; ${script}\n${call}`], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', HOME: '/tmp' } });
  // zsh's own completion filters by prefix (bashcompinit's compgen hands it every word).
  const words = out.trim().split('\n');
  assert.ok(words.includes('network') && words.includes('compose') && words.includes('update'), out);
});
