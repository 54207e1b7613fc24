// Named network namespaces through iproute2 (/run/netns/<name>).
import { access } from 'node:fs/promises';
import { run, ExecError } from '../exec/index.ts';

export function netnsPath(name: string): string {
  return `/run/netns/${name}`;
}

export async function createNetns(name: string): Promise<string> {
  try {
    await run(['ip', 'netns', 'add', name]);
  } catch (err) {
    if (!(err instanceof ExecError && /File exists/.test(err.stderr))) throw err;
  }
  await run(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
  return netnsPath(name);
}

export async function deleteNetns(name: string): Promise<void> {
  if (!(await access(netnsPath(name)).then(() => true, () => false))) return;
  await run(['ip', 'netns', 'del', name]).catch(() => {});
}
