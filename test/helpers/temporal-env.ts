// Test environments on the pinned, pre-installed Temporal binaries: time skipping, a local dev server through the
// SDK, and our own dev-server launcher on free ports. They must never let the SDK download a server (every
// environment gets `executable: { type: 'existing-path' }`) and never use the fixed ports of `npm start`.
import type { ConnectionPlugin } from '@temporalio/client';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import {
  TestWorkflowEnvironment,
  type LocalTestWorkflowEnvironmentOptions,
  type TimeSkippingTestWorkflowEnvironmentOptions,
} from '@temporalio/testing';
import { INCIDENT_SEARCH_ATTRIBUTES } from '../../domain/search-attributes';
import { startDevServer, type DevServer, type DevServerOptions } from '../../src/temporal/dev-server';
import { freePorts } from '../../src/temporal/ports';
import { toolchainPaths } from '../../src/temporal/toolchain';

const SDK_TYPES = {
  Text: SearchAttributeType.TEXT,
  Keyword: SearchAttributeType.KEYWORD,
  Int: SearchAttributeType.INT,
  Double: SearchAttributeType.DOUBLE,
  Bool: SearchAttributeType.BOOL,
  Datetime: SearchAttributeType.DATETIME,
  KeywordList: SearchAttributeType.KEYWORD_LIST,
} as const;

/** INCIDENT_SEARCH_ATTRIBUTES as SDK search attribute keys. */
export function incidentSearchAttributeKeys(): ReturnType<typeof defineSearchAttributeKey>[] {
  return Object.entries(INCIDENT_SEARCH_ATTRIBUTES).map(([name, type]) =>
    defineSearchAttributeKey(name, SDK_TYPES[type as keyof typeof SDK_TYPES]),
  );
}

/**
 * The Java test server takes a keepalive ping at most every 5 minutes and drops a client that pings more often, with
 * the calls it has in flight; the SDK's client pings every 30 s, and CI logs showed such drops ("rejected by server
 * because of excess pings"). The client here pings every 6 minutes, and only during a call.
 */
const TEST_SERVER_KEEPALIVE: ConnectionPlugin = {
  name: 'test-server-keepalive',
  configureConnection: (options) => ({
    ...options,
    channelArgs: {
      ...options.channelArgs,
      'grpc.keepalive_time_ms': 360_000,
      'grpc.keepalive_permit_without_calls': 0,
    },
  }),
};

/** Time-skipping test server (the pinned binary). */
export function createTimeSkippingEnv(
  opts: TimeSkippingTestWorkflowEnvironmentOptions = {},
): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createTimeSkipping({
    ...opts,
    plugins: [...(opts.plugins ?? []), TEST_SERVER_KEEPALIVE],
    server: { ...opts.server, executable: { type: 'existing-path', path: toolchainPaths().testServer } },
  });
}

/** In-memory dev server through the SDK (the pinned CLI), with the incident search attributes registered. */
export function createLocalEnv(opts: LocalTestWorkflowEnvironmentOptions = {}): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    ...opts,
    server: {
      ip: '127.0.0.1',
      searchAttributes: incidentSearchAttributeKeys(),
      ...opts.server,
      executable: { type: 'existing-path', path: toolchainPaths().temporalCli },
    },
  });
}

/** Start attempts when a port the server was given is taken before it binds it. */
const PORT_RACE_ATTEMPTS = 3;

/**
 * Our launcher on `dataDir/temporal.sqlite` with free gRPC and UI ports. A port found free can be taken by another
 * test's process before the server binds it (the server then exits with "address already in use"): it starts again
 * on fresh ports.
 */
export async function startDevServerForTest(
  dataDir: string,
  opts: Omit<DevServerOptions, 'dataDir' | 'port' | 'uiPort'> = {},
  pickPorts: () => Promise<number[]> = () => freePorts(2),
): Promise<DevServer> {
  for (let attempt = 1; ; attempt++) {
    const [port, uiPort] = await pickPorts();
    try {
      return await startDevServer({ quiet: true, ...opts, dataDir, port, uiPort });
    } catch (error) {
      // Taken before the launcher's own check, or between that check and the server's bind.
      const portTaken =
        error instanceof Error && /address already in use|something already listens there/.test(error.message);
      if (!portTaken || attempt === PORT_RACE_ATTEMPTS) throw error;
    }
  }
}
