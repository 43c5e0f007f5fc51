// Bench-only workflows for the ceiling measurement (bench/ceiling.ts), bundled separately from the engine's: a
// workflow that does nothing, and one that runs a single no-op activity. Sandbox code: imports only the workflow SDK.
import { proxyActivities } from '@temporalio/workflow';
import type { benchActivities } from '../activities';

const { benchNoop } = proxyActivities<typeof benchActivities>({ startToCloseTimeout: '30s' });

/** Completes in its first workflow task. */
export async function benchNoopWorkflow(): Promise<void> {
  return;
}

/** One activity that does nothing, then completes. */
export async function benchActivityWorkflow(): Promise<void> {
  await benchNoop();
}
