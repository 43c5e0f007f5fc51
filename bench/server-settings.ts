// `npx tsx bench/server-settings.ts`: each embedded-server setting (src/temporal/dev-server.ts DEV_SERVER_TUNING)
// measured side by side in one run. For every variant (the CLI's defaults, then the settings added one at a time) it
// starts a fresh dev server, the bench's ceiling worker and the engine worker (child processes), and runs three short
// closed loops: one-activity workflows one at a time (the latency of the server's hops) and ten at a time, and
// incident ID allocation through the registry (IncidentClient.open on the idle runbook). With
// BENCH_BASE_TREE=<checkout> the registry of that checkout (which starts each incident inside the open) is measured
// too, on the fully tuned server, for the registry's before/after. Variants run in order and then
// in reverse (BENCH_SETTINGS_ROUNDS, default 2) so drift in outside load falls on all of them alike. Writes
// bench/results/server-settings.json with every figure and its ratio to the CLI's defaults.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, WithStartWorkflowOperation } from '@temporalio/client';
import { connectClosable } from '../src/temporal/closable-connection';
import { bundleWorkflowCode } from '@temporalio/worker';
import { IncidentClient } from '../src/client';
import { buildConfig } from '../src/config';
import { loadRunbookFile } from '../src/runbooks/load';
import { DEV_SERVER_TUNING_NAMES, type DevServerTuningName, startDevServer } from '../src/temporal/dev-server';
import { freePorts } from '../src/temporal/ports';
import { bundleWorkflows } from '../src/worker';
import { REGISTRY_WORKFLOW_ID, type OpenIncidentResult } from '../workflows/definitions';
import { closedLoop } from './lib/context';
import { analyzeRegistry } from './lib/registry';
import { loadAverage } from './lib/proc';
import { round, summarize } from './lib/stats';
import { WorkerHost } from './lib/worker-host';

const REPO = path.resolve(import.meta.dirname, '..');
const SECONDS = Number(process.env.BENCH_SETTINGS_S ?? 10);
const WARMUP_S = Number(process.env.BENCH_SETTINGS_WARMUP_S ?? 2);
const ROUNDS = Number(process.env.BENCH_SETTINGS_ROUNDS ?? 2);
const ACTIVITY_CONCURRENCY = Number(process.env.BENCH_SETTINGS_ACTIVITY_CONCURRENCY ?? 10);
const ID_CONCURRENCY = Number(process.env.BENCH_ID_CONCURRENCY ?? 50);
const BASE_TREE = process.env.BENCH_BASE_TREE;
/** Variant names to run (comma list; `last` is the last variant), e.g. `+singlePartition,last`; default all. */
const ONLY = process.env.BENCH_SETTINGS_ONLY?.split(',');

const started = Date.now();
const log = (message: string): void => {
  process.stderr.write(`[settings +${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${message}\n`);
};
const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn: log, error: log };

interface Variant {
  name: string;
  tuning: DevServerTuningName[];
  /** The registry of another checkout (opens carry the plan, as it expects). */
  baseRegistry?: boolean;
}

/** The CLI's defaults, then each setting added on top of the previous ones. */
const VARIANTS: Variant[] = [
  { name: 'cli-defaults', tuning: [] },
  ...DEV_SERVER_TUNING_NAMES.map((_, i) => ({
    name: `+${DEV_SERVER_TUNING_NAMES[i]}`,
    tuning: DEV_SERVER_TUNING_NAMES.slice(0, i + 1),
  })),
  ...(BASE_TREE ? [{ name: 'all, registry before', tuning: DEV_SERVER_TUNING_NAMES, baseRegistry: true }] : []),
].filter((v, i, all) => !ONLY || ONLY.includes(v.name) || (i === all.length - 1 && ONLY.includes('last')));

interface Sample {
  /** One one-activity workflow at a time: its round trip is the server's hops with nothing queued (latency). */
  alone_p50_ms: number;
  alone_p99_ms: number;
  activity_wps: number;
  activity_p99_ms: number;
  ids_per_s: number;
  open_p50_ms: number;
  open_p99_ms: number;
  id_errors: number;
  ids_gapless: boolean;
  /** The registry's workflow tasks in the window, and how many opens each task that accepted any accepted. */
  registry_tasks_per_s: number;
  opens_per_registry_task_p50: number;
  opens_per_registry_task_max: number;
  loadavg: number;
}

async function measure(
  variant: Variant,
  bundles: { engine: string; base?: string; ceiling: string },
  workDir: string,
): Promise<Sample> {
  const [port] = await freePorts(1);
  const server = await startDevServer({
    dataDir: path.join(workDir, `server-${variant.name.replace(/\W+/g, '-')}-${Date.now()}`),
    port: port!,
    uiPort: false,
    tuning: variant.tuning,
  });
  const stops: (() => Promise<unknown>)[] = [() => server.stop()];
  try {
    const engineQueue = 'settings-engine';
    const ceilingQueue = 'settings-ceiling';
    const engine = buildConfig({ dataDir: 'data', taskQueue: engineQueue, channels: {}, audiences: {} }, workDir);
    const common = { address: server.address, namespace: 'default', sampleMs: 1000 };
    const ceiling = await WorkerHost.start({
      ...common,
      mode: 'ceiling',
      taskQueue: ceilingQueue,
      bundlePath: bundles.ceiling,
      identity: 'settings-ceiling',
    });
    stops.push(() => ceiling.stop());
    const worker = await WorkerHost.start({
      ...common,
      mode: 'engine',
      taskQueue: engineQueue,
      engine,
      bundlePath: variant.baseRegistry ? bundles.base! : bundles.engine,
      identity: 'settings-engine',
    });
    stops.push(() => worker.stop());
    const connection = await connectClosable({ address: server.address });
    stops.push(() => connection.close());
    const client = new Client({ connection, namespace: 'default' });

    const runActivityWorkflow = (loop: string) => (i: number) =>
      client.workflow.execute('benchActivityWorkflow', {
        workflowId: `settings-${loop}-${i}`,
        taskQueue: ceilingQueue,
      });
    const alone = await closedLoop(1, WARMUP_S, SECONDS, runActivityWorkflow('alone'));
    const activity = await closedLoop(ACTIVITY_CONCURRENCY, WARMUP_S, SECONDS, runActivityWorkflow('activity'));
    await ceiling.stop();

    const plan = loadRunbookFile(path.join(REPO, 'bench/runbooks/idle.yaml'));
    const incidents = new IncidentClient(client, engineQueue);
    const request = (i: number) => ({ title: `settings id ${i}`, trigger: 'bench', severity: 'P3', drill: true });
    // The other checkout's registry takes the plan itself; the same limit of opens in flight as the client's.
    const baseOpen = async (i: number): Promise<OpenIncidentResult> =>
      client.workflow.executeUpdateWithStart('openIncident', {
        args: [{ ...request(i), eventType: 'other', affectedSystems: [], plan }],
        startWorkflowOperation: new WithStartWorkflowOperation('incidentRegistryWorkflow', {
          workflowId: REGISTRY_WORKFLOW_ID,
          taskQueue: engineQueue,
          workflowIdConflictPolicy: 'USE_EXISTING',
          args: [undefined],
        }),
      });
    const { default: pLimit } = await import('p-limit');
    const slots = pLimit(8);
    const open = variant.baseRegistry
      ? (i: number) => slots(() => baseOpen(i))
      : (i: number) => incidents.open(request(i), plan);
    await open(-1); // the registry exists before the window
    const idsFrom = Date.now();
    const ids = await closedLoop(ID_CONCURRENCY, WARMUP_S, SECONDS, async (i) => (await open(i)).incidentId);
    const registry = await analyzeRegistry(client, {
      from: idsFrom + WARMUP_S * 1000,
      to: idsFrom + (WARMUP_S + SECONDS) * 1000,
    });
    const numbers = ids.all
      .filter((r) => r.value)
      .map((r) => Number(/-(\d+)$/.exec(r.value!)?.[1]))
      .sort((a, b) => a - b);
    const openMs = summarize(ids.inWindow.map((r) => r.end - r.start));
    const aloneMs = summarize(alone.inWindow.map((r) => r.end - r.start));
    return {
      alone_p50_ms: aloneMs.p50,
      alone_p99_ms: aloneMs.p99,
      activity_wps: round(activity.inWindow.length / activity.windowS, 2),
      activity_p99_ms: summarize(activity.inWindow.map((r) => r.end - r.start)).p99,
      ids_per_s: round(ids.inWindow.length / ids.windowS, 2),
      open_p50_ms: openMs.p50,
      open_p99_ms: openMs.p99,
      id_errors: ids.errors,
      ids_gapless: numbers.every((n, i) => i === 0 || n === numbers[i - 1]! + 1),
      registry_tasks_per_s: registry.workflowTasksPerS ?? 0,
      opens_per_registry_task_p50: registry.updatesPerAcceptingTask.p50 ?? 0,
      opens_per_registry_task_max: registry.updatesPerAcceptingTask.max ?? 0,
      loadavg: round(loadAverage()[0] ?? 0, 2),
    };
  } finally {
    for (const stop of stops.reverse()) await stop().catch((e: unknown) => log(`cleanup: ${String(e)}`));
  }
}

async function main(): Promise<void> {
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'incident-settings-'));
  try {
    const [engine, ceiling, base] = await Promise.all([
      bundleWorkflows(),
      bundleWorkflowCode({ workflowsPath: path.join(REPO, 'bench/workflows/index.ts'), logger: quiet }),
      BASE_TREE
        ? bundleWorkflowCode({
            workflowsPath: path.join(BASE_TREE, 'workflows/index.ts'),
            preloadModules: [path.join(BASE_TREE, 'workflows/shared-schemas.ts')],
            logger: quiet,
          })
        : undefined,
    ]);
    const bundles = {
      engine: path.join(workDir, 'engine.js'),
      ceiling: path.join(workDir, 'ceiling.js'),
      ...(base ? { base: path.join(workDir, 'base.js') } : {}),
    };
    writeFileSync(bundles.engine, engine.code);
    writeFileSync(bundles.ceiling, ceiling.code);
    if (base) writeFileSync(bundles.base!, base.code);

    const samples = new Map<string, Sample[]>(VARIANTS.map((v) => [v.name, []]));
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 === 0 ? VARIANTS : [...VARIANTS].reverse();
      for (const variant of order) {
        const sample = await measure(variant, bundles, workDir);
        samples.get(variant.name)!.push(sample);
        log(`${variant.name} (round ${r + 1}): ${JSON.stringify(sample)}`);
      }
    }

    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    const keys = [
      'alone_p50_ms',
      'alone_p99_ms',
      'activity_wps',
      'activity_p99_ms',
      'ids_per_s',
      'open_p50_ms',
      'open_p99_ms',
      'registry_tasks_per_s',
      'opens_per_registry_task_p50',
    ] as const;
    const summary = VARIANTS.map((variant) => {
      const s = samples.get(variant.name)!;
      const means = Object.fromEntries(keys.map((k) => [k, round(mean(s.map((x) => x[k])), 2)])) as Record<
        (typeof keys)[number],
        number
      >;
      return {
        variant: variant.name,
        tuning: variant.tuning,
        ...(variant.baseRegistry ? { registry: `the registry of ${BASE_TREE}` } : {}),
        ...means,
        id_errors: s.reduce((n, x) => n + x.id_errors, 0),
        ids_gapless: s.every((x) => x.ids_gapless),
        rounds: s,
      };
    });
    const baseline = summary[0]!;
    const withRatios = summary.map((row) => ({
      ...row,
      ratio_to_cli_defaults: Object.fromEntries(
        keys.map((k) => [k, baseline[k] ? round(row[k] / baseline[k], 2) : null]),
      ),
    }));
    const out = {
      command: `${Object.entries(process.env)
        .filter(([k]) => k.startsWith('BENCH_'))
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')} npx tsx bench/server-settings.ts`.trim(),
      started_at: new Date(started).toISOString(),
      duration_s: Math.round((Date.now() - started) / 1000),
      settings: {
        seconds: SECONDS,
        warmup_s: WARMUP_S,
        rounds: ROUNDS,
        activity_concurrency: ACTIVITY_CONCURRENCY,
        id_concurrency: ID_CONCURRENCY,
      },
      machine: { cpus: os.cpus().length, loadavg_before_after: loadAverage() },
      variants: withRatios,
    };
    writeFileSync(path.join(REPO, 'bench/results/server-settings.json'), `${JSON.stringify(out, null, 2)}\n`);
    for (const row of withRatios) {
      log(
        `${row.variant.padEnd(24)} alone p50 ${row.alone_p50_ms} ms, activity ${row.activity_wps}/s (x${row.ratio_to_cli_defaults.activity_wps}), ` +
          `ids ${row.ids_per_s}/s (x${row.ratio_to_cli_defaults.ids_per_s}) open p99 ${row.open_p99_ms} ms`,
      );
    }
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
