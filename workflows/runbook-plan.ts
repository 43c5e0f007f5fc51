// Compiled runbook plans by reference. An opener stores each plan it uses once, in a small workflow of its own
// (runbookPlanWorkflow, id from planHolderId) that answers the `plan` query for as long as it runs. The registry then
// passes only the runbook's id and hash, and an incident opened that way loads its plan with a local activity as the
// first thing it does, so the plan is pinned in the incident's own history (the activity's marker) and replays from
// there, whatever happens to the holder later.
import { condition, defineQuery, proxyLocalActivities, setHandler } from '@temporalio/workflow';
import type { RunbookPlan } from '../domain/runbook';
import type { RunbookRef } from '../domain/runbook-ref';
import type { createPlanActivities } from '../src/runbooks/plan-store';

export const runbookPlanQuery = defineQuery<RunbookPlan>('plan');

/** Holds one plan and answers `plan`; runs until terminated (it costs one tiny history). */
export async function runbookPlanWorkflow(plan: RunbookPlan): Promise<void> {
  setHandler(runbookPlanQuery, () => plan);
  await condition(() => false);
}

const { loadRunbookPlan } = proxyLocalActivities<ReturnType<typeof createPlanActivities>>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '5s', maximumAttempts: 10 },
});

/** The incident's plan for a reference; the local activity fails (non-retryable) when no such plan is stored. */
export async function loadPinnedPlan(ref: RunbookRef | undefined): Promise<RunbookPlan> {
  if (!ref) throw new Error('expected the incident input to carry a runbook plan or a runbook reference');
  return loadRunbookPlan(ref);
}
