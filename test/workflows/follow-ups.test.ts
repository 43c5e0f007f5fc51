// Follow-up reminders on the time-skipping server: the owner of an open follow-up is notified once when it falls due
// (a durable timer, through the notifyIncident activity to the internal channel, addressed to the owner, and a real
// webhook peer), a completed one never.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { incidentInput, plan, startIncident } from '../helpers/incident-fixtures';
import { type TimeSkippingEngine, startTimeSkippingEngine, until } from '../helpers/time-skipping-engine';

const DAY = 24 * 3_600_000;
let engine: TimeSkippingEngine;

beforeAll(async () => {
  engine = await startTimeSkippingEngine('follow-ups');
});
afterAll(async () => {
  await engine?.close();
});

async function sleepUntil(target: number): Promise<void> {
  const now = await engine.env.currentTimeMs();
  if (target > now) await engine.env.sleep(target - now);
}

describe('follow-up reminders', () => {
  it('notify the owner once when an open follow-up falls due, and never for a completed one', async () => {
    const id = 'INC-2026-701';
    await startIncident(
      engine.env.client,
      engine.taskQueue,
      incidentInput(id, plan('security-incident'), { severity: 'P3' }),
    );
    const { openedAt } = await until(
      () => engine.incidents.status(id),
      (s) => s.phase === 'eradicate' && s.awaitingAdvance,
    );
    await engine.incidents.acknowledge(id, { by: 'alice' });
    const due = (ms: number) => new Date(ms).toISOString();
    await engine.incidents.addFollowUp(id, {
      by: 'alice',
      title: 'rotate keys',
      owner: 'bob',
      due: due(openedAt + 2 * DAY),
    });
    await engine.incidents.addFollowUp(id, {
      by: 'alice',
      title: 'patch host',
      owner: 'carol',
      due: due(openedAt + DAY),
    });
    await engine.incidents.completeFollowUp(id, { by: 'carol', followUpId: 'F2' });
    const reminders = () =>
      engine.sink.requests.filter((r) => r.idempotencyKey?.startsWith(`${id}/follow-up-due/`) && r.applied);

    await sleepUntil(openedAt + 2 * DAY - 1_000);
    expect(reminders()).toEqual([]);
    await sleepUntil(openedAt + 2 * DAY + 1_000);
    await until(
      async () => reminders(),
      (r) => r.length > 0,
    );
    const [reminder] = reminders();
    expect(reminder!.idempotencyKey).toBe(`${id}/follow-up-due/F1`);
    expect(reminder!.body).toMatchObject({ audience: 'internal', subject: expect.stringContaining('(owner: bob)') });
    expect(JSON.stringify(reminder!.body)).toContain('rotate keys');

    await sleepUntil(openedAt + 5 * DAY);
    expect(reminders()).toHaveLength(1);
    const timeline = await engine.incidents.timeline(id);
    const dueEvents = timeline.filter((e) => e.type === 'follow_up_due');
    expect(dueEvents).toMatchObject([{ followUpId: 'F1', owner: 'bob', dueAt: openedAt + 2 * DAY }]);
    expect(dueEvents[0]!.at - (openedAt + 2 * DAY)).toBeLessThan(1_000);
    expect((await engine.incidents.status(id)).followUps?.[0]).toMatchObject({
      id: 'F1',
      remindedAt: dueEvents[0]!.at,
    });
  });
});
