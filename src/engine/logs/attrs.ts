// The extra attributes Docker's log drivers attach to every line of a container (the `labels`,
// `labels-regex`, `env` and `env-regex` log options name them), as `logs --details` prints them:
// `k=v` pairs, keys sorted, query-escaped, joined by commas.

/** The attributes of a container's lines, by its log options, labels and environment. */
export function logAttributes(logConfig: Record<string, string>, labels: Record<string, string>, env: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const names = (k: string): string[] => (logConfig[k] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const regex = (k: string): RegExp | undefined => {
    const src = logConfig[k];
    if (!src) return undefined;
    try {
      return new RegExp(src);
    } catch {
      return undefined;
    }
  };
  for (const k of names('labels')) if (k in labels) out[k] = labels[k]!;
  const lr = regex('labels-regex');
  if (lr) for (const [k, v] of Object.entries(labels)) if (lr.test(k)) out[k] = v;
  const envMap = new Map<string, string>();
  for (const e of env) {
    const i = e.indexOf('=');
    if (i > 0) envMap.set(e.slice(0, i), e.slice(i + 1));
  }
  for (const k of names('env')) if (envMap.has(k)) out[k] = envMap.get(k)!;
  const er = regex('env-regex');
  if (er) for (const [k, v] of envMap) if (er.test(k)) out[k] = v;
  return out;
}

/** Go's url.QueryEscape: spaces as `+`, everything but unreserved characters percent-encoded. */
function queryEscape(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`).replace(/%20/g, '+');
}

/** The `--details` prefix of each line: the attributes and a space (only the space without any). */
export function detailsPrefix(attrs: Record<string, string>): string {
  const pairs = Object.keys(attrs)
    .sort()
    .map((k) => `${queryEscape(k)}=${queryEscape(attrs[k]!)}`);
  return `${pairs.join(',')} `;
}
