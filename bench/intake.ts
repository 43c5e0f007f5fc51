// 6. HTTP intake (src/api/, Fastify), when src/api exposes a startable server: started in this process on a free
// port with the product's defaults (rate limits included), the bench runbooks, and a detector key. It serves the
// alert-to-action measurement (bench/latency.ts posts generic alerts to /intake/alerts instead of calling
// IncidentClient.open) and the duplicate-alert storm: N alerts with one dedup key at concurrency C (closed loop),
// which must open one incident and put every alert on its timeline.
import path from 'node:path';
import type { RunbookPlan } from '../domain/runbook';
import { timelineQuery } from '../workflows/definitions';
import { type BenchContext, type Resources, measured, resources } from './lib/context';
import { mapLimit } from './lib/counts';
import { round, summarize, type Summary } from './lib/stats';

export interface Intake {
  url: string;
  key: string;
  close(): Promise<void>;
  /** Posts one generic alert; resolves with the reply's incident id. */
  post(body: Record<string, unknown>): Promise<{ status: number; incidentId?: string; created?: boolean }>;
}

interface ApiModule {
  startApiServer(options: Record<string, unknown>): Promise<{ url: string; close(): Promise<void> }>;
}
interface KeysModule {
  ApiKeyStore: new (file: string) => { create(o: { name: string; role: string }): { key: string } };
}

/** Starts the HTTP API if src/api has a startable server; otherwise says why not. */
export async function startIntake(ctx: BenchContext): Promise<Intake | { unavailable: string }> {
  let api: ApiModule;
  let keys: KeysModule;
  try {
    api = (await import('../src/api/server')) as unknown as ApiModule;
    keys = (await import('../src/api-keys')) as unknown as KeysModule;
    if (typeof api.startApiServer !== 'function' || typeof keys.ApiKeyStore !== 'function') {
      return { unavailable: 'src/api/server.ts exports no startApiServer (or src/api-keys.ts no ApiKeyStore)' };
    }
  } catch (error) {
    return { unavailable: `src/api cannot be loaded: ${error instanceof Error ? error.message : String(error)}` };
  }
  try {
    const store = new keys.ApiKeyStore(path.join(ctx.workDir, 'api-keys.json'));
    const { key } = store.create({ name: 'bench-detector', role: 'detector' });
    const runbooks = new Map<string, RunbookPlan>(Object.values(ctx.plans).map((p) => [p.id, p]));
    const server = await api.startApiServer({
      config: { ...ctx.engineConfig.api, host: '127.0.0.1', port: 0 },
      incidents: ctx.incidents,
      runbooks,
      keys: store,
      temporalAddress: ctx.server.address,
      // Errors are counted by the bench (each failed POST); the server's own log would only repeat them.
      logger: { level: 'silent' },
    });
    const post: Intake['post'] = async (body) => {
      const response = await fetch(`${server.url}/intake/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify(body),
      });
      const reply = (await response.json().catch(() => ({}))) as {
        incidentId?: string;
        created?: boolean;
        message?: string;
      };
      if (response.status >= 300)
        throw new Error(`POST /intake/alerts answered ${response.status}: ${reply.message ?? ''}`);
      return { status: response.status, ...reply };
    };
    return { url: server.url, key, close: () => server.close(), post };
  } catch (error) {
    return { unavailable: `src/api server did not start: ${error instanceof Error ? error.message : String(error)}` };
  }
}

export interface StormResult extends Resources {
  alerts: number;
  concurrency: number;
  duration_s: number;
  errors: number;
  first_error?: string;
  rps: number;
  latency_ms: Summary;
  incidents_created: number;
  distinct_incidents: number;
  alerts_on_timeline: number;
}

export async function runStorm(
  ctx: BenchContext,
  intake: Intake,
  alerts: number,
  concurrency: number,
): Promise<StormResult> {
  const worker = await ctx.ensureEngineWorker();
  const dedupKey = `bench-storm-${Date.now()}`;
  const m = await measured(ctx, 'intake-storm', worker, async () => {
    const t0 = performance.now();
    const replies = await mapLimit(
      Array.from({ length: alerts }, (_, i) => i),
      concurrency,
      async (i) => {
        const t = performance.now();
        try {
          const reply = await intake.post({
            source: 'bench-storm',
            title: 'bench duplicate alert storm',
            dedupKey,
            runbook: ctx.plans.containAndWait.id,
            severity: 'P3',
            drill: true,
            labels: { n: String(i) },
          });
          return { ...reply, ms: performance.now() - t };
        } catch (error) {
          return { error: error instanceof Error ? error.message : String(error), ms: performance.now() - t };
        }
      },
    );
    return { replies, seconds: (performance.now() - t0) / 1000 };
  });
  const { replies, seconds } = m.result;
  const ok = replies.filter((r): r is Extract<typeof r, { status: number }> => 'status' in r);
  const failed = replies.filter((r): r is Extract<typeof r, { error: string }> => 'error' in r);
  const incidentIds = [...new Set(ok.map((r) => r.incidentId).filter((id): id is string => id !== undefined))];
  let onTimeline = 0;
  for (const id of incidentIds) {
    const timeline = await ctx.client.workflow.getHandle(id).query(timelineQuery);
    onTimeline += timeline.filter((e) => e.type === 'alert').length;
  }
  const result: StormResult = {
    alerts,
    concurrency,
    duration_s: round(seconds, 2),
    errors: failed.length,
    ...(failed.length ? { first_error: failed[0]!.error } : {}),
    rps: round(ok.length / seconds, 1),
    latency_ms: summarize(ok.map((r) => r.ms)),
    incidents_created: ok.filter((r) => r.created).length,
    distinct_incidents: incidentIds.length,
    alerts_on_timeline: onTimeline,
    ...resources(m),
  };
  ctx.log(
    `intake storm: ${alerts} duplicate alerts at c=${concurrency} in ${result.duration_s}s = ${result.rps}/s, p50 ${result.latency_ms.p50} ` +
      `p99 ${result.latency_ms.p99} ms, ${failed.length} errors, ${result.incidents_created} created, ${result.distinct_incidents} incident(s), ` +
      `${onTimeline} alerts on the timeline; cpu server ${m.cpu.server_s}s worker ${m.cpu.worker_s}s client ${m.cpu.client_s}s`,
  );
  return result;
}
