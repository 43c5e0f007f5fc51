// 2. Incident lifecycle: incidents on the self-resolving bench runbook (bench/runbooks/self-resolving.yaml, drill
// mode, five phases advancing by themselves), closed loop at each concurrency: open, wait for the incident's result
// (closed), open the next. Through the registry (IncidentClient.open, the product's path) and, to separate the
// registry from the rest of the engine, started directly (client.workflow.start, as the tests' startIncident does).
// Per incident: workflow tasks, events and state transitions of the incident and its five phase children (a
// sample), plus the registry's share per open.
import { OpenRequest } from '../domain/messages';
import type { IncidentInput } from '../workflows/definitions';
import { type BenchContext, type Resources, closedLoop, measured, resources } from './lib/context';
import { type IncidentCostSummary, type TimeSplit, meanTimeSplit, summarizeIncidentCosts } from './lib/incident-counts';
import { analyzeRegistry, type RegistryAnalysis } from './lib/registry';
import { round, summarize } from './lib/stats';

export interface LifecyclePoint extends Resources {
  path: 'registry' | 'direct';
  concurrency: number;
  duration_s: number;
  completed: number;
  errors: number;
  wps: number;
  /** ms from the call to the incident's close (registry: includes the open). */
  latency_ms: ReturnType<typeof summarize>;
  /** ms the open took (registry path only). */
  open_ms?: ReturnType<typeof summarize>;
  cost: IncidentCostSummary;
  /** Mean over the sample: where open-to-close time went (server timestamps). */
  time_split?: TimeSplit;
  /** Registry path: the registry's history in this window. */
  registry?: RegistryAnalysis;
}

let directCounter = 0;

export function directIncidentId(prefix: string): string {
  directCounter += 1;
  return `${prefix}-${new Date().getUTCFullYear()}-${String(directCounter).padStart(5, '0')}`;
}

export function directInput(
  ctx: BenchContext,
  incidentId: string,
  plan = ctx.plans.selfResolving,
  request: Partial<OpenRequest> = {},
): IncidentInput {
  return {
    ...OpenRequest.parse({ title: `bench ${incidentId}`, trigger: 'bench', severity: 'P3', drill: true, ...request }),
    incidentId,
    plan,
  };
}

export async function runLifecycle(
  ctx: BenchContext,
  path: 'registry' | 'direct',
  concurrency: number,
): Promise<LifecyclePoint> {
  const worker = await ctx.ensureEngineWorker();
  const { durationS, directDurationS, sample } = ctx.settings.lifecycle;
  const duration = path === 'registry' ? durationS : directDurationS;
  const plan = ctx.plans.selfResolving;
  const m = await measured(ctx, `lifecycle-${path}-c${concurrency}`, worker, () =>
    closedLoop(concurrency, ctx.settings.lifecycle.warmupS, duration, async (i) => {
      const t0 = performance.now();
      let incidentId: string;
      if (path === 'registry') {
        ({ incidentId } = await ctx.incidents.open(
          { title: `bench lifecycle ${concurrency}/${i}`, trigger: 'bench', severity: 'P3', drill: true },
          plan,
        ));
      } else {
        incidentId = directIncidentId('DIR');
        await ctx.client.workflow.start('incidentWorkflow', {
          workflowId: incidentId,
          taskQueue: ctx.engineQueue,
          args: [directInput(ctx, incidentId, plan)],
        });
      }
      const openMs = performance.now() - t0;
      const outcome = (await ctx.client.workflow.getHandle(incidentId).result()) as { status: string };
      if (outcome.status !== 'closed') throw new Error(`${incidentId} ended ${outcome.status}, expected closed`);
      return { incidentId, openMs };
    }),
  );
  const { inWindow, errors, windowS, all } = m.result;
  const firstError = all.find((r) => r.error)?.error;
  if (firstError) ctx.log(`lifecycle ${path} c=${concurrency}: ${errors} errors, first: ${firstError}`);
  const cost = await summarizeIncidentCosts(
    ctx.client,
    inWindow.slice(0, sample).map((r) => r.value!.incidentId),
  );
  const timeSplitMean = await meanTimeSplit(
    ctx.client,
    inWindow.slice(0, sample).map((r) => r.value!.incidentId),
  );
  const registry =
    path === 'registry'
      ? await analyzeRegistry(ctx.client, {
          from: m.startedAt + ctx.settings.lifecycle.warmupS * 1000,
          to: m.startedAt + (ctx.settings.lifecycle.warmupS + duration) * 1000,
        })
      : undefined;
  const point: LifecyclePoint = {
    path,
    concurrency,
    duration_s: windowS,
    completed: inWindow.length,
    errors,
    wps: round(inWindow.length / windowS, 2),
    latency_ms: summarize(inWindow.map((r) => r.end - r.start)),
    ...(path === 'registry' ? { open_ms: summarize(inWindow.map((r) => r.value!.openMs)) } : {}),
    cost,
    ...(timeSplitMean ? { time_split: timeSplitMean } : {}),
    ...(registry ? { registry } : {}),
    ...resources(m),
  };
  ctx.log(
    `lifecycle ${path} c=${concurrency}: ${point.wps}/s (${point.completed} in ${windowS}s), latency p50 ${point.latency_ms.p50} ms, ` +
      `${cost.events} events, ${cost.workflowTasks} WFTs, ${cost.stateTransitions} st per incident; split ${JSON.stringify(timeSplitMean)}; ` +
      `cpu server ${m.cpu.server_s}s worker ${m.cpu.worker_s}s client ${m.cpu.client_s}s other ${m.cpu.other_s}s`,
  );
  return point;
}
