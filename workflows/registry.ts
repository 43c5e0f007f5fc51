// The incident registry: one long-lived entity workflow that hands out INC-YYYY-NNN, starts each incident as an
// abandoned child, and keeps the dedup index of open incidents. An open is answered as soon as its number is taken:
// the number and the incident to start are recorded in the registry's state in the same workflow task that answers
// the update, and the main loop starts the child from that state (in the same task's commands), so a crash between
// the answer and the start still starts the incident on replay. Many opens share one workflow task. Numbers are
// gapless and never reused; the registry carries a runbook reference, never the plan. It also remembers, per dedup
// key, the last resolved incident that closed, for its enhanced-monitoring window: an open for that key in the
// window starts an incident that knows it is a recurrence (domain/recurrence.ts). Deterministic.
import {
  ParentClosePolicy,
  WorkflowIdReusePolicy,
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  patched,
  setHandler,
  startChild,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { OpenRequest } from '../domain/messages';
import { RunbookRef } from '../domain/runbook-ref';
import { pruneClosed, recurrenceFor, rememberClosed } from '../domain/recurrence';
import {
  type IncidentStartInput,
  type OpenIncidentInput,
  type PendingStart,
  type RegistryState,
  incidentClosedSignal,
  openIncidentUpdate,
  registryStateQuery,
} from './definitions';
import { incidentWorkflow } from './incident/workflow';
import { isPatched, patchOnce } from './patches';
import { lengthForContinuing } from './recorded-task';

/** Past this many events the registry continues as new, carrying its counters, index and pending starts. */
const HISTORY_BOUND = 5_000;
/**
 * Past this many incidents started in one run it continues as new too: the server keeps every child a run started
 * until the child closes (at most 2,000 by default, `limit.numPendingChildExecutions.error`), and incidents stay open
 * for days.
 */
const STARTS_PER_RUN = 1_000;

/**
 * Patch: an open is answered once its number is recorded, and the main loop starts the incident. Runs begun before
 * this keep starting the incident inside the update handler (their histories hold that order) until they continue as
 * new.
 */
export const REGISTRY_ANSWERS_BEFORE_START_PATCH = 'registry-answers-before-start';

export function formatIncidentId(year: number, n: number): string {
  return `INC-${year}-${String(n).padStart(3, '0')}`;
}

function validateOpen({ plan, runbook, ...request }: OpenIncidentInput): void {
  OpenRequest.parse(request);
  if (runbook !== undefined) RunbookRef.parse(runbook);
  else if (!plan || typeof plan.id !== 'string') throw new Error('expected a runbook reference ({ id, hash })');
}

export async function incidentRegistryWorkflow(initial?: RegistryState): Promise<void> {
  const state: RegistryState = {
    counters: { ...initial?.counters },
    openByDedupKey: { ...initial?.openByDedupKey },
    pending: [...(initial?.pending ?? [])],
    ...(initial?.recentlyClosed ? { recentlyClosed: [...initial.recentlyClosed] } : {}),
  };
  const answersBeforeStart = patched(REGISTRY_ANSWERS_BEFORE_START_PATCH);
  // Asked at the first close that could be remembered: runs whose history closed incidents before it forget them.
  const remembersClosed = patchOnce('registry-recurrence');
  // Decided at the start: a run that began before the patch keeps reading the current task's length.
  const atRecordedTask = isPatched('continue-at-recorded-length');
  let startedThisRun = 0;
  let starting = 0;
  setHandler(registryStateQuery, () => state);

  /** Takes the next number of the year, synchronously, so concurrent opens never share one. */
  const allocate = (dedupKey: string | undefined): string => {
    const year = new Date(Date.now()).getUTCFullYear();
    const n = (state.counters[year] ?? 0) + 1;
    state.counters[year] = n;
    const incidentId = formatIncidentId(year, n);
    if (dedupKey) state.openByDedupKey[dedupKey] = incidentId;
    return incidentId;
  };

  /** The incident's input: the request with its runbook reference (or, from an older opener, the plan itself). */
  const incidentInput = (open: PendingStart): IncidentStartInput => ({
    ...open.request,
    incidentId: open.incidentId,
    ...(open.runbook ? { runbook: open.runbook } : {}),
    ...(open.plan ? { plan: open.plan } : {}),
    ...(open.recurrenceOf ? { recurrenceOf: open.recurrenceOf } : {}),
  });

  const startIncident = (input: IncidentStartInput) =>
    startChild(incidentWorkflow, {
      workflowId: input.incidentId,
      args: [input],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    });

  /**
   * Starts one recorded open. An id already taken outside the registry (a workflow started by hand with an INC- id)
   * keeps its number; the incident moves to the next free number, the dedup index follows, and the move is logged
   * and kept in `moved` for whoever holds the first id.
   */
  const startPending = async (open: PendingStart): Promise<void> => {
    for (;;) {
      try {
        await startIncident(incidentInput(open));
        return;
      } catch (error) {
        if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
        const dedupKey = open.request.dedupKey;
        const next = allocate(dedupKey);
        log.warn('incident id already taken outside the registry; starting the incident under the next id', {
          taken: open.incidentId,
          incidentId: next,
        });
        state.moved = { ...state.moved, [open.incidentId]: next };
        open = { ...open, incidentId: next };
      }
    }
  };

  setHandler(
    openIncidentUpdate,
    async ({ plan, runbook, ...raw }) => {
      const request = OpenRequest.parse(raw);
      const dedupKey = request.dedupKey;
      const existing = dedupKey ? state.openByDedupKey[dedupKey] : undefined;
      if (existing) return { incidentId: existing, created: false };
      const recurrenceOf = dedupKey ? recurrenceFor(state.recentlyClosed ?? [], dedupKey, Date.now()) : undefined;
      // From an opener that still sends the plan: keep it only when there is no reference.
      const open: PendingStart = {
        incidentId: allocate(dedupKey),
        request,
        ...(runbook ? { runbook } : plan ? { plan } : {}),
        ...(recurrenceOf ? { recurrenceOf } : {}),
      };
      if (answersBeforeStart) {
        state.pending!.push(open);
        return { incidentId: open.incidentId, created: true, ...(recurrenceOf ? { recurrenceOf } : {}) };
      }
      // Runs begun before the patch: start inside the handler, skipping an id taken outside the registry.
      for (;;) {
        try {
          await startIncident(incidentInput(open));
          return { incidentId: open.incidentId, created: true, ...(recurrenceOf ? { recurrenceOf } : {}) };
        } catch (error) {
          if (dedupKey) delete state.openByDedupKey[dedupKey];
          if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
          open.incidentId = allocate(dedupKey);
        }
      }
    },
    { validator: validateOpen },
  );

  setHandler(incidentClosedSignal, ({ incidentId, dedupKey, resolvedAt }) => {
    if (!dedupKey || state.openByDedupKey[dedupKey] !== incidentId) return;
    delete state.openByDedupKey[dedupKey];
    if (resolvedAt === undefined || !remembersClosed()) return;
    const entry = { dedupKey, incidentId, resolvedAt };
    state.recentlyClosed = rememberClosed(state.recentlyClosed ?? [], entry, Date.now());
  });

  const mustContinue = (): boolean => {
    const { historyLength, continueAsNewSuggested } = lengthForContinuing(atRecordedTask);
    return historyLength > HISTORY_BOUND || continueAsNewSuggested || startedThisRun >= STARTS_PER_RUN;
  };

  // Start every recorded open as soon as it is recorded, all of them in parallel.
  for (;;) {
    await condition(() => state.pending!.length > 0 || mustContinue());
    if (mustContinue()) break;
    for (const open of state.pending!.splice(0)) {
      startedThisRun++;
      starting++;
      void startPending(open).finally(() => starting--);
    }
  }
  // Opens recorded but not started yet are carried to the next run, which starts them first.
  await condition(() => starting === 0 && allHandlersFinished());
  if (state.recentlyClosed) state.recentlyClosed = pruneClosed(state.recentlyClosed, Date.now());
  await continueAsNew<typeof incidentRegistryWorkflow>(state);
}
