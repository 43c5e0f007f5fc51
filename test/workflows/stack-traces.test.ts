// The engine's workers keep the SDK's workflow stack traces off (src/workflow-threads.cjs): an incident's worker,
// started as `npm start` starts it, answers the `__stack_trace` query with the SDK's "not enabled" error. This fails
// if an SDK upgrade moves the switch, and the worker's memory would then grow back by a fifth.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { incidentInput, startIncident, waitingOnTaskPlan } from '../helpers/incident-fixtures';
import { type TimeSkippingEngine, startTimeSkippingEngine, until } from '../helpers/time-skipping-engine';

const TASK_QUEUE = 'stack-traces-test';
const INCIDENT = 'INC-2026-831';
const plan = waitingOnTaskPlan('stack-traces-test', 'test/workflows/stack-traces.test.ts');

describe('workflow stack traces', () => {
  let engine: TimeSkippingEngine;
  beforeAll(async () => {
    engine = await startTimeSkippingEngine(TASK_QUEUE);
  }, 60_000);
  afterAll(async () => {
    await engine?.close();
  });

  it('are not captured by the engine’s workers', async () => {
    const handle = await startIncident(engine.env.client, TASK_QUEUE, incidentInput(INCIDENT, plan, { drill: true }));
    await until(
      () => engine.incidents.status(INCIDENT),
      (s) => s.waitingSteps.length > 0,
    );
    await expect(handle.query('__stack_trace')).rejects.toThrow(/stack traces are not enabled/);
  });
});
