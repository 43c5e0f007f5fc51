// npm run bench: starts its own Temporal dev server (SQLite in a temp dir, free ports, the same launcher and settings
// as `npm start`) and workers (child processes: bench/worker-process.ts), runs the measurements in bench/*.ts, and
// writes bench/results/engine.json, bench/results/engine-details.json and the generated part of docs/BENCHMARKS.md.
// Sizes come from BENCH_* environment variables (bench/lib/settings.ts); BENCH_ONLY runs a subset (results then go to
// bench/results/partial.json and the docs are left alone); BENCH_CPU_PROF=1 is profile mode (see settings.ts).
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@temporalio/client';
import { connectClosable } from '../src/temporal/closable-connection';
import { bundleWorkflowCode } from '@temporalio/worker';
import { IncidentClient } from '../src/client';
import { buildConfig } from '../src/config';
import { loadRunbookFile } from '../src/runbooks/load';
import { startDevServer } from '../src/temporal/dev-server';
import { freePorts } from '../src/temporal/ports';
import { WORKFLOWS_PATH, WORKFLOW_INTERCEPTOR_MODULES, bundleWorkflows } from '../src/worker';
import { runCeiling } from './ceiling';
import { runIdAllocation } from './id-allocation';
import { type Intake, runStorm, startIntake } from './intake';
import { runLatency } from './latency';
import { directIncidentId, directInput, runLifecycle } from './lifecycle';
import type { BenchContext } from './lib/context';
import { mapLimit } from './lib/counts';
import { machineInfo } from './lib/machine';
import { loadAverage, otherBusyProcesses } from './lib/proc';
import { findMetricsUrl } from './lib/server-metrics';
import { readSettings, runs, type Section } from './lib/settings';
import { WorkerHost } from './lib/worker-host';
import { bundleModules, summarizeProfile } from './profile-summary';
import { type BenchResults, writeReport } from './report';
import { runTimers } from './timers';
import { runUpdates } from './updates';

const REPO = path.resolve(import.meta.dirname, '..');
const started = Date.now();
const log = (message: string): void => {
  process.stderr.write(`[bench +${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${message}\n`);
};

const quietLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => log(`bundler: ${message}`),
  error: (message: string) => log(`bundler: ${message}`),
};

async function main(): Promise<void> {
  const settings = readSettings();
  const resultsDir = path.join(REPO, 'bench/results');
  mkdirSync(resultsDir, { recursive: true });
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'incident-bench-'));
  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async (): Promise<void> => {
    for (const fn of cleanups.reverse()) await fn().catch((e: unknown) => log(`cleanup: ${String(e)}`));
    cleanups.length = 0;
    rmSync(workDir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
  process.once('SIGTERM', () => void cleanup().then(() => process.exit(143)));

  const results: BenchResults = {
    started_at: new Date(started).toISOString(),
    command: commandLine(),
    settings,
    machine: machineInfo(),
    load: { before: { loadavg: loadAverage(), busy_processes: await otherBusyProcesses([process.pid]) } },
  };

  try {
    log(`work dir ${workDir}; bundling workflows and starting the dev server`);
    const [port, uiPort] = await freePorts(2);
    const [server, engineBundle, ceilingBundle] = await Promise.all([
      startDevServer({ dataDir: path.join(workDir, 'server'), port: port!, uiPort: uiPort!, quiet: true }),
      // The product's bundle, or for the comparison the same workflows without shared schema modules.
      settings.sharedSchemas
        ? bundleWorkflows()
        : bundleWorkflowCode({
            workflowsPath: WORKFLOWS_PATH,
            workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
            logger: quietLogger,
          }),
      bundleWorkflowCode({ workflowsPath: path.join(REPO, 'bench/workflows/index.ts'), logger: quietLogger }),
    ]);
    cleanups.push(() => server.stop());
    const engineBundlePath = path.join(workDir, 'engine-bundle.js');
    const ceilingBundlePath = path.join(workDir, 'ceiling-bundle.js');
    writeFileSync(engineBundlePath, engineBundle.code);
    writeFileSync(ceilingBundlePath, ceilingBundle.code);
    const metricsUrl = await findMetricsUrl(server.process.pid!);
    log(`dev server at ${server.address} (pid ${server.process.pid}; metrics ${metricsUrl ?? 'not found'})`);

    const connection = await connectClosable({ address: server.address });
    cleanups.push(() => connection.close());
    const namespace = 'default';
    const client = new Client({ connection, namespace });
    const engineQueue = 'bench-incidents';
    const ceilingQueue = 'bench-ceiling';
    const engineConfig = buildConfig({ dataDir: 'data', taskQueue: engineQueue, channels: {}, audiences: {} }, workDir);
    const profilesDir = path.join(resultsDir, 'profiles');
    const modules = bundleModules(engineBundle.code);
    if (settings.cpuProfile) {
      mkdirSync(profilesDir, { recursive: true });
      writeFileSync(path.join(profilesDir, 'bundle-modules.json'), JSON.stringify(modules));
    }
    const profiles: Record<string, unknown> = {};
    let profileSection: string | undefined;

    const startEngineWorker = async (cpuProfDir?: string): Promise<WorkerHost> => {
      const worker = await WorkerHost.start(
        {
          address: server.address,
          namespace,
          mode: 'engine',
          taskQueue: engineQueue,
          engine: engineConfig,
          bundlePath: engineBundlePath,
          identity: 'bench-engine-worker',
          sampleMs: settings.sampleMs,
        },
        cpuProfDir ? { cpuProfDir } : {},
      );
      cleanups.push(() => worker.stop());
      log(
        `engine worker ready (pid ${worker.pid}${cpuProfDir ? `, profiling to ${path.relative(REPO, cpuProfDir)}` : ''})`,
      );
      return worker;
    };

    const ctx: BenchContext = {
      settings,
      server,
      client,
      incidents: new IncidentClient(client, engineQueue),
      namespace,
      engineQueue,
      ceilingQueue,
      workDir,
      resultsDir,
      engineConfig,
      plans: {
        selfResolving: loadRunbookFile(path.join(REPO, 'bench/runbooks/self-resolving.yaml')),
        containAndWait: loadRunbookFile(path.join(REPO, 'bench/runbooks/contain-and-wait.yaml')),
        idle: loadRunbookFile(path.join(REPO, 'bench/runbooks/idle.yaml')),
      },
      engineBundlePath,
      ceilingBundlePath,
      ...(metricsUrl ? { metricsUrl } : {}),
      log,
      async ensureEngineWorker() {
        ctx.engineWorker ??= await startEngineWorker(
          profileSection ? path.join(profilesDir, profileSection) : undefined,
        );
        return ctx.engineWorker;
      },
    };

    /** A fresh engine worker (empty workflow cache): before the timers, and per section in profile mode. */
    const restartEngineWorker = async (): Promise<WorkerHost> => {
      await ctx.engineWorker?.stop();
      ctx.engineWorker = undefined;
      return ctx.ensureEngineWorker();
    };

    /** Runs a section; in profile mode on its own profiled worker, summarizing the profiles afterwards. */
    const section = async <T>(name: Section | string, work: () => Promise<T>): Promise<T> => {
      if (!settings.cpuProfile) return work();
      profileSection = name;
      const dir = path.join(profilesDir, name);
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      await restartEngineWorker();
      try {
        return await work();
      } finally {
        await ctx.engineWorker?.stop();
        ctx.engineWorker = undefined;
        profileSection = undefined;
        const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
        profiles[name] = files.map((f) => ({
          file: path.relative(REPO, path.join(dir, f)),
          ...summarizeProfile(path.join(dir, f), 30, modules),
        }));
        writeFileSync(path.join(dir, 'summary.json'), JSON.stringify(profiles[name], null, 2));
        // The raw profiles are large; the summary is what the docs cite. BENCH_KEEP_PROFILES=1 keeps them.
        if (process.env.BENCH_KEEP_PROFILES !== '1') for (const f of files) rmSync(path.join(dir, f));
      }
    };

    if (runs(settings, 'ceiling')) {
      const worker = await WorkerHost.start({
        address: server.address,
        namespace,
        mode: 'ceiling',
        taskQueue: ceilingQueue,
        bundlePath: ceilingBundlePath,
        identity: 'bench-ceiling-worker',
        sampleMs: settings.sampleMs,
      });
      cleanups.push(() => worker.stop());
      log(`ceiling worker ready (pid ${worker.pid})`);
      results.ceiling = await runCeiling(ctx, worker);
      await worker.stop();
    }

    if (runs(settings, 'lifecycle')) {
      results.lifecycle = await section('lifecycle', async () => {
        const points = [];
        for (const c of settings.lifecycle.concurrency) points.push(await runLifecycle(ctx, 'direct', c));
        for (const c of settings.lifecycle.concurrency) points.push(await runLifecycle(ctx, 'registry', c));
        return points;
      });
    }

    let intake: Intake | undefined;
    if (runs(settings, 'intake') || runs(settings, 'latency')) {
      const started = await startIntake(ctx);
      if ('unavailable' in started) {
        results.intake_unavailable = started.unavailable;
        log(`HTTP intake not measured: ${started.unavailable}`);
      } else {
        intake = started;
        cleanups.push(() => started.close());
        log(`HTTP API at ${started.url}`);
      }
    }

    if (runs(settings, 'latency')) {
      results.latency = await section('latency', async () => {
        const out = [await runLatency(ctx, settings.latency.rate, settings.latency.durationS, intake)];
        if (settings.latency.lowRate > 0)
          out.push(
            await runLatency(ctx, settings.latency.lowRate, settings.latency.lowDurationS, intake, settings.warmupS),
          );
        if (settings.latency.compareOpening)
          for (const path of ['open with the alert', 'open, then alert stream'] as const)
            out.push(await runLatency(ctx, settings.latency.rate, settings.latency.durationS, undefined, 0, path));
        return out;
      });
    }

    if (runs(settings, 'ids')) {
      results.ids = await section('ids', () => runIdAllocation(ctx, settings.ids.concurrency, settings.ids.durationS));
    }

    if (runs(settings, 'intake') && intake) {
      const open = intake;
      results.storm = await section('intake', () =>
        runStorm(ctx, open, settings.intake.stormAlerts, settings.intake.stormConcurrency),
      );
    }

    if (runs(settings, 'updates')) {
      results.updates = await section('updates', async () => {
        // Incidents the latency and ID sections left open, waiting for an operator; at least 50.
        const parked = [...(results.latency ?? []).flatMap((l) => l.incidentIds), ...(results.ids?.incidentIds ?? [])];
        const needed = 50;
        if (parked.length < needed) {
          await ctx.ensureEngineWorker();
          log(`updates: opening ${needed - parked.length} idle incidents to update`);
          const more = Array.from({ length: needed - parked.length }, () => directIncidentId('UPD'));
          await mapLimit(more, 50, (id) =>
            ctx.client.workflow.start('incidentWorkflow', {
              workflowId: id,
              taskQueue: engineQueue,
              args: [directInput(ctx, id, ctx.plans.idle)],
            }),
          );
          await new Promise((r) => setTimeout(r, 10_000));
          parked.push(...more);
        }
        return runUpdates(ctx, parked, settings.updates.rate, settings.updates.durationS);
      });
    }

    if (runs(settings, 'timers')) {
      results.timers = await section('timers', async () => {
        // Last, on a fresh worker: its memory is that of the timer incidents, not of everything before.
        const worker = await restartEngineWorker();
        return runTimers(ctx, worker);
      });
    }

    results.worker_rss_samples_mb = ctx.engineWorker?.samples.length
      ? Math.round((Math.max(...ctx.engineWorker.samples.map((s) => s.rss)) / 1048576) * 10) / 10
      : undefined;
    results.load.after = {
      loadavg: loadAverage(),
      busy_processes: await otherBusyProcesses([
        process.pid,
        server.process.pid!,
        ...(ctx.engineWorker ? [ctx.engineWorker.pid] : []),
      ]),
    };
    results.finished_at = new Date().toISOString();
    results.duration_s = Math.round((Date.now() - started) / 1000);
    if (settings.cpuProfile) results.profiles = profiles;
  } finally {
    await cleanup();
  }

  if (!settings.sharedSchemas) {
    writeFileSync(path.join(resultsDir, 'without-shared-schemas.json'), JSON.stringify(results, null, 2));
    log(
      `comparison (BENCH_SHARED_SCHEMAS=0): wrote bench/results/without-shared-schemas.json; engine.json and docs left alone`,
    );
  } else if (settings.cpuProfile) {
    writeFileSync(path.join(resultsDir, 'profile-run.json'), JSON.stringify(results, null, 2));
    log(`profile mode: wrote bench/results/profile-run.json and bench/results/profiles/*/summary.json`);
  } else if (settings.only) {
    writeFileSync(path.join(resultsDir, 'partial.json'), JSON.stringify(results, null, 2));
    log(`partial run (BENCH_ONLY): wrote bench/results/partial.json; engine.json and docs left alone`);
  } else {
    const written = writeReport(REPO, results);
    log(`wrote ${written.map((f) => path.relative(REPO, f)).join(', ')} in ${results.duration_s} s`);
  }
}

function commandLine(): string {
  const env = Object.entries(process.env)
    .filter(([k]) => k.startsWith('BENCH_'))
    .map(([k, v]) => `${k}=${v}`);
  return [...env, 'npm run bench'].join(' ');
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
