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

export const WORKFLOWS_PATH = path.resolve(import.meta.dirname, '../workflows/index.ts');
/** Loaded once per worker and shared by all its workflows instead of once per workflow (see the file). */
export const SHARED_WORKFLOW_MODULES = [path.resolve(import.meta.dirname, '../workflows/shared-schemas.ts')];

/** Bundles workflow code once; tests and benchmarks reuse the bundle across workers. */
export async function bundleWorkflows(): Promise<WorkflowBundle> {
  return bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    preloadModules: SHARED_WORKFLOW_MODULES,
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

export interface CreateWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  config: EngineConfig;
  /** A prebuilt bundle; bundled on the spot otherwise. */
  workflowBundle?: WorkflowBundleOption;
  identity?: string;
  /** The engine's data converter (src/codec/engine.ts); clients of this worker must use the same. */
  dataConverter?: DataConverter;
}

export async function createWorker(options: CreateWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.config.taskQueue,
    workflowBundle: options.workflowBundle ?? (await bundleWorkflows()),
    activities: createActivities({ config: options.config }),
    ...(options.identity ? { identity: options.identity } : {}),
    ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
  });
}
