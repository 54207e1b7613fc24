import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nopText } from './history-text.ts';
import type { Instruction } from '../../dockerfile/types.ts';

const at = { startLine: 1, endLine: 1, original: '' };

test('config-only steps are written as Docker\'s classic builder writes them in history', () => {
  const t = (ins: Record<string, unknown>, resolved?: Parameters<typeof nopText>[1]): string => `/bin/sh -c #(nop) ${nopText({ ...at, ...ins } as Instruction, resolved)}`;
  assert.equal(t({ kind: 'ENV', pairs: [['A', '1'], ['B', 'two words']] }), '/bin/sh -c #(nop)  ENV A=1 B=two words');
  assert.equal(t({ kind: 'LABEL', pairs: [['l', 'v']] }), '/bin/sh -c #(nop)  LABEL l=v');
  assert.equal(t({ kind: 'CMD', command: ['sh'], shell: false }), '/bin/sh -c #(nop)  CMD ["sh"]');
  assert.equal(t({ kind: 'CMD', command: ['echo hi'], shell: true }, { command: ['/bin/sh', '-c', 'echo "hi"'] }), '/bin/sh -c #(nop)  CMD ["/bin/sh" "-c" "echo \\"hi\\""]');
  assert.equal(t({ kind: 'ENTRYPOINT', command: ['sh'], shell: false }), '/bin/sh -c #(nop)  ENTRYPOINT ["sh"]');
  assert.equal(t({ kind: 'WORKDIR', path: 'rel' }, { workdir: '/w/rel' }), '/bin/sh -c #(nop) WORKDIR /w/rel');
  assert.equal(t({ kind: 'VOLUME', paths: ['/v', '/w'] }), '/bin/sh -c #(nop)  VOLUME [/v /w]');
  assert.equal(t({ kind: 'SHELL', shell: ['/bin/sh', '-c'] }), '/bin/sh -c #(nop)  SHELL [/bin/sh -c]');
  assert.equal(t({ kind: 'EXPOSE', ports: ['80', '443/tcp'] }), '/bin/sh -c #(nop)  EXPOSE 80 443/tcp');
  assert.equal(t({ kind: 'ARG', args: [{ name: 'X', default: '1' }, { name: 'Y' }] }), '/bin/sh -c #(nop)  ARG X=1 Y');
  assert.equal(t({ kind: 'HEALTHCHECK', healthcheck: { test: ['CMD-SHELL', 'true'] } }), '/bin/sh -c #(nop)  HEALTHCHECK &{["CMD-SHELL" "true"] "0s" "0s" "0s" "0s" \'\\x00\'}');
  assert.equal(t({ kind: 'HEALTHCHECK', healthcheck: { test: ['CMD', 'x'], intervalNs: 90e9, retries: 3 } }), '/bin/sh -c #(nop)  HEALTHCHECK &{["CMD" "x"] "1m30s" "0s" "0s" "0s" \'\\x03\'}');
  assert.equal(t({ kind: 'STOPSIGNAL', signal: 'SIGTERM' }), '/bin/sh -c #(nop)  STOPSIGNAL SIGTERM');
  assert.equal(t({ kind: 'USER', user: '0' }), '/bin/sh -c #(nop)  USER 0');
  assert.equal(t({ kind: 'ONBUILD', expression: 'RUN true' }), '/bin/sh -c #(nop)  ONBUILD RUN true');
  assert.equal(t({ kind: 'MAINTAINER', name: 'me' }), '/bin/sh -c #(nop)  MAINTAINER me');
});
