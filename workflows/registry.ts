// The incident registry: one long-lived entity workflow that hands out INC-YYYY-NNN and starts the incident as an
// abandoned child in the same update, so a number is spent exactly when an incident exists (no gap, no duplicate),
// and that keeps the dedup index of open incidents. Deterministic; never blocks on anything but child starts.
import {
  ParentClosePolicy,
  WorkflowIdReusePolicy,
  allHandlersFinished,
  condition,
  continueAsNew,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { OpenRequest } from '../domain/messages';
import { type RegistryState, incidentClosedSignal, openIncidentUpdate, registryStateQuery } from './definitions';
import { incidentWorkflow } from './incident/workflow';

/** Past this many events the registry continues as new, carrying its counters and index. */
const HISTORY_BOUND = 5_000;

export function formatIncidentId(year: number, n: number): string {
  return `INC-${year}-${String(n).padStart(3, '0')}`;
}

export async function incidentRegistryWorkflow(initial?: RegistryState): Promise<void> {
  const state: RegistryState = {
    counters: { ...initial?.counters },
    openByDedupKey: { ...initial?.openByDedupKey },
  };
  setHandler(registryStateQuery, () => state);

  setHandler(
    openIncidentUpdate,
    async ({ plan, ...raw }) => {
      const request = OpenRequest.parse(raw);
      const dedupKey = request.dedupKey;
      const existing = dedupKey ? state.openByDedupKey[dedupKey] : undefined;
      if (existing) return { incidentId: existing, created: false };
      const year = new Date(Date.now()).getUTCFullYear();
      // Numbers are taken synchronously, so concurrent opens never share one.
      for (;;) {
        const n = (state.counters[year] ?? 0) + 1;
        state.counters[year] = n;
        const incidentId = formatIncidentId(year, n);
        if (dedupKey) state.openByDedupKey[dedupKey] = incidentId;
        try {
          await startChild(incidentWorkflow, {
            workflowId: incidentId,
            args: [{ ...request, plan, incidentId }],
            parentClosePolicy: ParentClosePolicy.ABANDON,
            workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          });
          return { incidentId, created: true };
        } catch (error) {
          if (dedupKey) delete state.openByDedupKey[dedupKey];
          // An id taken outside the registry (started by hand) is skipped, never reused.
          if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
        }
      }
    },
    {
      validator: ({ plan, ...request }) => {
        OpenRequest.parse(request);
        if (!plan || typeof plan.id !== 'string') throw new Error('expected a compiled runbook plan');
      },
    },
  );

  setHandler(incidentClosedSignal, ({ incidentId, dedupKey }) => {
    if (dedupKey && state.openByDedupKey[dedupKey] === incidentId) delete state.openByDedupKey[dedupKey];
  });

  await condition(() => workflowInfo().historyLength > HISTORY_BOUND || workflowInfo().continueAsNewSuggested);
  await condition(allHandlersFinished);
  await continueAsNew<typeof incidentRegistryWorkflow>(state);
}
