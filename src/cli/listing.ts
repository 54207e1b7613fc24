// `--format` handling shared by the list commands (ps, images, stats, events): docker's default
// tables, `table ...` templates with headers, plain per-row templates and `json`.
import { renderTable } from './format.ts';
import { parseFormat } from './template.ts';

export interface ListingOptions {
  /** The user's --format, or '' for the default table. */
  format: string;
  defaultTable: string;
  /** Header text for each field name (`ID` → `CONTAINER ID`). */
  headers: Record<string, string>;
}

function headerContext(headers: Record<string, string>): Record<string, unknown> {
  const ctx: Record<string, unknown> = {};
  for (const [field, title] of Object.entries(headers)) ctx[field] = title;
  // `.Label "x"` is headed by the label's own name, as docker does.
  if ('Label' in headers) ctx['Label'] = (name: unknown) => String(name);
  return ctx;
}

/** Plain data for `--format json`: every non-function field of the row. */
function jsonRow(row: Record<string, unknown>): string {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(row).sort()) if (typeof row[k] !== 'function') out[k] = row[k];
  // Go's encoder escapes HTML characters.
  return JSON.stringify(out).replace(/[<>&]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Renders rows to the text docker prints for the given --format. */
export function renderListing(rows: readonly Record<string, unknown>[], opts: ListingOptions): string {
  const format = opts.format === '' ? opts.defaultTable : opts.format;
  if (format === 'json') return rows.map((r) => `${jsonRow(r)}\n`).join('');
  const spec = parseFormat(format, opts.defaultTable);
  if (!spec.table) return rows.map((r) => `${spec.template.execute(r)}\n`).join('');
  const lines = [spec.template.execute(headerContext(opts.headers)), ...rows.map((r) => spec.template.execute(r))];
  return renderTable(lines.map((l) => l.split('\t')));
}
