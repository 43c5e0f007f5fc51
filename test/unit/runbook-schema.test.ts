// The editor schema is generated from the zod schema; a stale checked-in copy would mislead every runbook author.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RUNBOOK_SCHEMA_FILE, runbookJsonSchema, runbookJsonSchemaText } from '../../src/runbooks/json-schema';
import { DEFAULT_RUNBOOK_DIR, runbookFiles } from '../../src/runbooks/load';
import { ACTION_NAMES } from '../../domain/actions/index';

describe('runbook JSON Schema', () => {
  it('matches the zod schema (run `npm run runbook-schema` after changing it)', () => {
    expect(readFileSync(path.join(DEFAULT_RUNBOOK_DIR, RUNBOOK_SCHEMA_FILE), 'utf8')).toBe(runbookJsonSchemaText());
  });

  it("narrows each step's `with` by its action, for every action", () => {
    const text = JSON.stringify(runbookJsonSchema());
    for (const name of ACTION_NAMES) expect(text).toContain(`"if":{"properties":{"action":{"const":"${name}"}}`);
  });

  it('is referenced from every shipped runbook', () => {
    for (const file of runbookFiles()) {
      expect(readFileSync(file, 'utf8').split('\n')[0], file).toBe(
        `# yaml-language-server: $schema=./${RUNBOOK_SCHEMA_FILE}`,
      );
    }
  });
});
