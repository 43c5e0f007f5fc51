// The HTTP API as its own OS process, for tests that kill one mid-request or run several side by side:
// `node --import tsx test/faults/api-process.ts` with FAULTS_API_PROCESS={address, taskQueue, runbookFile, keysFile}
// in the environment. Listens on a free loopback port and prints `api ready <url>`; exits when stdin closes.
import { Client } from '@temporalio/client';
import { connectClosable } from '../../src/temporal/closable-connection';
import { ApiKeyStore } from '../../src/api-keys';
import { startApiServer } from '../../src/api/server';
import { IncidentClient } from '../../src/client';
import { buildConfig } from '../../src/config';
import { loadRunbookFile } from '../../src/runbooks/load';
import { API_PROCESS_ENV, type ApiProcessConfig } from './api-launcher';

async function main(): Promise<void> {
  const raw = process.env[API_PROCESS_ENV];
  if (!raw) throw new Error(`${API_PROCESS_ENV}: expected a JSON config, received nothing`);
  const options = JSON.parse(raw) as ApiProcessConfig;
  const connection = await connectClosable({ address: options.address });
  const incidents = new IncidentClient(new Client({ connection, namespace: 'default' }), options.taskQueue);
  const plan = loadRunbookFile(options.runbookFile);
  const config = buildConfig({ taskQueue: options.taskQueue, channels: {}, audiences: {} }, process.cwd());
  const api = await startApiServer({
    config: {
      ...config.api,
      host: '127.0.0.1',
      port: 0,
      rateLimit: { viewer: 1e6, detector: 1e6, operator: 1e6, commander: 1e6, anonymous: 1e6 },
    },
    incidents,
    runbooks: new Map([[plan.id, plan]]),
    keys: new ApiKeyStore(options.keysFile),
    temporalAddress: options.address,
    logger: { level: 'fatal' },
  });
  process.stdout.write(`api ready ${api.url}\n`);
  process.stdin.on('close', () => {
    void api.close().finally(() => connection.close().finally(() => process.exit(0)));
  });
  process.stdin.resume();
}

main().catch((error: unknown) => {
  process.stderr.write(
    `api process failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
