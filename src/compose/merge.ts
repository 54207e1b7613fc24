// Compose's rules for combining files (and `extends`): mappings merge key by key, lists are
// appended without duplicates, volumes merge by target, commands and scalars are replaced.

import { Override, Reset } from './tags.ts';
import type { ServiceVolume } from './types.ts';
import { type Raw, isMap } from './values.ts';

function union(base: unknown[], over: unknown[]): unknown[] {
  const seen = new Set(base.map((v) => JSON.stringify(v)));
  const out = [...base];
  for (const v of over) {
    const k = JSON.stringify(v);
    if (!seen.has(k)) {
      seen.add(k);
      out.push(v);
    }
  }
  return out;
}

function byTarget(base: ServiceVolume[], over: ServiceVolume[]): ServiceVolume[] {
  const out = [...base];
  for (const v of over) {
    const i = out.findIndex((b) => b.target === v.target);
    if (i === -1) out.push(v);
    else out[i] = v;
  }
  return out;
}

/** Deep merge of two mappings; `over` wins for scalars and replaced lists. */
export function mergeMaps(base: Raw, over: Raw): Raw {
  const out: Raw = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isMap(b) && isMap(v) ? mergeMaps(b, v) : v;
  }
  return out;
}

/** Merges two prepared services (see prepareService). */
export function mergeService(base: Raw, over: Raw): Raw {
  const out: Raw = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const prev = out[k];
    const b = prev instanceof Override ? prev.value : prev instanceof Reset ? undefined : prev;
    if (v instanceof Reset) delete out[k];
    else if (v instanceof Override) out[k] = v.value;
    else if (b === undefined || b === null || v === null) out[k] = v;
    else if (k === 'volumes') out[k] = byTarget(b as ServiceVolume[], v as ServiceVolume[]);
    else if (k === 'command' || k === 'entrypoint') out[k] = v;
    else if (Array.isArray(b) && Array.isArray(v)) out[k] = union(b, v);
    else if (k === 'healthcheck' && isMap(b) && isMap(v)) out[k] = { ...b, ...v };
    else if (k === 'build' && isMap(b) && isMap(v)) {
      // The build context of an override replaces, args and labels merge by key.
      out[k] = mergeMaps(b, v);
    } else if (k === 'networks' && isMap(b) && isMap(v)) {
      const n: Raw = { ...b };
      for (const [name, cfg] of Object.entries(v)) n[name] = isMap(n[name]) && isMap(cfg) ? { ...n[name], ...cfg } : cfg;
      out[k] = n;
    } else if (k === 'ulimits' || k === 'depends_on' || k === 'environment' || k === 'labels') {
      out[k] = isMap(b) && isMap(v) ? { ...b, ...v } : v;
    } else if (isMap(b) && isMap(v)) out[k] = mergeMaps(b, v);
    else out[k] = v;
  }
  return out;
}
