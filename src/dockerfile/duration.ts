// Go's time.ParseDuration, for HEALTHCHECK's flags (`30s`, `1m30s`, `1.5h`, `300ms`), and Go's
// Duration.String for the texts that show one.

const UNITS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  'µs': 1e3,
  'μs': 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** Nanoseconds in a Go duration string; throws with Go's message when it is not one. */
export function duration(text: string): number {
  const invalid = (): Error => new Error(`time: invalid duration ${JSON.stringify(text)}`);
  let s = text;
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') throw invalid();
  let total = 0;
  while (s !== '') {
    const m = /^(\d*)(?:\.(\d*))?/u.exec(s);
    const whole = m?.[1] ?? '';
    const frac = m?.[2];
    if (whole === '' && (frac === undefined || frac === '')) throw invalid();
    s = s.slice(m?.[0].length ?? 0);
    const u = /^[^\d.]+/u.exec(s)?.[0] ?? '';
    if (u === '') throw new Error(`time: missing unit in duration ${JSON.stringify(text)}`);
    const unit = UNITS[u];
    if (unit === undefined) throw new Error(`time: unknown unit ${JSON.stringify(u)} in duration ${JSON.stringify(text)}`);
    s = s.slice(u.length);
    total += Number(whole || '0') * unit + (frac ? Number(`0.${frac}`) * unit : 0);
  }
  if (total > 2 ** 63 - 1) throw invalid();
  return sign * Math.round(total);
}

/** Nanoseconds as a Go duration string (`1m30s`, `500ms`). */
export function formatDuration(ns: number): string {
  if (ns === 0) return '0s';
  const sign = ns < 0 ? '-' : '';
  let rest = Math.abs(ns);
  if (rest < 1e9) {
    for (const [unit, size] of [['ms', 1e6], ['µs', 1e3], ['ns', 1]] as const) {
      if (rest >= size) return `${sign}${rest / size}${unit}`;
    }
  }
  let out = '';
  const h = Math.floor(rest / 3600e9);
  rest -= h * 3600e9;
  const m = Math.floor(rest / 60e9);
  rest -= m * 60e9;
  if (h > 0) out += `${h}h`;
  if (h > 0 || m > 0) out += `${m}m`;
  return `${sign}${out}${rest / 1e9}s`;
}
