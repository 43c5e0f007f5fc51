// A re-fire after a flapping detector, on the time-skipping server, through the real alert stream: a fingerprint that
// flapped past the hour's allowance of status changes on a resolved incident, then stayed resolved for a quiet period,
// fires again and the incident records a recurrence (timeline, notice); and a detector flapping every fingerprint,
// fast and slow, for most of an hour gets no more than the documented status changes and re-fires to the incident.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MAX_REFIRE_FORWARDS_PER_HOUR,
  MAX_STATUS_FORWARDS_PER_HOUR,
  REFIRE_QUIET_MS,
  type AlertBook,
} from '../../domain/alert-book';
import type { AlertSignalInput } from '../../domain/messages';
import { alertStreamId } from '../../workflows/definitions';
import { planFromPhases } from '../helpers/incident-fixtures';
import { type TimeSkippingEngine, startTimeSkippingEngine, until } from '../helpers/time-skipping-engine';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
let engine: TimeSkippingEngine;

beforeAll(async () => {
  engine = await startTimeSkippingEngine('alert-refire');
});
afterAll(async () => {
  await engine?.close();
});

/** No steps; post-incident waits for an operator, so the incident stays resolved and takes alerts. */
const runbook = planFromPhases(
  'flapping',
  ['service_outage'],
  'post-incident: { advance: manual }',
  'test/workflows/alert-refire.test.ts',
);

/** Opens an incident and waits for it to be resolved (by recovery), in post-incident. */
async function resolvedIncident(title: string): Promise<string> {
  const { incidentId } = await engine.incidents.open(
    { title, eventType: 'service_outage', severity: 'P3', trigger: 'generic:detector-1', drill: false },
    runbook,
  );
  const status = await until(
    () => engine.incidents.status(incidentId),
    (s) => s.phase === 'post-incident' && s.awaitingAdvance,
    `${incidentId} resolved`,
  );
  expect(status.status).toBe('resolved');
  return incidentId;
}

const alert = (
  fingerprint: string,
  status: AlertSignalInput['status'],
  summary = 'checkout 5xx',
): AlertSignalInput => ({
  source: 'prometheus',
  status,
  summary,
  fingerprint,
  labels: {},
});

/** Sends one alert per fingerprint at once (the client gathers them into batches), and waits for every one. */
const sendAll = (id: string, fingerprints: string[], status: AlertSignalInput['status']) =>
  Promise.all(fingerprints.map((f) => engine.incidents.deliverAlert(id, alert(f, status))));

/** The stream's book once it has counted `total` alerts. */
const bookWith = (id: string, total: number) =>
  until(
    async () => (await engine.incidents.alertBook(id)) as AlertBook,
    (b) => b?.counts.total === total,
    `${total} alerts counted`,
  );

/** The incident's timeline once it holds `count` events of `type`. */
const timelineWith = (id: string, type: string, count: number) =>
  until(
    () => engine.incidents.timeline(id),
    (t) => t.filter((e) => e.type === type).length >= count,
    `${count} ${type} events`,
  );

describe('a re-fire after a flapping detector', () => {
  it('reaches a resolved incident as a recurrence though the flapping used the hour', async () => {
    const id = await resolvedIncident('checkout errors');
    await engine.incidents.deliverAlert(id, alert('f1', 'firing')); // new: a recurrence at once
    // 40 status changes in a few seconds, then the last resolve: past the hour's allowance of status changes.
    for (let i = 0; i < 40; i++)
      await engine.incidents.deliverAlert(id, alert('f1', i % 2 === 0 ? 'resolved' : 'firing'));
    await engine.incidents.deliverAlert(id, alert('f1', 'resolved'));
    const flapped = await bookWith(id, 42);
    expect(flapped.statusForwards?.count).toBe(MAX_STATUS_FORWARDS_PER_HOUR);
    // The new fingerprint and the 30 forwarded changes, of which 15 firings: each a recurrence of the resolved incident.
    const forwarded = await timelineWith(id, 'alert', 1 + MAX_STATUS_FORWARDS_PER_HOUR);
    expect(forwarded.filter((e) => e.type === 'alert')).toHaveLength(1 + MAX_STATUS_FORWARDS_PER_HOUR);
    const recurrencesBefore = forwarded.filter((e) => e.type === 'alert_recurrence').length;
    expect(recurrencesBefore).toBe(1 + MAX_STATUS_FORWARDS_PER_HOUR / 2);

    // Quiet, then a real re-fire: still within the hour whose allowance the flapping used.
    await engine.env.sleep(REFIRE_QUIET_MS + MINUTE);
    await engine.incidents.deliverAlert(id, alert('f1', 'firing', 'checkout down again'));
    const timeline = await timelineWith(id, 'alert_recurrence', recurrencesBefore + 1);
    expect(timeline.filter((e) => e.type === 'alert_recurrence').at(-1)).toMatchObject({
      source: 'prometheus',
      summary: 'checkout down again',
    });
    const book = await bookWith(id, 43);
    expect((await engine.env.currentTimeMs()) - book.statusForwards!.since).toBeLessThan(HOUR);
    expect(book.statusForwards?.count).toBe(MAX_STATUS_FORWARDS_PER_HOUR);
    expect(book.refireForwards?.count).toBe(1);
    expect((await engine.incidents.status(id)).escalation.level).toBeGreaterThanOrEqual(1);
    // Its notice reaches the owner (the webhook peer), numbered after the flapping's recurrences.
    const key = `${id}/recurrence/${recurrencesBefore + 1}`;
    await until(
      async () => engine.sink.requests.filter((r) => r.applied && r.idempotencyKey === key),
      (requests) => requests.length === 1,
      `notice ${key}`,
    );
  });

  it(`forwards a detector flapping everything at most ${MAX_STATUS_FORWARDS_PER_HOUR} + ${MAX_REFIRE_FORWARDS_PER_HOUR} status changes an hour`, async () => {
    const id = await resolvedIncident('everything flapping');
    const fingerprints = Array.from({ length: 10 }, (_, i) => `fp-${i}`);
    let total = 0;
    /** Every fingerprint fires and resolves `rounds` times in a burst, resolved last. */
    const burst = async (rounds: number) => {
      for (let r = 0; r < rounds; r++) {
        await sendAll(id, fingerprints, 'firing');
        await sendAll(id, fingerprints, 'resolved');
      }
      total += 2 * rounds * fingerprints.length;
    };
    const started = await engine.env.currentTimeMs();
    await burst(10);
    // Five more bursts, each after a quiet period: one more than the re-fires allowed in the hour.
    const quietBursts = MAX_REFIRE_FORWARDS_PER_HOUR + 1;
    for (let b = 0; b < quietBursts; b++) {
      await engine.env.sleep(REFIRE_QUIET_MS + MINUTE / 2);
      await burst(3);
    }
    const book = await bookWith(id, total);
    expect((await engine.env.currentTimeMs()) - started).toBeLessThan(HOUR - 2 * MINUTE);
    expect(book.counts).toMatchObject({ total, fingerprints: 10, firingFingerprints: 0, untracked: 0 });
    expect(book.statusForwards?.count).toBe(MAX_STATUS_FORWARDS_PER_HOUR);
    expect(book.refireForwards?.count).toBe(MAX_REFIRE_FORWARDS_PER_HOUR);

    // The incident heard of each new fingerprint and of the allowed changes; the rest are in its exact counts, which
    // the stream sends after the news (a minute lets the counts cadence pass).
    await engine.env.sleep(MINUTE);
    const status = await until(
      () => engine.incidents.status(id),
      (s) => s.alertCounts?.total === total,
      'the exact counts on the incident',
    );
    expect(status.alertCounts).toMatchObject({ total, firingFingerprints: 0 });
    const bound = fingerprints.length + MAX_STATUS_FORWARDS_PER_HOUR + MAX_REFIRE_FORWARDS_PER_HOUR;
    const alerts = (await engine.incidents.timeline(id)).filter((e) => e.type === 'alert');
    expect(alerts).toHaveLength(bound);
    const history = (await engine.env.client.workflow.getHandle(id).describe()).historyLength;
    const stream = (await engine.env.client.workflow.getHandle(alertStreamId(id)).describe()).historyLength;
    console.info(
      `flapping everything: ${total} alerts in ${(((await engine.env.currentTimeMs()) - started) / MINUTE) | 0} ` +
        `simulated minutes, ${alerts.length} forwarded; incident history ${history} events, stream ${stream}`,
    );
  });
});
