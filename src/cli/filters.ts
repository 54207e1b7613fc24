// `--filter key=value` flags to the Engine API's `filters` query: {"key": {"value": true}}.

export type Filters = Record<string, Record<string, boolean>>;

export function parseFilters(specs: readonly string[]): Filters {
  const filters: Filters = {};
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    if (eq <= 0) throw new Error(`bad format of filter (expected name=value)`);
    const key = spec.slice(0, eq).trim().toLowerCase();
    const value = spec.slice(eq + 1).trim();
    (filters[key] ??= {})[value] = true;
  }
  return filters;
}

/** The query value for `filters`, or undefined when there are none. */
export function filtersQuery(specs: readonly string[]): string | undefined {
  return specs.length === 0 ? undefined : JSON.stringify(parseFilters(specs));
}
