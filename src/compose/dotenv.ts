// .env and env_file syntax: KEY=VALUE lines, `export ` prefix, single quotes (literal), double quotes
// (escapes, may span lines), unquoted values with ` #` comments, and ${VAR} from earlier lines.

import { invalidParameter } from '../core/errors.ts';
import { interpolate, type Lookup } from './interpolate.ts';

export interface DotEnvOptions {
  /** Values for ${VAR} not set earlier in the file, and for a bare `KEY` line. */
  lookup?: Lookup;
  /** Names the file in error messages. */
  file?: string;
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\', $: '$$' };

export function parseDotEnv(text: string, opts: DotEnvOptions = {}): Record<string, string> {
  const out: Record<string, string> = {};
  const where = opts.file ?? '.env';
  const lookup: Lookup = (name) => (Object.hasOwn(out, name) ? out[name] : opts.lookup?.(name));
  const src = text.replace(/\r\n?/gu, '\n');
  let i = 0;
  let line = 1;
  while (i < src.length) {
    const end = src.indexOf('\n', i) === -1 ? src.length : src.indexOf('\n', i);
    const raw = src.slice(i, end);
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) {
      i = end + 1;
      line++;
      continue;
    }
    const m = /^\s*(?:export\s+)?([A-Za-z_.][A-Za-z0-9_.\-[\]]*)\s*(=|:)?/u.exec(raw);
    if (m === null) throw invalidParameter(`${where}: line ${line}: unexpected character in variable name ${JSON.stringify(trimmed)}`);
    const key = m[1] ?? '';
    if (m[2] === undefined) {
      if (raw.slice(m[0].length).trim() !== '' && !raw.slice(m[0].length).trim().startsWith('#')) {
        throw invalidParameter(`${where}: line ${line}: unexpected character in variable name ${JSON.stringify(trimmed)}`);
      }
      const v = opts.lookup?.(key);
      if (v !== undefined) out[key] = v;
      i = end + 1;
      line++;
      continue;
    }
    let j = i + m[0].length;
    while (src[j] === ' ' || src[j] === '\t') j++;
    const q = src[j];
    if (q === "'" || q === '"') {
      let k = j + 1;
      let value = '';
      while (k < src.length && src[k] !== q) {
        const ch = src[k] ?? '';
        if (q === '"' && ch === '\\' && k + 1 < src.length) {
          const e = src[k + 1] ?? '';
          value += ESCAPES[e] ?? `\\${e}`;
          k += 2;
          continue;
        }
        if (ch === '\n') line++;
        value += ch;
        k++;
      }
      if (k >= src.length) throw invalidParameter(`${where}: line ${line}: unterminated quoted value`);
      out[key] = q === '"' ? interpolate(value, { lookup, key }) : value;
      const nl = src.indexOf('\n', k);
      i = nl === -1 ? src.length : nl + 1;
      line++;
      continue;
    }
    let value = src.slice(j, end);
    const hash = value.search(/\s#/u);
    if (hash !== -1) value = value.slice(0, hash);
    out[key] = interpolate(value.trim(), { lookup, key });
    i = end + 1;
    line++;
  }
  return out;
}
