// A storm of alerts on one incident, on a real dev server: every alert counted exactly, the incident still active
// and answering, and neither the incident nor its alert stream near Temporal's per-run limits (10,000 signals,
// 10,240 events warning). Then the alert lifecycle: a higher severity raises the incident, every alert resolved is
// said on the timeline, and an alert after resolution is a recurrence that pages L1.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pLimit from 'p-limit';
import { alertStreamId } from '../../workflows/definitions';
import { type ApiEnv, http, plainRunbook, startApiEnv, waitFor } from '../helpers/api-env';

// 2,000 in CI (past the 1,000 tracked fingerprints); ALERT_STORM_SIZE=20000 or more by hand.
const STORM = Number(process.env.ALERT_STORM_SIZE ?? 2_000);
const WARNING_EVENTS = 10_240;

let env: ApiEnv;

beforeAll(async () => {
  env = await startApiEnv({ runbooks: { storm: plainRunbook('storm') }, taskQueue: 'alert-storm' });
});
afterAll(async () => env?.close());

async function historyLength(workflowId: string): Promise<number> {
  const description = await env.client.workflow.getHandle(workflowId).describe();
  return description.historyLength;
}

/** Polls `read` until `ok` holds for its value. */
function until<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string, timeoutMs = 60_000): Promise<T> {
  return waitFor(
    async () => {
      const value = await read();
      return ok(value) ? value : undefined;
    },
    what,
    { timeoutMs },
  );
}

async function open(title: string): Promise<string> {
  const opened = await http<{ incidentId: string }>(`${env.url}/incidents`, {
    key: env.keys.operator.key,
    body: { title, runbook: 'storm', severity: 'P2' },
  });
  expect(opened.status).toBe(201);
  return opened.body.incidentId;
}

describe('an alert storm on one incident', () => {
  it(`takes ${STORM} alerts with distinct fingerprints, counts them exactly and stays within every limit`, async () => {
    const id = await open('search is down');
    const limit = pLimit(64);
    await Promise.all(
      Array.from({ length: STORM }, (_, i) =>
        limit(() =>
          env.incidents.deliverAlert(id, {
            source: 'load-balancer',
            status: 'firing',
            summary: 'backend unhealthy',
            fingerprint: `fp-${i}`,
            labels: i === 0 ? { endpoint: '/search' } : {},
          }),
        ),
      ),
    );
    const book = await until(
      () => env.incidents.alertBook(id),
      (b) => b?.counts.total === STORM,
      'every alert counted',
    );
    expect(book!.counts).toMatchObject({ total: STORM, firing: STORM, resolved: 0, fingerprints: 1_000 });
    expect(book!.counts.untracked).toBe(STORM - 1_000);

    const started = Date.now();
    const status = await env.incidents.status(id);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(status.status).toBe('active');
    // The counts reach the incident within the stream's throttle.
    const counted = await until(
      () => env.incidents.status(id),
      (s) => s.alertCounts?.total === STORM,
      'the counts',
    );
    expect(counted.alertLabels).toMatchObject({ endpoint: '/search' });
    // One timeline entry per tracked fingerprint at most: the storm does not flood the timeline.
    const alerts = (await env.incidents.timeline(id)).filter((e) => e.type === 'alert');
    expect(alerts.length).toBeLessThanOrEqual(1_000);

    expect(await historyLength(id)).toBeLessThan(WARNING_EVENTS);
    expect(await historyLength(alertStreamId(id))).toBeLessThan(WARNING_EVENTS);
    const description = await env.client.workflow.getHandle(id).describe();
    expect(description.status.name).toBe('RUNNING');
  });

  it('raises the severity on a higher alert, says when all alerts resolved, and pages L1 on a recurrence', async () => {
    const id = await open('checkout errors');
    const alert = (status: 'firing' | 'resolved', extra: Record<string, unknown> = {}) =>
      env.incidents.deliverAlert(id, {
        source: 'prometheus',
        status,
        summary: 'error rate',
        fingerprint: 'e1',
        labels: {},
        ...extra,
      });

    await alert('firing', { severity: 'P0' });
    const raised = await until(
      () => env.incidents.status(id),
      (s) => s.severity === 'P0',
      'the raise to P0',
    );
    const change = (await env.incidents.timeline(id)).find((e) => e.type === 'severity_changed');
    expect(change).toMatchObject({ from: 'P2', to: 'P0', by: 'alert:prometheus' });
    expect(raised.escalation.level).toBe(3); // a raise to P0 pages the executive level at once

    await alert('resolved');
    await until(
      () => env.incidents.timeline(id),
      (t) => t.some((e) => e.type === 'alerts_resolved'),
      'all resolved',
    );

    // Containment ended (the contain phase has no steps), so the incident may be resolved; then the alert recurs.
    await until(
      () => env.incidents.status(id),
      (s) => s.phase !== 'detect' && s.phase !== 'contain',
      'contained',
    );
    const resolved = await http(`${env.url}/incidents/${id}/resolve`, {
      key: env.keys.commander.key,
      body: { summary: 'rolled back' },
    });
    expect(resolved.status).toBe(200);
    await alert('firing');
    const timeline = await until(
      () => env.incidents.timeline(id),
      (t) => t.some((e) => e.type === 'alert_recurrence'),
      'the recurrence',
    );
    expect(timeline.find((e) => e.type === 'alert_recurrence')).toMatchObject({ source: 'prometheus' });
  });
});
