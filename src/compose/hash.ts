// A digest of a service's configuration: equal for equal configurations whatever the key order, so
// `berth compose up` can tell whether a container must be recreated.

import { createHash } from 'node:crypto';
import type { Service } from './types.ts';

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** sha256 hex of the service as JSON with sorted keys. */
export function configHash(service: Service): string {
  return createHash('sha256').update(canonical(service)).digest('hex');
}
