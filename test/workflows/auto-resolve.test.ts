// A runbook's autoResolve on the time-skipping server: the incident resolves itself (as auto-resolve) once every
// alert has resolved and none fired again for the quiet period; an alert firing again cancels the timer; and it
// waits for containment to end, as a person's resolve must.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertCounts } from '../../domain/alert-book';
import type { RunbookPlan } from '../../domain/runbook';
import { alertCountsSignal, alertSignal } from '../../workflows/definitions';
import { incidentInput, plan, startIncident } from '../helpers/incident-fixtures';
import { type TimeSkippingEngine, startTimeSkippingEngine, until } from '../helpers/time-skipping-engine';

const MINUTE = 60_000;
let engine: TimeSkippingEngine;

beforeAll(async () => {
  engine = await startTimeSkippingEngine('auto-resolve');
});
afterAll(async () => {
  await engine?.close();
});

async function sleepUntil(target: number): Promise<void> {
  const now = await engine.env.currentTimeMs();
  if (target > now) await engine.env.sleep(target - now);
}

const counts = (firing: number): AlertCounts => ({
  total: 3,
  firing,
  resolved: 3 - firing,
  fingerprints: 2,
  firingFingerprints: Math.min(firing, 2),
  untracked: 0,
});

const quiet = (runbook: RunbookPlan): RunbookPlan => ({ ...runbook, autoResolve: { quietForMs: 30 * MINUTE } });

describe('autoResolve', () => {
  it('resolves 30 minutes after every alert resolved, not while one fires again, recorded as auto-resolve', async () => {
    const id = 'INC-2026-701';
    await startIncident(engine.env.client, engine.taskQueue, incidentInput(id, quiet(plan('security-incident'))));
    const handle = engine.env.client.workflow.getHandle(id);
    await until(
      () => engine.incidents.status(id),
      (s) => s.phase === 'eradicate' && s.awaitingAdvance,
    );
    await handle.signal(alertCountsSignal, counts(0));
    const resolvedAt = await engine.env.currentTimeMs();
    await sleepUntil(resolvedAt + 20 * MINUTE);
    expect((await engine.incidents.status(id)).status).toBe('active');

    // One fires again: the quiet period starts over when it resolves.
    await handle.signal(alertSignal, { source: 'waf', status: 'firing', summary: 'probe again', labels: {} });
    await handle.signal(alertCountsSignal, counts(1));
    await sleepUntil(resolvedAt + 40 * MINUTE);
    expect((await engine.incidents.status(id)).status).toBe('active');
    await handle.signal(alertCountsSignal, counts(0));
    const quietFrom = await engine.env.currentTimeMs();
    await sleepUntil(quietFrom + 29 * MINUTE);
    expect((await engine.incidents.status(id)).status).toBe('active');
    await sleepUntil(quietFrom + 31 * MINUTE);
    const status = await until(
      () => engine.incidents.status(id),
      (s) => s.status !== 'active',
    );
    expect(status.status).toBe('resolved');
    const resolved = (await engine.incidents.timeline(id)).find((e) => e.type === 'resolved');
    expect(resolved).toMatchObject({ by: 'auto-resolve', summary: expect.stringContaining('30m') });
    expect(resolved!.at - (quietFrom + 30 * MINUTE)).toBeLessThan(MINUTE);
  });

  it('does nothing for a runbook without autoResolve', async () => {
    const id = 'INC-2026-702';
    await startIncident(engine.env.client, engine.taskQueue, incidentInput(id, plan('security-incident')));
    await until(
      () => engine.incidents.status(id),
      (s) => s.phase === 'eradicate' && s.awaitingAdvance,
    );
    await engine.env.client.workflow.getHandle(id).signal(alertCountsSignal, counts(0));
    await sleepUntil((await engine.env.currentTimeMs()) + 3 * 60 * MINUTE);
    expect((await engine.incidents.status(id)).status).toBe('active');
  });
});
