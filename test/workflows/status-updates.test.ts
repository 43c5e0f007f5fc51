// Periodic internal status updates on the time-skipping server: at the severity's cadence (the Fiovana procedures: Medium daily,
// Low weekly), re-armed at once by a severity change, delivered once each, and stopped by resolution.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TimelineEvent } from '../../domain/incident';
import { incidentInput, plan, startIncident } from '../helpers/incident-fixtures';
import { type TimeSkippingEngine, startTimeSkippingEngine, until } from '../helpers/time-skipping-engine';

const HOUR = 3_600_000;
let engine: TimeSkippingEngine;

beforeAll(async () => {
  engine = await startTimeSkippingEngine('status-updates');
});
afterAll(async () => {
  await engine?.close();
});

type StatusUpdate = Extract<TimelineEvent, { type: 'status_update' }>;
const updates = (timeline: TimelineEvent[]): StatusUpdate[] =>
  timeline.filter((e): e is StatusUpdate => e.type === 'status_update');

async function sleepUntil(target: number): Promise<void> {
  const now = await engine.env.currentTimeMs();
  if (target > now) await engine.env.sleep(target - now);
}

describe('status updates', () => {
  it('sends a P2 update daily, hourly once raised to P1, each delivered once, and none after resolution', async () => {
    const id = 'INC-2026-601';
    await startIncident(
      engine.env.client,
      engine.taskQueue,
      incidentInput(id, plan('security-incident'), { severity: 'P2' }),
    );
    const { openedAt } = await until(
      () => engine.incidents.status(id),
      (s) => s.phase === 'eradicate' && s.awaitingAdvance,
    );
    await engine.incidents.acknowledge(id, { by: 'alice' });
    await engine.incidents.recordRootCause(id, { by: 'alice', summary: 'expired certificate' });

    await sleepUntil(openedAt + 24 * HOUR - 1_000);
    expect(updates(await engine.incidents.timeline(id))).toEqual([]);
    await sleepUntil(openedAt + 24 * HOUR + 1_000);
    const first = updates(await engine.incidents.timeline(id));
    expect(first.map((u) => [u.n, u.audience])).toEqual([[1, 'internal']]);
    expect(first[0]!.at - (openedAt + 24 * HOUR)).toBeLessThan(1_000);

    // Raised to P1: the next update is due one hour after the last one, not a day.
    await engine.incidents.setSeverity(id, { by: 'alice', severity: 'P1', reason: 'customers affected' });
    await sleepUntil(first[0]!.at + HOUR + 1_000);
    const second = updates(await engine.incidents.timeline(id));
    expect(second).toHaveLength(2);
    expect(second[1]!.at - (first[0]!.at + HOUR)).toBeLessThan(1_000);

    // Delivered once each, with the FailSafe-Qore procedures' content.
    const delivered = engine.sink.requests.filter(
      (r) => r.idempotencyKey?.startsWith(`${id}/status-update/`) && r.applied,
    );
    expect(delivered.map((r) => r.idempotencyKey).sort()).toEqual([`${id}/status-update/1`, `${id}/status-update/2`]);
    const body = JSON.stringify(delivered[1]!.body);
    for (const part of ['status update 2', 'High', 'Root cause: expired certificate', 'Expected resolution: by']) {
      expect(body).toContain(part);
    }

    // Resolved: service is restored, the periodic updates stop.
    await engine.incidents.resolve(id, { by: 'alice', summary: 'certificate renewed' });
    await until(
      () => engine.incidents.status(id),
      (s) => s.phase === 'post-incident' && s.awaitingAdvance,
    );
    await sleepUntil(second[1]!.at + 5 * HOUR);
    expect(updates(await engine.incidents.timeline(id))).toHaveLength(2);
  });
});
