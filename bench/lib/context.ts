// What every measurement gets: the dev server, a client, the engine worker (a child process), the bench runbooks,
// CPU accounting, optional CPU profiling, and helpers for closed-loop and open-loop load.
import type { Client } from '@temporalio/client';
import type { IncidentClient } from '../../src/client';
import type { EngineConfig } from '../../src/config';
import type { RunbookPlan } from '../../domain/runbook';
import type { DevServer } from '../../src/temporal/dev-server';
import { CpuMeter, type CpuUsage, threadCpu, workerThreadBreakdown } from './proc';
import { type ServerTime, scrape, serverTime } from './server-metrics';
import type { BenchSettings } from './settings';
import type { WorkerHost } from './worker-host';

export interface BenchContext {
  settings: BenchSettings;
  server: DevServer;
  client: Client;
  incidents: IncidentClient;
  namespace: string;
  engineQueue: string;
  ceilingQueue: string;
  workDir: string;
  resultsDir: string;
  engineConfig: EngineConfig;
  plans: { selfResolving: RunbookPlan; containAndWait: RunbookPlan; idle: RunbookPlan };
  engineBundlePath: string;
  ceilingBundlePath: string;
  /** The engine worker, once started (ensureEngineWorker). */
  engineWorker?: WorkerHost;
  /** The dev server's /metrics, when found. */
  metricsUrl?: string;
  ensureEngineWorker(): Promise<WorkerHost>;
  log(message: string): void;
}

/** A measured section: CPU per process and per worker thread, the server's own metrics, the worker's peak RSS. */
export interface Measured<T> {
  result: T;
  cpu: CpuUsage;
  /** The worker's CPU seconds by kind of thread. */
  workerThreads?: Record<string, number>;
  /** Where the server's time went (its own metrics). */
  server?: ServerTime;
  startedAt: number;
  endedAt: number;
  workerPeakRssMb?: number;
}

export async function measured<T>(
  ctx: BenchContext,
  _name: string,
  worker: WorkerHost | undefined,
  work: () => Promise<T>,
): Promise<Measured<T>> {
  const meter = new CpuMeter(() => ({ server: ctx.server.process.pid, ...(worker ? { worker: worker.pid } : {}) }));
  const metricsBefore = await scrape(ctx.metricsUrl);
  const threadsBefore = worker ? threadCpu(worker.pid) : undefined;
  const before = meter.snapshot();
  const result = await work();
  const after = meter.snapshot();
  const threadsAfter = worker ? threadCpu(worker.pid) : undefined;
  const metricsAfter = await scrape(ctx.metricsUrl);
  const server = serverTime(metricsBefore, metricsAfter);
  const peak = worker?.peakRssMb(before.t, after.t + ctx.settings.sampleMs);
  return {
    result,
    cpu: CpuMeter.diff(before, after),
    ...(worker && threadsBefore && threadsAfter
      ? { workerThreads: workerThreadBreakdown(worker.pid, threadsBefore, threadsAfter) }
      : {}),
    ...(server ? { server } : {}),
    startedAt: before.t,
    endedAt: after.t,
    ...(peak !== undefined ? { workerPeakRssMb: peak } : {}),
  };
}

export interface Timed<T> {
  /** Seconds from the start of the run. */
  start: number;
  end: number;
  value?: T;
  error?: string;
}

/**
 * Closed loop: `concurrency` loops each run `op` back to back. Counted: operations that end inside the timed window
 * (after `warmupS`, for `durationS`). Nothing new starts after the window; operations in flight then are awaited
 * (so the next measurement starts clean) but not counted.
 */
export async function closedLoop<T>(
  concurrency: number,
  warmupS: number,
  durationS: number,
  op: (i: number) => Promise<T>,
): Promise<{ inWindow: Timed<T>[]; all: Timed<T>[]; windowS: number; errors: number }> {
  const t0 = performance.now();
  const windowStart = warmupS * 1000;
  const windowEnd = (warmupS + durationS) * 1000;
  const all: Timed<T>[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() - t0 < windowEnd) {
        const i = next++;
        const start = performance.now() - t0;
        try {
          const value = await op(i);
          all.push({ start, end: performance.now() - t0, value });
        } catch (error) {
          all.push({
            start,
            end: performance.now() - t0,
            error: error instanceof Error ? error.message : String(error),
          });
        }
      }
    }),
  );
  const inWindow = all.filter((r) => r.end >= windowStart && r.end < windowEnd && r.error === undefined);
  return { inWindow, all, windowS: durationS, errors: all.filter((r) => r.error !== undefined).length };
}

/**
 * Open loop: starts `op` at a steady `rate` per second for `durationS`, whatever the previous ones are doing (as
 * alerts arrive). Returns when every operation has settled. `lagMs` is how late the scheduler started each one.
 */
export async function openLoop<T>(
  rate: number,
  durationS: number,
  op: (i: number) => Promise<T>,
): Promise<{ results: (Timed<T> & { lagMs: number })[] }> {
  const count = Math.round(rate * durationS);
  const t0 = performance.now();
  const pending: Promise<Timed<T> & { lagMs: number }>[] = [];
  for (let i = 0; i < count; i++) {
    const due = (i * 1000) / rate;
    const wait = due - (performance.now() - t0);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const start = performance.now() - t0;
    pending.push(
      op(i).then(
        (value) => ({ start, end: performance.now() - t0, value, lagMs: start - due }),
        (error: unknown) => ({
          start,
          end: performance.now() - t0,
          error: error instanceof Error ? error.message : String(error),
          lagMs: start - due,
        }),
      ),
    );
  }
  return { results: await Promise.all(pending) };
}

/** What a result records about resources: CPU per process, worker threads, server time, worker peak RSS. */
export interface Resources {
  cpu: CpuUsage;
  worker_threads_cpu_s?: Record<string, number>;
  server?: ServerTime;
  worker_peak_rss_mb?: number;
}

export function resources(m: Measured<unknown>): Resources {
  return {
    cpu: m.cpu,
    ...(m.workerThreads ? { worker_threads_cpu_s: m.workerThreads } : {}),
    ...(m.server ? { server: m.server } : {}),
    ...(m.workerPeakRssMb !== undefined ? { worker_peak_rss_mb: m.workerPeakRssMb } : {}),
  };
}
