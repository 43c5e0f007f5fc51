// 3b. Operator update round trip: updates sent at a steady rate (open loop) to open incidents (those the latency and
// ID sections left waiting for an operator), in pairs: acknowledge an incident, then assignOwner on it (a new owner
// each time); round trip = IncidentClient call to its answer (the workflow's view after the
// handler ran). An update that takes longer than the timeout counts as an error.
import { type BenchContext, type Resources, measured, openLoop, resources } from './lib/context';
import { summarize, type Summary } from './lib/stats';

export interface UpdateResult extends Resources {
  rate: number;
  duration_s: number;
  sent: number;
  errors: number;
  first_error?: string;
  rtt_ms: Summary;
  acknowledge_ms: Summary;
  assign_owner_ms: Summary;
  scheduler_lag_ms: Summary;
}

const UPDATE_TIMEOUT_MS = 60_000;

export async function runUpdates(
  ctx: BenchContext,
  incidentIds: string[],
  rate: number,
  durationS: number,
): Promise<UpdateResult> {
  const worker = await ctx.ensureEngineWorker();
  if (incidentIds.length === 0) throw new Error('updates: expected open incidents to update, got none');
  const m = await measured(ctx, 'updates', worker, () =>
    openLoop(rate, durationS, async (i) => {
      // Pairs: acknowledge an incident, then assign it an owner, so both kinds are measured however many are open;
      // past the last incident, owners only (a second acknowledge would be refused).
      const pair = Math.floor(i / 2);
      const id = incidentIds[pair % incidentIds.length]!;
      const kind = i % 2 === 0 && pair < incidentIds.length ? 'acknowledge' : 'assignOwner';
      const t0 = performance.now();
      const call =
        kind === 'acknowledge'
          ? ctx.incidents.acknowledge(id, { by: 'bench-operator' })
          : ctx.incidents.assignOwner(id, { by: 'bench-operator', owner: `owner-${i}` });
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        call,
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${UPDATE_TIMEOUT_MS / 1000} s`)),
            UPDATE_TIMEOUT_MS,
          );
        }),
      ]).finally(() => clearTimeout(timer));
      return { kind, ms: performance.now() - t0 };
    }),
  );
  const ok = m.result.results.filter((r) => r.value);
  const result: UpdateResult = {
    rate,
    duration_s: durationS,
    sent: m.result.results.length,
    errors: m.result.results.length - ok.length,
    ...(ok.length < m.result.results.length ? { first_error: m.result.results.find((r) => r.error)?.error } : {}),
    rtt_ms: summarize(ok.map((r) => r.value!.ms)),
    acknowledge_ms: summarize(ok.filter((r) => r.value!.kind === 'acknowledge').map((r) => r.value!.ms)),
    assign_owner_ms: summarize(ok.filter((r) => r.value!.kind === 'assignOwner').map((r) => r.value!.ms)),
    scheduler_lag_ms: summarize(m.result.results.map((r) => r.lagMs)),
    ...resources(m),
  };
  ctx.log(
    `updates ${rate}/s for ${durationS}s: ${ok.length}/${result.sent} ok, rtt p50 ${result.rtt_ms.p50} p99 ${result.rtt_ms.p99} ms ` +
      `(ack p99 ${result.acknowledge_ms.p99}, assignOwner p99 ${result.assign_owner_ms.p99}); cpu server ${m.cpu.server_s}s worker ${m.cpu.worker_s}s other ${m.cpu.other_s}s`,
  );
  return result;
}
