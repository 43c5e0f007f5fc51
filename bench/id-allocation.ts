// 5. Incident ID allocation: opens through the registry (IncidentClient.open, update-with-start on the one registry
// workflow) at concurrency C, closed loop, on the idle bench runbook (no steps, parks in eradicate) so the opened
// incidents cost as little as possible and the registry is what is measured. Counts every gRPC attempt (the server
// refuses more than 10 in-flight updates per workflow with RESOURCE_EXHAUSTED and the client backs off 1-5 s), and
// reads the registry's history for the window: workflow tasks per second, updates accepted per task, and how long
// each task waited for the worker and took in it.
import { Client } from '@temporalio/client';
import { IncidentClient } from '../src/client';
import { type BenchContext, type Resources, closedLoop, measured, resources } from './lib/context';
import { GrpcCounter, countingConnection } from './lib/grpc-count';
import { analyzeRegistry, type RegistryAnalysis } from './lib/registry';
import { round, summarize } from './lib/stats';

export interface IdAllocationResult extends Resources {
  concurrency: number;
  duration_s: number;
  opened: number;
  errors: number;
  first_error?: string;
  per_s: number;
  open_ms: ReturnType<typeof summarize>;
  /** gRPC attempts by method and status during the window (retries included). */
  grpc: Record<string, Record<string, number>>;
  ids_distinct: boolean;
  ids_gapless: boolean;
  registry: RegistryAnalysis;
  incidentIds: string[];
}

export async function runIdAllocation(
  ctx: BenchContext,
  concurrency: number,
  durationS: number,
): Promise<IdAllocationResult> {
  const worker = await ctx.ensureEngineWorker();
  const counter = new GrpcCounter();
  const connection = await countingConnection(ctx.server.address, counter);
  try {
    const incidents = new IncidentClient(new Client({ connection, namespace: ctx.namespace }), ctx.engineQueue);
    // One open first, so the registry exists (and is cached) before the timed window.
    await incidents.open({ title: 'bench id warm-up', trigger: 'bench', severity: 'P3', drill: true }, ctx.plans.idle);
    counter.reset();
    const m = await measured(ctx, `ids-c${concurrency}`, worker, () =>
      closedLoop(concurrency, 0, durationS, async (i) => {
        const t0 = performance.now();
        const { incidentId } = await incidents.open(
          { title: `bench id ${i}`, trigger: 'bench', severity: 'P3', drill: true },
          ctx.plans.idle,
        );
        return { incidentId, ms: performance.now() - t0 };
      }),
    );
    const { all, inWindow, windowS, errors } = m.result;
    const ok = all.filter((r) => r.value);
    const numbers = ok.map((r) => Number(/-(\d+)$/.exec(r.value!.incidentId)?.[1])).sort((a, b) => a - b);
    const distinct = new Set(numbers).size === numbers.length;
    const gapless = numbers.every((n, i) => i === 0 || n === numbers[i - 1]! + 1);
    const registry = await analyzeRegistry(ctx.client, { from: m.startedAt, to: m.startedAt + durationS * 1000 });
    if (process.env.BENCH_DEBUG_REGISTRY === '1') {
      const { historyBreakdown, eventTypeName, eventTimeMs } = await import('./lib/counts');
      const h = await historyBreakdown(ctx.client, 'incident-registry');
      const { writeFileSync } = await import('node:fs');
      writeFileSync(
        `${ctx.resultsDir}/registry-events.txt`,
        h.raw.map((e) => `${eventTimeMs(e) - m.startedAt}\t${String(e.eventId)}\t${eventTypeName(e)}`).join('\n'),
      );
    }
    const result: IdAllocationResult = {
      concurrency,
      duration_s: windowS,
      opened: inWindow.length,
      errors,
      ...(errors ? { first_error: all.find((r) => r.error)?.error } : {}),
      per_s: round(inWindow.length / windowS, 2),
      open_ms: summarize(inWindow.map((r) => r.value!.ms)),
      grpc: JSON.parse(JSON.stringify(counter.counts)) as Record<string, Record<string, number>>,
      ids_distinct: distinct,
      ids_gapless: gapless,
      registry,
      ...resources(m),
      incidentIds: ok.map((r) => r.value!.incidentId),
    };
    ctx.log(
      `ids c=${concurrency}: ${result.per_s}/s (${result.opened} in ${windowS}s, ${errors} errors), open p50 ${result.open_ms.p50} ms ` +
        `p99 ${result.open_ms.p99} ms; registry ${registry.workflowTasksPerS} WFT/s, updates/WFT p50 ${registry.updatesPerAcceptingTask.p50} ` +
        `max ${registry.updatesPerAcceptingTask.max}, WFT start->complete p50 ${registry.wftStartToCompleteMs.p50} ms, ` +
        `sched->start p50 ${registry.wftScheduleToStartMs.p50} ms; grpc ${JSON.stringify(result.grpc)}; ` +
        `cpu server ${m.cpu.server_s}s worker ${m.cpu.worker_s}s other ${m.cpu.other_s}s`,
    );
    return result;
  } finally {
    await connection.close();
  }
}
