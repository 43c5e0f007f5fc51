// Recurrence after close on the time-skipping server, through the real registry: an incident opened by an alert is
// resolved and closed; an alert for the same dedup key 3 hours later opens a new incident linked to it (timeline,
// notification, L1), one for another key does not, and after 49 hours the key opens an ordinary incident again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpenRequest } from '../../domain/messages';
import { REGISTRY_WORKFLOW_ID, registryStateQuery } from '../../workflows/definitions';
import { planFromPhases } from '../helpers/incident-fixtures';
import { type TimeSkippingEngine, startTimeSkippingEngine, until } from '../helpers/time-skipping-engine';

const HOUR = 3_600_000;
let engine: TimeSkippingEngine;

beforeAll(async () => {
  engine = await startTimeSkippingEngine('recurrence');
});
afterAll(async () => {
  await engine?.close();
});

/** No steps; post-incident waits for an operator, so the test closes each incident itself. */
const runbook = planFromPhases(
  'recurring',
  ['service_outage'],
  'post-incident: { advance: manual }',
  'test/workflows/recurrence.test.ts',
);

/** What the intake opens for a firing alert of `dedupKey`. */
const alertOpen = (dedupKey: string): OpenRequest => ({
  title: 'checkout 5xx above 5%',
  eventType: 'service_outage',
  severity: 'P3',
  trigger: 'generic:detector-1',
  dedupKey,
  source: 'prometheus',
  labels: { endpoint: '/checkout' },
  affectedSystems: [],
  drill: false,
});

/** Runs the incident to its post-incident phase (resolved by recovery) and closes it. */
async function resolveAndClose(id: string): Promise<number> {
  const resolved = await until(
    () => engine.incidents.status(id),
    (s) => s.phase === 'post-incident' && s.awaitingAdvance,
    `${id} waiting in post-incident`,
  );
  expect(resolved.status).toBe('resolved');
  // advancePhase answers once closed; result() would let the server skip ahead to another incident's next timer.
  const closed = await engine.incidents.advancePhase(id, { by: 'alice' });
  expect(closed.status).toBe('closed');
  return resolved.resolvedAt!;
}

async function sleepUntil(target: number): Promise<void> {
  const now = await engine.env.currentTimeMs();
  if (target > now) await engine.env.sleep(target - now);
}

const registry = () => engine.env.client.workflow.getHandle(REGISTRY_WORKFLOW_ID).query(registryStateQuery);

describe('an alert for a closed incident within its enhanced-monitoring window', () => {
  it('opens a recurrence of it (timeline, notice, L1) for 48 hours after resolution, then an ordinary incident', async () => {
    const first = await engine.incidents.open(alertOpen('generic:detector-1:checkout'), runbook);
    expect(first).toMatchObject({ created: true });
    expect(first.recurrenceOf).toBeUndefined();
    const resolvedAt = await resolveAndClose(first.incidentId);
    const remembered = await until(registry, (s) => (s.recentlyClosed ?? []).length > 0, 'the close remembered');
    expect(remembered.recentlyClosed).toEqual([
      { dedupKey: 'generic:detector-1:checkout', incidentId: first.incidentId, resolvedAt },
    ]);
    expect(remembered.openByDedupKey['generic:detector-1:checkout']).toBeUndefined();

    // 3 hours later the same alert fires again.
    await sleepUntil(resolvedAt + 3 * HOUR);
    const second = await engine.incidents.open(alertOpen('generic:detector-1:checkout'), runbook);
    expect(second.created).toBe(true);
    expect(second.incidentId).not.toBe(first.incidentId);
    expect(second.recurrenceOf).toEqual({ incidentId: first.incidentId, resolvedAt });
    const status = await engine.incidents.status(second.incidentId);
    expect(status.recurrenceOf).toEqual({ incidentId: first.incidentId, resolvedAt });
    expect(status.escalation.level).toBeGreaterThanOrEqual(1);
    const timeline = await engine.incidents.timeline(second.incidentId);
    expect(timeline.find((e) => e.type === 'recurrence_of')).toMatchObject({
      previousIncidentId: first.incidentId,
      resolvedAt,
    });
    expect(timeline.find((e) => e.type === 'escalated')).toMatchObject({ toLevel: 1 });
    // The owner's notice and L1's page reach the notification peer.
    const delivered = await until(
      async () =>
        engine.sink.requests.filter((r) => r.applied && r.idempotencyKey?.startsWith(`${second.incidentId}/`)),
      (requests) => requests.length >= 2,
      'the recurrence notice and the L1 page',
    );
    const keys = delivered.map((r) => r.idempotencyKey);
    expect(keys).toContain(`${second.incidentId}/recurrence/1`);
    expect(keys.some((k) => k?.startsWith(`${second.incidentId}/escalation/manual:1:`))).toBe(true);
    expect(JSON.stringify(delivered.find((r) => r.idempotencyKey?.endsWith('/recurrence/1'))!.body)).toContain(
      first.incidentId,
    );

    // Another key in the same window is just new.
    const other = await engine.incidents.open(alertOpen('generic:detector-1:search'), runbook);
    expect(other.recurrenceOf).toBeUndefined();
    const otherStatus = await engine.incidents.status(other.incidentId);
    expect(otherStatus.recurrenceOf).toBeUndefined();
    expect(otherStatus.escalation.level).toBe(0);
    expect((await engine.incidents.timeline(other.incidentId)).some((e) => e.type === 'recurrence_of')).toBe(false);

    // The recurrence is resolved and closed too; 49 hours after that the key opens an ordinary incident.
    const secondResolvedAt = await resolveAndClose(second.incidentId);
    await until(
      registry,
      (s) => s.recentlyClosed?.some((e) => e.incidentId === second.incidentId) === true,
      'the recurrence remembered',
    );
    await sleepUntil(secondResolvedAt + 49 * HOUR);
    const third = await engine.incidents.open(alertOpen('generic:detector-1:checkout'), runbook);
    expect(third.created).toBe(true);
    expect(third.recurrenceOf).toBeUndefined();
    const thirdStatus = await engine.incidents.status(third.incidentId);
    expect(thirdStatus.recurrenceOf).toBeUndefined();
    expect(thirdStatus.escalation.level).toBe(0);
    expect((await engine.incidents.timeline(third.incidentId)).some((e) => e.type === 'recurrence_of')).toBe(false);
  });
});
