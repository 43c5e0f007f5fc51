// The alert stream's first run and the alerts its incident opened with, on the dev server: the stream reads them
// before any alert it was sent (its book counts them, repeats of them are not news), and when the incident cannot say
// (a workflow of another release, without the query) it still takes its own alerts, counted from the first.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertSignalInput } from '../../domain/messages';
import { alertStreamId } from '../../workflows/definitions';
import { planFromPhases } from '../helpers/incident-fixtures';
import { type TimeSkippingEngine, startLocalEngine, until } from '../helpers/time-skipping-engine';

let engine: TimeSkippingEngine;

beforeAll(async () => {
  engine = await startLocalEngine('opening-alerts');
});
afterAll(async () => {
  await engine?.close();
});

const runbook = planFromPhases(
  'opening-alerts',
  ['service_outage'],
  'detect: { advance: manual }',
  'test/workflows/opening-alerts.test.ts',
);

const alert = (fingerprint: string): AlertSignalInput => ({
  source: 'prometheus',
  status: 'firing',
  summary: 'checkout 5xx',
  fingerprint,
  labels: {},
});

const book = (incidentId: string, total: number) =>
  until(
    () => engine.incidents.alertBook(incidentId),
    (b) => (b?.counts.total ?? 0) >= total,
    `${total} alerts counted for ${incidentId}`,
  );

describe('the alerts an incident opens with', () => {
  it('are in the book of the stream a later alert starts, before that alert', async () => {
    const { incidentId } = await engine.incidents.open(
      {
        title: 'checkout failing',
        eventType: 'service_outage',
        trigger: 'generic:detector-1',
        alerts: [alert('a'), alert('b')],
      },
      runbook,
    );
    expect((await engine.incidents.status(incidentId)).alertCounts).toMatchObject({ total: 2, fingerprints: 2 });
    await engine.incidents.deliverAlert(incidentId, alert('a'));
    const { counts, fingerprints } = (await book(incidentId, 3))!;
    expect(counts).toMatchObject({ total: 3, fingerprints: 2 });
    expect(fingerprints.a?.count).toBe(2);
    // Only counts were news: the timeline keeps the two opening alerts.
    const timeline = await engine.incidents.timeline(incidentId);
    expect(timeline.filter((e) => e.type === 'alert')).toHaveLength(2);
  });

  it('are left out after a few tries when the incident cannot say what they were', async () => {
    // A workflow without the openingAlerts query stands for an incident on a worker of an earlier release.
    const incidentId = 'INC-2026-990';
    await engine.env.client.workflow.start('runbookPlanWorkflow', {
      workflowId: incidentId,
      taskQueue: engine.taskQueue,
      args: [runbook],
    });
    await engine.incidents.deliverAlert(incidentId, alert('c'));
    const { counts } = (await book(incidentId, 1))!;
    expect(counts).toMatchObject({ total: 1, fingerprints: 1 });
    const stream = await engine.env.client.workflow.getHandle(alertStreamId(incidentId)).describe();
    expect(stream.status.name).toBe('RUNNING');
    await engine.env.client.workflow.getHandle(incidentId).terminate('test done');
  }, 60_000);
});
