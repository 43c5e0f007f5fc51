// Follow-up reminders on the time-skipping server: the owner of an open follow-up is notified once when it falls due
// (a durable timer, through the notifyIncident activity to the internal channel, addressed to the owner, and a real
// webhook peer), a completed one never; after the incident closed too (its follow-up reminders workflow, told of
// completions through the real HTTP API).
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyStore } from '../../src/api-keys';
import { type RunningApi, startApiServer } from '../../src/api/server';
import { followUpRemindersId } from '../../workflows/follow-up-reminders';
import { http } from '../helpers/api-env';
import { incidentInput, plan, startIncident, tempDir } from '../helpers/incident-fixtures';
import { type TimeSkippingEngine, startTimeSkippingEngine, until } from '../helpers/time-skipping-engine';

const DAY = 24 * 3_600_000;
let engine: TimeSkippingEngine;
let api: RunningApi;
let operatorKey: string;

beforeAll(async () => {
  engine = await startTimeSkippingEngine('follow-ups');
  const dir = tempDir('follow-ups-api');
  const keys = new ApiKeyStore(path.join(dir, 'api-keys.json'));
  operatorKey = keys.create({ name: 'operator-1', role: 'operator' }).key;
  api = await startApiServer({
    config: { ...engine.config.api, host: '127.0.0.1', port: 0 },
    incidents: engine.incidents,
    runbooks: new Map(),
    keys,
    temporalAddress: 'time-skipping',
    logger: { level: 'error' },
    dataDir: engine.config.dataDir,
    nonceDir: path.join(dir, 'nonces'),
  });
});
afterAll(async () => {
  await api?.close();
  await engine?.close();
});

async function sleepUntil(target: number): Promise<void> {
  const now = await engine.env.currentTimeMs();
  if (target > now) await engine.env.sleep(target - now);
}

const reminders = (id: string) =>
  engine.sink.requests.filter((r) => r.idempotencyKey?.startsWith(`${id}/follow-up-due/`) && r.applied);

/** Polls until the workflow has completed, without letting the server skip time. */
async function untilCompleted(workflowId: string): Promise<void> {
  const handle = engine.env.client.workflow.getHandle(workflowId);
  await until(
    async () => (await handle.describe()).status.name,
    (status) => status === 'COMPLETED',
    `${workflowId} completed`,
  );
}

/** Opens a P3 incident and acknowledges it once it waits in eradicate (follow-ups are taken from then on). */
async function openAcknowledged(id: string) {
  const handle = await startIncident(
    engine.env.client,
    engine.taskQueue,
    incidentInput(id, plan('security-incident'), { severity: 'P3' }),
  );
  const { openedAt } = await until(
    () => engine.incidents.status(id),
    (s) => s.phase === 'eradicate' && s.awaitingAdvance,
  );
  await engine.incidents.acknowledge(id, { by: 'alice' });
  return { handle, openedAt };
}

/** Opens a P3 incident, adds follow-ups due `dueIn` after its opening, and closes it; its opening time. */
async function closeWithFollowUps(id: string, followUps: { title: string; owner: string; dueIn: number }[]) {
  const { handle, openedAt } = await openAcknowledged(id);
  for (const { title, owner, dueIn } of followUps) {
    await engine.incidents.addFollowUp(id, {
      by: 'alice',
      title,
      owner,
      due: new Date(openedAt + dueIn).toISOString(),
    });
  }
  await engine.incidents.resolve(id, { by: 'alice', summary: 'keys rotated' });
  await until(
    () => engine.incidents.status(id),
    (s) => s.phase === 'post-incident' && s.awaitingAdvance,
  );
  await engine.incidents.advancePhase(id, { by: 'alice', note: 'review held' });
  // Not handle.result(): waiting for a result lets the server skip time, past the follow-ups' due dates.
  await untilCompleted(handle.workflowId);
  return openedAt;
}

/** POST /incidents/{id}/follow-ups/{fid}/complete as an operator, once the incident has closed. */
async function completeAfterClose(id: string, followUpId: string) {
  const done = await http(`${api.url}/incidents/${id}/follow-ups/${followUpId}/complete`, {
    key: operatorKey,
    body: {},
  });
  expect(done.status).toBe(200);
  expect(done.body).toMatchObject({ recordedIn: 'review' });
}

describe('follow-up reminders', () => {
  it('notify the owner once when an open follow-up falls due, and never for a completed one', async () => {
    const id = 'INC-2026-701';
    const { openedAt } = await openAcknowledged(id);
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

  it('after close, remind the owner once when a follow-up falls due, never one completed meanwhile, then end', async () => {
    const id = 'INC-2026-702';
    const openedAt = await closeWithFollowUps(id, [
      { title: 'rotate keys', owner: 'bob', dueIn: 3 * DAY },
      { title: 'patch host', owner: 'carol', dueIn: 4 * DAY },
    ]);
    const { closedAt } = await engine.incidents.status(id);
    expect(openedAt + 3 * DAY - closedAt!).toBeGreaterThan(3 * DAY - 3_600_000);
    const remindersRun = engine.env.client.workflow.getHandle(followUpRemindersId(id));
    expect((await remindersRun.describe()).status.name).toBe('RUNNING');

    await completeAfterClose(id, 'F2');
    await sleepUntil(openedAt + 3 * DAY - 1_000);
    expect(reminders(id)).toEqual([]);
    expect((await remindersRun.describe()).status.name).toBe('RUNNING');
    await sleepUntil(openedAt + 3 * DAY + 1_000);
    const [reminder] = await until(
      async () => reminders(id),
      (r) => r.length > 0,
    );
    expect(reminder!.idempotencyKey).toBe(`${id}/follow-up-due/F1`);
    expect(reminder!.body).toMatchObject({
      audience: 'internal',
      subject: `Follow-up F1 of ${id} is due (owner: bob): rotate keys`,
    });
    // F2 was completed: nothing is left to remind, so the workflow ends without waiting for F2's due date (and
    // nothing is slept past here: the time-skipping server hangs on a sleep once an abandoned child has ended,
    // temporalio/sdk-typescript#1101).
    await untilCompleted(remindersRun.workflowId);
    expect(await engine.env.currentTimeMs()).toBeLessThan(openedAt + 4 * DAY);
    expect(reminders(id)).toHaveLength(1);
  });

  it('after close, end as soon as the last follow-up is completed, before its due date', async () => {
    const id = 'INC-2026-703';
    const openedAt = await closeWithFollowUps(id, [{ title: 'review WAF rules', owner: 'dave', dueIn: 3 * DAY }]);
    await completeAfterClose(id, 'F1');
    await untilCompleted(followUpRemindersId(id));
    expect(await engine.env.currentTimeMs()).toBeLessThan(openedAt + 3 * DAY);
    // Ended before the due date: nothing is left that could remind dave (not slept past, as above).
    expect(reminders(id)).toEqual([]);
  });
});
