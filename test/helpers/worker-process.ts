// A worker as its own OS process, for tests that kill a worker: `node --import tsx test/helpers/worker-process.ts`
// (tsx 4 on Node 20: `--import tsx` registers its ESM and CJS loaders). Reads WorkerProcessConfig as JSON from the
// INCIDENT_WORKER_PROCESS env var, runs createWorker(...).run() until SIGTERM/SIGINT (the SDK runtime's shutdown
// signals), and prints `worker ready` on stdout once the worker is polling. Test-only; spawn it with spawnWorker().
import '../setup';
import { NativeConnection, type WorkflowBundleOption } from '@temporalio/worker';
import { createWorker } from '../../src/worker';
import { READY_LINE, WORKER_CONFIG_ENV, type WorkerProcessConfig } from './worker-launcher';

function readConfig(): WorkerProcessConfig {
  const raw = process.env[WORKER_CONFIG_ENV];
  if (!raw) throw new Error(`${WORKER_CONFIG_ENV}: expected a JSON worker config, received nothing`);
  const config = JSON.parse(raw) as WorkerProcessConfig;
  if (!config.address || !config.namespace || !config.engine?.taskQueue) {
    throw new Error(
      `${WORKER_CONFIG_ENV}: expected address, namespace and engine.taskQueue, received ${raw.slice(0, 200)}`,
    );
  }
  return config;
}

async function main(): Promise<void> {
  const config = readConfig();
  const connection = await NativeConnection.connect({ address: config.address });
  const workflowBundle: WorkflowBundleOption | undefined = config.workflowBundlePath
    ? { codePath: config.workflowBundlePath }
    : undefined;
  const worker = await createWorker({
    connection,
    namespace: config.namespace,
    config: config.engine,
    ...(workflowBundle ? { workflowBundle } : {}),
    ...(config.identity ? { identity: config.identity } : {}),
  });
  if (config.exitWithParent !== false) {
    // stdin is a pipe from the parent: it closes when the parent goes away, however it went.
    process.stdin.on('close', () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
    });
    process.stdin.resume();
  }
  const running = worker.run();
  while (worker.getState() === 'INITIALIZED') await new Promise((r) => setTimeout(r, 10));
  if (worker.getState() === 'RUNNING') process.stdout.write(`${READY_LINE}\n`);
  try {
    await running;
  } finally {
    await connection.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(
      `worker process failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
