// "Did you mean" suggestions, as BuildKit adds them to unknown names.

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
