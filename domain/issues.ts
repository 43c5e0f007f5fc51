// One way to say what a zod schema refused, used by every boundary (API keys file, activity parameters, requests):
// `steps[0].with.url: expected an http(s) URL; owner: required`. Sandbox-safe: imports zod's types only.
import type { z } from 'zod';

/** A field path as a reader writes it: `steps[0].with.url`. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)),
    '',
  );
}

/** Every issue as `path: message`, joined by `; `; an issue about the whole value is named `root`. */
export function formatIssues(issues: readonly z.core.$ZodIssue[], root = 'value'): string {
  return issues.map((issue) => `${formatPath(issue.path) || root}: ${issue.message}`).join('; ');
}
