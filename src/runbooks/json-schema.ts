// The runbook JSON Schema for editors (yaml-language-server reads `# yaml-language-server: $schema=...`), generated
// from the zod schema so the two never disagree. Each step's `with` is narrowed by its `action` (if/then per action),
// which zod's own export cannot express because the link lives in a refinement.
import { z } from 'zod';
import { ACTION_NAMES, ACTIONS } from '../../domain/actions/index';
import { Runbook } from '../../domain/runbook';

type JsonSchema = Record<string, unknown>;

export const RUNBOOK_SCHEMA_FILE = 'runbook.schema.json';

function actionParamsSchema(name: (typeof ACTION_NAMES)[number]): JsonSchema {
  const schema = z.toJSONSchema(ACTIONS[name].params, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  delete schema.$schema;
  return { description: ACTIONS[name].summary, ...schema };
}

/** A step schema: an object with both `action` and `with` among its properties. */
function isStepSchema(node: JsonSchema): boolean {
  const properties = node.properties as JsonSchema | undefined;
  return node.type === 'object' && !!properties && 'action' in properties && 'with' in properties;
}

function narrowSteps(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(narrowSteps);
  if (!node || typeof node !== 'object') return;
  const schema = node as JsonSchema;
  for (const value of Object.values(schema)) narrowSteps(value);
  if (!isStepSchema(schema)) return;
  const properties = schema.properties as Record<string, JsonSchema>;
  properties.action = { ...properties.action, enum: [...ACTION_NAMES] };
  schema.allOf = ACTION_NAMES.map((name) => ({
    if: { properties: { action: { const: name } }, required: ['action'] },
    then: { properties: { with: actionParamsSchema(name) } },
  }));
}

export function runbookJsonSchema(): JsonSchema {
  const schema = z.toJSONSchema(Runbook, {
    io: 'input',
    unrepresentable: 'any',
    target: 'draft-2020-12',
    reused: 'ref',
  }) as JsonSchema;
  narrowSteps(schema);
  return {
    $schema: schema.$schema,
    $id: 'https://incident-engine.local/runbook.schema.json',
    title: 'incident-engine runbook',
    description:
      'A runbook: five phases of steps, each step an action with parameters. Generated from src/schemas/runbook.ts by `npm run runbook-schema`.',
    ...schema,
  };
}

/** The file's exact text: stable key order and a trailing newline, so the up-to-date check is a string compare. */
export function runbookJsonSchemaText(): string {
  return `${JSON.stringify(runbookJsonSchema(), null, 2)}\n`;
}
