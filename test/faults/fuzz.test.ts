// Fuzzing with fast-check, seed-reproducible (FUZZ_SEED; the seed is printed and recorded): every API route over real
// HTTP with malformed bodies, headers and parameters; every signal and update sent straight to a running incident with
// random payloads; the runbook and drill loaders with mutated YAML. Every case runs (failures are counted, not
// stopped at): 0 answers 5xx, 0 failed workflow tasks in any history, 0 crashed processes (the API and worker
// answer and run after the storm), and every refusal names what was wrong (an API validation refusal names the field,
// `body.severity: ...`; a loader refusal names file:line:column and the field).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import proto from '@temporalio/proto';
import fc from 'fast-check';
import pLimit from 'p-limit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drillFiles } from '../../src/drills/load';
import { compileDrill } from '../../src/drills/load';
import { compileRunbook } from '../../src/runbooks/load';
import { YamlValidationError } from '../../src/runbooks/yaml-errors';
import { type ApiEnv, http, plainRunbook, startApiEnv } from '../helpers/api-env';
import { RUNBOOK_DIR } from '../helpers/incident-fixtures';
import { recordFigures } from './results';

const SEED = Number(process.env.FUZZ_SEED ?? 20261203);
const API_CASES = Number(process.env.FUZZ_API_CASES ?? 6_500);
const MESSAGE_CASES = Number(process.env.FUZZ_MESSAGE_CASES ?? 1_500);
const YAML_CASES = Number(process.env.FUZZ_YAML_CASES ?? 2_000);
const { EventType } = proto.temporal.api.enums.v1;
/**
 * A loader refusal that says where and what: `file:line:column: field: message`, a YAML syntax error, or an issue
 * with the document as a whole (a list where the scenario's mapping belongs, an unknown top-level key), which has no
 * field to name and is placed at its line and column.
 */
const NAMED_REFUSAL =
  /^\S+?(:\d+:\d+)?: (YAML|[\w.[\]-]+:)|^\S+?:\d+:\d+: (Unrecognized key|Invalid input: expected object, received)/;

/** What failed, with enough to reproduce it: the seed and the case's index. */
interface Finding {
  part: string;
  index: number;
  what: string;
}
const findings: Finding[] = [];
const counts = { cases: 0, fiveXx: 0, failedWorkflowTasks: 0, crashes: 0, unnamedRefusals: 0 };

afterAll(() => {
  recordFigures('fuzz', {
    fuzz_seed: SEED,
    fuzz_cases: counts.cases,
    fuzz_5xx: counts.fiveXx,
    fuzz_failed_workflow_tasks: counts.failedWorkflowTasks,
    fuzz_crashed_processes: counts.crashes,
    fuzz_refusals_without_field: counts.unnamedRefusals,
  });
  if (findings.length > 0) {
    console.warn(
      `fuzz findings (seed ${SEED}):\n${findings.map((f) => `  ${f.part} #${f.index}: ${f.what}`).join('\n')}`,
    );
  }
});

function note(part: string, index: number, what: string): void {
  if (findings.filter((f) => f.part === part).length < 20) findings.push({ part, index, what: what.slice(0, 600) });
}

// Field names the API's bodies use, so random bodies reach past "unknown key" into each field's own validation.
const FIELDS = [
  'title',
  'severity',
  'summary',
  'reason',
  'note',
  'stepId',
  'role',
  'level',
  'owner',
  'eventType',
  'category',
  'labels',
  'alerts',
  'status',
  'source',
  'dedupKey',
  'affectedSystems',
  'dataBreachConfirmed',
  'startedAt',
  'fingerprint',
  'payload',
  'routing_key',
  'event_action',
  'dedup_key',
  'commonLabels',
  'groupKey',
  'by',
  'trigger',
];
const anyValue = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.string({ maxLength: 40 }),
  fc.constantFrom('P0', 'P1', 'P5', 'contain', 'firing', 'trigger', '', ' ', '\u0000', 'x'.repeat(5_000)),
  fc.integer(),
  fc.double(),
);
const fieldBody = fc.dictionary(fc.constantFrom(...FIELDS), anyValue, { maxKeys: 6 });
const body = fc.oneof(
  fieldBody,
  fc.record({ alerts: fc.array(fieldBody, { maxLength: 3 }), status: fc.constantFrom('firing', 'resolved', 'x') }),
  fc.jsonValue({ maxDepth: 4 }),
  fc.string({ maxLength: 200 }).map((text) => ({ raw: text })),
  fc.constantFrom({ raw: '{' }, { raw: '{"title": }' }, { raw: '[1,2' }, { raw: '' }, { raw: 'null' }),
);

describe('fuzzing', () => {
  let env: ApiEnv;
  let incidentId: string;

  beforeAll(async () => {
    env = await startApiEnv({
      runbooks: { 'fuzz-plain': plainRunbook('fuzz-plain', { match: 'default: true' }) },
      taskQueue: 'faults-fuzz',
      api: { rateLimit: { viewer: 1e6, detector: 1e6, operator: 1e6, commander: 1e6, anonymous: 1e6 } },
    });
    const opened = await env.incidents.open(
      { title: 'fuzz target', trigger: 'faults:fuzz', severity: 'P3' },
      compileRunbook(plainRunbook('fuzz-plain'), 'fuzz-plain.yaml'),
    );
    incidentId = opened.incidentId;
  });

  afterAll(async () => {
    await env?.close();
  });

  it(`every API route, ${API_CASES} malformed requests: no 5xx, every validation refusal names the field`, async () => {
    const routes = env.api.routes.filter((r) => !r.url.startsWith('/docs'));
    expect(routes.length).toBeGreaterThan(5);
    const keys = env.keys;
    const request = fc.record({
      route: fc.constantFrom(...routes),
      method: fc.oneof(fc.constant(undefined), fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE')),
      param: fc.oneof(
        fc.constant(incidentId),
        fc.constantFrom('INC-0000-000', '..', '%2e%2e%2f', 'x'.repeat(300), '%00', '%E2%82', 'ünïcode'),
        fc.string({ minLength: 1, maxLength: 30 }).map(encodeURIComponent),
      ),
      key: fc.constantFrom(
        undefined,
        'garbage',
        keys.viewer.key,
        keys.detector.key,
        keys.operator.key,
        keys.commander.key,
      ),
      contentType: fc.constantFrom(
        'application/json',
        'application/json; charset=utf-8',
        'text/plain',
        'application/x-www-form-urlencoded',
        'application/vnd.alert+json',
        'multipart/form-data; boundary=x',
        undefined,
      ),
      headers: fc.dictionary(
        fc.constantFrom(
          'x-request-id',
          'idempotency-key',
          'x-signature',
          'x-signature-timestamp',
          'accept',
          'x-forwarded-for',
        ),
        fc.string({ maxLength: 60 }).map((s) => s.replace(/[^\x20-\x7e]/g, '')),
        { maxKeys: 3 },
      ),
      query: fc.dictionary(fc.constantFrom('limit', 'status', 'after', 'phase', 'x'), fc.string({ maxLength: 20 }), {
        maxKeys: 2,
      }),
      body,
    });
    const cases = fc.sample(request, { seed: SEED, numRuns: API_CASES });
    const limit = pLimit(8);
    await Promise.all(
      cases.map((c, index) =>
        limit(async () => {
          counts.cases++;
          const url = new URL(c.route.url.replace(/:[A-Za-z]+/g, c.param), env.url);
          for (const [k, v] of Object.entries(c.query)) url.searchParams.set(k, v);
          const method = c.method ?? c.route.method;
          const headers: Record<string, string> = { ...c.headers };
          if (c.contentType) headers['content-type'] = c.contentType;
          const raw =
            typeof c.body === 'object' && c.body !== null && 'raw' in c.body && Object.keys(c.body).length === 1;
          const sent =
            method === 'GET' || method === 'DELETE'
              ? undefined
              : raw
                ? String((c.body as { raw: string }).raw)
                : JSON.stringify(c.body);
          let result;
          try {
            result = await http(url.toString(), {
              method,
              ...(c.key ? { key: c.key } : {}),
              headers,
              ...(sent !== undefined ? { body: sent } : {}),
            });
          } catch (error) {
            counts.crashes++;
            note('api', index, `${method} ${url.pathname}: no answer: ${(error as Error).message}`);
            return;
          }
          const repro = `${method} ${url.pathname}${url.search} ${JSON.stringify(c.body).slice(0, 200)} -> ${result.status} ${result.text.slice(0, 200)}`;
          if (result.status >= 500) {
            counts.fiveXx++;
            note('api', index, repro);
          } else if (result.status === 400 && result.body?.error === 'invalid_request') {
            const message = String(result.body.message ?? '');
            if (!/\b(body|query|params|headers|request)(\.[\w-]+|\[\d+\])*:/.test(message)) {
              counts.unnamedRefusals++;
              note('api-unnamed', index, repro);
            }
          }
        }),
      ),
    );
    // Still up and answering after the storm.
    expect((await http(`${env.url}/healthz`)).status).toBeLessThan(500);
    expect(findings.filter((f) => f.part.startsWith('api'))).toEqual([]);
  }, 900_000);

  it(`every signal and update sent straight to a running incident, ${MESSAGE_CASES} random payloads: no failed workflow task`, async () => {
    const updates = [
      'acknowledge',
      'setSeverity',
      'recordRootCause',
      'assignOwner',
      'escalate',
      'updateImpact',
      'approveStep',
      'rejectStep',
      'completeTask',
    ];
    const signals = ['alert', 'stepEvent', 'stepDecision', 'phaseFacts', 'stopPhase'];
    const message = fc.record({
      kind: fc.constantFrom('update', 'signal'),
      update: fc.constantFrom(...updates),
      signal: fc.constantFrom(...signals),
      args: fc.oneof(fc.tuple(body), fc.tuple(fieldBody), fc.constant([]), fc.tuple(body, body)),
    });
    const cases = fc.sample(message, { seed: SEED + 1, numRuns: MESSAGE_CASES });
    const handle = env.client.workflow.getHandle(incidentId);
    const limit = pLimit(4);
    await Promise.all(
      cases.map((c, index) =>
        limit(async () => {
          counts.cases++;
          try {
            if (c.kind === 'signal') await handle.signal(c.signal, ...(c.args as unknown[]));
            else await handle.executeUpdate(c.update, { args: c.args as [unknown, ...unknown[]] });
          } catch (error) {
            // Refused by a validator or the handler: an answer, as long as it says what was wrong.
            if (!(error instanceof WorkflowUpdateFailedError) || !(error.cause?.message ?? '').trim()) {
              note(
                'messages',
                index,
                `${c.kind} ${c.kind === 'signal' ? c.signal : c.update}: ${(error as Error).message}`,
              );
            }
          }
        }),
      ),
    );
    // Every workflow of the environment: the incident, its phases and the registry.
    let failed = 0;
    for await (const execution of env.client.workflow.list()) {
      const history = await env.client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
      for (const event of history.events ?? []) {
        if (event.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED) {
          failed++;
          note(
            'workflow-task-failed',
            failed,
            `${execution.workflowId} event ${event.eventId}: ${event.workflowTaskFailedEventAttributes?.failure?.message ?? ''}`,
          );
        }
      }
    }
    counts.failedWorkflowTasks += failed;
    const status = await env.incidents.status(incidentId);
    expect(status.incidentId).toBe(incidentId);
    expect(
      failed,
      findings
        .filter((f) => f.part === 'workflow-task-failed')
        .map((f) => f.what)
        .join('\n'),
    ).toBe(0);
  }, 900_000);

  it(`the runbook and drill loaders, ${YAML_CASES} mutated YAML files: every refusal names the file and the field (with line and column when the field is there)`, () => {
    const runbookFiles = ['security-incident', 'malicious-file-upload', 'dos'].map((id) =>
      path.join(RUNBOOK_DIR, `${id}.yaml`),
    );
    const sources = [
      ...runbookFiles.map((file) => ({ kind: 'runbook' as const, file, text: readFileSync(file, 'utf8') })),
      ...drillFiles()
        .slice(0, 3)
        .map((file) => ({ kind: 'drill' as const, file, text: readFileSync(file, 'utf8') })),
    ];
    const mutation = fc.record({
      source: fc.constantFrom(...sources),
      edits: fc.array(
        fc.record({
          op: fc.constantFrom('delete', 'duplicate', 'value', 'indent', 'truncate', 'insert'),
          at: fc.nat(),
          text: fc.oneof(
            fc.string({ maxLength: 20 }),
            fc.constantFrom('[', '{', ': :', '- ', '&a', '*a', '!!binary', '~', '10h', '-1', 'P9'),
          ),
        }),
        { minLength: 1, maxLength: 3 },
      ),
    });
    const cases = fc.sample(mutation, { seed: SEED + 2, numRuns: YAML_CASES });
    cases.forEach((c, index) => {
      counts.cases++;
      const lines = c.source.text.split('\n');
      for (const edit of c.edits) {
        const i = edit.at % Math.max(1, lines.length);
        if (edit.op === 'delete') lines.splice(i, 1);
        if (edit.op === 'duplicate') lines.splice(i, 0, lines[i] ?? '');
        if (edit.op === 'value') lines[i] = (lines[i] ?? '').replace(/:\s.*$/, `: ${edit.text}`);
        if (edit.op === 'indent') lines[i] = ` ${lines[i] ?? ''}`;
        if (edit.op === 'truncate') lines.length = i + 1;
        if (edit.op === 'insert') lines.splice(i, 0, edit.text);
      }
      const text = lines.join('\n');
      try {
        if (c.source.kind === 'runbook') compileRunbook(text, c.source.file);
        else compileDrill(text, c.source.file, { runbookDir: RUNBOOK_DIR });
      } catch (error) {
        if (!(error instanceof YamlValidationError)) {
          counts.crashes++;
          note(
            'yaml-crash',
            index,
            `${c.source.file} ${JSON.stringify(c.edits)}: ${(error as Error).stack?.split('\n').slice(0, 3).join(' | ')}`,
          );
        } else if (!NAMED_REFUSAL.test(error.message)) {
          counts.unnamedRefusals++;
          note('yaml-unnamed', index, `${c.source.file} ${JSON.stringify(c.edits)}: ${error.message}`);
        }
      }
    });
    expect(findings.filter((f) => f.part.startsWith('yaml'))).toEqual([]);
  }, 300_000);
});
