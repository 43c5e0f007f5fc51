// Waits until a workflow the caller knows will start has started and finished its first workflow task. The registry
// answers an open before the incident's start lands (the start follows from the registry's own state a few
// milliseconds later), and an incident opened by reference sets its query handlers only once its first task has loaded
// the plan; an opener that goes on to query or signal the incident at once waits here rather than meeting "not found"
// or "no handler for status".
import type { Client } from '@temporalio/client';

/** gRPC status code NOT_FOUND. */
const NOT_FOUND = 5;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Events of a first workflow task that finished: started, task scheduled, started, completed (or failed). */
const FIRST_TASK_DONE = 4;

/**
 * Resolves true once `workflowId` exists and has finished its first workflow task (or closed); false after
 * `timeoutMs` (the start is recorded and happens when the registry runs again; the caller still gets the id). Errors
 * other than "not found" propagate.
 */
export async function untilStarted(
  client: Client,
  workflowId: string,
  namespace: string,
  timeoutMs = 60_000,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  // Most incidents are there within a few tens of milliseconds of the answer: look soon, then back off.
  for (let wait = 10; ; wait = Math.min(wait * 2, 500)) {
    await sleep(wait);
    try {
      const { workflowExecutionInfo: info } = await client.workflowService.describeWorkflowExecution({
        namespace,
        execution: { workflowId },
      });
      if (Number(info?.historyLength ?? 0) >= FIRST_TASK_DONE || info?.closeTime) return true;
    } catch (error) {
      if ((error as { code?: number }).code !== NOT_FOUND) throw error;
    }
    if (Date.now() + wait > deadline) return false;
  }
}
