// Builds the worker that runs incident, registry and phase workflows and every activity. One place decides the
// task queue, the workflow bundle and the activity dependencies.
import path from 'node:path';
import {
  type NativeConnection,
  Worker,
  bundleWorkflowCode,
  type WorkflowBundle,
  type WorkflowBundleOption,
} from '@temporalio/worker';
import type { DataConverter } from '@temporalio/common';
import { createActivities } from '../activities';
import type { EngineConfig } from './config';
import { createReportActivities } from './reports/activities';
import { createPlanActivities } from './runbooks/plan-store';
import { createOpeningAlertActivities } from './opening-alerts';

export const WORKFLOWS_PATH = path.resolve(import.meta.dirname, '../workflows/index.ts');
/** Loaded once per worker and shared by all its workflows instead of once per workflow (see the file). */
export const SHARED_WORKFLOW_MODULES = [path.resolve(import.meta.dirname, '../workflows/shared-schemas.ts')];
/** Workflow interceptors every bundle of the engine's workflows carries (workflows/recorded-task.ts). */
export const WORKFLOW_INTERCEPTOR_MODULES = [path.resolve(import.meta.dirname, '../workflows/recorded-task.ts')];

/** Bundles workflow code once; tests and benchmarks reuse the bundle across workers. */
export async function bundleWorkflows(): Promise<WorkflowBundle> {
  return bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    preloadModules: SHARED_WORKFLOW_MODULES,
    workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
    logger: quietBundlerLogger,
  });
}

const quietBundlerLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string, meta?: Record<string, unknown>) => console.warn(message, meta ?? ''),
  error: (message: string, meta?: Record<string, unknown>) => console.error(message, meta ?? ''),
};

/**
 * Sized for incidents that sleep for hours between events, not by the SDK's rule (a share of the heap: 2,311 here).
 * A cached workflow costs the worker about 0.2 MB over its 246 MB floor (the 1,000-incident timers run in
 * docs/BENCHMARKS.md: 673 MB with 2,000 cached) and saves a replay of its history (tens of milliseconds) when it
 * wakes. 1,000 cached bound a worker near 450 MB whatever the number of open incidents; the others are replayed when a
 * timer, signal or update wakes them, which for a sleeping incident is rare. Workflow tasks are CPU work on one
 * workflow thread, so 20 at once is enough to keep it busy while others wait for the server; activities, and the
 * first attempts of the phases' steps run as local activities, are mostly waiting on HTTP, so they keep 100 each. A
 * local activity also holds its workflow task's slot while it runs, which is why a step's local attempt is bounded
 * (LOCAL_ATTEMPT_MS in workflows/steps.ts).
 */
export const WORKER_LIMITS = {
  maxCachedWorkflows: 1_000,
  maxConcurrentWorkflowTaskExecutions: 20,
  maxConcurrentActivityTaskExecutions: 100,
  maxConcurrentLocalActivityExecutions: 100,
  /** The SDK's default with a reused V8 context, stated so benchmarks can compare (docs/BENCHMARKS.md). */
  workflowThreadPoolSize: 1,
} as const;

export interface CreateWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  config: EngineConfig;
  /** A prebuilt bundle; bundled on the spot otherwise. */
  workflowBundle?: WorkflowBundleOption;
  identity?: string;
  /** Overrides WORKER_LIMITS (benchmarks compare sizes). */
  limits?: Partial<Record<keyof typeof WORKER_LIMITS, number>>;
  /** The engine's data converter (src/codec/engine.ts); clients of this worker must use the same. */
  dataConverter?: DataConverter;
}

export async function createWorker(options: CreateWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.config.taskQueue,
    workflowBundle: options.workflowBundle ?? (await bundleWorkflows()),
    activities: {
      ...createActivities({ config: options.config }),
      ...createReportActivities({ config: options.config }),
      ...createPlanActivities(),
      ...createOpeningAlertActivities(),
    },
    ...WORKER_LIMITS,
    ...options.limits,
    ...(options.identity ? { identity: options.identity } : {}),
    ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
  });
}
