// Starts test/faults/api-process.ts as its own OS process (node itself, so a signal reaches the API and nothing else).
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

/** Where the API process finds its configuration (JSON). Kept here: importing api-process.ts starts an API. */
export const API_PROCESS_ENV = 'FAULTS_API_PROCESS';

export interface ApiProcessConfig {
  address: string;
  taskQueue: string;
  runbookFile: string;
  keysFile: string;
}

export interface ApiProcess {
  process: ChildProcess;
  /** Resolves with the API's URL once it listens. */
  url: Promise<string>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

const REPO_ROOT = path.resolve(import.meta.dirname, '../..');

export function spawnApi(config: ApiProcessConfig): ApiProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'test/faults/api-process.ts')], {
    cwd: REPO_ROOT,
    env: { ...process.env, [API_PROCESS_ENV]: JSON.stringify(config) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const url = new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = /api ready (\S+)/.exec(output);
      if (match) resolve(match[1]!);
    });
    child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString('utf8')).slice(-4_000)));
    void exited.then(() => reject(new Error(`api process exited before it listened:\n${output}`)));
    setTimeout(() => reject(new Error(`api process did not listen within 60 s:\n${output}`)), 60_000).unref();
  });
  url.catch(() => undefined);
  return {
    process: child,
    url,
    async kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
