// Starts test/helpers/worker-process.ts as a separate OS process (`node --import tsx`), so a test can SIGKILL a
// worker mid-activity and start another. Test-only. The process is node itself (no npx or shell in between), so a
// signal reaches the worker and nothing else.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import type { EngineConfig } from '../../src/config';

export const WORKER_CONFIG_ENV = 'INCIDENT_WORKER_PROCESS';
export const READY_LINE = 'worker ready';

/** What the worker process reads from WORKER_CONFIG_ENV. */
export interface WorkerProcessConfig {
  /** host:port of the Temporal frontend. */
  address: string;
  namespace: string;
  /** Engine config: task queue, data and evidence dirs, channels and audiences. */
  engine: EngineConfig;
  /** Worker identity, visible in workflow history (which worker started a task). */
  identity?: string;
  /** A prebuilt workflow bundle (bundleWorkflows().code written to a file); bundled in the process otherwise. */
  workflowBundlePath?: string;
  /** Exit when stdin closes, so a worker never outlives the test process that spawned it. Default true. */
  exitWithParent?: boolean;
}

export interface SpawnWorkerOptions extends WorkerProcessConfig {
  /** How long to wait for `worker ready`; default 60 s. */
  readyTimeoutMs?: number;
  /** Forward the worker's stdout/stderr to this process's stderr. Default false (kept for error messages). */
  verbose?: boolean;
  /** worker-process.ts compiled to one JavaScript file (compileWorkerScript), run without tsx: starts faster. */
  compiledScript?: string;
}

export interface WorkerProcess {
  process: ChildProcess;
  /** Resolves once the worker prints `worker ready`; rejects with its output tail if it exits or times out first. */
  ready: Promise<void>;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends `signal` (default SIGTERM) and resolves once the process has exited. Safe after exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** The last lines the process wrote (stdout and stderr). */
  output(): string;
}

const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
export const WORKER_SCRIPT = path.join(REPO_ROOT, 'test/helpers/worker-process.ts');

export function spawnWorker(options: SpawnWorkerOptions): WorkerProcess {
  const { readyTimeoutMs = 60_000, verbose = false, compiledScript, ...config } = options;
  // cwd is the repo root so `--import tsx` resolves this project's tsx.
  const args = compiledScript ? [compiledScript] : ['--import', 'tsx', WORKER_SCRIPT];
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, [WORKER_CONFIG_ENV]: JSON.stringify(config) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  let stdoutText = '';
  let markReady: () => void = () => undefined;
  let failReady: (error: Error) => void = () => undefined;
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    failReady = reject;
  });
  // A test that never awaits `ready` (e.g. kills the worker first) must not see an unhandled rejection.
  ready.catch(() => undefined);
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-8_192);
    if (verbose) process.stderr.write(chunk);
  };
  child.stdout?.on('data', (chunk: Buffer) => {
    keep(chunk);
    stdoutText = (stdoutText + chunk.toString('utf8')).slice(-1_024);
    if (stdoutText.split('\n').some((line) => line.trim() === READY_LINE)) markReady();
  });
  child.stderr?.on('data', keep);
  const tail = (): string => output.trimEnd().split('\n').slice(-20).join('\n') || '(no output)';
  const label = config.identity ?? `worker on ${config.engine.taskQueue}`;

  let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      exitInfo = { code, signal };
      failReady(
        new Error(`${label} exited with ${code ?? signal} before printing "${READY_LINE}". Output tail:\n${tail()}`),
      );
      resolve(exitInfo);
    });
    child.on('error', (error) => {
      exitInfo ??= { code: null, signal: null };
      failReady(new Error(`cannot start ${label}: ${error.message}`));
      resolve(exitInfo);
    });
  });
  const timer = setTimeout(() => {
    failReady(
      new Error(`${label} did not print "${READY_LINE}" within ${readyTimeoutMs / 1000} s. Output tail:\n${tail()}`),
    );
  }, readyTimeoutMs);
  void ready.then(
    () => clearTimeout(timer),
    () => clearTimeout(timer),
  );

  return {
    process: child,
    ready,
    exited,
    output: tail,
    async kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (!exitInfo) child.kill(signal);
      await exited;
    },
  };
}

/**
 * worker-process.ts and its imports compiled into one ES module at `outFile` (packages stay external), for tests
 * that start many workers: node loads it without compiling TypeScript at each start.
 */
export async function compileWorkerScript(outFile: string): Promise<string> {
  const { build } = await import('esbuild');
  await build({
    entryPoints: [WORKER_SCRIPT],
    outfile: outFile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    logLevel: 'error',
    absWorkingDir: REPO_ROOT,
    // Node's ESM loader needs the extension on a deep package import (`@temporalio/common/lib/time`).
    plugins: [
      {
        name: 'deep-imports-with-extension',
        setup(b) {
          b.onResolve({ filter: /^@temporalio\/[^/]+\/lib\/[^.]+$/ }, (args) => ({
            path: `${args.path}.js`,
            external: true,
          }));
        },
      },
    ],
  });
  return outFile;
}
