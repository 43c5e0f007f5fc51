// 1. Ceiling: how many workflows per second this server and worker complete when the workflow does nothing, and when
// it runs one no-op activity, at each concurrency (closed loop: each of C clients starts a workflow and waits for its
// result, then starts the next). State transitions per workflow come from describe()'s stateTransitionCount of
// completed workflows (a sample); state transitions/s = completions/s x that mean.
import { randomUUID } from 'node:crypto';
import { type BenchContext, type Resources, closedLoop, measured, resources } from './lib/context';
import { describeCounts, mapLimit } from './lib/counts';
import { mean, round, summarize } from './lib/stats';
import type { WorkerHost } from './lib/worker-host';

export interface CeilingPoint extends Resources {
  workflow: 'benchNoopWorkflow' | 'benchActivityWorkflow';
  concurrency: number;
  duration_s: number;
  completed: number;
  errors: number;
  wps: number;
  state_transitions_per_wf: number;
  events_per_wf: number;
  state_transitions_per_s: number;
  latency_ms: ReturnType<typeof summarize>;
}

export async function runCeiling(ctx: BenchContext, worker: WorkerHost): Promise<CeilingPoint[]> {
  const { concurrency, durationS, sample } = ctx.settings.ceiling;
  const points: CeilingPoint[] = [];
  for (const workflow of ['benchNoopWorkflow', 'benchActivityWorkflow'] as const) {
    for (const c of concurrency) {
      const run = randomUUID().slice(0, 8);
      const m = await measured(ctx, `ceiling-${workflow}-c${c}`, worker, () =>
        closedLoop(c, ctx.settings.warmupS, durationS, async (i) => {
          const workflowId = `ceiling-${workflow}-c${c}-${run}-${i}`;
          await ctx.client.workflow.execute(workflow, { workflowId, taskQueue: ctx.ceilingQueue });
          return workflowId;
        }),
      );
      const { inWindow, errors, windowS } = m.result;
      const ids = inWindow.map((r) => r.value!).slice(0, sample);
      const counts = await mapLimit(ids, 10, (id) => describeCounts(ctx.client, id));
      const st = mean(counts.map((x) => x.stateTransitions));
      const ev = mean(counts.map((x) => x.events));
      const wps = inWindow.length / windowS;
      const point: CeilingPoint = {
        workflow,
        concurrency: c,
        duration_s: windowS,
        completed: inWindow.length,
        errors,
        wps: round(wps, 2),
        state_transitions_per_wf: round(st, 2),
        events_per_wf: round(ev, 2),
        state_transitions_per_s: round(wps * st, 1),
        latency_ms: summarize(inWindow.map((r) => r.end - r.start)),
        ...resources(m),
      };
      ctx.log(
        `ceiling ${workflow} c=${c}: ${point.wps}/s, ${point.state_transitions_per_wf} st/wf, ${point.state_transitions_per_s} st/s, ` +
          `p50 ${point.latency_ms.p50} ms, cpu server ${m.cpu.server_s}s worker ${m.cpu.worker_s}s client ${m.cpu.client_s}s other ${m.cpu.other_s}s`,
      );
      points.push(point);
    }
  }
  return points;
}
