import { predefinedArgs, type Platform } from './args.ts';
import { duration } from './duration.ts';
import { expand, expandWords, type EscapeToken } from './lex.ts';
import { withSuggestion } from './suggest.ts';
import { parseHeredocWord, splitNameValWords } from './words.ts';
import { DockerfileError, type HealthcheckSpec, type Instruction, type RawInstruction, type RunMount } from './types.ts';

// Per-instruction rules as BuildKit's instructions package and dispatcher apply them: which
// flags each takes, how many arguments, and which words are expanded against the build's
// variables (RUN, CMD, ENTRYPOINT, HEALTHCHECK, ONBUILD and MAINTAINER are not).

export interface DecodeOptions {
  escape: EscapeToken;
  /** The target platform: its TARGET and BUILD values are available to expansion unless env sets them. */
  platform?: Platform;
}

const WHITESPACE_SPLIT_RE = /[\t\v\f\r ]+/u;
const STAGE_NAME_RE = /^[a-z][a-z0-9-_.]*$/u;

class Fail extends Error {}

type FlagKind = 'string' | 'bool' | 'strings';

/** BuildKit's BFlags: declared flags, each used at most once unless repeatable. */
class Flags {
  readonly #strings = new Map<string, string>();
  readonly #lists = new Map<string, string[]>();

  constructor(raw: RawInstruction['flags'], spec: Record<string, FlagKind>) {
    const seen = new Set<string>();
    for (const { name, value } of raw) {
      const kind = spec[name];
      if (kind === undefined) throw new Fail(`unknown flag: ${name}`);
      if (kind !== 'strings' && seen.has(name)) throw new Fail(`duplicate flag specified: ${name}`);
      seen.add(name);
      if (kind === 'bool') {
        if (value === '') throw new Fail(`missing a value on flag: ${name}`);
        const v = (value ?? 'true').toLowerCase();
        if (v !== 'true' && v !== 'false') throw new Fail(`expecting boolean value for flag ${name}, not: ${value ?? ''}`);
        this.#strings.set(name, v);
      } else {
        if (value === undefined) throw new Fail(`missing a value on flag: ${name}`);
        if (kind === 'strings') this.#lists.set(name, [...(this.#lists.get(name) ?? []), value]);
        else this.#strings.set(name, value);
      }
    }
  }

  string(name: string): string | undefined {
    return this.#strings.get(name);
  }
  bool(name: string): boolean {
    return this.#strings.get(name) === 'true';
  }
  used(name: string): boolean {
    return this.#strings.has(name) || this.#lists.has(name);
  }
  list(name: string): string[] {
    return this.#lists.get(name) ?? [];
  }
}

interface Expanders {
  word: (s: string) => string;
  words: (s: string) => string[];
}

function whitespaceArgs(rest: string): string[] {
  return rest === '' ? [] : rest.split(WHITESPACE_SPLIT_RE);
}

/** Exec form as is; shell form as one string; nothing as []. */
function commandLine(raw: RawInstruction, rest: string): { command: string[]; shell: boolean } {
  if (raw.json) return { command: raw.json, shell: false };
  return { command: rest === '' ? [] : [rest], shell: true };
}

function atLeastOne(keyword: string): Fail {
  return new Fail(`${keyword} requires at least one argument`);
}

function exactlyOne(keyword: string): Fail {
  return new Fail(`${keyword} requires exactly one argument`);
}

function decodePairs(keyword: 'ENV' | 'LABEL', rest: string, escape: EscapeToken, x: Expanders): Array<[string, string]> {
  const words = splitNameValWords(rest, escape);
  if (words.length === 0) throw atLeastOne(keyword);
  const pairs: Array<[string, string]> = [];
  if (!(words[0] ?? '').includes('=')) {
    // Legacy form: `ENV key value with spaces`.
    const m = WHITESPACE_SPLIT_RE.exec(rest);
    if (!m) throw new Fail(`${keyword} must have two arguments`);
    pairs.push([rest.slice(0, m.index), rest.slice(m.index + m[0].length)]);
  } else {
    for (const word of words) {
      const eq = word.indexOf('=');
      if (eq < 0) throw new Fail(`Syntax error - can't find = in ${JSON.stringify(word)}. Must be of the form: name=value`);
      pairs.push([word.slice(0, eq), word.slice(eq + 1)]);
    }
  }
  return pairs.map(([k, v]) => {
    if (k === '') throw new Fail(`${keyword} names can not be blank`);
    return [x.word(k), x.word(v)];
  });
}

/** Splits a `--mount` value as CSV (double quotes group, `""` is a quote). */
function csvFields(value: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (quoted) {
      if (ch === '"') {
        if (value[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += ch;
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') {
      fields.push(field);
      field = '';
    } else field += ch;
  }
  if (quoted) throw new Fail(`failed to parse csv mounts: extraneous or missing " in quoted-field`);
  fields.push(field);
  return fields;
}

const MOUNT_TYPES = ['bind', 'cache', 'tmpfs', 'secret', 'ssh'] as const;
const SHARING = ['shared', 'private', 'locked'] as const;
const MOUNT_KEYS = [
  'type', 'from', 'source', 'target', 'readonly', 'id', 'sharing', 'required', 'size', 'mode', 'uid', 'gid',
  'src', 'dst', 'destination', 'ro', 'rw', 'readwrite', 'env',
];

function parseBool(key: string, value: string): boolean {
  // strconv.ParseBool's spellings.
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  throw new Fail(`invalid value for ${key}: ${value}`);
}

function parseUint(value: string, radix: 8 | 10, what: string): number {
  const re = radix === 8 ? /^[0-7]+$/u : /^[0-9]+$/u;
  const n = re.test(value) ? Number.parseInt(value, radix) : Number.NaN;
  if (!Number.isFinite(n) || n > 0xffffffff) throw new Fail(`invalid value ${value} for ${what}`);
  return n;
}

/** A size as docker/go-units RAMInBytes reads it: `64m`, `1g`, `512kb`, bytes when bare. */
function ramInBytes(key: string, value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp])?(i?b)?$/iu.exec(value);
  if (!m) throw new Fail(`invalid value for ${key}: ${value}`);
  const unit = (m[2] ?? '').toLowerCase();
  const mult = unit === '' ? 1 : 1024 ** ('kmgtp'.indexOf(unit) + 1);
  return Math.floor(Number(m[1]) * mult);
}

export function parseMount(value: string, expandWord: (s: string) => string): RunMount {
  let type: RunMount['type'] = 'bind';
  const m: Omit<RunMount, 'type' | 'readonly' | 'target'> = {};
  let target = '';
  let readonly = false;
  let roAuto = true;
  let required: boolean | undefined;
  for (const field of csvFields(value)) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    if (eq < 0) {
      if (key === 'readonly' || key === 'ro') {
        readonly = true;
        roAuto = false;
      } else if (key === 'readwrite' || key === 'rw') {
        readonly = false;
        roAuto = false;
      } else if (key === 'required') {
        if (type !== 'secret' && type !== 'ssh') throw new Fail(`unexpected key '${key}' for mount type '${type}'`);
        required = true;
      } else throw new Fail(`invalid field '${field}' must be a key=value pair`);
      continue;
    }
    const v = expandWord(field.slice(eq + 1));
    switch (key) {
      case 'type': {
        const t = v.toLowerCase();
        if (!(MOUNT_TYPES as readonly string[]).includes(t)) {
          throw new Fail(withSuggestion(`unsupported mount type ${JSON.stringify(v)}`, v, MOUNT_TYPES, true));
        }
        type = t as RunMount['type'];
        break;
      }
      case 'from':
        m.from = v;
        break;
      case 'source':
      case 'src':
        m.source = v;
        break;
      case 'target':
      case 'dst':
      case 'destination':
        target = v;
        break;
      case 'readonly':
      case 'ro':
        readonly = parseBool(key, v);
        roAuto = false;
        break;
      case 'readwrite':
      case 'rw':
        readonly = !parseBool(key, v);
        roAuto = false;
        break;
      case 'required':
        if (type !== 'secret' && type !== 'ssh') throw new Fail(`unexpected key '${key}' for mount type '${type}'`);
        required = parseBool(key, v);
        break;
      case 'size':
        if (type !== 'tmpfs') throw new Fail(`unexpected key '${key}' for mount type '${type}'`);
        m.size = ramInBytes(key, v);
        break;
      case 'id':
        m.id = v;
        break;
      case 'sharing': {
        const s = v.toLowerCase();
        if (!(SHARING as readonly string[]).includes(s)) {
          throw new Fail(withSuggestion(`unsupported sharing value ${JSON.stringify(v)}`, v, SHARING, true));
        }
        m.sharing = s as NonNullable<RunMount['sharing']>;
        break;
      }
      case 'mode':
        m.mode = parseUint(v, 8, 'mode');
        break;
      case 'uid':
        m.uid = parseUint(v, 10, 'uid');
        break;
      case 'gid':
        m.gid = parseUint(v, 10, 'gid');
        break;
      case 'env':
        m.env = v;
        break;
      default:
        throw new Fail(withSuggestion(`unexpected key '${key}' in '${field}'`, key, MOUNT_KEYS, true));
    }
  }
  if (type !== 'secret' && type !== 'ssh' && type !== 'cache') {
    for (const k of ['mode', 'uid', 'gid'] as const) {
      if (m[k] !== undefined) throw new Fail(`${k} not allowed for ${JSON.stringify(type)} type mounts`);
    }
  }
  if (roAuto) readonly = type !== 'cache' && type !== 'tmpfs';
  if (type === 'secret') {
    if (m.from !== undefined && m.from !== '') throw new Fail('secret mount should not have a from');
    if (m.sharing !== undefined) throw new Fail('secret mount should not define sharing');
    if (!m.source && !target && !m.id) throw new Fail('invalid secret mount. one of source, target required');
    if (m.source && m.id) throw new Fail("both source and id can't be set");
    // BuildKit's defaults: the id from the target's base name, the target under /run/secrets.
    if (!m.id) m.id = m.source || (target.split('/').filter(Boolean).at(-1) ?? '');
    // With env= the secret is a variable; a file as well only where a target is named.
    if (!target && m.env === undefined) target = `/run/secrets/${m.id}`;
  }
  if (type === 'ssh' && !m.id) m.id = 'default';
  if (m.sharing !== undefined && type !== 'cache') throw new Fail(`invalid cache sharing set for ${type} mount`);
  const mount: RunMount = { type, target, readonly, ...m };
  if (required !== undefined) mount.required = required;
  return mount;
}

function decodeHealthcheck(raw: RawInstruction): HealthcheckSpec {
  const rest = raw.rest;
  const m = /\s/u.exec(rest);
  const typeWord = m ? rest.slice(0, m.index) : rest;
  const remainder = m ? rest.slice(m.index).trimStart() : '';
  if (typeWord === '') throw atLeastOne('HEALTHCHECK');
  const type = typeWord.toUpperCase();
  if (type === 'NONE') {
    if (remainder !== '') throw new Fail('HEALTHCHECK NONE takes no arguments');
    return { test: ['NONE'] };
  }
  const flags = new Flags(raw.flags, {
    interval: 'string',
    timeout: 'string',
    'start-period': 'string',
    'start-interval': 'string',
    retries: 'string',
  });
  if (type !== 'CMD') throw new Fail(`Unknown type ${JSON.stringify(type)} in HEALTHCHECK (try CMD)`);
  const cmd = raw.json ?? (remainder === '' ? [] : [remainder]);
  if (cmd.length === 0) throw new Fail('Missing command after HEALTHCHECK CMD');
  const spec: HealthcheckSpec = { test: [raw.json ? 'CMD' : 'CMD-SHELL', ...cmd] };
  const interval = (name: string): number | undefined => {
    const v = flags.string(name);
    if (v === undefined || v === '') return undefined;
    let ns: number;
    try {
      ns = duration(v);
    } catch (err) {
      throw new Fail((err as Error).message);
    }
    if (ns !== 0 && ns < 1e6) throw new Fail(`Interval ${JSON.stringify(name)} cannot be less than 1ms`);
    return ns;
  };
  const set = (key: 'intervalNs' | 'timeoutNs' | 'startPeriodNs' | 'startIntervalNs', name: string): void => {
    const ns = interval(name);
    if (ns !== undefined) spec[key] = ns;
  };
  set('intervalNs', 'interval');
  set('timeoutNs', 'timeout');
  set('startPeriodNs', 'start-period');
  set('startIntervalNs', 'start-interval');
  const retries = flags.string('retries');
  if (retries !== undefined && retries !== '') {
    if (!/^[+-]?\d+$/u.test(retries)) throw new Fail(`strconv.ParseInt: parsing ${JSON.stringify(retries)}: invalid syntax`);
    const n = Number(retries);
    if (n > 2147483647 || n < -2147483648) {
      throw new Fail(`strconv.ParseInt: parsing ${JSON.stringify(retries)}: value out of range`);
    }
    if (n < 0) throw new Fail(`--retries cannot be negative (${n})`);
    spec.retries = n;
  }
  return spec;
}

type Body = Instruction extends infer T ? (T extends unknown ? Omit<T, 'startLine' | 'endLine' | 'original'> : never) : never;

function decodeBody(raw: RawInstruction, escape: EscapeToken, x: Expanders): Body {
  const rest = raw.rest;
  const keyword = raw.keyword;
  const noFlags = (): void => void new Flags(raw.flags, {});
  switch (keyword) {
    case 'FROM': {
      const args = whitespaceArgs(rest);
      let stageName: string | undefined;
      if (args.length === 3 && args[1]?.toLowerCase() === 'as') {
        stageName = (args[2] ?? '').toLowerCase();
        if (!STAGE_NAME_RE.test(stageName)) {
          throw new Fail(
            `invalid name for build stage: ${JSON.stringify(args[2])}, name can't start with a number or contain symbols`,
          );
        }
      } else if (args.length !== 1) {
        throw new Fail('FROM requires either one or three arguments');
      }
      const flags = new Flags(raw.flags, { platform: 'string' });
      const image = x.word(args[0] ?? '');
      if (image === '') throw new Fail(`base name (${args[0] ?? ''}) should not be blank`);
      const out: Body = { kind: 'FROM', image };
      if (stageName !== undefined) out.stageName = stageName;
      const platform = flags.string('platform');
      if (platform !== undefined && platform !== '') out.platform = x.word(platform);
      return out;
    }
    case 'RUN': {
      const flags = new Flags(raw.flags, { mount: 'strings', network: 'string', security: 'string' });
      const out: Body = {
        kind: 'RUN',
        ...commandLine(raw, rest),
        mounts: flags.list('mount').map((m) => parseMount(m, x.word)),
        heredocs: raw.heredocs,
      };
      const network = flags.string('network');
      if (network !== undefined) {
        if (network !== 'default' && network !== 'none' && network !== 'host') {
          throw new Fail(`invalid network mode ${JSON.stringify(network)}`);
        }
        out.network = network;
      }
      const security = flags.string('security');
      if (security !== undefined) {
        if (security !== 'sandbox' && security !== 'insecure') {
          throw new Fail(`security mode ${JSON.stringify(security)} is not supported`);
        }
        out.security = security;
      }
      return out;
    }
    case 'CMD':
    case 'ENTRYPOINT':
      noFlags();
      return { kind: keyword, ...commandLine(raw, rest) };
    case 'ENV':
    case 'LABEL':
      noFlags();
      return { kind: keyword, pairs: decodePairs(keyword, rest, escape, x) };
    case 'ARG': {
      // BuildKit does not check ARG's flags.
      const words = splitNameValWords(rest, escape);
      if (words.length === 0) throw atLeastOne('ARG');
      return {
        kind: 'ARG',
        args: words.map((word) => {
          const eq = word.indexOf('=');
          if (eq < 0) return { name: word };
          if (eq === 0) throw new Fail('ARG names can not be blank');
          return { name: word.slice(0, eq), default: x.word(word.slice(eq + 1)) };
        }),
      };
    }
    case 'EXPOSE': {
      const args = whitespaceArgs(rest);
      if (args.length === 0) throw atLeastOne('EXPOSE');
      noFlags();
      return { kind: 'EXPOSE', ports: args.sort().flatMap((p) => x.words(p)) };
    }
    case 'USER':
    case 'WORKDIR':
    case 'STOPSIGNAL':
    case 'MAINTAINER': {
      if (rest === '') throw exactlyOne(keyword);
      if (keyword !== 'STOPSIGNAL') noFlags();
      if (keyword === 'USER') return { kind: 'USER', user: x.word(rest) };
      if (keyword === 'WORKDIR') return { kind: 'WORKDIR', path: x.word(rest) };
      if (keyword === 'STOPSIGNAL') return { kind: 'STOPSIGNAL', signal: x.word(rest) };
      return { kind: 'MAINTAINER', name: rest };
    }
    case 'VOLUME': {
      const args = raw.json ?? whitespaceArgs(rest);
      if (args.length === 0) throw atLeastOne('VOLUME');
      noFlags();
      return {
        kind: 'VOLUME',
        paths: args.map((v) => {
          const t = v.trim();
          if (t === '') throw new Fail('VOLUME specified can not be an empty string');
          return x.word(t);
        }),
      };
    }
    case 'HEALTHCHECK':
      return { kind: 'HEALTHCHECK', healthcheck: decodeHealthcheck(raw) };
    case 'SHELL': {
      noFlags();
      if (raw.json === undefined && rest === '') throw atLeastOne('SHELL');
      if (raw.json === undefined) throw new Fail('SHELL requires the arguments to be in JSON form');
      if (raw.json.length === 0) throw atLeastOne('SHELL');
      return { kind: 'SHELL', shell: raw.json };
    }
    case 'ONBUILD': {
      if (rest === '') throw atLeastOne('ONBUILD');
      noFlags();
      const trigger = (rest.split(WHITESPACE_SPLIT_RE, 1)[0] ?? '').toUpperCase();
      if (trigger === 'ONBUILD') throw new Fail('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
      if (trigger === 'MAINTAINER' || trigger === 'FROM') throw new Fail(`${trigger} isn't allowed as an ONBUILD trigger`);
      let expression = raw.original.replace(/^\s*ONBUILD\s*/iu, '');
      for (const doc of raw.heredocs) expression += `\n${doc.content}${doc.name}`;
      return { kind: 'ONBUILD', expression };
    }
    case 'COPY':
    case 'ADD': {
      const args = raw.json ?? whitespaceArgs(rest);
      if (args.length < 2) {
        throw new Fail(
          `${keyword} requires at least two arguments, but only one was provided. Destination could not be determined`,
        );
      }
      const flags = new Flags(
        raw.flags,
        keyword === 'COPY'
          ? { chown: 'string', from: 'string', chmod: 'string', link: 'bool', exclude: 'strings', parents: 'bool' }
          : {
              chown: 'string',
              chmod: 'string',
              link: 'bool',
              'keep-git-dir': 'bool',
              checksum: 'string',
              unpack: 'bool',
              exclude: 'strings',
              parents: 'bool',
            },
      );
      const destWord = args[args.length - 1] ?? '';
      if (parseHeredocWord(destWord)) throw new Fail(`${keyword} cannot accept a heredoc as a destination`);
      const sources = args.slice(0, -1).filter((s) => raw.json !== undefined || !parseHeredocWord(s));
      const out: Body = {
        kind: keyword,
        sources: sources.map(x.word),
        dest: x.word(destWord),
        link: flags.bool('link'),
        parents: flags.bool('parents'),
        exclude: flags.list('exclude').map(x.word),
        heredocs: raw.json === undefined ? raw.heredocs : [],
      };
      const from = flags.string('from');
      if (from !== undefined && from !== '') out.from = x.word(from);
      const chown = flags.string('chown');
      if (chown !== undefined && chown !== '') out.chown = x.word(chown);
      const chmod = flags.string('chmod');
      if (chmod !== undefined && chmod !== '') out.chmod = x.word(chmod);
      const checksum = flags.string('checksum');
      if (checksum !== undefined && checksum !== '') out.checksum = x.word(checksum);
      if (flags.used('keep-git-dir')) out.keepGitDir = flags.bool('keep-git-dir');
      if (flags.used('unpack')) out.unpack = flags.bool('unpack');
      return out;
    }
    default:
      throw new Fail(withSuggestion(`unknown instruction: ${keyword}`, keyword, [], false));
  }
}

function finish(raw: RawInstruction, body: Body): Instruction {
  return { ...body, startLine: raw.startLine, endLine: raw.endLine, original: raw.original } as Instruction;
}

function wrap<T>(raw: RawInstruction, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof Fail) throw new DockerfileError(err.message, raw.startLine);
    if (err instanceof DockerfileError && err.line === undefined) throw new DockerfileError(err.message, raw.startLine);
    throw err;
  }
}

/**
 * Decodes one raw instruction: flags checked and parsed, arguments counted, and the words
 * Docker expands expanded against `env` (the build's ARG and ENV values at that point).
 */
export function decodeInstruction(
  raw: RawInstruction,
  env: ReadonlyMap<string, string>,
  opts: DecodeOptions,
): Instruction {
  let vars = env;
  if (opts.platform) {
    const merged = predefinedArgs(opts.platform);
    for (const [k, v] of env) merged.set(k, v);
    vars = merged;
  }
  const x: Expanders = {
    word: (s) => expand(s, vars, opts.escape),
    words: (s) => expandWords(s, vars, opts.escape),
  };
  return wrap(raw, () => finish(raw, decodeBody(raw, opts.escape, x)));
}

/** The structural checks of decodeInstruction without expansion (for whole-file validation). */
export function checkInstruction(raw: RawInstruction, escape: EscapeToken): void {
  wrap(raw, () => decodeBody(raw, escape, { word: (s) => s, words: (s) => [s] }));
}
