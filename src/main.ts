// What `npm start` runs: the Temporal dev server (SQLite in the data dir, web UI, incident search attributes) and
// the worker; with TEMPORAL_ADDRESS or an envconfig profile set, no dev server: the configured cluster instead.
// Ctrl-C stops every process it started; incidents survive a restart because the server keeps them on disk.
import path from 'node:path';
import { loadConfig } from './config';
import { connectClient, connectWorker, resolveTemporalTarget } from './temporal/connection';
import { type DevServer, startDevServer } from './temporal/dev-server';
import { registerSearchAttributes } from './temporal/search-attributes';
import { createWorker } from './worker';

const config = loadConfig();
const target = resolveTemporalTarget();
let devServer: DevServer | undefined;

async function main(): Promise<void> {
  if (!target.explicit) {
    const port = Number(process.env.INCIDENT_ENGINE_TEMPORAL_PORT ?? 7233);
    const uiPort = Number(process.env.INCIDENT_ENGINE_UI_PORT ?? 8233);
    devServer = await startDevServer({ dataDir: path.join(config.dataDir, 'temporal'), port, uiPort });
    target.address = devServer.address;
    target.connectOptions.address = devServer.address;
  } else {
    // A cluster we did not start may lack the incident search attributes; adding them is idempotent.
    const connection = await connectClient(target);
    await registerSearchAttributes(connection, target.namespace).catch((error: Error) =>
      console.warn(`could not register search attributes on ${target.address}: ${error.message}`),
    );
    await connection.close();
  }

  const connection = await connectWorker(target);
  const worker = await createWorker({ connection, namespace: target.namespace, config });
  const lines = [
    '',
    `incident engine running: worker on task queue "${config.taskQueue}", Temporal at ${target.address} (namespace ${target.namespace})`,
    devServer?.uiUrl ? `  Temporal web UI:  ${devServer.uiUrl}` : undefined,
    `  data directory:   ${config.dataDir}`,
    `  notifications:    ${config.channels.default?.type === 'file' ? config.channels.default.path : 'configured channels'}`,
    '',
    'open an incident (in another terminal):',
    `  npx incident-engine open --runbook security-incident --title "Admin login from unknown address" --event-type unauthorized_access`,
    '  npx incident-engine list',
    '  npx incident-engine show INC-YYYY-NNN',
    '',
    'Ctrl-C stops the worker and the dev server.',
  ].filter((l) => l !== undefined);
  console.log(lines.join('\n'));

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping worker${devServer ? ' and dev server' : ''}...`);
    worker.shutdown();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  await worker.run();
  await connection.close();
}

try {
  await main();
} catch (error) {
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  await devServer?.stop();
}
