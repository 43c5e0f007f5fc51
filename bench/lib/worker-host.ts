// Spawns bench/worker-process.ts as a child process with an IPC channel, collects its memory samples, and stops it.
// The process is node itself (no npx or shell in between), so its pid is the worker's.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import type { BenchWorkerConfig, HeapReport, HostMessage, WorkerMessage } from '../worker-process';

const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
const SCRIPT = path.join(REPO_ROOT, 'bench/worker-process.ts');

export interface MemSample {
  t: number;
  rss: number;
  heapUsed: number;
}

export class WorkerHost {
  readonly samples: MemSample[] = [];
  private output = '';
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private heapWaiter: ((report: HeapReport) => void) | undefined;
  private samplingWaiter: (() => void) | undefined;

  private constructor(
    readonly process: ChildProcess,
    readonly config: BenchWorkerConfig,
  ) {
    this.exited = new Promise((resolve) => {
      process.on('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
    });
    const keep = (chunk: Buffer): void => {
      this.output = (this.output + chunk.toString('utf8')).slice(-8_192);
    };
    process.stdout?.on('data', keep);
    process.stderr?.on('data', keep);
    process.on('message', (message: WorkerMessage) => {
      if (message.type === 'mem') this.samples.push({ t: message.t, rss: message.rss, heapUsed: message.heapUsed });
      if (message.type === 'heap') this.heapWaiter?.(message.report);
      if (message.type === 'heap-sampling-written') this.samplingWaiter?.();
    });
  }

  get pid(): number {
    return this.process.pid!;
  }

  /** `cpuProfDir`: run under `node --cpu-prof`, one .cpuprofile per thread written there at exit. */
  static async start(
    config: BenchWorkerConfig,
    options: { cpuProfDir?: string; readyTimeoutMs?: number } = {},
  ): Promise<WorkerHost> {
    const readyTimeoutMs = options.readyTimeoutMs ?? 120_000;
    const profile = options.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`] : [];
    const child = spawn(process.execPath, [...profile, '--import', 'tsx', SCRIPT], {
      cwd: REPO_ROOT,
      env: { ...process.env, BENCH_WORKER_CONFIG: JSON.stringify(config) },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const host = new WorkerHost(child, config);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${config.identity} not ready within ${readyTimeoutMs / 1000} s:\n${host.tail()}`)),
        readyTimeoutMs,
      );
      child.on('message', (message: WorkerMessage) => {
        if (message.type === 'ready') {
          clearTimeout(timer);
          resolve();
        }
        if (message.type === 'error') {
          clearTimeout(timer);
          reject(new Error(`${config.identity} failed: ${message.message}`));
        }
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${config.identity} exited with ${code ?? signal} before it was ready:\n${host.tail()}`));
      });
    });
    return host;
  }

  tail(): string {
    return this.output.trimEnd().split('\n').slice(-20).join('\n') || '(no output)';
  }

  /** Peak RSS (MiB) among samples taken in [from, to]. */
  peakRssMb(from = 0, to = Number.POSITIVE_INFINITY): number | undefined {
    const within = this.samples.filter((s) => s.t >= from && s.t <= to);
    if (within.length === 0) return undefined;
    return Math.round((Math.max(...within.map((s) => s.rss)) / 1048576) * 10) / 10;
  }

  lastRssMb(): number | undefined {
    const last = this.samples[this.samples.length - 1];
    return last ? Math.round((last.rss / 1048576) * 10) / 10 : undefined;
  }

  private send(message: HostMessage): void {
    if (this.process.connected) this.process.send(message);
  }

  /** Live V8 heap per JS thread before and after a full GC (see worker-process.ts); undefined after 60 s. */
  async heapReport(): Promise<HeapReport | undefined> {
    const report = new Promise<HeapReport>((resolve) => (this.heapWaiter = resolve));
    this.send({ type: 'heap' });
    const result = await Promise.race([report, new Promise<undefined>((r) => setTimeout(() => r(undefined), 60_000))]);
    this.heapWaiter = undefined;
    return result;
  }

  /** Starts the sampling heap profiler on every JS thread of the worker. */
  heapSamplingStart(): void {
    this.send({ type: 'heap-sampling-start' });
  }

  /** Stops it and writes what is still allocated, by allocating stack, to `file`. */
  async heapSamplingStop(file: string): Promise<void> {
    const written = new Promise<void>((resolve) => (this.samplingWaiter = resolve));
    this.send({ type: 'heap-sampling-stop', file });
    await Promise.race([written, new Promise((r) => setTimeout(r, 120_000))]);
    this.samplingWaiter = undefined;
  }

  /** Graceful shutdown; SIGKILL after `graceMs`. */
  async stop(graceMs = 30_000): Promise<void> {
    if (this.exitInfo) return;
    this.send({ type: 'stop' });
    const timer = setTimeout(() => {
      if (!this.exitInfo) this.process.kill('SIGKILL');
    }, graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}
