// Values substituted into URL templates, encoded for where they land: a path segment, the query or the fragment.
// Every value is percent-encoded (so `/`, `?` and `#` in a value stay data), and a value that would be a `.` or `..`
// path segment is refused: `https://idp/api/users/${alert.labels.user}/suspend` with the label `..` must not become
// `/api/suspend`. Used by runbook templates (domain/template.ts) and connector URLs. Sandbox-safe: no I/O.

export type UrlPart = 'authority' | 'path' | 'query' | 'fragment';

/** Whether a template string is a URL whose placeholders this module encodes: it starts `http://` or `https://`. */
export function isUrlTemplate(template: string): boolean {
  return /^https?:\/\//i.test(template);
}

/** Where in a URL template the text at `offset` lands. */
export function urlPartAt(template: string, offset: number): UrlPart {
  const before = template.slice(0, offset);
  if (before.includes('#')) return 'fragment';
  if (before.includes('?')) return 'query';
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(before);
  const rest = scheme ? before.slice(scheme[0].length) : before;
  return scheme && !rest.includes('/') ? 'authority' : 'path';
}

/** The reason a value cannot stand in `part`, or undefined when it can. */
export function urlValueProblem(text: string, part: UrlPart): string | undefined {
  if (part === 'path' && (text === '.' || text === '..')) {
    return `is "${text}", which as a URL path segment would change the resource addressed; expected a name, an id or other text`;
  }
  return undefined;
}

/** A value encoded for a URL: percent-encoded wherever it lands (in the host too, so it cannot add a path or port). */
export function encodeUrlValue(text: string): string {
  return encodeURIComponent(text);
}

/** The `.` and `..` segments in a URL's path as written (before a URL parser resolves them away). */
export function dotSegments(rawUrl: string): string[] {
  const path = rawUrl.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, '').replace(/[?#].*$/s, '');
  return path.split('/').filter((segment) => /^(?:\.|%2e){1,2}$/i.test(segment));
}
