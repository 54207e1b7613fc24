import { lex, type EscapeToken } from './lex.ts';
import type { Heredoc, RawInstruction } from './types.ts';

// Word splitting as BuildKit's line parsers do it, before any expansion: flags, exec form,
// name=value words and heredoc markers.

const HEREDOC_RE = /^(\d*)<<(-?)\s*([^<]*)$/u;

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
