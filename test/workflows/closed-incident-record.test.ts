// A closed incident stays readable when no worker can replay its history: the client's status and timeline reads
// fall back to the record the incident left in its result (workflows/incident/final-record.ts). The incident closes
// under the engine's worker; a worker of other code then takes the reads, the queries fail on replay, and the
// answers are the same as the queries gave before. On both servers: drills run on the time-skipping one.
import { fileURLToPath } from 'node:url';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterEach, describe, expect, it } from 'vitest';
import { IncidentClient } from '../../src/client';
import { registerSearchAttributes } from '../../src/temporal/search-attributes';
import { bundleWorkflows, createWorker } from '../../src/worker';
import { timelinePage } from '../../domain/timeline-page';
import type { TimelineEvent } from '../../domain/incident';
import type { IncidentStatusView } from '../../workflows/definitions';
import { MAX_CARRIED_BYTES } from '../../workflows/incident/carried';
import { finalRecord } from '../../workflows/incident/final-record';
import { testDataConverter } from '../helpers/codec';
import { incidentInput, makeEngineConfig, startIncident, waitingOnTaskPlan } from '../helpers/incident-fixtures';
import { createLocalEnv, createTimeSkippingEnv } from '../helpers/temporal-env';
import { until } from '../helpers/time-skipping-engine';
import { type WebhookSink, startWebhookSink } from '../helpers/webhook-sink';

const TASK_QUEUE = 'closed-incident-record-test';
const INCIDENT = 'INC-2026-871';
const plan = waitingOnTaskPlan('closed-incident-record-test', 'test/workflows/closed-incident-record.test.ts');
const OTHER_CODE = fileURLToPath(new URL('../helpers/workflows/other-incident-code.ts', import.meta.url));
const CLOSES_WITH_RECORD = fileURLToPath(new URL('../helpers/workflows/closes-with-record.ts', import.meta.url));

let env: TestWorkflowEnvironment | undefined;
let sink: WebhookSink | undefined;
afterEach(async () => {
  await env?.teardown();
  await sink?.close();
  env = undefined;
  sink = undefined;
});

describe.each([
  {
    server: 'time-skipping server',
    create: async () => {
      const created = await createTimeSkippingEnv({ client: { dataConverter: testDataConverter } });
      await registerSearchAttributes(created.connection);
      return created;
    },
  },
  { server: 'dev server', create: () => createLocalEnv({ client: { dataConverter: testDataConverter } }) },
])('a closed incident no worker can replay ($server)', ({ create }) => {
  it('is read from the record it left at close: its status and every page of its timeline', async () => {
    env = await create();
    sink = await startWebhookSink();
    const config = makeEngineConfig(`${sink.url}/hooks/incidents`, TASK_QUEUE);
    const incidents = new IncidentClient(env.client, TASK_QUEUE);
    const worker = await createWorker({
      connection: env.nativeConnection,
      namespace: 'default',
      config,
      workflowBundle: await bundleWorkflows(),
      dataConverter: testDataConverter,
    });
    const status = () => incidents.status(INCIDENT);
    const { byQuery, timelineByQuery } = await worker.runUntil(async () => {
      await startIncident(
        env!.client,
        TASK_QUEUE,
        incidentInput(INCIDENT, plan, { severity: 'P2', eventType: 'service_outage', drill: true }),
      );
      await until(status, (s) => s.waitingSteps.some((step) => step.stepId === 'confirm-scope'));
      await incidents.addNote(INCIDENT, { by: 'alice', text: 'scope confirmed with the database team' });
      await incidents.completeTask(INCIDENT, { stepId: 'confirm-scope', by: 'alice' });
      await until(status, (s) => s.phase === 'post-incident' && s.awaitingAdvance, 'post-incident');
      await incidents.advancePhase(INCIDENT, { by: 'alice' });
      const handle = env!.client.workflow.getHandle(INCIDENT);
      await until(
        () => handle.describe(),
        (d) => d.status.name === 'COMPLETED',
        'the incident workflow completed',
      );
      return { byQuery: await status(), timelineByQuery: await incidents.timeline(INCIDENT) };
    });
    expect(byQuery.status).toBe('closed');
    expect(byQuery.notes?.map((note) => note.text)).toEqual(['scope confirmed with the database team']);
    expect(timelineByQuery.map((event) => event.type)).toEqual(expect.arrayContaining(['opened', 'closed']));

    // The result holds the record, read from the close event without a worker.
    const { history } = await env.client.workflowService.getWorkflowExecutionHistory({
      namespace: 'default',
      execution: { workflowId: INCIDENT },
    });
    expect(history?.events?.at(-1)?.workflowExecutionCompletedEventAttributes?.result?.payloads).toHaveLength(1);

    const other = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: TASK_QUEUE,
      workflowsPath: OTHER_CODE,
      dataConverter: testDataConverter,
    });
    await other.runUntil(async () => {
      // A query would fail here (the history does not replay against this code), after a minute and more of retries.
      expect(await status()).toEqual(byQuery);
      expect(await incidents.timeline(INCIDENT)).toEqual(timelineByQuery);
      const request = { from: 2, limit: 3 };
      expect(await incidents.timelinePage(INCIDENT, request)).toEqual(timelinePage(timelineByQuery, request));
    });
  });
});

// A read that starts while the incident runs and whose query fails (no handler yet; or, on a worker that had to replay
// an incident that closed meanwhile, a replay failure, which the SDK reports the same way) looks for the record again
// at each retry, so the incident's close answers it.
describe('a read whose query fails while the incident closes', () => {
  it('is answered from the record once the incident has closed (dev server)', async () => {
    env = await createLocalEnv({ client: { dataConverter: testDataConverter } });
    const incidents = new IncidentClient(env.client, `${TASK_QUEUE}-closing`);
    const view = { incidentId: 'INC-2026-872', status: 'closed' } as IncidentStatusView;
    const timeline: TimelineEvent[] = [
      { type: 'note_added', at: 1, text: 'first', finding: false },
      { type: 'note_added', at: 2, text: 'second', finding: false },
    ];
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: `${TASK_QUEUE}-closing`,
      workflowsPath: CLOSES_WITH_RECORD,
      dataConverter: testDataConverter,
    });
    await worker.runUntil(async () => {
      const start = (workflowId: string) =>
        env!.client.workflow.start('incidentWorkflow', {
          workflowId,
          taskQueue: `${TASK_QUEUE}-closing`,
          args: [{ incidentId: workflowId, status: 'closed', final: { view, timeline } }],
        });
      await start('INC-2026-872');
      expect(await incidents.status('INC-2026-872')).toEqual(view);
      await start('INC-2026-873');
      expect(await incidents.timeline('INC-2026-873')).toEqual(timeline);
      await start('INC-2026-874');
      expect(await incidents.timelinePage('INC-2026-874', { from: 1 })).toEqual(timelinePage(timeline, { from: 1 }));
    });
  });
});

// The record's bound: past it the incident leaves none, and its reads stand on the query alone.
describe('the final record', () => {
  it('is left out when the view and timeline would not fit one payload', () => {
    const view = { incidentId: INCIDENT } as IncidentStatusView;
    const event: TimelineEvent = { type: 'note_added', at: 0, text: 'x'.repeat(1_000), finding: false };
    expect(finalRecord(view, [event])).toEqual({ view, timeline: [event] });
    const many = Array.from({ length: Math.ceil(MAX_CARRIED_BYTES / 1_000) }, () => event);
    expect(finalRecord(view, many)).toBeUndefined();
  });
});
