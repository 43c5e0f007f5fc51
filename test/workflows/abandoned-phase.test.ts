// A phase child outlives the incident run that started it (it is started abandoned, so a long incident can continue
// as new around it). When the incident itself is gone (terminated outside the engine), the child must not go on
// acting for it: once it cannot report a step to its incident it starts nothing more. On the time-skipping server:
// the incident is terminated while its detect phase waits on a person's task; the task times out (onTimeout:
// proceed), the child cannot report that, and the automated step after the task never runs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PhaseResult } from '../../workflows/steps';
import { incidentInput, planFromPhases, startIncident } from '../helpers/incident-fixtures';
import { type TimeSkippingEngine, startTimeSkippingEngine, until } from '../helpers/time-skipping-engine';

const TASK_QUEUE = 'abandoned-phase-test';
const INCIDENT = 'INC-2026-811';

let engine: TimeSkippingEngine;
beforeAll(async () => {
  engine = await startTimeSkippingEngine(TASK_QUEUE);
});
afterAll(async () => {
  await engine?.close();
});

const plan = planFromPhases(
  'abandoned-phase-test',
  ['service_outage'],
  `
detect:
  steps:
    - id: confirm-scope
      action: task
      with: { instructions: Confirm which services are down., timeout: 10m, onTimeout: proceed }
    - id: tell-the-team
      action: notify.send
      after: { steps: [confirm-scope], reason: the team hears only once the scope is confirmed }
      with: { audience: internal, message: '\${incident.id} confirmed' }
`,
  'test/workflows/abandoned-phase.test.ts',
);

describe('a phase child whose incident is gone', () => {
  it('starts nothing more once it cannot report to its incident', async () => {
    const handle = await startIncident(
      engine.env.client,
      TASK_QUEUE,
      incidentInput(INCIDENT, plan, { severity: 'P2', eventType: 'service_outage', drill: true }),
    );
    await until(
      () => engine.incidents.status(INCIDENT),
      (s) => s.waitingSteps.some((step) => step.stepId === 'confirm-scope'),
      'the task waiting',
    );
    await handle.terminate('ended by hand during the test');

    const child = engine.env.client.workflow.getHandle(`${INCIDENT}.detect`);
    const result = (await child.result()) as PhaseResult;
    expect(result.stopped).toBe('the incident is no longer running');
    expect(result.steps.map((step) => [step.stepId, step.status])).toEqual([['confirm-scope', 'completed']]);
    expect(engine.sink.deliveriesFor(`${INCIDENT}/tell-the-team`)).toEqual([]);
  });
});
