// The engine's workers keep the SDK's workflow stack traces on. Turning them off (marking the SDK's promise hook as
// installed on the workflow threads) saved a fifth of the worker's memory, but under load a cached incident was then
// sometimes woken by its escalation timer with the clock of its previous workflow task: it re-armed the timer instead
// of escalating, and the next replay failed as nondeterministic (docs/DESIGN.md, "Workflow stack traces stay on").
// An incident's worker, started as `npm start` starts it, answers the `__stack_trace` query with the incident's stack.
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

  it('are captured by the engine’s workers', async () => {
    const handle = await startIncident(engine.env.client, TASK_QUEUE, incidentInput(INCIDENT, plan, { drill: true }));
    await until(
      () => engine.incidents.status(INCIDENT),
      (s) => s.waitingSteps.length > 0,
    );
    const stack = await handle.query<string>('__stack_trace');
    expect(stack).toMatch(/incidentWorkflow|workflows\/incident\//);
  });
});
