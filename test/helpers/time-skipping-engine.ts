// A whole engine on the time-skipping test server for one test file: server with the incident search attributes,
// a worker with real activities, a real webhook peer for notifications, and an IncidentClient. The same on an
// in-memory dev server (startLocalEngine) where a behaviour differs between the two servers.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { IncidentClient } from '../../src/client';
import type { EngineConfig } from '../../src/config';
import { registerSearchAttributes } from '../../src/temporal/search-attributes';
import { bundleWorkflows, createWorker } from '../../src/worker';
import { testDataConverter } from './codec';
import { makeEngineConfig } from './incident-fixtures';
import { createLocalEnv, createTimeSkippingEnv } from './temporal-env';
import { startWebhookSink, type WebhookSink } from './webhook-sink';

export interface TimeSkippingEngine {
  env: TestWorkflowEnvironment;
  incidents: IncidentClient;
  sink: WebhookSink;
  config: EngineConfig;
  taskQueue: string;
  close(): Promise<void>;
}

export function startTimeSkippingEngine(taskQueue: string): Promise<TimeSkippingEngine> {
  return startEngine(taskQueue, async () => {
    const env = await createTimeSkippingEnv({ client: { dataConverter: testDataConverter } });
    await registerSearchAttributes(env.connection);
    return env;
  });
}

/** The same on the dev server (the real server's rules, a real clock). */
export function startLocalEngine(taskQueue: string): Promise<TimeSkippingEngine> {
  return startEngine(taskQueue, () => createLocalEnv({ client: { dataConverter: testDataConverter } }));
}

async function startEngine(taskQueue: string, createEnv: () => Promise<TestWorkflowEnvironment>) {
  const sink = await startWebhookSink();
  const env = await createEnv();
  const config = makeEngineConfig(`${sink.url}/hooks/incidents`, taskQueue);
  const worker: Worker = await createWorker({
    connection: env.nativeConnection,
    namespace: 'default',
    config,
    workflowBundle: await bundleWorkflows(),
    dataConverter: testDataConverter,
  });
  const running = worker.run();
  return {
    env,
    incidents: new IncidentClient(env.client, taskQueue),
    sink,
    config,
    taskQueue,
    async close() {
      worker.shutdown();
      await running;
      await env.teardown();
      await sink.close();
    },
  };
}

/** Polls until `ok` holds (wall clock; does not move simulated time). */
export async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean, what = 'condition'): Promise<T> {
  let last: T | undefined;
  // 300 reads 100 ms apart, and at most 90 s however slow the reads are on a loaded machine, a read that never
  // answers included: a stage that never arrives fails naming itself, before the test's own timeout would fail it
  // without a word.
  const deadline = Date.now() + 90_000;
  for (let i = 0; i < 300 && Date.now() < deadline; i++) {
    let timer: NodeJS.Timeout | undefined;
    const unanswered = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${what} not reached: a read gave no answer within 90 s; last value: ${shown(last)}`)),
        deadline - Date.now(),
      );
    });
    const reading = read();
    // A read given up on may still fail later: that is not a second failure.
    reading.catch(() => undefined);
    try {
      last = await Promise.race([reading, unanswered]);
    } finally {
      clearTimeout(timer);
    }
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} not reached; last value: ${shown(last)}`);
}

const shown = (value: unknown) => JSON.stringify(value)?.slice(0, 500);
