// Variable substitution in compose values: $VAR, ${VAR}, ${VAR:-d}, ${VAR-d}, ${VAR:?e}, ${VAR?e},
// ${VAR:+a}, ${VAR+a}, and $$ for a literal dollar. Keys are never substituted, as in compose.

import { invalidParameter } from '../core/errors.ts';
import { Override, Reset } from './tags.ts';

export type Lookup = (name: string) => string | undefined;

const NAME_START = /[A-Za-z_]/u;
const NAME_CHAR = /[A-Za-z0-9_]/u;

function invalid(text: string, where: string): Error {
  return invalidParameter(
    `invalid interpolation format for ${where}: ${JSON.stringify(text)}; you may need to escape any $ with another $`,
  );
}

export interface InterpolateOptions {
  lookup: Lookup;
  /** The key the text is the value of, for error messages. */
  key?: string;
}

/** Substitutes variables in one string. */
export function interpolate(text: string, opts: InterpolateOptions): string {
  return substitute(text, opts.lookup, opts.key ?? '(root)');
}

function substitute(text: string, lookup: Lookup, where: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c !== '$') {
      out += c;
      i++;
      continue;
    }
    const next = text[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (next !== undefined && NAME_START.test(next)) {
      let j = i + 1;
      while (j < text.length && NAME_CHAR.test(text[j] ?? '')) j++;
      out += lookup(text.slice(i + 1, j)) ?? '';
      i = j;
      continue;
    }
    if (next !== '{') throw invalid(text, where);
    // Find the matching brace, counting nested ${...}.
    let depth = 1;
    let j = i + 2;
    while (j < text.length && depth > 0) {
      if (text[j] === '$' && text[j + 1] === '$') j += 2;
      else if (text[j] === '$' && text[j + 1] === '{') {
        depth++;
        j += 2;
      } else {
        if (text[j] === '}') depth--;
        j++;
      }
    }
    if (depth > 0) throw invalid(text, where);
    out += braced(text.slice(i + 2, j - 1), text, lookup, where);
    i = j;
  }
  return out;
}

function braced(inner: string, text: string, lookup: Lookup, where: string): string {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([\s\S]*))?$/u.exec(inner);
  if (m === null) throw invalid(text, where);
  const name = m[1] ?? '';
  const op = m[2];
  const arg = m[3] ?? '';
  const value = lookup(name);
  if (op === undefined) return value ?? '';
  const unset = op.startsWith(':') ? value === undefined || value === '' : value === undefined;
  switch (op) {
    case ':-':
    case '-':
      return unset ? substitute(arg, lookup, where) : (value ?? '');
    case ':+':
    case '+':
      return unset ? '' : substitute(arg, lookup, where);
    default: {
      if (!unset) return value ?? '';
      const message = substitute(arg, lookup, where);
      throw invalidParameter(`required variable ${name} is missing a value${message === '' ? '' : `: ${message}`}`);
    }
  }
}

/** Substitutes every string value of a parsed YAML tree (not the keys); returns a new tree. */
export function interpolateTree(node: unknown, lookup: Lookup): unknown {
  return walk(node, lookup, '');
}

function walk(node: unknown, lookup: Lookup, path: string): unknown {
  if (typeof node === 'string') return substitute(node, lookup, path === '' ? '(root)' : path);
  if (node instanceof Reset) return node;
  if (node instanceof Override) return new Override(walk(node.value, lookup, path));
  if (Array.isArray(node)) return node.map((v, i) => walk(v, lookup, `${path}[${i}]`));
  if (node !== null && typeof node === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) out[k] = walk(v, lookup, path === '' ? k : `${path}.${k}`);
    return out;
  }
  return node;
}
