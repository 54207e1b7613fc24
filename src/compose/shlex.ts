// Splits a command string into words the way a POSIX shell would (quotes and backslashes, no
// expansion), for `command:` and `entrypoint:` given as strings.

import { invalidParameter } from '../core/errors.ts';

export function shellSplit(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i] ?? '';
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      i++;
    } else if (c === '\\') {
      if (i + 1 < text.length && text[i + 1] !== '\n') word += text[i + 1];
      inWord = true;
      i += 2;
    } else if (c === "'") {
      const close = text.indexOf("'", i + 1);
      if (close === -1) throw invalidParameter(`invalid command line string: unterminated quote in ${JSON.stringify(text)}`);
      word += text.slice(i + 1, close);
      inWord = true;
      i = close + 1;
    } else if (c === '"') {
      let k = i + 1;
      while (k < text.length && text[k] !== '"') {
        if (text[k] === '\\' && '"\\$`\n'.includes(text[k + 1] ?? 'x')) {
          if (text[k + 1] !== '\n') word += text[k + 1];
          k += 2;
        } else {
          word += text[k];
          k++;
        }
      }
      if (k >= text.length) throw invalidParameter(`invalid command line string: unterminated quote in ${JSON.stringify(text)}`);
      inWord = true;
      i = k + 1;
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(word);
  return words;
}
