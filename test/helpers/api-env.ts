// A real stack for HTTP API tests: a dev server on free ports (SQLite in a temp dir), an in-process worker on it,
// runbooks written to a temp folder, an API key store with one key per role, and the API listening on a free
// loopback port. Requests go over real HTTP (fetch). Test-only; never touches `npm start`'s ports or data.
import { rm, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Client } from '@temporalio/client';
import { connectClosable } from '../../src/temporal/closable-connection';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { ApiKeyStore, type ApiRole, type CreatedKey } from '../../src/api-keys';
import { type RunningApi, startApiServer } from '../../src/api/server';
import { IncidentClient } from '../../src/client';
import type { ApiConfig, EngineConfig } from '../../src/config';
import { loadRunbooks } from '../../src/runbooks/load';
import type { DevServer } from '../../src/temporal/dev-server';
import { bundleWorkflows, createWorker } from '../../src/worker';
import type { TimelineEvent } from '../../domain/incident';
import { testCodec, testDataConverter } from './codec';
import { makeEngineConfig, tempDir } from './incident-fixtures';
import { startDevServerForTest } from './temporal-env';

/** A runbook with no steps: fast, and eradicate/post-incident wait for an operator. */
export function plainRunbook(
  id: string,
  extra: { category?: string; eventTypes?: string[]; match?: string } = {},
): string {
  return [
    `id: ${id}`,
    'version: 1',
    `title: ${id}`,
    `category: ${extra.category ?? 'security'}`,
    `eventTypes: [${(extra.eventTypes ?? ['other']).join(', ')}]`,
    ...(extra.match ? ['match:', ...extra.match.split('\n').map((l) => `  ${l}`)] : []),
    'phases:',
    '  detect: {}',
    '  contain: {}',
    '  eradicate: { advance: manual }',
    '  recover: {}',
    '  post-incident: { advance: manual }',
    '',
  ].join('\n');
}

/** The Web UI's codec door in API test stacks. */
export const CODEC_UI_TOKEN = 'test-ui-token';

export interface ApiEnvOptions {
  /** Runbook files by id (YAML text). */
  runbooks: Record<string, string>;
  api?: Partial<ApiConfig>;
  taskQueue: string;
}

export interface ApiEnv {
  server: DevServer;
  config: EngineConfig;
  api: RunningApi;
  url: string;
  keys: Record<ApiRole, CreatedKey> & { signer: CreatedKey };
  keyStore: ApiKeyStore;
  incidents: IncidentClient;
  client: Client;
  runbookDir: string;
  /** Another API server on the same Temporal and keys (its own process state: caches, nonces, rate limits). */
  startAnotherApi(
    api?: Partial<ApiConfig>,
    options?: { temporal?: IncidentClient; temporalAddress?: string },
  ): Promise<RunningApi>;
  close(): Promise<void>;
}

export async function startApiEnv(options: ApiEnvOptions): Promise<ApiEnv> {
  const root = tempDir('api-env');
  const runbookDir = path.join(root, 'runbooks');
  await mkdir(runbookDir, { recursive: true });
  for (const [id, text] of Object.entries(options.runbooks)) await writeFile(path.join(runbookDir, `${id}.yaml`), text);
  const runbooks = loadRunbooks(runbookDir);

  const [server, bundle] = await Promise.all([startDevServerForTest(path.join(root, 'temporal')), bundleWorkflows()]);
  const config = makeEngineConfig(undefined, options.taskQueue);
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  const worker: Worker = await createWorker({
    connection: nativeConnection,
    namespace: 'default',
    config,
    workflowBundle: { code: bundle.code },
    dataConverter: testDataConverter,
  });
  const running = worker.run();

  const connection = await connectClosable({ address: server.address });
  const client = new Client({ connection, namespace: 'default', dataConverter: testDataConverter });
  const incidents = new IncidentClient(client, config.taskQueue);

  const keyStore = new ApiKeyStore(path.join(root, 'api-keys.json'));
  const keys = {
    viewer: keyStore.create({ name: 'viewer-1', role: 'viewer' }),
    detector: keyStore.create({ name: 'detector-1', role: 'detector' }),
    operator: keyStore.create({ name: 'operator-1', role: 'operator' }),
    commander: keyStore.create({ name: 'commander-1', role: 'commander' }),
    signer: keyStore.create({ name: 'signed-detector', role: 'detector', signing: true }),
  };
  const others: RunningApi[] = [];
  const startAnotherApi = async (
    api: Partial<ApiConfig> = {},
    o: { temporal?: IncidentClient; temporalAddress?: string } = {},
  ): Promise<RunningApi> => {
    const started = await startApiServer({
      config: { ...config.api, host: '127.0.0.1', port: 0, ...options.api, ...api },
      incidents: o.temporal ?? incidents,
      runbooks,
      keys: keyStore,
      temporalAddress: o.temporalAddress ?? server.address,
      logger: { level: 'error' },
      dataDir: config.dataDir,
      nonceDir: path.join(root, 'nonces'),
      codec: { codec: testCodec },
    });
    others.push(started);
    return started;
  };
  const api = await startApiServer({
    config: { ...config.api, host: '127.0.0.1', port: 0, ...options.api },
    incidents,
    runbooks,
    keys: keyStore,
    temporalAddress: server.address,
    logger: { level: 'error' },
    dataDir: config.dataDir,
    nonceDir: path.join(root, 'nonces'),
    codec: { codec: testCodec, ui: { token: CODEC_UI_TOKEN, origins: ['http://127.0.0.1:8233'] } },
  });

  return {
    server,
    config,
    api,
    url: api.url,
    keys,
    keyStore,
    incidents,
    client,
    runbookDir,
    startAnotherApi,
    async close() {
      await Promise.all([api, ...others].map((a) => a.close().catch(() => undefined)));
      worker.shutdown();
      // A worker still finishing a storm's tasks must not keep the server up past the file's hooks.
      await Promise.race([running.catch(() => undefined), new Promise((r) => setTimeout(r, 30_000).unref())]);
      await nativeConnection.close().catch(() => undefined);
      await connection.close().catch(() => undefined);
      await server.stop();
      await rm(root, { recursive: true, force: true });
      await rm(config.evidenceBase, { recursive: true, force: true });
    },
  };
}

export interface HttpResult<T = Record<string, unknown>> {
  status: number;
  body: T;
  text: string;
  headers: Headers;
}

/** One HTTP request; `body` as an object is sent as JSON, as a string verbatim. */
export async function http<T = Record<string, unknown>>(
  url: string,
  options: { method?: string; key?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<HttpResult<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(url, { method: options.method ?? (body === undefined ? 'GET' : 'POST'), headers, body });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: response.status, body: parsed as T, text, headers: response.headers };
}

export { waitFor } from './wait-for';

export type AlertEvent = Extract<TimelineEvent, { type: 'alert' }>;
export const alertsOf = (timeline: TimelineEvent[]): AlertEvent[] =>
  timeline.filter((e): e is AlertEvent => e.type === 'alert');

/** An error reply is exactly `{error, message}` with no stack trace in it. */
export function isCleanError(body: unknown): boolean {
  if (!body || typeof body !== 'object') return false;
  const keys = Object.keys(body).sort();
  const text = JSON.stringify(body);
  return keys.join(',') === 'error,message' && !/\n\s+at |\.ts:\d+|node_modules/.test(text);
}
