// A flood of alerts on one incident, on a real dev server, sent straight to its alert stream one alert per call
// (IncidentClient.deliverAlert, as the intake does: signal-with-start, alerts that wait for the signal in flight go
// together in the next) to keep it fast: most are repeats of known fingerprints, then every fingerprint resolves. The
// incident stays active and answering, the current runs of it and its stream stay under Temporal's 10,240-event
// warning, and the counts it holds are exact. ALERT_FLOOD_SIZE sets the number of alerts (100,000 by default) and
// ALERT_FLOOD_CONCURRENCY how many calls are in flight at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pLimit from 'p-limit';
import { MAX_STATUS_FORWARDS_PER_HOUR } from '../../domain/alert-book';
import type { AlertSignalInput } from '../../domain/messages';
import { alertStreamId } from '../../workflows/definitions';
import { type ApiEnv, http, plainRunbook, startApiEnv, waitFor } from '../helpers/api-env';

const FLOOD = Number(process.env.ALERT_FLOOD_SIZE ?? 100_000);
const CONCURRENCY = Number(process.env.ALERT_FLOOD_CONCURRENCY ?? 32);
const FINGERPRINTS = 500;
const WARNING_EVENTS = 10_240;

let env: ApiEnv;

beforeAll(async () => {
  env = await startApiEnv({ runbooks: { flood: plainRunbook('flood') }, taskQueue: 'alert-flood' });
});
afterAll(async () => env?.close());

const alert = (i: number, status: AlertSignalInput['status']): AlertSignalInput => ({
  source: 'load-balancer',
  status,
  summary: 'backend unhealthy',
  fingerprint: `fp-${i % FINGERPRINTS}`,
  labels: {},
});

describe('an alert flood on one incident', () => {
  it(`takes ${FLOOD} alerts on ${FINGERPRINTS} fingerprints with exact counts and a bounded history`, async () => {
    const opened = await http<{ incidentId: string }>(`${env.url}/incidents`, {
      key: env.keys.operator.key,
      body: { title: 'load balancer flapping', runbook: 'flood', severity: 'P2' },
    });
    expect(opened.status).toBe(201);
    const id = opened.body.incidentId;

    const limit = pLimit(CONCURRENCY);
    const send = (from: number, to: number, status: AlertSignalInput['status']) =>
      Promise.all(
        Array.from({ length: to - from }, (_, k) =>
          limit(() => env.incidents.deliverAlert(id, alert(from + k, status))),
        ),
      );
    const started = Date.now();
    await send(0, FLOOD - FINGERPRINTS, 'firing');
    // Every fingerprint resolves last: more status changes than are forwarded one by one in an hour.
    await send(FLOOD - FINGERPRINTS, FLOOD, 'resolved');
    const sendSeconds = (Date.now() - started) / 1000;

    const expected = {
      total: FLOOD,
      firing: FLOOD - FINGERPRINTS,
      resolved: FINGERPRINTS,
      fingerprints: FINGERPRINTS,
      firingFingerprints: 0,
      untracked: 0,
    };
    const counted = await waitFor(
      async () => {
        const status = await env.incidents.status(id);
        return status.alertCounts?.total === FLOOD ? status : undefined;
      },
      'the exact counts on the incident',
      { timeoutMs: 60_000 },
    );
    expect(counted.alertCounts).toMatchObject(expected);
    expect(counted.status).toBe('active');

    // The status answers over HTTP, promptly.
    const asked = Date.now();
    const view = await http<{ status: string; alertCounts: unknown }>(`${env.url}/incidents/${id}`, {
      key: env.keys.viewer.key,
    });
    const getMs = Date.now() - asked;
    expect(view.status).toBe(200);
    expect(view.body.alertCounts).toMatchObject(expected);
    expect(getMs).toBeLessThan(3_000);

    // One timeline entry per fingerprint and per forwarded resolve; the rest of the flood is counts. Every alert
    // resolved is said from the counts.
    const timeline = await env.incidents.timeline(id);
    const alerts = timeline.filter((e) => e.type === 'alert');
    expect(alerts.length).toBe(FINGERPRINTS + MAX_STATUS_FORWARDS_PER_HOUR);
    expect(timeline.filter((e) => e.type === 'alerts_resolved')).toHaveLength(1);

    const description = await env.client.workflow.getHandle(id).describe();
    expect(description.status.name).toBe('RUNNING');
    expect(description.historyLength).toBeLessThan(WARNING_EVENTS);
    const stream = await env.client.workflow.getHandle(alertStreamId(id)).describe();
    expect(stream.historyLength).toBeLessThan(WARNING_EVENTS);
    console.info(
      `alert flood: ${FLOOD} alerts in ${sendSeconds.toFixed(1)} s (${Math.round(FLOOD / sendSeconds)}/s at ` +
        `${CONCURRENCY} in flight); incident history ${description.historyLength} events, alert stream's current ` +
        `run ${stream.historyLength}; GET ${getMs} ms`,
    );
  }, 300_000);
});
