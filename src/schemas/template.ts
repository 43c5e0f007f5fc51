// `${incident.id}`-style templates resolved by plain path lookup: never eval, never a shell. Sandbox-safe.
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
    if (!PATH.test(path)) throw new TemplateError(`expected a dotted path like \${incident.id}, found "\${${match[1]}}"`);
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

/** Replaces placeholders in every string inside `value`; an unresolvable path is an error naming it. */
export function renderTemplate<T>(value: T, context: unknown): T {
  if (typeof value === 'string') {
    return value.replace(PLACEHOLDER, (_whole, raw: string) => {
      const path = raw.trim();
      const found = lookupPath(context, path);
      if (found === undefined || found === null) throw new TemplateError(`template path "${path}" has no value`);
      return typeof found === 'object' ? JSON.stringify(found) : String(found);
    }) as T;
  }
  if (Array.isArray(value)) return value.map((item) => renderTemplate(item, context)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderTemplate(v, context)])) as T;
  }
  return value;
}
