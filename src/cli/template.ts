// A small evaluator for the Go text/template subset used with `--format`: field paths
// (`{{.State.Pid}}`), functions (json, index, join, upper, lower, title, len, split, println,
// truncate, pad), pipes (`{{.Names | json}}`), `if`/`else`/`range`/`end`, and `{{-`/`-}}` trimming.

export class TemplateError extends Error {
  constructor(message: string) {
    super(`template: ${message}`);
    this.name = 'TemplateError';
  }
}

type Term =
  | { kind: 'field'; path: string[] }
  | { kind: 'dot' }
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'bool'; value: boolean }
  | { kind: 'ident'; name: string }
  | { kind: 'paren'; pipeline: Pipeline };
type Command = Term[];
type Pipeline = Command[];
type Node =
  | { kind: 'text'; text: string }
  | { kind: 'action'; pipeline: Pipeline }
  | { kind: 'if'; pipeline: Pipeline; then: Node[]; else: Node[] }
  | { kind: 'range'; pipeline: Pipeline; body: Node[]; else: Node[] };

type TemplateFn = (...args: unknown[]) => unknown;

/** Go's `%v` for a value decoded from JSON. */
export function goPrint(v: unknown): string {
  if (v === undefined) return '<no value>';
  if (v === null) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (Array.isArray(v)) return `[${v.map(goPrint).join(' ')}]`;
  if (typeof v === 'object') {
    const keys = Object.keys(v).sort();
    return `map[${keys.map((k) => `${k}:${goPrint((v as Record<string, unknown>)[k])}`).join(' ')}]`;
  }
  return String(v);
}

/** Go's json.Marshal output (HTML characters escaped as Go does). */
function goJson(v: unknown): string {
  const s = JSON.stringify(v === undefined ? null : v) ?? 'null';
  return s.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function truthy(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

const FUNCS: Record<string, TemplateFn> = {
  json: (v) => goJson(v),
  index: (v, ...keys) => {
    let cur = v;
    for (const k of keys) {
      if (cur === null || cur === undefined) throw new TemplateError('index of untyped nil');
      if (Array.isArray(cur)) cur = cur[Number(k)];
      else if (typeof cur === 'object') cur = (cur as Record<string, unknown>)[String(k)];
      else throw new TemplateError(`can't index item of type ${typeof cur}`);
    }
    return cur;
  },
  join: (list, sep) => (Array.isArray(list) ? list.map(goPrint).join(String(sep ?? '')) : goPrint(list)),
  split: (s, sep) => String(s).split(String(sep)),
  upper: (s) => goPrint(s).toUpperCase(),
  lower: (s) => goPrint(s).toLowerCase(),
  title: (s) => goPrint(s).replace(/\b\w/g, (c) => c.toUpperCase()),
  len: (v) => (Array.isArray(v) || typeof v === 'string' ? v.length : v && typeof v === 'object' ? Object.keys(v).length : 0),
  println: (...args) => `${args.map(goPrint).join(' ')}\n`,
  print: (...args) => args.map(goPrint).join(''),
  truncate: (s, n) => [...goPrint(s)].slice(0, Number(n)).join(''),
  pad: (s, l, r) => `${' '.repeat(Number(l))}${goPrint(s)}${' '.repeat(Number(r))}`,
  not: (v) => !truthy(v),
  eq: (a, ...bs) => bs.some((b) => a === b),
  ne: (a, b) => a !== b,
};

function tokenizeAction(src: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== '"') j += src[j] === '\\' ? 2 : 1;
      if (j >= src.length) throw new TemplateError('unterminated quoted string');
      tokens.push(src.slice(i, j + 1));
      i = j + 1;
    } else if (c === '`') {
      const j = src.indexOf('`', i + 1);
      if (j < 0) throw new TemplateError('unterminated raw quoted string');
      tokens.push(src.slice(i, j + 1));
      i = j + 1;
    } else if (c === '|' || c === '(' || c === ')') {
      tokens.push(c);
      i++;
    } else {
      let j = i;
      while (j < src.length && !/[\s|()]/.test(src[j] as string)) j++;
      tokens.push(src.slice(i, j));
      i = j;
    }
  }
  return tokens;
}

function parsePipeline(tokens: string[], pos: { i: number }, closing?: string): Pipeline {
  const pipeline: Pipeline = [];
  let cmd: Command = [];
  while (pos.i < tokens.length) {
    const t = tokens[pos.i] as string;
    if (t === closing) break;
    pos.i++;
    if (t === '|') {
      if (cmd.length === 0) throw new TemplateError('missing command before |');
      pipeline.push(cmd);
      cmd = [];
    } else if (t === '(') {
      const inner = parsePipeline(tokens, pos, ')');
      if (tokens[pos.i] !== ')') throw new TemplateError('unclosed left paren');
      pos.i++;
      cmd.push({ kind: 'paren', pipeline: inner });
    } else if (t === ')') {
      throw new TemplateError('unexpected right paren');
    } else {
      cmd.push(parseTerm(t));
    }
  }
  if (cmd.length > 0) pipeline.push(cmd);
  if (pipeline.length === 0) throw new TemplateError('missing value for command');
  return pipeline;
}

function parseTerm(t: string): Term {
  if (t === '.') return { kind: 'dot' };
  if (t.startsWith('.')) return { kind: 'field', path: t.slice(1).split('.') };
  if (t.startsWith('"')) return { kind: 'string', value: JSON.parse(t) as string };
  if (t.startsWith('`')) return { kind: 'string', value: t.slice(1, -1) };
  if (t === 'true' || t === 'false') return { kind: 'bool', value: t === 'true' };
  if (/^-?\d+(\.\d+)?$/.test(t)) return { kind: 'number', value: Number(t) };
  if (/^[A-Za-z_]\w*$/.test(t)) return { kind: 'ident', name: t };
  throw new TemplateError(`unexpected "${t}" in command`);
}

function parse(src: string): Node[] {
  const root: Node[] = [];
  const stack: Array<{ node: Extract<Node, { kind: 'if' | 'range' }>; inElse: boolean }> = [];
  const current = (): Node[] => {
    const top = stack[stack.length - 1];
    if (!top) return root;
    if (top.inElse) return top.node.else;
    return top.node.kind === 'if' ? top.node.then : top.node.body;
  };
  let i = 0;
  let trimNext = false;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    let text = open < 0 ? src.slice(i) : src.slice(i, open);
    if (trimNext) text = text.replace(/^\s+/, '');
    trimNext = false;
    if (open < 0) {
      if (text) current().push({ kind: 'text', text });
      break;
    }
    const close = src.indexOf('}}', open + 2);
    if (close < 0) throw new TemplateError('unclosed action');
    let inner = src.slice(open + 2, close);
    if (inner.startsWith('- ')) {
      text = text.replace(/\s+$/, '');
      inner = inner.slice(1);
    }
    if (inner.endsWith(' -')) {
      trimNext = true;
      inner = inner.slice(0, -1);
    }
    if (text) current().push({ kind: 'text', text });
    i = close + 2;
    const tokens = tokenizeAction(inner);
    const head = tokens[0];
    if (head === undefined || head.startsWith('/*')) continue;
    if (head === 'if' || head === 'range') {
      const pipeline = parsePipeline(tokens, { i: 1 });
      const node: Extract<Node, { kind: 'if' | 'range' }> =
        head === 'if' ? { kind: 'if', pipeline, then: [], else: [] } : { kind: 'range', pipeline, body: [], else: [] };
      current().push(node);
      stack.push({ node, inElse: false });
    } else if (head === 'else') {
      const top = stack[stack.length - 1];
      if (!top || top.inElse) throw new TemplateError('unexpected {{else}}');
      top.inElse = true;
    } else if (head === 'end') {
      if (!stack.pop()) throw new TemplateError('unexpected {{end}}');
    } else if (['with', 'define', 'template', 'block'].includes(head)) {
      throw new TemplateError(`unsupported action {{${head}}}`);
    } else {
      current().push({ kind: 'action', pipeline: parsePipeline(tokens, { i: 0 }) });
    }
  }
  if (stack.length > 0) throw new TemplateError('unexpected EOF: missing {{end}}');
  return root;
}

function field(base: unknown, path: string[], args: unknown[]): unknown {
  let cur = base;
  path.forEach((name, idx) => {
    if (cur === null || cur === undefined) {
      throw new TemplateError(`nil pointer evaluating .${path.slice(0, idx + 1).join('.')}`);
    }
    if (typeof cur !== 'object') throw new TemplateError(`can't evaluate field ${name} in type ${typeof cur}`);
    const v = (cur as Record<string, unknown>)[name];
    cur = typeof v === 'function' ? (v as TemplateFn).apply(cur, idx === path.length - 1 ? args : []) : v;
  });
  return cur;
}

function evalTerm(term: Term, dot: unknown): unknown {
  switch (term.kind) {
    case 'dot':
      return dot;
    case 'field':
      return field(dot, term.path, []);
    case 'string':
    case 'number':
    case 'bool':
      return term.value;
    case 'paren':
      return evalPipeline(term.pipeline, dot);
    case 'ident': {
      const fn = FUNCS[term.name];
      if (!fn) throw new TemplateError(`function "${term.name}" not defined`);
      return fn();
    }
  }
}

function evalCommand(cmd: Command, dot: unknown, piped: { value: unknown } | undefined): unknown {
  const [first, ...rest] = cmd as [Term, ...Term[]];
  const args = rest.map((t) => evalTerm(t, dot));
  if (piped) args.push(piped.value);
  if (first.kind === 'ident') {
    const fn = FUNCS[first.name];
    if (!fn) throw new TemplateError(`function "${first.name}" not defined`);
    return fn(...args);
  }
  if (first.kind === 'field') return field(dot, first.path, args);
  if (args.length > 0) throw new TemplateError(`can't give argument to non-function`);
  return evalTerm(first, dot);
}

function evalPipeline(pipeline: Pipeline, dot: unknown): unknown {
  let piped: { value: unknown } | undefined;
  for (const cmd of pipeline) piped = { value: evalCommand(cmd, dot, piped) };
  return piped?.value;
}

function run(nodes: Node[], dot: unknown, out: string[]): void {
  for (const node of nodes) {
    if (node.kind === 'text') out.push(node.text);
    else if (node.kind === 'action') out.push(goPrint(evalPipeline(node.pipeline, dot)));
    else if (node.kind === 'if') run(truthy(evalPipeline(node.pipeline, dot)) ? node.then : node.else, dot, out);
    else {
      const v = evalPipeline(node.pipeline, dot);
      const items = Array.isArray(v) ? v : v && typeof v === 'object' ? Object.keys(v).sort().map((k) => (v as Record<string, unknown>)[k]) : [];
      if (items.length === 0) run(node.else, dot, out);
      for (const item of items) run(node.body, item, out);
    }
  }
}

export class Template {
  readonly #nodes: Node[];
  constructor(source: string) {
    this.#nodes = parse(source);
  }
  execute(data: unknown): string {
    const out: string[] = [];
    run(this.#nodes, data, out);
    return out.join('');
  }
}

/** Docker's handling of a `--format` value: `\t` and `\n` typed literally become tab and newline. */
export function unescapeFormat(format: string): string {
  return format.replaceAll('\\t', '\t').replaceAll('\\n', '\n');
}

export interface FormatSpec {
  /** True for `table ...` formats: a header row is printed and columns aligned. */
  table: boolean;
  template: Template;
}

/** Parses a `--format` value; `table` alone means the command's default table. */
export function parseFormat(format: string, defaultTable: string): FormatSpec {
  let f = format;
  let table = false;
  if (f === 'table' || f.startsWith('table ')) {
    table = true;
    f = f === 'table' ? defaultTable : f.slice('table '.length);
  }
  return { table, template: new Template(unescapeFormat(f.trim())) };
}
