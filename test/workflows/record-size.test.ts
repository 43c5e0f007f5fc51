// Notes in a script of three-byte characters, on the dev server (Temporal's own payload limit): the incident takes
// them until its notes, lessons and follow-ups together would pass their bound in bytes, refuses the next with the
// bound, and goes on answering, advancing and closing. Before the bound, 45 such notes (16,000 characters each, well
// within the character limits) made every answer larger than 2 MB: the server refused each, the workflow's task failed
// again and again, and the incident took no update and never closed.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { UpdateRefusedError } from '../../src/client';
import { incidentInput, startIncident, waitingOnTaskPlan } from '../helpers/incident-fixtures';
import { type TimeSkippingEngine, startLocalEngine, until } from '../helpers/time-skipping-engine';

const TASK_QUEUE = 'record-size-test';
const INCIDENT = 'INC-2026-851';
const wide = (i: number) => `${i} ${'漢'.repeat(16_000)}`;

let engine: TimeSkippingEngine;
beforeAll(async () => {
  engine = await startLocalEngine(TASK_QUEUE);
}, 60_000);
afterAll(async () => {
  await engine?.close();
});

it('takes wide-character notes up to its bound, refuses the next, and still closes', { timeout: 120_000 }, async () => {
  const plan = waitingOnTaskPlan('record-size-test', 'test/workflows/record-size.test.ts');
  await startIncident(
    engine.env.client,
    TASK_QUEUE,
    incidentInput(INCIDENT, plan, { severity: 'P2', eventType: 'service_outage' }),
  );
  const status = () => engine.incidents.status(INCIDENT);
  await until(status, (s) => s.waitingSteps.some((step) => step.stepId === 'confirm-scope'), 'detect waiting');

  for (let i = 0; i < 10; i++) {
    const view = await engine.incidents.addNote(INCIDENT, { by: 'alice', text: wide(i) });
    expect(view.notes).toHaveLength(i + 1);
  }
  const refused = await engine.incidents.addNote(INCIDENT, { by: 'alice', text: wide(10) }).catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(UpdateRefusedError);
  expect((refused as Error).message).toMatch(/this update's notes \(47 KiB\) would take them past the 512 KiB/);

  await engine.incidents.completeTask(INCIDENT, { stepId: 'confirm-scope', by: 'alice' });
  await until(status, (s) => s.phase === 'post-incident' && s.awaitingAdvance, 'post-incident');
  const closed = await engine.incidents.advancePhase(INCIDENT, { by: 'alice' });
  expect(closed.status).toBe('closed');
  await until(
    () => engine.env.client.workflow.getHandle(INCIDENT).describe(),
    (d) => d.status.name === 'COMPLETED',
    'the incident workflow completed',
  );
  const read = await status();
  expect(read.notes?.map((n) => n.text.split(' ')[0])).toEqual(Array.from({ length: 10 }, (_, i) => String(i)));
});
