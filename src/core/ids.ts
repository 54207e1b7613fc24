// Identifiers and names: validated before they ever become a path component.
import { randomBytes } from 'node:crypto';
import { invalidParameter } from './errors.ts';

const ID_RE = /^[0-9a-f]{64}$/;
const NAME_RE = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export function newId(): string {
  return randomBytes(32).toString('hex');
}

export function isFullId(s: string): boolean {
  return ID_RE.test(s);
}

export function shortId(id: string): string {
  return id.slice(0, 12);
}

/** Docker's container name rule: [a-zA-Z0-9][a-zA-Z0-9_.-]*, an optional leading slash. */
export function validateContainerName(name: string): string {
  if (name.length === 0 || name.length > 255 || !NAME_RE.test(name)) {
    throw invalidParameter(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  }
  return name.startsWith('/') ? name.slice(1) : name;
}

const LEFT = ['admiring', 'brave', 'calm', 'dreamy', 'eager', 'focused', 'gallant', 'happy', 'jolly', 'keen', 'lucid', 'nifty', 'quirky', 'serene', 'sharp', 'tender', 'vibrant', 'wizardly', 'zealous', 'bold'];
const RIGHT = ['anchor', 'beacon', 'capstan', 'dory', 'ensign', 'fathom', 'galley', 'harbor', 'jetty', 'keel', 'lagoon', 'mooring', 'pier', 'quay', 'rudder', 'schooner', 'tide', 'wharf', 'yawl', 'bollard'];

export function randomName(): string {
  const b = randomBytes(3);
  return `${LEFT[b[0]! % LEFT.length]}_${RIGHT[b[1]! % RIGHT.length]}${b[2]! % 100}`;
}
