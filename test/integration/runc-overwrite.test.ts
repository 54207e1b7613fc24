// Security case 31 (CVE-2019-5736): a container that tries to open the runtime's binary through
// /proc/<pid>/exe while `exec` runs in it must not be able to change the host's runc. The probe
// opens for appending only and writes nothing, so even a vulnerable runtime would not be damaged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { api, isRoot, type TestDaemon } from '../helpers/daemon.ts';
import { create, useDaemon, waitFor } from '../helpers/containers.ts';

const skip = !isRoot ? 'integration tests need root' : false;
let d: TestDaemon;

useDaemon(skip, (x) => (d = x));

test('an exec-time attempt on /proc/<runc pid>/exe leaves the host runc unchanged (case 31)', { skip }, async (t) => {
  const runc = execFileSync('sh', ['-c', 'command -v runc'], { encoding: 'utf8' }).trim();
  const before = createHash('sha256').update(readFileSync(runc)).digest('hex');
  const probe = [
    'while [ ! -e /tmp/stop ]; do',
    '  for p in /proc/[0-9]*; do',
    '    n=${p#/proc/}; [ "$n" = "$$" ] && continue',
    '    case "$(cat $p/comm 2>/dev/null)" in runc*) echo "saw runc"; (exec 3>>$p/exe) 2>/dev/null && echo "opened $n" ;; esac',
    '  done',
    'done',
  ].join('\n');
  const id = await create(d, { Cmd: ['sh', '-c', probe] });
  assert.equal((await api(d, 'POST', `/containers/${id}/start`)).status, 204);
  // runc init appears inside the container while an exec starts.
  for (let i = 0; i < 15; i++) {
    const ex = (await api(d, 'POST', `/containers/${id}/exec`, { Cmd: ['true'] })).json().Id as string;
    await api(d, 'POST', `/exec/${ex}/start`, { Detach: true });
  }
  const stop = (await api(d, 'POST', `/containers/${id}/exec`, { Cmd: ['touch', '/tmp/stop'] })).json().Id as string;
  await api(d, 'POST', `/exec/${stop}/start`, { Detach: true });
  await waitFor(async () => (await api(d, 'GET', `/containers/${id}/json`)).json().State.Running === false, 10_000, 'the probe to finish');
  const after = createHash('sha256').update(readFileSync(runc)).digest('hex');
  assert.equal(after, before, 'the host runc binary is unchanged');
  const logs = (await api(d, 'GET', `/containers/${id}/logs?stdout=1`)).body.toString('latin1');
  t.diagnostic(`probe saw runc ${(logs.match(/saw runc/g) ?? []).length} times, opened its exe ${(logs.match(/opened/g) ?? []).length} times`);
  await api(d, 'DELETE', `/containers/${id}?force=1`);
});
