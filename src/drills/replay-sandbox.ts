// Replay's workflow sandbox, set up for speed on the thread that replays (the SDK's debug mode runs replayed workflows
// on the calling thread). Live workers run their workflows on their own threads, which none of this touches, and no
// live worker of the engine runs in debug mode.
import { globalHandlers } from '@temporalio/worker/lib/workflow/vm-shared';
import { ReusableVMWorkflowCreator } from '@temporalio/worker/lib/workflow/reusable-vm';

/**
 * No workflow stack traces. The SDK captures a source-mapped stack for every promise a workflow creates, so that a
 * live workflow can answer the `__stack_trace` query; replay never asks it, and the capture was over half of replay's
 * CPU (docs/BENCHMARKS.md). The SDK installs its promise hook on a thread only once: marking it installed keeps it
 * off. No effect where a workflow already ran with it.
 */
export function skipStackTracesOnThisThread(): void {
  globalHandlers.installed = true;
}

/** Whether workflows started on this thread from now on capture stack traces (for the test that guards the switch). */
export function stackTracesOnThisThread(): boolean {
  return globalHandlers.promiseHookInstalled;
}

/**
 * No execution watchdog. Every call into a workflow's context passes the worker's isolate execution timeout to
 * `vm.runInContext`, and Node starts a watchdog thread for each such call; in debug mode that timeout is 49 days, so
 * it guards nothing, and without it one replay thread was about 1.4 times faster (docs/BENCHMARKS.md). The SDK hands
 * the timeout to the creator of the workflows' context once: creators made on this thread from now on get none.
 */
export function skipExecutionWatchdogOnThisThread(): void {
  if (watchdogSkipped) return;
  watchdogSkipped = true;
  const create = ReusableVMWorkflowCreator.create.bind(ReusableVMWorkflowCreator);
  ReusableVMWorkflowCreator.create = ((bundle, _timeoutMs, ...rest) =>
    create(bundle, undefined as unknown as number, ...rest)) as typeof ReusableVMWorkflowCreator.create;
}

let watchdogSkipped = false;
