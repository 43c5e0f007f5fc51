// `${incident.id}`-style templates resolved by plain path lookup: never eval, never a shell. Sandbox-safe.
import { encodeUrlValue, isUrlTemplate, urlPartAt, urlValueProblem } from './url-template';

const PLACEHOLDER = /\$\{([^}]*)\}/g;
const PATH = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_-]+)*$/;

export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

/** The dotted paths a string refers to, e.g. ["incident.id"]. Throws on a malformed placeholder. */
export function templatePaths(text: string): string[] {
  const paths: string[] = [];
  for (const match of text.matchAll(PLACEHOLDER)) {
    const path = (match[1] ?? '').trim();
    if (!PATH.test(path))
      throw new TemplateError(`expected a dotted path like \${incident.id}, found "\${${match[1]}}"`);
    paths.push(path);
  }
  return paths;
}

export function lookupPath(context: unknown, path: string): unknown {
  let value: unknown = context;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object' || !Object.prototype.hasOwnProperty.call(value, key)) {
      return undefined;
    }
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** `${alert.labels.<name>}`: a label of the incident's alerts. */
export const ALERT_LABELS_PREFIX = 'alert.labels.';
/** `${alert.source}`: what detected the incident. */
export const ALERT_SOURCE_PATH = 'alert.source';
const LABEL_NAME = /^[A-Za-z0-9_-]+$/;

/**
 * Whether `path` is an alert path a step may use, and if not why: `alert.source`, or `alert.labels.` and one label
 * name of letters, digits, `_` and `-`. Undefined for paths outside `alert.`.
 */
export function checkAlertPath(path: string): { ok: true } | { ok: false; message: string } | undefined {
  if (path !== 'alert' && !path.startsWith('alert.')) return undefined;
  if (path === ALERT_SOURCE_PATH) return { ok: true };
  if (path.startsWith(ALERT_LABELS_PREFIX) && LABEL_NAME.test(path.slice(ALERT_LABELS_PREFIX.length)))
    return { ok: true };
  const why = path.startsWith(ALERT_LABELS_PREFIX)
    ? '; a label name is one word of letters, digits, _ and - (no dots)'
    : '';
  return {
    ok: false,
    message: `template path "\${${path}}" cannot resolve; expected alert.source or alert.labels.<name>, like \${alert.labels.source_ip}${why}`,
  };
}

/** Whether any string inside `value` refers to the alert (`${alert.…}`). Malformed placeholders count as not. */
export function usesAlertTemplates(value: unknown): boolean {
  if (typeof value === 'string') {
    if (!value.includes('${')) return false;
    try {
      return templatePaths(value).some((p) => p.startsWith('alert.'));
    } catch {
      return false;
    }
  }
  if (Array.isArray(value)) return value.some(usesAlertTemplates);
  if (value !== null && typeof value === 'object') return Object.values(value).some(usesAlertTemplates);
  return false;
}

function noValue(path: string): TemplateError {
  if (path.startsWith(ALERT_LABELS_PREFIX)) {
    const label = path.slice(ALERT_LABELS_PREFIX.length);
    return new TemplateError(
      `template path "${path}" has no value: no alert of this incident has the label "${label}" (guard the step with when: { labels: { ${label}: present } })`,
    );
  }
  if (path === ALERT_SOURCE_PATH) {
    return new TemplateError(
      `template path "${path}" has no value: the incident was opened without a source and no alert has named one`,
    );
  }
  return new TemplateError(`template path "${path}" has no value`);
}

/**
 * Replaces placeholders in every string inside `value`; an unresolvable path is an error naming it. In a string that
 * is an http(s) URL, each value is encoded for the part of the URL it lands in (domain/url-template.ts).
 */
export function renderTemplate<T>(value: T, context: unknown): T {
  if (typeof value === 'string') {
    const url = isUrlTemplate(value);
    return value.replace(PLACEHOLDER, (_whole, raw: string, offset: number) => {
      const path = raw.trim();
      const found = lookupPath(context, path);
      if (found === undefined || found === null) throw noValue(path);
      const text = typeof found === 'object' ? JSON.stringify(found) : String(found);
      if (!url) return text;
      const part = urlPartAt(value, offset);
      const problem = urlValueProblem(text, part);
      if (problem) throw new TemplateError(`template path "${path}" in URL ${JSON.stringify(value)} ${problem}`);
      return encodeUrlValue(text);
    }) as T;
  }
  if (Array.isArray(value)) return value.map((item) => renderTemplate(item, context)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderTemplate(v, context)])) as T;
  }
  return value;
}
