// YAML parsing that keeps source positions, so every validation error names file, line, column and field.
import { LineCounter, parseDocument, isNode, visit } from 'yaml';
import { formatPath } from '../../domain/issues';

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
    // The first syntax error is the one to fix; the rest usually cascade from it and would only bury it.
    const first = doc.errors[0]!;
    const pos = lineCounter.linePos(first.pos[0]);
    const more = doc.errors.length > 1 ? ` (and ${doc.errors.length - 1} more YAML errors after it)` : '';
    throw new YamlValidationError(
      `${file}:${pos.line}:${pos.col}: YAML syntax: ${first.message.split('\n')[0]}${more}`,
    );
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
  let value: unknown;
  try {
    value = doc.toJS();
  } catch (error) {
    // An alias whose anchor is missing or comes after it (`*a` before `&a`): valid syntax that cannot be resolved.
    if (!/alias/i.test((error as Error).message)) throw error;
    let message = `${file}:1:1: YAML: ${(error as Error).message}`;
    visit(doc, {
      Alias(_, node) {
        if (node.resolve(doc) !== undefined || !node.range) return undefined;
        const pos = lineCounter.linePos(node.range[0]);
        message = `${file}:${pos.line}:${pos.col}: YAML: alias *${node.source} refers to no anchor &${node.source} defined before it`;
        return visit.BREAK;
      },
    });
    throw new YamlValidationError(message);
  }
  return { value, locate };
}

/** zod reports a missing field as "expected object, received undefined"; say it is missing. */
function plainMessage(message: string): string {
  const missing = /^Invalid input: expected (\w+), received undefined$/.exec(message);
  return missing ? `required field is missing (expected ${missing[1]})` : message;
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
      return `${where}: ${field ? `${field}: ` : ''}${plainMessage(issue.message)}`;
    })
    .join('\n');
}
