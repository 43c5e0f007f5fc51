// The one seam between drills and the server they run on: today the time-skipping test server (the pinned binary from
// src/temporal/toolchain.ts, never a download), with the incident search attributes registered. Drills move simulated
// time only through `sleep`; waiting for an update's result never skips time on this server. When the dev server
// gains per-workflow time skipping, a second implementation of DrillServer is all a move needs.
// It must never start a server on npm start's fixed ports or touch another server's data.
import { Client, type Connection } from '@temporalio/client';
import { connectClosable } from '../temporal/closable-connection';
import type { DataConverter } from '@temporalio/common';
import type { NativeConnection } from '@temporalio/worker';
import { registerSearchAttributes } from '../temporal/search-attributes';
import { toolchainPaths } from '../temporal/toolchain';

export interface DrillServer {
  /** A plain client: its `result()` waits in real time and never unlocks time skipping. */
  client: Client;
  connection: Connection;
  nativeConnection: NativeConnection;
  namespace: string;
  /** The server's clock (epoch ms). */
  now(): Promise<number>;
  /** Moves simulated time forward by `ms`; timers due on the way fire in order. */
  sleep(ms: number): Promise<void>;
  close(): Promise<void>;
}

export interface DrillServerOptions {
  /** The data converter the drill's worker uses; the client must read what it writes. */
  dataConverter?: DataConverter;
}

/** The time-skipping test server on a free port, from the pinned toolchain. */
export async function startDrillServer(options: DrillServerOptions = {}): Promise<DrillServer> {
  // Loaded here, not at the top: the CLI's other commands should not pay for the testing package.
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: toolchainPaths().testServer } },
  });
  try {
    await registerSearchAttributes(env.connection);
  } catch (error) {
    await env.teardown();
    throw error;
  }
  // Our own client connection without keepalive pings: the test server answers a ping every 30 s (the client's
  // default) with GOAWAY "too many pings", which fails the calls in flight on a long drill.
  let connection: Connection;
  try {
    connection = await connectClosable({
      address: env.address,
      channelArgs: { 'grpc.keepalive_permit_without_calls': 0, 'grpc.keepalive_time_ms': 3_600_000 },
    });
  } catch (error) {
    await env.teardown();
    throw error;
  }
  return {
    client: new Client({
      connection,
      namespace: env.namespace ?? 'default',
      ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
    }),
    connection,
    nativeConnection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    now: () => env.currentTimeMs(),
    sleep: (ms) => env.sleep(ms),
    close: async () => {
      await connection.close().catch(() => undefined);
      await env.teardown();
    },
  };
}

let runtimeQuieted = false;

/**
 * Keeps the worker's INFO lines and core's warnings off an operator's terminal (the drill prints its own progress).
 * Must run before anything creates the Temporal runtime; later calls, and a runtime already made, are left alone.
 */
export async function quietTemporalRuntime(): Promise<void> {
  if (runtimeQuieted) return;
  runtimeQuieted = true;
  const { DefaultLogger, Runtime, makeTelemetryFilterString } = await import('@temporalio/worker');
  try {
    Runtime.install({
      logger: new DefaultLogger('ERROR'),
      telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }), forward: {} } },
    });
  } catch {
    // Already installed by the host (a test file, a worker in the same process): keep theirs.
  }
}
