import { posix } from 'node:path';
import { DockerfileError } from './types.ts';

// .dockerignore with Docker's semantics (moby/patternmatcher): Go filepath.Match syntax plus
// `**`, a pattern that matches a directory covers everything below it, `!` re-includes, and
// the last pattern that matches decides.

export interface IgnoreMatcher {
  /** Whether `path` (relative to the context root, `/`-separated) is left out of the context. */
  ignores(path: string): boolean;
  /**
   * False when no pattern can match any path strictly below `dir`: every path below then gets
   * the answer `ignores(dir)` gives, so a walker need not look inside (to skip or to take all).
   */
  mayMatchUnder(dir: string): boolean;
}

interface Pattern {
  text: string;
  exclusion: boolean;
  re: RegExp;
  /** Path segments of the pattern, each a single-segment matcher, `**`, or unknown (conservative). */
  segments: Array<RegExp | '**' | 'any'>;
}

const REGEXP_SPECIAL = new Set(['.', '+', '(', ')', '|', '{', '}', '$', '^']);

/** Translates a pattern (or one segment of it) the way patternmatcher builds its regexp. */
function toRegExpSource(pattern: string): string {
  const chars = Array.from(pattern);
  let out = '';
  let inClass = false;
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] as string;
    if (inClass) {
      if (ch === ']') inClass = false;
      if (ch === '\\') {
        const next = chars[++i];
        out += next === undefined ? '\\\\' : `\\${next}`;
        continue;
      }
      out += ch === '[' ? '\\[' : ch;
      continue;
    }
    if (ch === '*') {
      if (chars[i + 1] === '*') {
        i++;
        if (chars[i + 1] === '/') i++;
        out += i + 1 >= chars.length ? '.*' : '(.*/)?';
      } else out += '[^/]*';
    } else if (ch === '?') out += '[^/]';
    else if (ch === '\\') {
      const next = chars[++i];
      out += next === undefined ? '\\\\' : `\\${next}`;
    } else if (ch === '[') {
      inClass = true;
      out += '[';
      if (chars[i + 1] === '^') {
        out += '^';
        i++;
      }
    } else if (ch === ']') out += '\\]';
    else if (REGEXP_SPECIAL.has(ch)) out += `\\${ch}`;
    else out += ch;
  }
  if (inClass) throw new Error('unterminated character class');
  return out;
}

/** Go's filepath.Clean for `/`-separated paths. */
function clean(p: string): string {
  return posix.normalize(p).replace(/(.)\/+$/u, '$1');
}

function compilePattern(text: string, exclusion: boolean): Pattern {
  let re: RegExp;
  const segments: Pattern['segments'] = [];
  try {
    re = new RegExp(`^${toRegExpSource(text)}$`, 'su');
    for (const seg of text.split('/')) {
      if (seg === '**') segments.push('**');
      else if (seg.includes('**') || seg.endsWith('\\')) segments.push('any');
      else segments.push(new RegExp(`^${toRegExpSource(seg)}$`, 'su'));
    }
  } catch (err) {
    throw new DockerfileError(`Syntax error in pattern ${JSON.stringify(text)}: ${(err as Error).message}`);
  }
  return { text, exclusion, re, segments };
}

/** Whether the pattern can match some path that is `dir` plus at least one more segment. */
function canMatchBelow(segments: Pattern['segments'], dirSegs: string[]): boolean {
  const memo = new Map<string, boolean>();
  const go = (i: number, j: number): boolean => {
    const key = `${i},${j}`;
    const cached = memo.get(key);
    if (cached !== undefined) return cached;
    let result: boolean;
    const seg = segments[j];
    if (seg === undefined) result = false;
    else if (i === dirSegs.length) result = true;
    else if (seg === 'any') result = true;
    else if (seg === '**') result = go(i, j + 1) || go(i + 1, j) || j === segments.length - 1;
    else result = seg.test(dirSegs[i] ?? '') && go(i + 1, j + 1);
    memo.set(key, result);
    return result;
  };
  return go(0, 0);
}

/** The patterns of a .dockerignore, read as Docker's ignorefile.ReadAll reads them. */
export function readIgnorePatterns(text: string): string[] {
  const out: string[] = [];
  const lines = text.replace(/^\uFEFF/u, '').split(/\r?\n/u);
  for (const line of lines) {
    if (line.startsWith('#')) continue;
    let pattern = line.trim();
    if (pattern === '') continue;
    const invert = pattern.startsWith('!');
    if (invert) pattern = pattern.slice(1).trim();
    if (pattern.length > 0) {
      pattern = clean(pattern);
      if (pattern.length > 1 && pattern.startsWith('/')) pattern = pattern.slice(1);
    }
    out.push(invert ? `!${pattern}` : pattern);
  }
  return out;
}

/** Compiles a .dockerignore file. Throws a DockerfileError for an invalid pattern. */
export function compileIgnore(text: string): IgnoreMatcher {
  const patterns: Pattern[] = [];
  for (const raw of readIgnorePatterns(text)) {
    let p = raw.trim();
    if (p === '') continue;
    let exclusion = false;
    if (p.startsWith('!')) {
      if (p.length === 1) throw new DockerfileError('illegal exclusion pattern: "!"');
      exclusion = true;
      p = p.slice(1);
    }
    patterns.push(compilePattern(clean(p), exclusion));
  }

  return {
    ignores(path: string): boolean {
      const file = clean(path);
      const parents = posix.dirname(file);
      const parentDirs = parents === '.' ? [] : parents.split('/');
      let matched = false;
      for (const pattern of patterns) {
        // An include pattern cannot change a match, nor an exception a non-match.
        if (pattern.exclusion !== matched) continue;
        let match = pattern.re.test(file);
        for (let i = 0; !match && i < parentDirs.length; i++) {
          match = pattern.re.test(parentDirs.slice(0, i + 1).join('/'));
        }
        if (match) matched = !pattern.exclusion;
      }
      return matched;
    },
    mayMatchUnder(dir: string): boolean {
      const d = clean(dir);
      const dirSegs = d === '.' || d === '' ? [] : d.split('/');
      return patterns.some((p) => canMatchBelow(p.segments, dirSegs));
    },
  };
}

/** The per-Dockerfile ignore file BuildKit looks for first: `foo/Dockerfile.dev` → `foo/Dockerfile.dev.dockerignore`. */
export function dockerignoreNameFor(dockerfilePath: string): string {
  return `${dockerfilePath}.dockerignore`;
}
