// A small pflag-compatible argument parser: `--name x`, `--name=x`, `-n x`, `-nx`, `-n=x`,
// combined short booleans (`-itd`), repeated list flags, `--` and optional interspersed arguments.

export type FlagType = 'bool' | 'string' | 'list' | 'int';

export interface FlagSpec {
  long: string;
  short?: string;
  type: FlagType;
  help: string;
  /** Shown in help as the default, and returned when the flag is absent. */
  default?: string | boolean | number;
  /** Extra long names (`--net` for `--network`). */
  aliases?: string[];
  hidden?: boolean;
}

/** A usage error: unknown flag, missing value, bad argument count. Exit status 125 (docker's). */
export class FlagError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 125) {
    super(message);
    this.name = 'FlagError';
    this.exitCode = exitCode;
  }
}

export class Flags {
  readonly #specs: Map<string, FlagSpec>;
  readonly #values = new Map<string, string | boolean | string[]>();
  readonly #changed = new Set<string>();

  constructor(specs: readonly FlagSpec[]) {
    this.#specs = new Map(specs.map((s) => [s.long, s]));
  }

  /** Records a value for the flag named by its long name. */
  set(spec: FlagSpec, value: string | boolean): void {
    this.#changed.add(spec.long);
    if (spec.type === 'list') {
      const list = (this.#values.get(spec.long) as string[] | undefined) ?? [];
      list.push(String(value));
      this.#values.set(spec.long, list);
    } else if (spec.type === 'int') {
      const s = String(value).trim();
      if (!/^[+-]?\d+$/.test(s)) throw new FlagError(`invalid argument "${value}" for "${flagTitle(spec)}" flag: strconv.ParseInt: parsing "${value}": invalid syntax`);
      this.#values.set(spec.long, s);
    } else {
      this.#values.set(spec.long, value);
    }
  }

  #spec(name: string): FlagSpec {
    const spec = this.#specs.get(name);
    if (!spec) throw new Error(`flag --${name} is not defined`);
    return spec;
  }

  changed(name: string): boolean {
    this.#spec(name);
    return this.#changed.has(name);
  }

  bool(name: string): boolean {
    const spec = this.#spec(name);
    const v = this.#values.get(name);
    if (typeof v === 'boolean') return v;
    return spec.default === true;
  }

  string(name: string): string {
    const spec = this.#spec(name);
    const v = this.#values.get(name);
    if (typeof v === 'string') return v;
    return spec.default !== undefined ? String(spec.default) : '';
  }

  /** The string value, or undefined when the flag was not given (and has no default). */
  optString(name: string): string | undefined {
    const spec = this.#spec(name);
    const v = this.#values.get(name);
    if (typeof v === 'string') return v;
    return spec.default !== undefined ? String(spec.default) : undefined;
  }

  int(name: string): number {
    const spec = this.#spec(name);
    const v = this.#values.get(name);
    if (typeof v === 'string') return Number.parseInt(v, 10);
    return typeof spec.default === 'number' ? spec.default : 0;
  }

  list(name: string): string[] {
    this.#spec(name);
    const v = this.#values.get(name);
    return Array.isArray(v) ? [...v] : [];
  }
}

export interface ParsedArgs {
  flags: Flags;
  args: string[];
  help: boolean;
}

export interface ParseOptions {
  /** False stops flag parsing at the first argument (run, exec: the rest is the command). */
  interspersed?: boolean;
}

export const HELP_FLAG: FlagSpec = { long: 'help', type: 'bool', help: 'Print usage' };

function flagTitle(spec: FlagSpec): string {
  return spec.short ? `-${spec.short}, --${spec.long}` : `--${spec.long}`;
}

function parseBool(spec: FlagSpec, raw: string): boolean {
  const v = raw.toLowerCase();
  if (['1', 't', 'true'].includes(v)) return true;
  if (['0', 'f', 'false'].includes(v)) return false;
  throw new FlagError(`invalid argument "${raw}" for "${flagTitle(spec)}" flag: strconv.ParseBool: parsing "${raw}": invalid syntax`);
}

export function parseArgs(argv: readonly string[], specs: readonly FlagSpec[], opts: ParseOptions = {}): ParsedArgs {
  const all = [...specs, HELP_FLAG];
  const byLong = new Map<string, FlagSpec>();
  const byShort = new Map<string, FlagSpec>();
  for (const s of all) {
    byLong.set(s.long, s);
    for (const a of s.aliases ?? []) byLong.set(a, s);
    if (s.short) byShort.set(s.short, s);
  }
  const flags = new Flags(all);
  const args: string[] = [];
  const interspersed = opts.interspersed ?? true;
  let i = 0;
  while (i < argv.length) {
    const arg = argv[i] as string;
    i++;
    if (arg === '--') {
      args.push(...argv.slice(i));
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      const spec = byLong.get(name);
      if (!spec) throw new FlagError(`unknown flag: --${name}`);
      if (spec.type === 'bool') {
        flags.set(spec, eq >= 0 ? parseBool(spec, arg.slice(eq + 1)) : true);
      } else if (eq >= 0) {
        flags.set(spec, arg.slice(eq + 1));
      } else {
        if (i >= argv.length) throw new FlagError(`flag needs an argument: --${name}`);
        flags.set(spec, argv[i] as string);
        i++;
      }
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1) {
      let j = 1;
      while (j < arg.length) {
        const c = arg[j] as string;
        const spec = byShort.get(c);
        if (!spec) throw new FlagError(`unknown shorthand flag: '${c}' in ${arg}`);
        j++;
        if (spec.type === 'bool') {
          if (arg[j] === '=') {
            flags.set(spec, parseBool(spec, arg.slice(j + 1)));
            break;
          }
          flags.set(spec, true);
          continue;
        }
        if (j < arg.length) {
          flags.set(spec, arg[j] === '=' ? arg.slice(j + 1) : arg.slice(j));
        } else {
          if (i >= argv.length) throw new FlagError(`flag needs an argument: '${c}' in -${c}`);
          flags.set(spec, argv[i] as string);
          i++;
        }
        break;
      }
      continue;
    }
    args.push(arg);
    if (!interspersed) {
      args.push(...argv.slice(i));
      break;
    }
  }
  return { flags, args, help: flags.bool('help') };
}

/** Renders the Options block of a command's help. */
export function renderFlagHelp(specs: readonly FlagSpec[]): string {
  const rows = [...specs, HELP_FLAG]
    .filter((s) => !s.hidden)
    .sort((a, b) => a.long.localeCompare(b.long))
    .map((s) => {
      const kind = s.type === 'bool' ? '' : s.type === 'int' ? ' int' : ` ${s.type}`;
      const left = `${s.short ? `-${s.short}, ` : '    '}--${s.long}${kind}`;
      const def = s.default !== undefined && s.default !== false && s.default !== '' ? ` (default ${JSON.stringify(s.default)})` : '';
      return [left, `${s.help}${def}`] as const;
    });
  const width = Math.max(...rows.map(([l]) => l.length)) + 3;
  return rows.map(([l, r]) => `  ${l.padEnd(width)}${r}`).join('\n');
}
