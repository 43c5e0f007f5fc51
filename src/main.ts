// What `npm start` runs: the Temporal dev server (SQLite in the data dir, web UI, incident search attributes), the
// worker and the HTTP API; with TEMPORAL_ADDRESS or an envconfig profile set, no dev server: the configured cluster
// instead. Ctrl-C stops every process it started; incidents survive a restart because the server keeps them on disk.
// On first run it creates a commander API key in <dataDir>/admin-key.txt (mode 0600) and says where it is; it never
// prints a key.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Client } from '@temporalio/client';
import { ApiKeyStore, ensureAdminKey } from './api-keys';
import { type RunningApi, startApiServer } from './api/server';
import { IncidentClient } from './client';
import { dataConverterFor, engineCodec } from './codec/engine';
import { loadConfig } from './config';
import { runbookCache } from './runbooks/cache';
import { ensurePrivateDir, findLooseModes, looseModeWarnings } from './files/private';
import { connectClient, connectWorker, resolveTemporalTarget } from './temporal/connection';
import { type DevServer, startDevServer } from './temporal/dev-server';
import { ensureReportSchedules } from './reports/schedules';
import { registerSearchAttributes } from './temporal/search-attributes';
import { createWorker } from './worker';

const config = loadConfig();
const target = resolveTemporalTarget();
// Everything the engine writes (keys, evidence, notifications, the dev server's database) is for its owner only.
process.umask(0o077);
for (const warning of looseModeWarnings(findLooseModes(config.dataDir))) console.warn(`warning: ${warning}`);
ensurePrivateDir(config.dataDir);
const codec = engineCodec(config.dataDir);
const dataConverter = dataConverterFor(codec);
/** The Web UI's door to the codec endpoint; made at each start, never stored. */
const uiCodecToken = randomBytes(24).toString('base64url');
const UI_PORT = Number(process.env.INCIDENT_ENGINE_UI_PORT ?? 8233);
let devServer: DevServer | undefined;
let api: RunningApi | undefined;

/** INCIDENT_ENGINE_API_HOST / INCIDENT_ENGINE_API_PORT override the config's api.host / api.port. */
function apiListen(): { host: string; port: number } {
  const port = process.env.INCIDENT_ENGINE_API_PORT;
  if (port !== undefined && !/^\d{1,5}$/.test(port)) {
    throw new Error(`INCIDENT_ENGINE_API_PORT must be a port number, got ${JSON.stringify(port)}`);
  }
  return {
    host: process.env.INCIDENT_ENGINE_API_HOST ?? config.api.host,
    port: port !== undefined ? Number(port) : config.api.port,
  };
}

/** Where the Web UI (in the browser, on this machine) reaches the API's codec endpoint. */
function uiCodecEndpoint(): string {
  const { host, port } = apiListen();
  const local = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return `http://${local}:${port}/codec/ui/${uiCodecToken}`;
}

/** A path relative to the working directory when it lies below it, else absolute. */
function shortPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}

async function startApi(): Promise<(string | undefined)[]> {
  if (!config.api.enabled) return ['  HTTP API:         disabled (api.enabled: false)'];
  const keys = new ApiKeyStore(config.api.keysFile);
  const adminFile = path.join(config.dataDir, 'admin-key.txt');
  const admin = ensureAdminKey(keys, adminFile);
  const clientConnection = await connectClient(target);
  const incidents = new IncidentClient(
    new Client({ connection: clientConnection, namespace: target.namespace, dataConverter }),
    config.taskQueue,
  );
  const runbooks = runbookCache({ onError: (error) => console.error(`runbooks not reloaded: ${error.message}`) });
  api = await startApiServer({
    config: { ...config.api, ...apiListen() },
    incidents,
    runbooks,
    keys,
    temporalAddress: target.address,
    dataDir: config.dataDir,
    nonceDir: path.join(config.dataDir, 'nonces'),
    codec: {
      codec,
      ui: { token: uiCodecToken, origins: [`http://127.0.0.1:${UI_PORT}`, `http://localhost:${UI_PORT}`] },
    },
  });
  const url = api.url;
  const closeApi = api.close;
  api.close = async () => {
    await closeApi();
    await clientConnection.close();
  };
  return [
    `  HTTP API:         ${url}   (docs ${url}/docs, OpenAPI ${url}/openapi.json, metrics ${url}/metrics)`,
    `  console:          ${url}/   (sign in with an API key)`,
    admin.created
      ? `  first admin key:  written to ${admin.file} (mode 0600, a commander key; shown nowhere else)`
      : `  API keys:         ${config.api.keysFile}; create more with: npx incident-engine apikey create --role operator --name alice`,
    existsSync(adminFile)
      ? `  try:              curl -H "Authorization: Bearer $(cat ${shortPath(adminFile)})" ${url}/incidents`
      : undefined,
  ];
}

/** The report and drill-programme schedules (src/reports/schedules.ts), brought in line with the configuration. */
async function startSchedules(): Promise<string[]> {
  const connection = await connectClient(target);
  try {
    const ids = await ensureReportSchedules(new Client({ connection, namespace: target.namespace }), config);
    return [`  schedules:        ${ids.join(', ') || 'none'} (reports to audience "${config.reports.audience}")`];
  } catch (error) {
    return [`  schedules:        not set up: ${(error as Error).message}`];
  } finally {
    await connection.close();
  }
}

async function main(): Promise<void> {
  if (!target.explicit) {
    const port = Number(process.env.INCIDENT_ENGINE_TEMPORAL_PORT ?? 7233);
    devServer = await startDevServer({
      dataDir: path.join(config.dataDir, 'temporal'),
      port,
      uiPort: UI_PORT,
      ...(config.api.enabled ? { uiCodecEndpoint: uiCodecEndpoint() } : {}),
    });
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
  const worker = await createWorker({ connection, namespace: target.namespace, config, dataConverter });
  const apiLines = await startApi();
  const scheduleLines = await startSchedules();
  const lines = [
    '',
    `incident engine running: worker on task queue "${config.taskQueue}", Temporal at ${target.address} (namespace ${target.namespace})`,
    devServer?.uiUrl ? `  Temporal web UI:  ${devServer.uiUrl}` : undefined,
    `  data directory:   ${config.dataDir} (0700; payloads encrypted with codec key ${codec.keyId})`,
    `  notifications:    ${config.channels.default?.type === 'file' ? config.channels.default.path : 'configured channels'}`,
    ...apiLines,
    ...scheduleLines,
    '',
    'open an incident (in another terminal):',
    `  npx incident-engine open --runbook security-incident --title "Admin login from unknown address" --event-type unauthorized_access`,
    '  npx incident-engine list',
    '  npx incident-engine show INC-YYYY-NNN',
    '',
    'Ctrl-C stops the API, the worker and the dev server.',
  ].filter((l) => l !== undefined);
  console.log(lines.join('\n'));

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping ${api ? 'API, ' : ''}worker${devServer ? ' and dev server' : ''}...`);
    void (api?.close() ?? Promise.resolve()).catch(() => undefined);
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
  await api?.close().catch(() => undefined);
  await devServer?.stop();
}
