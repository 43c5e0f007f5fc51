// Formatting shared by the review and report renderers: escaping for HTML and Markdown, dates, durations, and the
// printable HTML page every document is wrapped in (no script, no external asset: it prints and mails as one file).
import { formatDuration } from '../../domain/duration';

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Any value as HTML text: every markup character escaped. */
export function html(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/** Text for a Markdown table cell or line: pipes, markup and line breaks neutralised. */
export function md(value: unknown): string {
  return String(value ?? '')
    .replace(/\r?\n/g, ' ')
    .replace(/([\\`*_{}[\]<>|#])/g, '\\$1');
}

export function iso(ms: number | undefined): string {
  return ms === undefined ? '-' : new Date(ms).toISOString().replace('.000Z', 'Z');
}

export function day(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function dur(ms: number | null | undefined): string {
  return ms === undefined || ms === null ? '-' : formatDuration(Math.max(0, ms));
}

export function pct(rate: number | null): string {
  return rate === null ? 'n/a' : `${Math.round(rate * 1000) / 10}%`;
}

/** A Markdown table; cells are escaped. */
export function mdTable(head: string[], rows: unknown[][]): string {
  if (rows.length === 0) return '_none_';
  return [
    `| ${head.map(md).join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(md).join(' | ')} |`),
  ].join('\n');
}

/** An HTML table; cells are escaped unless given as `{ raw }`. */
export function htmlTable(head: string[], rows: unknown[][]): string {
  if (rows.length === 0) return '<p class="none">none</p>';
  const cell = (v: unknown) =>
    v && typeof v === 'object' && 'raw' in v ? String((v as { raw: string }).raw) : html(v);
  return `<table><thead><tr>${head.map((h) => `<th>${html(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((v) => `<td>${cell(v)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1b1f24;max-width:60rem;margin:2rem auto;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;border-bottom:1px solid #d0d7de;padding-bottom:.2rem;margin-top:1.8rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}.none{color:#57606a;font-style:italic}.late,.missed{color:#b42318;font-weight:600}.ok{color:#1a7f37}
code{font-size:.9em;word-break:break-all}svg{max-width:100%;height:auto}.meta{color:#57606a}
@media print{body{margin:0;max-width:none}h2{break-after:avoid}table,svg{break-inside:avoid}}`;

/** A self-contained printable page. `body` must already be escaped HTML. */
export function htmlPage(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${html(title)}</title><style>${STYLE}</style></head>
<body>
${body}
</body></html>
`;
}
