// YAML parsing that keeps source positions, so every validation error names file, line, column and field.
import { LineCounter, parseDocument, isNode } from 'yaml';

export interface YamlPosition {
  line: number;
  column: number;
}

export class YamlValidationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'YamlValidationError';
  }
}

/** Parses YAML text; syntax errors throw with file:line:column. `locate(path)` finds where a field is. */
export function parseYamlWithPositions(
  text: string,
  file: string,
): { value: unknown; locate: (path: PropertyKey[]) => YamlPosition | undefined } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const messages = doc.errors.map((e) => {
      const pos = lineCounter.linePos(e.pos[0]);
      return `${file}:${pos.line}:${pos.col}: ${e.message.split('\n')[0]}`;
    });
    throw new YamlValidationError(messages.join('\n'));
  }
  const locate = (path: PropertyKey[]): YamlPosition | undefined => {
    // Walk up to the nearest node that exists: a missing field is reported where its parent is.
    for (let depth = path.length; depth >= 0; depth--) {
      const keys = path.slice(0, depth);
      const node = keys.length === 0 ? doc.contents : doc.getIn(keys, true);
      if (isNode(node) && node.range) {
        const pos = lineCounter.linePos(node.range[0]);
        return { line: pos.line, column: pos.col };
      }
    }
    return undefined;
  };
  return { value: doc.toJS(), locate };
}

export function formatPath(path: PropertyKey[]): string {
  return path.reduce<string>((acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)), '');
}

/** One line per issue: `file:line:column: field: message`. */
export function formatYamlIssues(
  file: string,
  issues: { path: PropertyKey[]; message: string }[],
  locate: (path: PropertyKey[]) => YamlPosition | undefined,
): string {
  return issues
    .map((issue) => {
      const pos = locate(issue.path);
      const where = pos ? `${file}:${pos.line}:${pos.column}` : file;
      const field = formatPath(issue.path);
      return `${where}: ${field ? `${field}: ` : ''}${issue.message}`;
    })
    .join('\n');
}
