// Replay without workflow stack traces. The SDK captures a source-mapped stack for every promise a workflow creates,
// so that a live workflow can answer the `__stack_trace` query; replay never asks it, and the capture was over half
// of replay's CPU (docs/BENCHMARKS.md). Replay workers run their workflows on this thread (the SDK's debug mode), and
// the SDK installs its promise hook on a thread only once: marking it installed keeps it off. Live workers run their
// workflows on their own threads, which this does not touch.
import { globalHandlers } from '@temporalio/worker/lib/workflow/vm-shared';

/** Keeps the per-promise stack capture off this thread; no effect where a workflow already ran with it. */
export function skipStackTracesOnThisThread(): void {
  globalHandlers.installed = true;
}

/** Whether workflows started on this thread from now on capture stack traces (for the test that guards the switch). */
export function stackTracesOnThisThread(): boolean {
  return globalHandlers.promiseHookInstalled;
}
