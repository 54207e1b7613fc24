// Shared by the loader tests: a temporary project directory with files in it.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { BerthError } from '../core/errors.ts';
import { type LoadOptions, type Project, loadProject } from './index.ts';

const roots: string[] = [];
after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

/** Writes `files` (path → text) under a new directory `<tmp>/<name>` and returns it. */
export function project(files: Record<string, string>, name = 'app'): string {
  const root = mkdtempSync(join(tmpdir(), 'berth-compose-'));
  roots.push(root);
  const dir = join(root, name);
  mkdirSync(dir);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

export function load(dir: string, opts: Partial<LoadOptions> = {}): Project {
  return loadProject({ files: [], env: {}, cwd: dir, ...opts });
}

/** Loads a single compose.yaml given as text. */
export function loadText(text: string, opts: Partial<LoadOptions> = {}): Project {
  return load(project({ 'compose.yaml': text }), opts);
}

export function fails(fn: () => unknown, message: string | RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof BerthError, String(err));
    assert.equal(err.kind, 'InvalidParameter');
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}
