// 4. Timers: N incidents opened at once (started directly, bypassing the registry, whose open rate would make this
// take many minutes; bench/id-allocation.ts measures the registry) on the idle bench runbook as P1 with a short
// response time, so each waits in detect with its `unacknowledged` escalation armed. Lateness of each escalation is
// the `escalated` timeline event's `at` (workflow time of the task that fired it) minus its `dueAt`. For a sample,
// the history splits lateness into the server's timer (TimerFired - dueAt) and task dispatch and the worker
// (WorkflowTaskStarted after it - TimerFired). The worker's RSS is sampled throughout.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { TimelineEvent } from '../domain/incident';
import { timelineQuery } from '../workflows/definitions';
import { directIncidentId, directInput } from './lifecycle';
import { type BenchContext, type Resources, measured, resources } from './lib/context';
import { eventTimeMs, historyBreakdown, mapLimit } from './lib/counts';
import { round, sleep, summarize, type Summary } from './lib/stats';
import type { WorkerHost } from './lib/worker-host';
import { summarizeHeap } from './heap-summary';
import type { HeapReport } from './worker-process';

type Escalated = Extract<TimelineEvent, { type: 'escalated' }>;

export interface TimerResult extends Resources {
  incidents: number;
  response_s: number;
  open_concurrency: number;
  /** Seconds to start all N (client calls). */
  open_s: number;
  /** Running incident workflows at the peak (visibility count), and the wall-clock span over which escalations fired. */
  open_incidents_peak: number;
  fired: number;
  missing: number;
  /** For a few incidents that did not escalate in time: what their histories show (why, when it is a failure). */
  missing_examples?: {
    id: string;
    events: number;
    last_events: string[];
    workflow_task_failures: number;
    first_failure?: string;
  }[];
  fire_span_s: number;
  lateness_ms: Summary;
  /** From the client's start request to the incident's first workflow task (when its deadlines start counting). */
  start_to_opened_ms: Summary;
  /** Workflow task failures in the sampled histories (expected 0). */
  sample_workflow_task_failures?: number;
  /** Sample split: server timer (TimerFired - dueAt) and dispatch + worker (next WorkflowTaskStarted - TimerFired). */
  sample_timer_fired_late_ms?: Summary;
  sample_task_started_after_fire_ms?: Summary;
  worker_rss_mb_at_rest?: number;
  worker_rss_mb_before?: number;
  /** At rest after the escalations: V8 heap per JS thread before and after a full GC, and RSS after it. */
  worker_heap_at_rest?: HeapReport;
  /** The worker's RSS every ~5 s through the section: [seconds from its start, MB]. */
  worker_rss_timeline_mb: [number, number][];
  incidentIds: string[];
}

async function runningIncidents(ctx: BenchContext): Promise<number> {
  try {
    const { count } = await ctx.client.workflow.count(
      `WorkflowType = 'incidentWorkflow' AND ExecutionStatus = 'Running'`,
    );
    return count;
  } catch {
    return Number.NaN;
  }
}

export async function runTimers(ctx: BenchContext, worker: WorkerHost): Promise<TimerResult> {
  const { incidents: n, responseS, openConcurrency, graceS } = ctx.settings.timers;
  const plan = structuredClone(ctx.plans.idle);
  plan.escalation.responseTimeMs.P1 = responseS * 1000;
  while (worker.samples.length === 0) await sleep(100);
  const rssBefore = worker.lastRssMb();
  const ids = Array.from({ length: n }, () => directIncidentId('TMR'));
  const heapProfile =
    process.env.BENCH_HEAP_PROFILE === '1' ? `${ctx.resultsDir}/profiles/timers.heap.json` : undefined;
  if (heapProfile) {
    mkdirSync(path.dirname(heapProfile), { recursive: true });
    worker.heapSamplingStart();
    await sleep(1_000);
  }
  const startRequestedAt = new Map<string, number>();
  const m = await measured(ctx, 'timers', worker, async () => {
    const t0 = Date.now();
    await mapLimit(ids, openConcurrency, async (id) => {
      startRequestedAt.set(id, Date.now());
      await ctx.client.workflow.start('incidentWorkflow', {
        workflowId: id,
        taskQueue: ctx.engineQueue,
        args: [directInput(ctx, id, plan, { severity: 'P1', title: `bench timer ${id}` })],
      });
    });
    const openS = (Date.now() - t0) / 1000;
    ctx.log(
      `timers: ${n} incidents started in ${round(openS, 1)} s; waiting for their escalations (${responseS} s after each opened)`,
    );
    let peak = await runningIncidents(ctx);
    if (heapProfile) {
      // What the open incidents hold, before their escalations fire.
      await sleep(10_000);
      await worker.heapSamplingStop(heapProfile);
      writeFileSync(
        heapProfile.replace(/\.heap\.json$/, '.heap-summary.json'),
        JSON.stringify(summarizeHeap(heapProfile, 30), null, 2),
      );
      if (process.env.BENCH_KEEP_PROFILES !== '1') rmSync(heapProfile);
      ctx.log(`timers: heap sampling profile summarized next to ${heapProfile}`);
    }
    // The last incident's timer is due responseS after its first workflow task; wait for that (and 10 s more, so the
    // timeline queries, which the worker answers, do not compete with the escalations being measured).
    await sleep(Math.max(0, t0 + openS * 1000 + responseS * 1000 + 10_000 - Date.now()));
    const found = new Map<string, Escalated>();
    // An incident's deadline counts from its first workflow task, which can come well after its start while the
    // worker works through the others: keep polling as long as escalations keep arriving, and give up only after
    // graceS seconds without one.
    let giveUp = Date.now() + graceS * 1000;
    for (;;) {
      peak = Math.max(peak, await runningIncidents(ctx));
      const foundBefore = found.size;
      const pending = ids.filter((id) => !found.has(id));
      await mapLimit(pending, 20, async (id) => {
        try {
          const timeline = await ctx.client.workflow.getHandle(id).query(timelineQuery);
          const escalated = timeline.find(
            (e): e is Escalated => e.type === 'escalated' && e.trigger === 'unacknowledged',
          );
          if (escalated) found.set(id, escalated);
        } catch {
          // not there yet
        }
      });
      if (found.size > foundBefore) giveUp = Date.now() + graceS * 1000;
      if (found.size === ids.length || Date.now() > giveUp) break;
      await sleep(2_000);
    }
    return { openS, found, peak };
  });
  const { openS, found, peak } = m.result;
  const escalations = [...found.values()];
  const lateness = escalations.map((e) => e.at - e.dueAt);
  // The incident opens (its clock starts) at its first workflow task: how long after the start request that came.
  const startToOpened = [...found].map(([id, e]) => e.dueAt - responseS * 1000 - startRequestedAt.get(id)!);
  // Sample: where the lateness went (every k-th incident, about 100).
  const step = Math.max(1, Math.floor(ids.length / 100));
  const sampled = ids.filter((_, i) => i % step === 0 && found.has(ids[i]!));
  const split = await mapLimit(sampled, 10, async (id) => {
    const dueAt = found.get(id)!.dueAt;
    const h = await historyBreakdown(ctx.client, id);
    const fired = h.raw.find((e) => e.timerFiredEventAttributes && eventTimeMs(e) >= dueAt - 5);
    if (!fired) return undefined;
    const firedAt = eventTimeMs(fired);
    const next = h.raw.find((e) => e.workflowTaskStartedEventAttributes && Number(e.eventId) > Number(fired.eventId));
    return {
      timerLate: firedAt - dueAt,
      taskAfter: next ? eventTimeMs(next) - firedAt : Number.NaN,
      failedTasks: h.byType.WorkflowTaskFailed ?? 0,
    };
  });
  const splits = split.filter((s): s is NonNullable<typeof s> => s !== undefined);
  const missingExamples = await mapLimit(ids.filter((id) => !found.has(id)).slice(0, 5), 5, async (id) => {
    const h = await historyBreakdown(ctx.client, id);
    const failure = h.raw.find((e) => e.workflowTaskFailedEventAttributes)?.workflowTaskFailedEventAttributes?.failure
      ?.message;
    // Kept for `drill replay` and the replay gate: a failed workflow task is a bug to find, not a number.
    if (failure) {
      const dir = path.join(ctx.resultsDir, 'failed-histories');
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, `${id}.json`), historyToJSON({ events: h.raw }));
    }
    return {
      id,
      events: h.raw.length,
      last_events: h.raw.slice(-6).map((e) => `${e.eventId} ${String(e.eventType)}`),
      workflow_task_failures: h.byType.WorkflowTaskFailed ?? 0,
      ...(failure ? { first_failure: failure } : {}),
    };
  });
  const firedAt = escalations.map((e) => e.at);
  const heap = await worker.heapReport();
  const result: TimerResult = {
    incidents: n,
    response_s: responseS,
    open_concurrency: openConcurrency,
    open_s: round(openS, 1),
    open_incidents_peak: peak,
    fired: escalations.length,
    missing: n - escalations.length,
    ...(missingExamples.length ? { missing_examples: missingExamples } : {}),
    fire_span_s: round((Math.max(...firedAt) - Math.min(...firedAt)) / 1000, 1),
    lateness_ms: summarize(lateness),
    start_to_opened_ms: summarize(startToOpened),
    ...(splits.length
      ? {
          sample_workflow_task_failures: splits.reduce((n, s) => n + s.failedTasks, 0),
          sample_timer_fired_late_ms: summarize(splits.map((s) => s.timerLate)),
          sample_task_started_after_fire_ms: summarize(splits.map((s) => s.taskAfter).filter(Number.isFinite)),
        }
      : {}),
    ...resources(m),
    ...(rssBefore !== undefined ? { worker_rss_mb_before: rssBefore } : {}),
    worker_rss_timeline_mb: worker.samples
      .filter((x) => x.t >= m.startedAt)
      .filter((_, i) => i % Math.max(1, Math.round(5000 / ctx.settings.sampleMs)) === 0)
      .map((x) => [round((x.t - m.startedAt) / 1000, 0), round(x.rss / 1048576, 0)]),
    ...(worker.lastRssMb() !== undefined ? { worker_rss_mb_at_rest: worker.lastRssMb() } : {}),
    ...(heap ? { worker_heap_at_rest: heap } : {}),
    incidentIds: ids,
  };
  ctx.log(
    `timers: ${result.fired}/${n} fired over ${result.fire_span_s} s, lateness p50 ${result.lateness_ms.p50} p99 ${result.lateness_ms.p99} ` +
      `max ${result.lateness_ms.max} ms; server timer late p50 ${result.sample_timer_fired_late_ms?.p50} ms, task after fire p50 ` +
      `${result.sample_task_started_after_fire_ms?.p50} ms; open incidents ${peak}; worker RSS peak ${result.worker_peak_rss_mb} MB ` +
      `(before ${rssBefore}, at rest ${result.worker_rss_mb_at_rest}); heap ${JSON.stringify(heap)}; cpu server ${m.cpu.server_s}s worker ${m.cpu.worker_s}s other ${m.cpu.other_s}s`,
  );
  return result;
}
