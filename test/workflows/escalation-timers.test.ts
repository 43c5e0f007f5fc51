// Escalation timers on the time-skipping server: each escalation fires in its due simulated second and not
// before, an unacknowledged level moves up the chain, and raising severity to P0 re-arms every deadline at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TimelineEvent } from '../../domain/incident';
import { incidentInput, plan, startIncident } from '../helpers/incident-fixtures';
import { type TimeSkippingEngine, startTimeSkippingEngine, until } from '../helpers/time-skipping-engine';

const HOUR = 3_600_000;
const MINUTE = 60_000;
let engine: TimeSkippingEngine;

beforeAll(async () => {
  engine = await startTimeSkippingEngine('escalation-timers');
});
afterAll(async () => {
  await engine?.close();
});

type Escalated = Extract<TimelineEvent, { type: 'escalated' }>;
const escalations = (timeline: TimelineEvent[]): Escalated[] =>
  timeline.filter((e): e is Escalated => e.type === 'escalated');

/**
 * Fired in its due second: a timer is armed when the workflow task completes, a few ms after the task's clock
 * reading, so an escalation lands within milliseconds after its due time; never before it.
 */
function expectOnTime(fired: Escalated[]): void {
  for (const e of fired) {
    expect(e.at).toBeGreaterThanOrEqual(e.dueAt);
    expect(e.at - e.dueAt).toBeLessThan(1_000);
  }
}

/** Moves simulated time to exactly `target` (epoch ms). */
async function sleepUntil(target: number): Promise<void> {
  const now = await engine.env.currentTimeMs();
  if (target > now) await engine.env.sleep(target - now);
}

async function openWaitingIncident(id: string, request: Parameters<typeof incidentInput>[2]) {
  await startIncident(engine.env.client, engine.taskQueue, incidentInput(id, plan('security-incident'), request));
  // Detect and contain finish by themselves; eradicate then waits for an operator, so only timers move it.
  return until(
    () => engine.incidents.status(id),
    (s) => s.phase === 'eradicate' && s.awaitingAdvance,
    `${id} waiting in eradicate`,
  );
}

describe('escalation timers', () => {
  it('walks the P1 chain: L1 at 1h, L2 at 2h, L3 30 minutes after L2, each on time and not before', async () => {
    const id = 'INC-2026-201';
    const { openedAt } = await openWaitingIncident(id, { eventType: 'unauthorized_access' });

    await sleepUntil(openedAt + HOUR - 1_000);
    const early = escalations(await engine.incidents.timeline(id));
    expect(early.map((e) => [e.key, e.at - openedAt])).toEqual([]);
    expect((await engine.incidents.status(id)).nextEscalationAt).toBe(openedAt + HOUR);

    await sleepUntil(openedAt + HOUR + 1_000);
    const first = escalations(await engine.incidents.timeline(id));
    expect(first.map((e) => [e.trigger, e.toLevel, e.dueAt - openedAt])).toEqual([['unacknowledged', 1, HOUR]]);
    expectOnTime(first);

    // At 2h "no root cause within 2h" raises L1 to L2, before L1's own hour (counted from when L1 was paged, a
    // few ms after 1h) runs out; L2 then has 30 minutes from the moment it was reached before L3 is paged.
    await sleepUntil(openedAt + 2 * HOUR - 1_000);
    expect(escalations(await engine.incidents.timeline(id))).toHaveLength(1);
    await sleepUntil(openedAt + 2 * HOUR + 30 * MINUTE + 1_000);
    const fired = escalations(await engine.incidents.timeline(id));
    expectOnTime(fired);
    const chain = fired.map((e) => [e.trigger, e.fromLevel, e.toLevel]);
    expect(chain).toEqual([
      ['unacknowledged', 0, 1],
      ['no_root_cause', 1, 2],
      ['level_unacknowledged', 2, 3],
    ]);
    expect(fired[1]!.dueAt).toBe(openedAt + 2 * HOUR);
    expect(fired[2]!.dueAt).toBe(fired[1]!.at + 30 * MINUTE);

    // Every escalation was also delivered as a notification, once.
    const delivered = engine.sink.requests.filter(
      (r) => r.idempotencyKey?.startsWith(`${id}/escalation/`) && r.applied,
    );
    expect(delivered).toHaveLength(3);
  });

  it('re-escalates an unacknowledged level to the next one, and an acknowledgement at a level stops it there', async () => {
    const id = 'INC-2026-204';
    const { openedAt } = await openWaitingIncident(id, { severity: 'P2' });
    // With the root cause known, only the response times drive the chain: P2 responds within 4h.
    await engine.incidents.recordRootCause(id, { by: 'alice', summary: 'disk filled by debug logging' });
    await sleepUntil(openedAt + 4 * HOUR + 1_000);
    const paged = escalations(await engine.incidents.timeline(id));
    expect(paged.map((e) => [e.trigger, e.toLevel, e.dueAt - openedAt])).toEqual([['unacknowledged', 1, 4 * HOUR]]);

    // L1 is silent for its hour: L2 is paged one hour after L1 was reached, and not a second before.
    const l1At = paged[0]!.at;
    await sleepUntil(l1At + HOUR - 1_000);
    expect(escalations(await engine.incidents.timeline(id))).toHaveLength(1);
    await sleepUntil(l1At + HOUR + 1_000);
    const second = escalations(await engine.incidents.timeline(id));
    expect(second.map((e) => [e.key, e.fromLevel, e.toLevel])).toEqual([
      ['unacknowledged', 0, 1],
      ['level_unacknowledged:1', 1, 2],
    ]);
    expect(second[1]!.dueAt).toBe(l1At + HOUR);
    expectOnTime(second);

    // L2 acknowledges: the chain stops there. The next timer is the eradication window (24h from opening), which
    // is reported to the current level without raising it.
    const acked = await engine.incidents.acknowledge(id, { by: 'duty-manager' });
    expect(acked.escalation).toMatchObject({ level: 2, levelAcknowledged: true });
    expect(acked.nextEscalationAt).toBe(openedAt + 24 * HOUR);
    await sleepUntil(openedAt + 24 * HOUR - 1_000);
    expect(escalations(await engine.incidents.timeline(id))).toHaveLength(2);
    await sleepUntil(openedAt + 24 * HOUR + 1_000);
    const overdue = escalations(await engine.incidents.timeline(id)).slice(2);
    expect(overdue.map((e) => [e.key, e.fromLevel, e.toLevel])).toEqual([['phase_overdue:eradicate', 2, 2]]);
    expectOnTime(overdue);
  });

  it('stops the chain when acknowledged', async () => {
    const id = 'INC-2026-202';
    const { openedAt } = await openWaitingIncident(id, { severity: 'P1' });
    await sleepUntil(openedAt + HOUR + 1_000);
    await engine.incidents.acknowledge(id, { by: 'alice' });
    await engine.incidents.recordRootCause(id, { by: 'alice', summary: 'expired certificate' });
    await sleepUntil(openedAt + 3 * HOUR);
    expect(escalations(await engine.incidents.timeline(id)).map((e) => [e.key, e.dueAt - openedAt])).toEqual([
      ['unacknowledged', HOUR],
    ]);
  });

  it('re-arms every deadline at once when severity is raised to P0', async () => {
    const id = 'INC-2026-203';
    const { openedAt, nextEscalationAt } = await openWaitingIncident(id, { severity: 'P3' });
    // P3: the first deadline is "no root cause within 2h" (response time 24h, SLA 7d).
    expect(nextEscalationAt).toBe(openedAt + 2 * HOUR);

    await sleepUntil(openedAt + 10 * MINUTE);
    const raised = await engine.incidents.setSeverity(id, {
      by: 'alice',
      severity: 'Critical',
      reason: 'customer data seen on a paste site',
    });
    const raisedAt = (await engine.incidents.timeline(id)).find((e) => e.type === 'severity_changed')!.at;
    expect(raised.severity).toBe('P0');
    // In the same workflow task: P0 itself escalates, and the P0 response time (immediate) is already past.
    const now = escalations(await engine.incidents.timeline(id)).map((e) => [e.trigger, e.toLevel, e.at]);
    expect(now).toEqual([
      ['unacknowledged', 1, raisedAt],
      ['severity_p0', 3, raisedAt],
    ]);
    expect(raised.escalation.level).toBe(3);

    // The SLA shrank from 7d to P0's 4h: it fires at openedAt + 4h exactly.
    await sleepUntil(openedAt + 4 * HOUR + 1_000);
    const sla = escalations(await engine.incidents.timeline(id)).find((e) => e.trigger === 'sla_breached');
    expect(sla?.dueAt).toBe(openedAt + 4 * HOUR);
    expectOnTime([sla!]);
  });

  it('keeps the escalation timer through changes that leave its deadline, and still fires on time', async () => {
    const id = 'INC-2026-205';
    const { openedAt } = await openWaitingIncident(id, { eventType: 'unauthorized_access' });
    const timersStarted = async () =>
      (await engine.env.client.workflow.getHandle(id).fetchHistory()).events!.filter(
        (e) => e.timerStartedEventAttributes,
      ).length;
    const before = await timersStarted();
    // Three owners in turn: each is a state change, none moves the 1h response deadline or the hourly update.
    for (const owner of ['alice', 'bob', 'carol']) await engine.incidents.assignOwner(id, { by: 'tester', owner });
    expect(await timersStarted()).toBe(before);

    await sleepUntil(openedAt + HOUR + 1_000);
    const fired = escalations(await engine.incidents.timeline(id));
    expect(fired.map((e) => [e.trigger, e.dueAt - openedAt])).toEqual([['unacknowledged', HOUR]]);
    expectOnTime(fired);
  });
});
