import { DockerfileError } from './types.ts';

// Builder variable substitution with the rules of Docker's shell lexer: a subset of POSIX
// word expansion (parameters, quotes, escapes), no command substitution, no globbing.

export type EscapeToken = '\\' | '`';

export interface LexOptions {
  escape?: EscapeToken;
  /** Keep quote characters in the result (quotes still protect their content). */
  rawQuotes?: boolean;
  /** Keep escape characters in the result. */
  rawEscapes?: boolean;
  /** Leave references to unset variables as written instead of expanding them to nothing. */
  skipUnsetEnv?: boolean;
}

const EOF = '';

class LexError extends Error {}

class Words {
  words: string[] = [];
  buf = '';
  inWord = false;

  addChar(ch: string): void {
    if (isSpace(ch)) {
      if (this.inWord && this.buf.length > 0) {
        this.words.push(this.buf);
        this.buf = '';
        this.inWord = false;
      }
    } else {
      this.addRawChar(ch);
    }
  }
  addRawChar(ch: string): void {
    this.buf += ch;
    this.inWord = true;
  }
  addString(s: string): void {
    for (const ch of s) this.addChar(ch);
  }
  addRawString(s: string): void {
    this.buf += s;
    this.inWord = true;
  }
  finish(): string[] {
    if (this.buf.length > 0) {
      this.words.push(this.buf);
      this.buf = '';
      this.inWord = false;
    }
    return this.words;
  }
}

function isSpace(ch: string): boolean {
  return /^\s$/u.test(ch);
}

function isDigit(ch: string): boolean {
  return /^\p{Nd}$/u.test(ch);
}

function isNameChar(ch: string): boolean {
  return /^[\p{L}\p{Nd}_]$/u.test(ch);
}

const SPECIAL_PARAMS = new Set(['@', '*', '#', '?', '-', '$', '!', '0']);

class Lexer {
  readonly #chars: string[];
  #pos = 0;
  readonly #env: ReadonlyMap<string, string>;
  readonly #escape: string;
  readonly #rawQuotes: boolean;
  #rawEscapes: boolean;
  readonly #skipUnset: boolean;

  constructor(source: string, env: ReadonlyMap<string, string>, opts: LexOptions) {
    this.#chars = Array.from(source);
    this.#env = env;
    this.#escape = opts.escape ?? '\\';
    this.#rawQuotes = opts.rawQuotes ?? false;
    this.#rawEscapes = opts.rawEscapes ?? false;
    this.#skipUnset = opts.skipUnsetEnv ?? false;
  }

  #peek(): string {
    return this.#chars[this.#pos] ?? EOF;
  }

  #next(): string {
    const ch = this.#chars[this.#pos] ?? EOF;
    if (ch !== EOF) this.#pos++;
    return ch;
  }

  /** Reads up to `stop` (consumed) or the end; returns the word and its field-split words. */
  processStopOn(stop: string, rawEscapes: boolean): { word: string; words: string[] } {
    const saved = this.#rawEscapes;
    this.#rawEscapes = rawEscapes;
    try {
      let result = '';
      const words = new Words();
      while (this.#peek() !== EOF) {
        let ch = this.#peek();
        if (stop !== EOF && ch === stop) {
          this.#next();
          return { word: result, words: words.finish() };
        }
        if (ch === '$' || ch === '<' || ch === "'" || ch === '"') {
          const piece =
            ch === '$'
              ? this.#processDollar()
              : ch === '<'
                ? this.#processPossibleHeredoc()
                : ch === "'"
                  ? this.#processSingleQuote()
                  : this.#processDoubleQuote();
          result += piece;
          if (ch === '$') words.addString(piece);
          else words.addRawString(piece);
          continue;
        }
        ch = this.#next();
        if (ch === this.#escape) {
          if (this.#rawEscapes) {
            words.addRawChar(ch);
            result += ch;
          }
          ch = this.#next();
          if (ch === EOF) break;
          words.addRawChar(ch);
        } else {
          words.addChar(ch);
        }
        result += ch;
      }
      if (stop !== EOF) throw new LexError(`unexpected end of statement while looking for matching ${stop}`);
      return { word: result, words: words.finish() };
    } finally {
      this.#rawEscapes = saved;
    }
  }

  #processSingleQuote(): string {
    let result = '';
    const open = this.#next();
    if (this.#rawQuotes) result += open;
    for (;;) {
      const ch = this.#next();
      if (ch === EOF) throw new LexError('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") {
        if (this.#rawQuotes) result += ch;
        return result;
      }
      result += ch;
    }
  }

  #processDoubleQuote(): string {
    let result = '';
    const open = this.#next();
    if (this.#rawQuotes) result += open;
    for (;;) {
      const peek = this.#peek();
      if (peek === EOF) throw new LexError('unexpected end of statement while looking for matching double-quote');
      if (peek === '"') {
        const ch = this.#next();
        if (this.#rawQuotes) result += ch;
        return result;
      }
      if (peek === '$') {
        result += this.#processDollar();
        continue;
      }
      let ch = this.#next();
      if (ch === this.#escape) {
        if (this.#rawEscapes) result += ch;
        const after = this.#peek();
        if (after === EOF) continue;
        // Only these can be escaped inside double quotes; other escapes stay as written.
        if (after === '"' || after === '$' || after === this.#escape) ch = this.#next();
      }
      result += ch;
    }
  }

  #processName(): string {
    let name = '';
    while (this.#peek() !== EOF) {
      const ch = this.#peek();
      if (name.length === 0 && isDigit(ch)) {
        while (this.#peek() !== EOF && isDigit(this.#peek())) name += this.#next();
        return name;
      }
      if (name.length === 0 && SPECIAL_PARAMS.has(ch)) return this.#next();
      if (!isNameChar(ch)) break;
      name += this.#next();
    }
    return name;
  }

  #lookup(name: string): string | undefined {
    return this.#env.get(name);
  }

  #processDollar(): string {
    this.#next();
    if (this.#peek() !== '{') {
      const name = this.#processName();
      if (name === '') return '$';
      const value = this.#lookup(name);
      if (value === undefined && this.#skipUnset) return `$${name}`;
      return value ?? '';
    }
    this.#next();
    const first = this.#peek();
    if (first === EOF) throw new LexError("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw new LexError('syntax error: bad substitution');
    const name = this.#processName();
    let ch = this.#next();
    let chs = ch;
    // BuildKit reports a modifier of U+FFFD here; naming the missing brace is clearer.
    if (ch === EOF) throw new LexError("syntax error: missing '}'");
    if (ch === '}') {
      const value = this.#lookup(name);
      if (value === undefined && this.#skipUnset) return `\${${name}}`;
      return value ?? '';
    }
    if (ch === '/') return this.#processReplace(name);
    let nullIsUnset = false;
    if (ch === ':') {
      nullIsUnset = true;
      ch = this.#next();
      chs += ch;
    } else if (!['+', '-', '?', '#', '%'].includes(ch)) {
      throw new LexError(`unsupported modifier (${chs}) in substitution`);
    }
    const patternOp = ch === '#' || ch === '%';
    if (nullIsUnset && patternOp) throw new LexError(`unsupported modifier (${chs}) in substitution`);
    let word: string;
    try {
      word = this.processStopOn('}', patternOp).word;
    } catch (err) {
      if (this.#peek() === EOF) throw new LexError("syntax error: missing '}'");
      throw err;
    }
    const value = this.#lookup(name);
    if (value === undefined && this.#skipUnset) return `\${${name}${chs}${word}}`;
    const unset = value === undefined || (nullIsUnset && value === '');
    switch (ch) {
      case '-':
        return unset ? word : (value ?? '');
      case '+':
        return unset ? '' : word;
      case '?':
        if (value === undefined) throw new LexError(`${name}: ${word !== '' ? word : 'is not allowed to be unset'}`);
        if (nullIsUnset && value === '') throw new LexError(`${name}: ${word !== '' ? word : 'is not allowed to be empty'}`);
        return value;
      case '#':
      case '%': {
        let pattern = word;
        let greedy = false;
        if (pattern.startsWith(ch)) {
          greedy = true;
          pattern = pattern.slice(1);
        }
        return trimPattern(value ?? '', pattern, ch === '%' ? 'suffix' : 'prefix', greedy);
      }
      default:
        throw new LexError(`unsupported modifier (${chs}) in substitution`);
    }
  }

  #processReplace(name: string): string {
    const all = this.#peek() === '/';
    if (all) this.#next();
    let pattern: string;
    let replacement: string;
    try {
      pattern = this.processStopOn('/', true).word;
    } catch (err) {
      if (this.#peek() === EOF) throw new LexError("syntax error: missing '/' in ${}");
      throw err;
    }
    try {
      replacement = this.processStopOn('}', true).word;
    } catch (err) {
      if (this.#peek() === EOF) throw new LexError("syntax error: missing '}'");
      throw err;
    }
    const value = this.#lookup(name);
    if (value === undefined && this.#skipUnset) return `\${${name}/${pattern}/${replacement}}`;
    const re = shellPatternToRegExp(pattern, all ? 'g' : '');
    return (value ?? '').replace(re, () => replacement);
  }

  #processPossibleHeredoc(): string {
    this.#next();
    if (this.#peek() !== '<') return '<';
    this.#next();
    let space = '';
    while (this.#peek() === ' ' || this.#peek() === '\t') space += this.#next();
    return `<<${space}`;
  }
}

/** Converts a shell glob (`*`, `?`, `[…]`, escapes) to a regular expression body. */
function shellPatternToSource(pattern: string, greedy: boolean): string {
  let out = '';
  const chars = Array.from(pattern);
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] as string;
    if (ch === '*') out += greedy ? '.*' : '.*?';
    else if (ch === '?') out += '.';
    else if (ch === '\\' && i + 1 < chars.length) out += escapeRegExp(chars[++i] as string);
    else if (ch === '[') {
      const close = chars.indexOf(']', i + 2);
      if (close < 0) out += '\\[';
      else {
        let cls = chars.slice(i + 1, close).join('');
        if (cls.startsWith('!')) cls = `^${cls.slice(1)}`;
        out += `[${cls.replace(/\\(?!.)/u, '\\\\')}]`;
        i = close;
      }
    } else out += escapeRegExp(ch);
  }
  return out;
}

function shellPatternToRegExp(pattern: string, flags: string): RegExp {
  return new RegExp(shellPatternToSource(pattern, true), `${flags}su`);
}

function trimPattern(value: string, pattern: string, side: 'prefix' | 'suffix', greedy: boolean): string {
  if (side === 'prefix') {
    const m = new RegExp(`^(?:${shellPatternToSource(pattern, greedy)})`, 'su').exec(value);
    return m ? value.slice(m[0].length) : value;
  }
  // Shortest suffix first unless greedy: try each start position from the end (or the front).
  const re = new RegExp(`^(?:${shellPatternToSource(pattern, true)})$`, 'su');
  const chars = Array.from(value);
  if (greedy) {
    for (let i = 0; i <= chars.length; i++) if (re.test(chars.slice(i).join(''))) return chars.slice(0, i).join('');
  } else {
    for (let i = chars.length; i >= 0; i--) if (re.test(chars.slice(i).join(''))) return chars.slice(0, i).join('');
  }
  return value;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/gu, '\\$&');
}

function fail(source: string, err: unknown): never {
  if (err instanceof LexError) throw new DockerfileError(`failed to process ${JSON.stringify(source)}: ${err.message}`);
  throw err;
}

/**
 * Expands one word as Docker's ProcessWord does: variables substituted, quotes and escapes
 * removed, whitespace kept. Errors (`${X:?}`, unbalanced quotes) are DockerfileErrors.
 */
export function expand(word: string, env: ReadonlyMap<string, string>, escape: EscapeToken = '\\'): string {
  try {
    return new Lexer(word, env, { escape }).processStopOn(EOF, false).word;
  } catch (err) {
    fail(word, err);
  }
}

/**
 * Expands text as Docker's ProcessWords does: like `expand`, then split on whitespace that
 * is neither quoted, escaped nor inside a quoted expansion.
 */
export function expandWords(text: string, env: ReadonlyMap<string, string>, escape: EscapeToken = '\\'): string[] {
  try {
    return new Lexer(text, env, { escape }).processStopOn(EOF, false).words;
  } catch (err) {
    fail(text, err);
  }
}

/** The lexer with every option, for the parser's own uses (heredoc detection). */
export function lex(
  text: string,
  env: ReadonlyMap<string, string>,
  opts: LexOptions,
): { word: string; words: string[] } {
  try {
    return new Lexer(text, env, opts).processStopOn(EOF, opts.rawEscapes ?? false);
  } catch (err) {
    fail(text, err);
  }
}
