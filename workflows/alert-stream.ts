// An incident's alert stream (`INC-2026-001.alerts`): the one place detectors' alerts for an open incident arrive.
// It coalesces them in an alert book (domain/alert-book.ts), forwards to the incident only what changes something
// (a new fingerprint, a status change, new labels, a higher severity), and sends the exact counts at most every
// COUNTS_EVERY_MS. So the incident hears a bounded number of signals however long a storm lasts, and this workflow,
// which has no children and no timers worth keeping, continues as new well before Temporal's per-run limits
// (10,000 signals, 10,240 events warning), carrying its book (and, with the stream-carries-queue patch, what it has
// not forwarded yet, so a storm that never pauses cannot hold it past its limits). It ends when the incident tells it
// the incident closed.
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { type AlertBook, emptyAlertBook, observeAlert } from '../domain/alert-book';
import { AlertSignalInput } from '../domain/messages';
import { isPatched } from './patches';
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
/** Counts reach the incident at most this often while alerts keep coming. */
export const COUNTS_EVERY_MS = 10_000;

export async function alertStreamWorkflow(input: AlertStreamInput): Promise<void> {
  const book: AlertBook = input.book ?? emptyAlertBook();
  const incident = getExternalWorkflowHandle(input.incidentId);
  const queue: AlertSignalInput[] = [...(input.pending ?? [])];
  let countsSent = input.countsSent ?? book.counts.total;
  let stopped = false;
  let incidentGone = false;

  setHandler(alertBookQuery, () => book);
  setHandler(alertStreamStopSignal, () => {
    stopped = true;
  });
  setHandler(alertSignal, (raw) => {
    const parsed = AlertSignalInput.safeParse(raw);
    if (!parsed.success) {
      log.warn('alert ignored: invalid payload', { incidentId: input.incidentId, error: parsed.error.message });
      return;
    }
    if (observeAlert(book, parsed.data, Date.now())) queue.push(parsed.data);
  });

  const bounded = () => workflowInfo().historyLength > STREAM_HISTORY_BOUND || workflowInfo().continueAsNewSuggested;

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

  while (!incidentGone) {
    await condition(() => queue.length > 0 || book.counts.total !== countsSent || stopped || bounded());
    while (queue.length > 0 && !incidentGone) {
      const batch = queue.splice(0, ALERT_BATCH_MAX);
      await send(() => incident.signal(alertBatchSignal, batch));
    }
    if (book.counts.total !== countsSent && !incidentGone) {
      countsSent = book.counts.total;
      await send(() => incident.signal(alertCountsSignal, { ...book.counts }));
    }
    if (stopped && queue.length === 0) break;
    if (bounded()) {
      await condition(allHandlersFinished);
      if (queue.length === 0 && book.counts.total === countsSent) {
        return continueAsNew<typeof alertStreamWorkflow>({ incidentId: input.incidentId, book });
      }
      // Alerts keep coming while it forwards: the next run takes over what is queued (one batch at most, so its
      // input stays as small as a batch signal) and the counts not yet sent, instead of waiting for a pause.
      if (queue.length <= ALERT_BATCH_MAX && isPatched('stream-carries-queue')) {
        return continueAsNew<typeof alertStreamWorkflow>({
          incidentId: input.incidentId,
          book,
          pending: queue,
          countsSent,
        });
      }
      continue;
    }
    // Let a burst gather before the next counts update; forwards still go at once.
    await condition(() => queue.length > 0 || stopped || bounded(), COUNTS_EVERY_MS);
  }
}
