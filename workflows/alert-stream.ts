// An incident's alert stream (`INC-2026-001.alerts`): the one place detectors' alerts for an open incident arrive,
// one per `alert` signal or up to ALERT_BATCH_MAX per `alertBatch` (the alerts the incident opened with it recorded
// itself; the stream's first run reads them into its book before anything else). It coalesces them in an alert book
// (domain/alert-book.ts), forwards to the incident at once only what changes something (a new fingerprint, a status
// change, new labels, a higher severity), and sends the exact counts with each forward and otherwise at a bounded
// cadence. With the alert-delivery-bounded patch that cadence slows as a storm goes on (COUNTS_CADENCE) and status
// changes are forwarded at most MAX_STATUS_FORWARDS_PER_HOUR, so the incident's events per hour do not grow with the
// alert rate; with the refire-after-quiet patch a firing alert after a quiet period still goes past that bound (at most
// MAX_REFIRE_FORWARDS_PER_HOUR), so a flapping detector cannot hide a real re-fire from a resolved incident. This
// workflow, which has no children and no timers worth keeping, continues as new well before Temporal's per-run limits
// (10,000 signals, 10,240 events warning), carrying its book (and, with the stream-carries-queue patch, what it has
// not forwarded yet, so a storm that never pauses cannot hold it past its limits). It ends when the incident tells it
// the incident closed.
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  proxyLocalActivities,
  setHandler,
} from '@temporalio/workflow';
import type { createOpeningAlertActivities } from '../src/opening-alerts';
import { type AlertBook, type ForwardRules, emptyAlertBook, observeAlert } from '../domain/alert-book';
import { alertChars, fitsOneBatch, takeBatch } from '../domain/alert-batch';
import { AlertBatch, AlertSignalInput } from '../domain/messages';
import { isPatched } from './patches';
import { lengthForContinuing } from './recorded-task';
import {
  type AlertStreamInput,
  ALERT_BATCH_MAX,
  alertBatchSignal,
  alertBookQuery,
  alertCountsSignal,
  alertSignal,
  alertStreamStopSignal,
} from './definitions';

/** Past this many events in one run the stream continues as new (signals count one event each, and more). */
export const STREAM_HISTORY_BOUND = 3_000;
/** Counts reach the incident at most this often while alerts keep coming (before the alert-delivery-bounded patch). */
export const COUNTS_EVERY_MS = 10_000;

/**
 * How often counts alone reach the incident, by how many count deliveries it has had: each costs its history about four
 * events (the signal and a workflow task), and an incident does not continue as new, so a storm that never stops must
 * cost it ever less. Every 10 s for the first 60 (a storm's first ten minutes, while people watch the numbers climb),
 * every minute for the next 120 (two hours), then every ten minutes: a week-long storm costs about 1,200 deliveries,
 * some 5,000 events, well under Temporal's 10,240-event warning. News (a new fingerprint, a resolve, a higher
 * severity) does not wait for it: it goes at once, with the counts.
 */
export const COUNTS_CADENCE: readonly { upTo: number; everyMs: number }[] = [
  { upTo: 60, everyMs: 10_000 },
  { upTo: 180, everyMs: 60_000 },
  { upTo: Infinity, everyMs: 600_000 },
];

export function countsEveryMs(delivered: number): number {
  return COUNTS_CADENCE.find((tier) => delivered < tier.upTo)!.everyMs;
}

const { loadOpeningAlerts } = proxyLocalActivities<ReturnType<typeof createOpeningAlertActivities>>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '5s', maximumAttempts: 6 },
});

/** The incident's opening alerts; none when they cannot be read (its alerts are still counted from here on). */
async function openingAlerts(incidentId: string): Promise<AlertSignalInput[]> {
  try {
    return await loadOpeningAlerts(incidentId);
  } catch (error) {
    log.warn('alert stream: the opening alerts could not be read; counting from the first alert sent here', {
      incidentId,
      error: `${error}`,
    });
    return [];
  }
}

export async function alertStreamWorkflow(input: AlertStreamInput): Promise<void> {
  // Decided before anything else: streams that ran before them keep the rules they started with.
  const boundedDelivery = isPatched('alert-delivery-bounded');
  const atRecordedTask = isPatched('continue-at-recorded-length');
  const rules: ForwardRules = {
    boundStatusChanges: boundedDelivery,
    // Only where status changes are bounded is there a bound for a re-fire to go past.
    refireAfterQuiet: boundedDelivery && isPatched('refire-after-quiet'),
  };
  const book: AlertBook = input.book ?? emptyAlertBook();
  const incident = getExternalWorkflowHandle(input.incidentId);
  const queue: AlertSignalInput[] = [...(input.pending ?? [])];
  let countsSent = input.countsSent ?? book.counts.total;
  let countsDelivered = input.countsDelivered ?? 0;
  let countsSentAt = input.countsSentAt ?? 0;
  let stopped = false;
  let incidentGone = false;

  setHandler(alertBookQuery, () => book);
  setHandler(alertStreamStopSignal, () => {
    stopped = true;
  });
  // The incident's opening alerts go in the book before any alert sent here: the SDK holds a signal until its handler
  // is set, so the alerts that started this stream are taken after them, in order. They are on the incident already.
  if (input.seedOpening && input.book === undefined) {
    for (const alert of await openingAlerts(input.incidentId)) observeAlert(book, alert, Date.now(), rules);
    countsSent = book.counts.total;
  }
  const take = (alert: AlertSignalInput) => {
    if (observeAlert(book, alert, Date.now(), rules)) queue.push(alert);
  };
  const ignored = (what: string, error: string) =>
    log.warn(`${what} ignored: invalid payload`, { incidentId: input.incidentId, error });
  setHandler(alertSignal, (raw) => {
    const parsed = AlertSignalInput.safeParse(raw);
    if (parsed.success) take(parsed.data);
    else ignored('alert', parsed.error.message);
  });
  // Many alerts in one signal (an Alertmanager group, a flood): one history event for up to ALERT_BATCH_MAX alerts.
  setHandler(alertBatchSignal, (raw) => {
    const parsed = AlertBatch.safeParse(raw);
    if (parsed.success) parsed.data.forEach(take);
    else ignored('alert batch', parsed.error.message);
  });

  /** What the next run takes over of the delivery cadence. */
  const carried = () => (boundedDelivery ? { countsDelivered, countsSentAt } : {});
  const bounded = () => {
    const { historyLength, continueAsNewSuggested } = lengthForContinuing(atRecordedTask);
    return historyLength > STREAM_HISTORY_BOUND || continueAsNewSuggested;
  };

  async function send(what: () => Promise<void>): Promise<void> {
    try {
      await what();
    } catch (error) {
      // The incident has ended (or was never there): nothing left to tell it.
      incidentGone = true;
      log.warn('alert stream: the incident no longer takes signals', {
        incidentId: input.incidentId,
        error: `${error}`,
      });
    }
  }

  /** With the bound: while counts alone changed, waits out the cadence since the last counts delivery. */
  async function countsCadence(): Promise<void> {
    const left = countsSentAt + countsEveryMs(countsDelivered) - Date.now();
    if (left > 0 && queue.length === 0 && !stopped && !bounded()) {
      await condition(() => queue.length > 0 || stopped || bounded(), left);
    }
  }

  while (!incidentGone) {
    await condition(() => queue.length > 0 || book.counts.total !== countsSent || stopped || bounded());
    if (boundedDelivery) await countsCadence();
    const news = queue.length > 0;
    while (queue.length > 0 && !incidentGone) {
      const batch = takeBatch(queue, ALERT_BATCH_MAX, alertChars);
      await send(() => incident.signal(alertBatchSignal, batch));
    }
    // Counts go with news, at the end, and when the cadence allows; a run about to continue as new carries them.
    const countsDue =
      !boundedDelivery || news || stopped || Date.now() >= countsSentAt + countsEveryMs(countsDelivered);
    if (book.counts.total !== countsSent && countsDue && !incidentGone) {
      countsSent = book.counts.total;
      countsSentAt = Date.now();
      countsDelivered += 1;
      await send(() => incident.signal(alertCountsSignal, { ...book.counts }));
    }
    if (stopped && queue.length === 0) break;
    if (bounded()) {
      await condition(allHandlersFinished);
      if (queue.length === 0 && book.counts.total === countsSent) {
        return continueAsNew<typeof alertStreamWorkflow>({ incidentId: input.incidentId, book, ...carried() });
      }
      // Alerts keep coming while it forwards: the next run takes over what is queued (one batch at most, so its
      // input stays as small as a batch signal) and the counts not yet sent, instead of waiting for a pause.
      if (fitsOneBatch(queue, ALERT_BATCH_MAX, alertChars) && isPatched('stream-carries-queue')) {
        return continueAsNew<typeof alertStreamWorkflow>({
          incidentId: input.incidentId,
          book,
          pending: queue,
          countsSent,
          ...carried(),
        });
      }
      continue;
    }
    // Before the bound: let a burst gather before the next counts update; forwards still go at once.
    if (!boundedDelivery) await condition(() => queue.length > 0 || stopped || bounded(), COUNTS_EVERY_MS);
  }
}
