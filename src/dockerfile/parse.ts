import { checkInstruction } from './decode.ts';
import type { EscapeToken } from './lex.ts';
import { withSuggestion } from './suggest.ts';
import { extractFlags, heredocsInLine, parseJsonArray, splitNameValWords } from './words.ts';
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
// `opts.name` is accepted for callers that label messages; errors carry the line, not the file name.
export function parseDockerfile(text: string, _opts: ParseOptions = {}): ParsedDockerfile {
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
    checkInstruction(ins, directives.escape);
    if (ins.keyword === 'FROM') sawFrom = true;
    else if (!sawFrom && ins.keyword !== 'ARG') {
      throw new DockerfileError('no build stage in current context', ins.startLine);
    }
    if (ins.keyword === 'MAINTAINER') {
      warnings.push(`MAINTAINER instruction is deprecated in favor of using label (line ${ins.startLine})`);
    }
  }
  return { directives, instructions, warnings };
}
