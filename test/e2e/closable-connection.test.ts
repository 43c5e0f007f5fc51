// Closing a client connection while the SDK is retrying a call: the retry timer must end the call, not throw
// "Channel has been shut down" from a timer (an uncaught exception, which fails this whole file if it happens).
import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { connectClosable } from '../../src/temporal/closable-connection';
import type { DevServer } from '../../src/temporal/dev-server';
import { tempDir } from '../helpers/incident-fixtures';
import { startDevServerForTest } from '../helpers/temporal-env';

const dir = tempDir('closable-connection');
let server: DevServer | undefined;

afterAll(async () => {
  await server?.stop().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

describe('a closable Temporal connection', () => {
  it('ends a call being retried when the connection closes, and later calls fail cleanly', async () => {
    server = await startDevServerForTest(dir);
    const connection = await connectClosable({ address: server.address });
    await connection.workflowService.getSystemInfo({});
    await server.stop();
    server = undefined;

    // The server is gone: the call fails UNAVAILABLE and the SDK schedules retries with backoff.
    const call = connection.workflowService.getSystemInfo({}).then(
      () => 'answered',
      (error: { code?: number }) => error.code,
    );
    await new Promise((r) => setTimeout(r, 300));
    await connection.close();
    // Long enough for every retry the backoff had scheduled to come due.
    await new Promise((r) => setTimeout(r, 2_500));
    expect(await call).toBe(1); // CANCELLED
    await expect(connection.workflowService.getSystemInfo({})).rejects.toThrow();
  }, 60_000);
});
