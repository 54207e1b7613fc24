import { lex, type EscapeToken } from './lex.ts';
import { DockerfileError, type Heredoc, type ParsedDockerfile, type RawInstruction } from './types.ts';

// Turns Dockerfile text into raw instructions the way BuildKit's parser does: directives,
// comments, continuation lines, flags, exec (JSON) form and heredoc bodies. Variables are
// not expanded here; decodeInstruction does that per instruction.

export const INSTRUCTIONS = [
  'ADD',
  'ARG',
  'CMD',
  'COPY',
  'ENTRYPOINT',
  'ENV',
  'EXPOSE',
  'FROM',
  'HEALTHCHECK',
  'LABEL',
  'MAINTAINER',
  'ONBUILD',
  'RUN',
  'SHELL',
  'STOPSIGNAL',
  'USER',
  'VOLUME',
  'WORKDIR',
] as const;

const KNOWN = new Set<string>(INSTRUCTIONS);
/** Instructions whose arguments may be a JSON array (exec form). */
const MAYBE_JSON = new Set(['ADD', 'CMD', 'COPY', 'ENTRYPOINT', 'RUN', 'SHELL', 'VOLUME']);
const HEREDOC_CAPABLE = new Set(['ADD', 'COPY', 'RUN']);

/** bufio.MaxScanTokenSize - 1: the longest line Docker's scanner accepts. */
const MAX_LINE_BYTES = 65535;

const DIRECTIVE_RE = /^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/u;
const HEREDOC_RE = /^(\d*)<<(-?)\s*([^<]*)$/u;
const WHITESPACE_SPLIT_RE = /[\t\v\f\r ]+/u;

export interface ParseOptions {
  /** The Dockerfile's name, for messages. */
  name?: string;
}

class DirectiveParser {
  done = false;
  readonly seen = new Set<string>();

  /** Returns the directive on this (left-trimmed) line, or undefined once directives are over. */
  parse(line: string): { key: string; value: string } | undefined {
    if (this.done) return undefined;
    if (!line.startsWith('#')) {
      this.done = true;
      return undefined;
    }
    const m = DIRECTIVE_RE.exec(line.slice(1).trimStart());
    const key = m?.[1]?.toLowerCase();
    if (!m || key === undefined || !['syntax', 'escape', 'check'].includes(key)) {
      this.done = true;
      return undefined;
    }
    if (this.seen.has(key)) throw new Error(`only one ${key} parser directive can be used`);
    this.seen.add(key);
    return { key, value: m[2] ?? '' };
  }
}

function isComment(line: string): boolean {
  return line.trimStart().startsWith('#');
}

function trimNewline(line: string): string {
  return line.replace(/[\r\n]+$/u, '');
}

function continuationRegExp(escape: EscapeToken): RegExp {
  const e = escape === '\\' ? '\\\\' : '`';
  return new RegExp(`([^${e}])${e}[ \\t]*$|^${e}[ \\t]*$`, 'u');
}

function byteLength(line: string): number {
  // Every UTF-16 unit is at most 3 UTF-8 bytes: skip the count for ordinary lines.
  return line.length * 3 <= MAX_LINE_BYTES ? line.length : Buffer.byteLength(line, 'utf8');
}

/** Levenshtein distance, for "did you mean" suggestions. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur.push(Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

/** The closest option within distance 2, in the case style of `value` (BuildKit's suggest). */
export function suggest(value: string, options: readonly string[], caseSensitive: boolean): string | undefined {
  const v = caseSensitive ? value : value.toLowerCase();
  let best: string | undefined;
  let min = 3;
  for (const option of options) {
    const o = caseSensitive ? option : option.toLowerCase();
    if (o === v) return undefined;
    const d = distance(v, o);
    if (d < min) {
      min = d;
      best = o;
    }
  }
  if (best === undefined || caseSensitive) return best;
  if (value === value.toLowerCase()) return best.toLowerCase();
  if (value === value.toUpperCase()) return best.toUpperCase();
  return best;
}

export function withSuggestion(message: string, value: string, options: readonly string[], caseSensitive: boolean): string {
  const match = suggest(value, options, caseSensitive);
  return match === undefined ? message : `${message} (did you mean ${match}?)`;
}

/** Splits leading `--flag[=value]` words off the arguments, with quotes and escapes as Docker's. */
export function extractFlags(line: string, escape: EscapeToken): { flags: RawInstruction['flags']; rest: string } {
  const words: string[] = [];
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let word = '';
  let quote = '';
  let blankOK = false;
  let restAt = line.length;
  for (let pos = 0; pos <= line.length; pos++) {
    const ch = line[pos] ?? '';
    if (phase === 'spaces') {
      if (pos === line.length) break;
      if (/\s/u.test(ch)) continue;
      if (ch !== '-' || line[pos + 1] !== '-') {
        restAt = pos;
        break;
      }
      phase = 'word';
    }
    if (pos === line.length) {
      if (word !== '--' && (blankOK || word.length > 0)) words.push(word);
      break;
    }
    if (phase === 'word') {
      if (/\s/u.test(ch)) {
        phase = 'spaces';
        if (word === '--') {
          restAt = pos;
          break;
        }
        if (blankOK || word.length > 0) words.push(word);
        word = '';
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = 'quote';
        continue;
      }
      let c = ch;
      if (c === escape) {
        if (pos + 1 === line.length) continue;
        c = line[++pos] ?? '';
      }
      word += c;
      continue;
    }
    // phase === 'quote'
    if (ch === quote) {
      phase = 'word';
      continue;
    }
    let c = ch;
    if (c === escape) {
      if (pos + 1 === line.length) {
        phase = 'word';
        continue;
      }
      c = line[++pos] ?? '';
    }
    word += c;
  }
  const flags = words.map((w) => {
    const body = w.startsWith('--') ? w.slice(2) : w;
    const eq = body.indexOf('=');
    return eq < 0 ? { name: body, value: undefined } : { name: body.slice(0, eq), value: body.slice(eq + 1) };
  });
  return { flags, rest: line.slice(restAt).trim() };
}

/**
 * Parses `rest` as exec form: undefined when it is not a JSON array (shell form), an error
 * when it is an array holding something other than strings.
 */
export function parseJsonArray(rest: string): string[] | undefined {
  const text = rest.trimStart();
  if (!text.startsWith('[')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value)) return undefined;
  const out: string[] = [];
  for (const item of value) {
    if (typeof item !== 'string') {
      throw new Error('when using JSON array syntax, arrays must be comprised of strings only');
    }
    out.push(item);
  }
  return out;
}

/** The heredoc words (`<<EOF`, `<<-"EOF"`, `2<<EOF`) of one instruction line, as Docker finds them. */
export function heredocsInLine(line: string): Array<Omit<Heredoc, 'content'>> {
  let words: string[];
  try {
    words = lex(line, new Map(), { rawQuotes: true, rawEscapes: true, skipUnsetEnv: true }).words;
  } catch {
    return [];
  }
  const docs: Array<Omit<Heredoc, 'content'>> = [];
  for (const word of words) {
    const doc = parseHeredocWord(word);
    if (doc) docs.push(doc);
  }
  return docs;
}

/** One heredoc word, or undefined when `word` is not one. */
export function parseHeredocWord(word: string): Omit<Heredoc, 'content'> | undefined {
  const m = HEREDOC_RE.exec(word);
  const rest = m?.[3] ?? '';
  if (!m || rest === '') return undefined;
  const plain = lex(rest, new Map(), { skipUnsetEnv: true }).words;
  if (plain.length !== 1 || plain[0] === undefined) return undefined;
  const raw = lex(rest, new Map(), { skipUnsetEnv: true, rawQuotes: true }).words;
  const quotes = (s: string): number => (s.match(/['"]/gu) ?? []).length;
  return {
    name: plain[0],
    expand: quotes(plain[0]) === quotes(raw[0] ?? ''),
    chomp: m[2] === '-',
  };
}

interface Split {
  keyword: string;
  written: string;
  flags: RawInstruction['flags'];
  rest: string;
}

function splitCommand(line: string, escape: EscapeToken): Split {
  const trimmed = line.trim();
  const m = WHITESPACE_SPLIT_RE.exec(trimmed);
  const written = m ? trimmed.slice(0, m.index) : trimmed;
  const args = m ? trimmed.slice(m.index + m[0].length) : '';
  const { flags, rest } = args === '' ? { flags: [], rest: '' } : extractFlags(args, escape);
  return { keyword: written.toUpperCase(), written, flags, rest };
}

/** Checks what BuildKit's line parsers check for ENV and LABEL (key=value shape). */
function checkNameVal(keyword: string, rest: string, escape: EscapeToken): void {
  const words = splitNameValWords(rest, escape);
  if (words.length === 0) return;
  if (!(words[0] ?? '').includes('=')) {
    if (rest.split(WHITESPACE_SPLIT_RE).length < 2) {
      throw new Error(`${keyword} must have two arguments`);
    }
    return;
  }
  for (const word of words) {
    if (!word.includes('=')) {
      throw new Error(`Syntax error - can't find = in ${JSON.stringify(word)}. Must be of the form: name=value`);
    }
  }
}

/**
 * Splits on unquoted whitespace keeping quotes and escapes as written (BuildKit's parseWords,
 * used for ENV, LABEL and ARG before each part is expanded).
 */
export function splitNameValWords(rest: string, escape: EscapeToken): string[] {
  const words: string[] = [];
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let quote = '';
  let blankOK = false;
  let buf = '';
  const chars = Array.from(rest);
  for (let pos = 0; pos <= chars.length; pos++) {
    let ch = chars[pos] ?? '';
    const atEnd = pos === chars.length;
    if (phase === 'spaces') {
      if (atEnd) break;
      if (/\s/u.test(ch)) continue;
      phase = 'word';
    }
    if (atEnd) {
      if (blankOK || buf.length > 0) words.push(buf);
      break;
    }
    if (phase === 'word') {
      if (/\s/u.test(ch)) {
        phase = 'spaces';
        if (blankOK || buf.length > 0) words.push(buf);
        buf = '';
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = 'quote';
      }
      if (ch === escape) {
        if (pos + 1 === chars.length) continue;
        buf += ch;
        ch = chars[++pos] ?? '';
      }
      buf += ch;
      continue;
    }
    if (ch === quote) phase = 'word';
    if (ch === escape && quote !== "'") {
      if (pos + 1 === chars.length) {
        phase = 'word';
        continue;
      }
      buf += ch;
      ch = chars[++pos] ?? '';
    }
    buf += ch;
  }
  return words;
}

function canContainHeredoc(split: Split, escape: EscapeToken): boolean {
  if (split.keyword === 'ONBUILD') {
    if (split.rest === '') return false;
    return canContainHeredoc(splitCommand(split.rest, escape), escape);
  }
  if (!HEREDOC_CAPABLE.has(split.keyword)) return false;
  return parseJsonArray(split.rest) === undefined;
}

/** Parser-level checks of one instruction (BuildKit's line parsers); throws plain Errors. */
function checkLine(split: Split, escape: EscapeToken): string[] | undefined {
  switch (split.keyword) {
    case 'ENV':
    case 'LABEL':
      checkNameVal(split.keyword, split.rest, escape);
      return undefined;
    case 'ONBUILD': {
      if (split.rest === '') return undefined;
      checkLine(splitCommand(split.rest, escape), escape);
      return undefined;
    }
    case 'HEALTHCHECK': {
      const m = /\s/u.exec(split.rest);
      if (!m) return undefined;
      return split.rest === '' ? undefined : parseJsonArray(split.rest.slice(m.index).trimStart());
    }
    default:
      if (!MAYBE_JSON.has(split.keyword) || split.rest === '') return undefined;
      return parseJsonArray(split.rest);
  }
}

/** Parses Dockerfile text into directives and raw instructions, without expanding anything. */
export function parseDockerfile(text: string, opts: ParseOptions = {}): ParsedDockerfile {
  void opts;
  if (text.length === 0) throw new DockerfileError('the Dockerfile cannot be empty', 1);
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const lines = body.split('\n');
  if (lines.at(-1) === '') lines.pop();

  const directives: ParsedDockerfile['directives'] = { escape: '\\' };
  const parser = new DirectiveParser();
  let continuation = continuationRegExp('\\');
  const instructions: RawInstruction[] = [];
  const warnings: string[] = [];
  let lineNo = 0;

  const readLine = (): string | undefined => {
    const line = lines[lineNo];
    if (line === undefined) return undefined;
    lineNo++;
    if (byteLength(line) > MAX_LINE_BYTES) {
      throw new DockerfileError(`dockerfile line greater than max allowed size of ${MAX_LINE_BYTES}`, lineNo);
    }
    return line;
  };
  const directive = (token: string): void => {
    let found: { key: string; value: string } | undefined;
    try {
      found = parser.parse(token);
    } catch (err) {
      throw new DockerfileError((err as Error).message, lineNo);
    }
    if (!found) return;
    if (found.key === 'escape') {
      if (found.value !== '`' && found.value !== '\\') {
        throw new DockerfileError(`invalid escape token '${found.value}' does not match \` or \\`, lineNo);
      }
      directives.escape = found.value;
      continuation = continuationRegExp(found.value);
    } else if (found.key === 'syntax') {
      directives.syntax = found.value;
    } else {
      directives.check = found.value;
    }
  };
  const trimContinuation = (line: string): { text: string; end: boolean } => {
    if (continuation.test(line)) return { text: line.replace(continuation, '$1'), end: false };
    return { text: line, end: true };
  };

  for (let raw = readLine(); raw !== undefined; raw = readLine()) {
    const comment = isComment(raw);
    const token = trimNewline(raw).trimStart();
    directive(token);
    const first = trimContinuation(comment ? '' : token);
    if (first.end && first.text.length === 0) continue;

    const startLine = lineNo;
    let joined = first.text;
    let end = first.end;
    let emptyContinuation = false;
    while (!end) {
      const next = readLine();
      if (next === undefined) break;
      const t = trimNewline(next);
      directive(t);
      if (isComment(next)) continue;
      if (t.trim().length === 0) {
        emptyContinuation = true;
        continue;
      }
      const c = trimContinuation(t);
      joined += c.text;
      end = c.end;
    }
    if (emptyContinuation) warnings.push(`Empty continuation line found in: ${joined}`);

    const split = splitCommand(joined, directives.escape);
    let json: string[] | undefined;
    try {
      json = checkLine(split, directives.escape);
    } catch (err) {
      if (err instanceof DockerfileError) throw err;
      throw new DockerfileError((err as Error).message, startLine);
    }

    const heredocs: Heredoc[] = [];
    if (canContainHeredoc(split, directives.escape) && joined.includes('<<')) {
      for (const doc of heredocsInLine(joined)) {
        let content = '';
        let terminated = false;
        for (let line = readLine(); line !== undefined; line = readLine()) {
          let candidate = trimNewline(line);
          if (doc.chomp) candidate = candidate.replace(/^\t+/u, '');
          if (candidate === doc.name) {
            terminated = true;
            break;
          }
          content += `${doc.chomp ? line.replace(/^\t+/u, '') : line}\n`;
        }
        if (!terminated) throw new DockerfileError('unterminated heredoc', startLine);
        heredocs.push({ ...doc, content });
      }
    }

    const instruction: RawInstruction = {
      keyword: split.keyword,
      original: joined,
      flags: split.flags,
      rest: split.rest,
      heredocs,
      startLine,
      endLine: lineNo,
    };
    if (json !== undefined) instruction.json = json;
    instructions.push(instruction);
  }

  if (instructions.length === 0) throw new DockerfileError('file with no instructions', lineNo);

  // Instruction-level checks come after the whole file parsed, in order, as in BuildKit.
  let sawFrom = false;
  for (const ins of instructions) {
    if (!KNOWN.has(ins.keyword)) {
      const written = ins.original.trim().split(WHITESPACE_SPLIT_RE, 1)[0] ?? ins.keyword;
      throw new DockerfileError(
        withSuggestion(`unknown instruction: ${written}`, written, INSTRUCTIONS, false),
        ins.startLine,
      );
    }
    if (ins.keyword === 'FROM') sawFrom = true;
    else if (!sawFrom && ins.keyword !== 'ARG') {
      throw new DockerfileError('no build stage in current context', ins.startLine);
    }
  }
  return { directives, instructions, warnings };
}
