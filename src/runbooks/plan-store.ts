// Stores and loads compiled runbook plans by reference (id and SHA-256 of the plan), so opening an incident sends
// the registry a reference instead of the plan. Openers call storePlan before the open (once per plan and client);
// the worker's loadRunbookPlan local activity fetches it from the holder workflow, checks the hash and keeps it.
import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { RunbookPlan } from '../../domain/runbook';
import { type RunbookRef, planHolderId } from '../../domain/runbook-ref';
import { runbookPlanQuery, type runbookPlanWorkflow } from '../../workflows/runbook-plan';
import { runbookCache } from './cache';

/** The SHA-256 of a compiled plan's JSON: the same plan object always gives the same hash. */
export function planHash(plan: RunbookPlan): string {
  return createHash('sha256').update(JSON.stringify(plan)).digest('hex');
}

export function runbookRef(plan: RunbookPlan): RunbookRef {
  return { id: plan.id, hash: planHash(plan) };
}

/** Plans stored per client (one start per plan and process): hash -> the start in flight or done. */
const stored = new WeakMap<Client, Map<string, Promise<void>>>();

/** Makes sure the plan's holder runs (starting it if not), then returns its reference. */
export async function storePlan(client: Client, taskQueue: string, plan: RunbookPlan): Promise<RunbookRef> {
  const ref = runbookRef(plan);
  let byHash = stored.get(client);
  if (!byHash) stored.set(client, (byHash = new Map()));
  let started = byHash.get(ref.hash);
  if (!started) {
    started = client.workflow
      .start<typeof runbookPlanWorkflow>('runbookPlanWorkflow', {
        workflowId: planHolderId(ref),
        taskQueue,
        args: [plan],
        workflowIdConflictPolicy: 'USE_EXISTING',
      })
      .then(() => undefined);
    byHash.set(ref.hash, started);
    // A failed start is tried again by the next open, not remembered.
    started.catch(() => byHash.delete(ref.hash));
  }
  await started;
  return ref;
}

/** Plans a worker has loaded, by hash; plans are small and few, the bound only guards against a flood of versions. */
const LOADED_PLANS_KEPT = 256;

export interface PlanActivityOptions {
  /** The worker's own runbooks, looked at first (the API and the worker usually share them); default runbooks/. */
  runbooks?: () => Map<string, RunbookPlan>;
}

export function createPlanActivities(options: PlanActivityOptions = {}) {
  let local = options.runbooks;
  const localPlan = (ref: RunbookRef): RunbookPlan | undefined => {
    try {
      local ??= runbookCache();
      const plan = local().get(ref.id);
      return plan && planHash(plan) === ref.hash ? plan : undefined;
    } catch {
      return undefined; // an unreadable runbooks folder: the stored plan still serves
    }
  };
  const loaded = new Map<string, Promise<RunbookPlan>>();
  const fetchStored = async (ref: RunbookRef): Promise<RunbookPlan> => {
    let plan: RunbookPlan;
    try {
      plan = await Context.current().client.workflow.getHandle(planHolderId(ref)).query(runbookPlanQuery);
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) {
        throw ApplicationFailure.nonRetryable(
          `no stored plan for runbook ${ref.id} with hash ${ref.hash}: expected workflow ${planHolderId(ref)} ` +
            'to hold it (IncidentClient.open stores it before opening)',
          'RunbookPlanNotFound',
        );
      }
      throw error;
    }
    const hash = planHash(plan);
    if (plan.id !== ref.id || hash !== ref.hash) {
      throw ApplicationFailure.nonRetryable(
        `the stored plan does not match the reference: expected runbook ${ref.id} with hash ${ref.hash}, ` +
          `got ${plan.id} with hash ${hash}`,
        'RunbookPlanMismatch',
      );
    }
    return plan;
  };
  return {
    /**
     * The plan a reference names: the worker's own runbook when its hash matches, else the stored one. Refuses a plan
     * whose content does not match the hash. Concurrent loads of one plan share one fetch.
     */
    async loadRunbookPlan(ref: RunbookRef): Promise<RunbookPlan> {
      const own = localPlan(ref);
      if (own) return own;
      let plan = loaded.get(ref.hash);
      if (!plan) {
        if (loaded.size >= LOADED_PLANS_KEPT) loaded.delete(loaded.keys().next().value!);
        plan = fetchStored(ref);
        loaded.set(ref.hash, plan);
        plan.catch(() => loaded.delete(ref.hash));
      }
      return plan;
    },
  };
}
