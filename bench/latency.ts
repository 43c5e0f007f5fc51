// 3a. Alert to action: incidents opened at a steady rate (open loop: one every 1/rate s, whatever the earlier ones are
// doing, as detector alerts arrive) on the contain-and-wait bench runbook; for each, the time from the open call
// (the "alert") to the start of its first containment activity (the contain child's first ActivityTaskStarted, or
// the scheduling its local activity's marker records; timestamps on the same machine's clock). Measured from
// IncidentClient.open unless the HTTP intake is used (bench/intake.ts), or through one of the two opening paths side
// by side (OpeningPath). Split into: open (registry: ID, child start) -> incident started -> contain child started ->
// first activity started. A run given a warm-up first sends alerts at the same rate for that long, not counted: the
// run at 1/s comes right after the burst, whose last incidents are still finishing their phases for about a second.
import { WorkflowNotFoundError } from '@temporalio/client';
import { type BenchContext, type Resources, measured, openLoop, resources } from './lib/context';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeCounts, firstActivityStartMs, historyBreakdown, mapLimit } from './lib/counts';
import { type AlertPath, eventTimes } from './latency-paths';
import { mean, round, sleep, summarize, type Summary } from './lib/stats';
import type { Intake } from './intake';
import { alertStreamId } from '../workflows/definitions';

/**
 * How an alert that opens an incident reaches it, side by side without HTTP: the intake's path before the opening
 * alerts (open, then the alert through a new alert stream) and since (the alert in the open request).
 */
export type OpeningPath = 'open, then alert stream' | 'open with the alert';

export interface LatencyResult extends Resources {
  /** Where the alert entered: the HTTP intake (POST /intake/alerts), IncidentClient.open, or an opening path. */
  via: 'http-intake' | 'IncidentClient.open' | OpeningPath;
  /** Opening paths: history events of the incident and its alert stream once containment ran, mean per alert. */
  incident_and_stream_events?: number;
  rate: number;
  duration_s: number;
  offered: number;
  opened: number;
  errors: number;
  first_error?: string;
  /** Incidents whose containment had started within the drain limit. */
  measured: number;
  /** Seconds of alerts at the same rate sent before the run, not counted. */
  warmup_s: number;
  /** Opens completed per second over the run (the rate the system kept up with). */
  achieved_open_rate: number;
  alert_to_action_ms: Summary;
  /** The parts of alert_to_action_ms. */
  open_call_ms: Summary;
  alert_to_incident_started_ms: Summary;
  incident_started_to_contain_started_ms: Summary;
  contain_started_to_first_activity_ms: Summary;
  scheduler_lag_ms: Summary;
  incidentIds: string[];
}

/** A workflow's history length so far; 0 when there is no such workflow (an incident that started no stream). */
async function historyLength(ctx: BenchContext, workflowId: string): Promise<number> {
  try {
    return (await describeCounts(ctx.client, workflowId)).events;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return 0;
    throw error;
  }
}

export async function waitForCompletion(ctx: BenchContext, workflowId: string, deadline: number): Promise<boolean> {
  while (Date.now() < deadline) {
    try {
      await Promise.race([
        ctx.client.workflow.getHandle(workflowId).result(),
        sleep(Math.max(1, deadline - Date.now())),
      ]);
      return Date.now() < deadline;
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
      await sleep(500);
    }
  }
  return false;
}

/**
 * A pause before the first measured alert and after the last one is sent, longer than an uncongested alert's path to
 * containment (about 0.1 s here).
 */
const QUIET_MS = 2_000;

export async function runLatency(
  ctx: BenchContext,
  rate: number,
  durationS: number,
  intake?: Intake,
  warmupS = 0,
  opening?: OpeningPath,
): Promise<LatencyResult> {
  const worker = await ctx.ensureEngineWorker();
  const plan = ctx.plans.containAndWait;
  const tag = Date.now().toString(36);
  const alert = (label: string) => async (i: number) => {
    const alertAt = Date.now();
    let incidentId: string | undefined;
    if (intake) {
      ({ incidentId } = await intake.post({
        source: 'bench-detector',
        title: `bench alert ${rate}/${label}${i}`,
        dedupKey: `bench-alert-${tag}-${label}${i}`,
        runbook: plan.id,
        severity: 'P3',
        drill: true,
      }));
      if (!incidentId) throw new Error('the intake answered without an incident id');
    } else if (opening) {
      const title = `bench alert ${rate}/${opening === 'open with the alert' ? 'in-open' : 'stream'}-${label}${i}`;
      const request = { title, trigger: 'bench-detector', severity: 'P3' as const, drill: true };
      const firing = { source: 'bench-detector', status: 'firing' as const, summary: title, labels: {} };
      if (opening === 'open with the alert') {
        ({ incidentId } = await ctx.incidents.open({ ...request, alerts: [firing] }, plan));
      } else {
        ({ incidentId } = await ctx.incidents.open(request, plan));
        await ctx.incidents.deliverAlert(incidentId, firing);
      }
    } else {
      ({ incidentId } = await ctx.incidents.open(
        { title: `bench alert ${rate}/${label}${i}`, trigger: 'bench-detector', severity: 'P3', drill: true },
        plan,
      ));
    }
    return { incidentId, alertAt, openedAt: Date.now() };
  };
  if (warmupS > 0) await openLoop(rate, warmupS, alert('warmup-'));
  const m = await measured(ctx, `latency-${rate}`, worker, async () => {
    // The bench's own work (the server metrics scraped just before, the histories fetched just after) must not land
    // on a measured alert's path: at 1/s it made the first and the last alert of a run its slowest.
    await sleep(QUIET_MS);
    const load = await openLoop(rate, durationS, alert(''));
    await sleep(QUIET_MS);
    const deadline = Date.now() + ctx.settings.latency.drainS * 1000;
    const ok = load.results.filter((r) => r.value);
    const timings = await mapLimit(ok, 25, async (r) => {
      const { incidentId, alertAt, openedAt } = r.value!;
      if (!(await waitForCompletion(ctx, `${incidentId}.contain`, deadline))) return undefined;
      const [incident, contain] = await Promise.all([
        historyBreakdown(ctx.client, incidentId),
        historyBreakdown(ctx.client, `${incidentId}.contain`),
      ]);
      if (ctx.settings.dumpDir) {
        const detect = await historyBreakdown(ctx.client, `${incidentId}.detect`);
        const path: AlertPath = { alertAt, openedAt, ...eventTimes({ incident, detect, contain }) };
        writeFileSync(join(ctx.settings.dumpDir, `${rate}-${incidentId}.json`), JSON.stringify(path));
      }
      const firstActivity = firstActivityStartMs(contain.raw);
      if (firstActivity === undefined) return undefined;
      const events = opening ? incident.events + (await historyLength(ctx, alertStreamId(incidentId))) : undefined;
      return {
        events,
        alertAt,
        openedAt,
        incidentStarted: incident.firstEventMs,
        containStarted: contain.firstEventMs,
        firstActivity,
      };
    });
    return { load, timings };
  });
  const { load, timings } = m.result;
  const done = timings.filter((t): t is NonNullable<typeof t> => t !== undefined);
  const results = load.results;
  const opened = results.filter((r) => r.value);
  const lastOpen = Math.max(...opened.map((r) => r.end));
  const result: LatencyResult = {
    via: intake ? 'http-intake' : (opening ?? 'IncidentClient.open'),
    ...(opening ? { incident_and_stream_events: round(mean(done.map((t) => t.events ?? 0)), 1) } : {}),
    rate,
    duration_s: durationS,
    warmup_s: warmupS,
    offered: results.length,
    opened: opened.length,
    errors: results.length - opened.length,
    ...(results.length > opened.length ? { first_error: results.find((r) => r.error)?.error } : {}),
    measured: done.length,
    achieved_open_rate: round(opened.length / Math.max(durationS, lastOpen / 1000), 2),
    alert_to_action_ms: summarize(done.map((t) => t.firstActivity - t.alertAt)),
    open_call_ms: summarize(done.map((t) => t.openedAt - t.alertAt)),
    alert_to_incident_started_ms: summarize(done.map((t) => t.incidentStarted - t.alertAt)),
    incident_started_to_contain_started_ms: summarize(done.map((t) => t.containStarted - t.incidentStarted)),
    contain_started_to_first_activity_ms: summarize(done.map((t) => t.firstActivity - t.containStarted)),
    scheduler_lag_ms: summarize(results.map((r) => r.lagMs)),
    ...resources(m),
    incidentIds: opened.map((r) => r.value!.incidentId),
  };
  ctx.log(
    `latency via ${result.via} ${rate}/s for ${durationS}s${warmupS ? ` after ${warmupS}s not counted` : ''}: ${result.opened}/${result.offered} opened (achieved ${result.achieved_open_rate}/s), ` +
      `alert->action p50 ${result.alert_to_action_ms.p50} p99 ${result.alert_to_action_ms.p99} ms (n=${result.measured}); ` +
      `open call p50 ${result.open_call_ms.p50} ms; incident->contain p50 ${result.incident_started_to_contain_started_ms.p50} ms; ` +
      `contain->activity p50 ${result.contain_started_to_first_activity_ms.p50} ms; cpu server ${m.cpu.server_s}s worker ${m.cpu.worker_s}s other ${m.cpu.other_s}s`,
  );
  return result;
}
