// Starts the pinned `temporal server start-dev` on a SQLite file with the incident search attributes registered,
// waits until its frontend answers real RPCs, and stops it again. Used by `npm start` and by e2e tests.
// It must never install or download anything (the toolchain does that), never bind beyond 127.0.0.1, and never
// return before the server answers and every incident search attribute is registered.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type Connection } from '@temporalio/client';
import { connectClosable } from './closable-connection';
import { INCIDENT_SEARCH_ATTRIBUTES } from '../../domain/search-attributes';
import { assertPortFree } from './ports';
import { toolchainPaths } from './toolchain';

export interface DevServerOptions {
  /** Directory for the SQLite file (`<dataDir>/temporal.sqlite`); created when missing. */
  dataDir: string;
  /** Frontend gRPC port; default 7233. */
  port?: number;
  /** Web UI port; default 8233. `false` starts the server headless. */
  uiPort?: number | false;
  /** Extra namespace to create besides `default`; default `default`. */
  namespace?: string;
  /** Server log level; default `warn`. */
  logLevel?: 'debug' | 'info' | 'warn' | 'error' | 'never';
  /** When false, the server's output is forwarded to this process's stderr. Default true. */
  quiet?: boolean;
  /** How long to wait for the frontend and the search attributes; default 60 s. */
  readyTimeoutMs?: number;
  /** The Web UI's codec server (`--ui-codec-endpoint`), so it shows encrypted payloads decrypted. */
  uiCodecEndpoint?: string;
  /** The CLI binary; default `toolchainPaths().temporalCli`. */
  temporalCli?: string;
  /** Which of DEV_SERVER_TUNING to apply (by name); default all of them. `[]` runs the CLI's own defaults. */
  tuning?: readonly DevServerTuningName[];
}

/**
 * Settings for the embedded server only (a cluster given by TEMPORAL_ADDRESS or a profile is never touched). Each one
 * trades something for speed on one SQLite file; docs/DEPLOY.md says what, and bench/server-settings.ts measures each
 * against the CLI's defaults side by side.
 */
export const DEV_SERVER_TUNING = {
  /** Write-ahead log instead of a rollback journal: a commit appends to the log, readers do not block the writer. */
  wal: ['--sqlite-pragma', 'journal_mode=wal'],
  /**
   * With WAL, fsync at checkpoints rather than at every commit. A power loss or kernel crash can lose the last
   * commits (never corrupt the file); a crash of the server process alone loses nothing.
   */
  synchronousNormal: ['--sqlite-pragma', 'synchronous=normal'],
  /** The server hands an activity to the worker in its workflow task's answer instead of through a task queue poll. */
  eagerActivities: ['--dynamic-config-value', 'system.enableActivityEagerExecution=true'],
  /** One partition per task queue: one worker fleet on one server gains nothing from four, and polls meet tasks sooner. */
  singlePartition: [
    '--dynamic-config-value',
    'matching.numTaskqueueReadPartitions=1',
    '--dynamic-config-value',
    'matching.numTaskqueueWritePartitions=1',
  ],
  /**
   * The history service reads its transfer, timer and visibility task queues up to 200 times a second instead of 20,
   * so a new task (a workflow task, a child's start, a signal, a fired timer) waits at most 5 ms for the next read
   * rather than 50: an alert's path to its first containment action crosses that read about five times.
   */
  fastQueueReads: [
    '--dynamic-config-value',
    'history.transferProcessorMaxPollRPS=200',
    '--dynamic-config-value',
    'history.timerProcessorMaxPollRPS=200',
    '--dynamic-config-value',
    'history.visibilityProcessorMaxPollRPS=200',
  ],
} as const satisfies Record<string, readonly string[]>;

export type DevServerTuningName = keyof typeof DEV_SERVER_TUNING;
export const DEV_SERVER_TUNING_NAMES = Object.keys(DEV_SERVER_TUNING) as DevServerTuningName[];

export interface DevServer {
  /** host:port of the frontend. */
  address: string;
  /** Web UI URL, or undefined when headless. */
  uiUrl: string | undefined;
  namespace: string;
  dbFile: string;
  process: ChildProcess;
  /** SIGTERM, then SIGKILL after 10 s; resolves once the process has exited. Safe to call twice. */
  stop(): Promise<void>;
}

export class DevServerError extends Error {
  override name = 'DevServerError';
}

const HOST = '127.0.0.1';

/** The CLI's `--search-attribute` arguments for INCIDENT_SEARCH_ATTRIBUTES. */
export function searchAttributeArgs(): string[] {
  return Object.entries(INCIDENT_SEARCH_ATTRIBUTES).flatMap(([name, type]) => [
    '--search-attribute',
    `${name}=${type}`,
  ]);
}

// The operator service answers with IndexedValueType enum numbers; the CLI takes names.
const INDEXED_VALUE_TYPES: Record<string, number> = {
  Text: 1,
  Keyword: 2,
  Int: 3,
  Double: 4,
  Bool: 5,
  Datetime: 6,
  KeywordList: 7,
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const port = options.port ?? 7233;
  const uiPort = options.uiPort === undefined ? 8233 : options.uiPort;
  const namespace = options.namespace ?? 'default';
  const quiet = options.quiet ?? true;
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
  const cli = options.temporalCli ?? toolchainPaths().temporalCli;
  const dataDir = resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await chmod(dataDir, 0o700);
  const dbFile = join(dataDir, 'temporal.sqlite');
  const address = `${HOST}:${port}`;

  const args = [
    'server',
    'start-dev',
    '--db-filename',
    dbFile,
    '--ip',
    HOST,
    '--port',
    String(port),
    '--namespace',
    'default',
    ...(namespace !== 'default' ? ['--namespace', namespace] : []),
    ...(uiPort === false ? ['--headless'] : ['--ui-port', String(uiPort)]),
    ...(uiPort !== false && options.uiCodecEndpoint ? ['--ui-codec-endpoint', options.uiCodecEndpoint] : []),
    ...searchAttributeArgs(),
    ...(options.tuning ?? DEV_SERVER_TUNING_NAMES).flatMap((name) => DEV_SERVER_TUNING[name]),
    '--log-level',
    options.logLevel ?? 'warn',
    '--color',
    'never',
    // The server must not pick up a client profile meant for something else.
    '--disable-config-file',
    '--disable-config-env',
  ];

  // Without this, a second server on a taken port would look ready: the probe would reach the first one.
  for (const [what, p] of [
    ['gRPC', port],
    ['UI', uiPort],
  ] as const) {
    if (p === false) continue;
    await assertPortFree(p, HOST).catch((err: Error) => {
      const hint = what === 'gRPC' ? `; if that is a Temporal server, set TEMPORAL_ADDRESS=${HOST}:${p} to use it` : '';
      throw new DevServerError(`cannot start the temporal dev server on ${what} port ${p}: ${err.message}${hint}`);
    });
  }

  // The child inherits the umask: its database (and SQLite's journal files) are created 0600, not 0644.
  const umask = process.umask(0o077);
  let child: ChildProcess;
  try {
    child = spawn(cli, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  } finally {
    process.umask(umask);
  }
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-8_192);
    if (!quiet) process.stderr.write(chunk);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let spawnError: Error | undefined;
  // The server never outlives the process that started it, even one that exits without stopping it.
  const killWithParent = (): void => void (exited ?? child.kill('SIGKILL'));
  process.once('exit', killWithParent);
  const exitPromise = new Promise<void>((resolveExit) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      process.off('exit', killWithParent);
      resolveExit();
    });
    child.on('error', (err) => {
      spawnError = err;
      exited ??= { code: null, signal: null };
      resolveExit();
    });
  });
  const outputTail = (): string => output.trimEnd().split('\n').slice(-20).join('\n') || '(no output)';

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        if (!exited) child.kill('SIGKILL');
      }, 10_000);
      await exitPromise;
      clearTimeout(timer);
    })();
    return stopping;
  };

  const started = Date.now();
  const deadline = started + readyTimeoutMs;
  let lastError = 'no attempt yet';
  try {
    for (;;) {
      if (exited) {
        throw new DevServerError(
          spawnError
            ? `cannot run ${cli}: ${spawnError.message}`
            : `temporal dev server exited with ${exited.code ?? exited.signal} before answering at ${address}; ` +
                `expected it to keep running. Output tail:\n${outputTail()}`,
        );
      }
      if (Date.now() > deadline) {
        throw new DevServerError(
          `temporal dev server did not become ready at ${address} within ${readyTimeoutMs / 1000} s ` +
            `(last check: ${lastError}). Output tail:\n${outputTail()}`,
        );
      }
      const problem = await checkReady(address, namespace);
      if (problem === undefined && !exited) break;
      lastError = problem ?? 'the server exited';
      if (problem?.startsWith('search attribute type mismatch')) {
        throw new DevServerError(`${problem} (in ${dbFile}); remove the file or fix the schema`);
      }
      await sleep(250);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  // A database left from a run before files were private.
  await chmod(dbFile, 0o600).catch(() => undefined);

  return {
    address,
    uiUrl: uiPort === false ? undefined : `http://${HOST}:${uiPort}`,
    namespace,
    dbFile,
    process: child,
    stop,
  };
}

/**
 * One readiness probe: the frontend answers getSystemInfo, the namespace exists and every incident search attribute is
 * registered with its type. Returns undefined when ready, else what is missing.
 */
async function checkReady(address: string, namespace: string): Promise<string | undefined> {
  let connection: Connection | undefined;
  try {
    connection = await connectClosable({ address, connectTimeout: 1_000 });
    await connection.workflowService.getSystemInfo({});
    await connection.workflowService.describeNamespace({ namespace });
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
    const missing: string[] = [];
    for (const [name, type] of Object.entries(INCIDENT_SEARCH_ATTRIBUTES)) {
      const found = customAttributes?.[name];
      if (found === undefined || found === null) missing.push(name);
      else if (found !== INDEXED_VALUE_TYPES[type]) {
        return `search attribute type mismatch: ${name} is registered with IndexedValueType ${found}, expected ${type}`;
      }
    }
    return missing.length ? `search attributes not registered yet: ${missing.join(', ')}` : undefined;
  } catch (err) {
    return (err as Error).message;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}
