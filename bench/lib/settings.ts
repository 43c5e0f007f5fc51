// Every size the bench uses, from environment variables with defaults that fit in 15 minutes on 2 cores.
// `BENCH_ONLY=ceiling,lifecycle` runs a subset (results then go to bench/results/partial.json, docs untouched).

export const SECTIONS = ['ceiling', 'lifecycle', 'latency', 'timers', 'updates', 'ids', 'intake'] as const;
export type Section = (typeof SECTIONS)[number];

function num(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name}: expected a non-negative number, got "${raw}"`);
  return value;
}

function list(name: string, fallback: number[]): number[] {
  const raw = process.env[name];
  if (!raw) return fallback;
  const values = raw.split(',').map((s) => Number(s.trim()));
  if (values.some((v) => !Number.isInteger(v) || v < 1))
    throw new Error(`${name}: expected positive integers like "1,10,50", got "${raw}"`);
  return values;
}

export function readSettings() {
  const only = process.env.BENCH_ONLY?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const name of only ?? []) {
    if (!(SECTIONS as readonly string[]).includes(name))
      throw new Error(`BENCH_ONLY: unknown section "${name}"; expected some of ${SECTIONS.join(', ')}`);
  }
  return {
    only: only as Section[] | undefined,
    /** Warm-up before each timed window, seconds (not counted). */
    warmupS: num('BENCH_WARMUP_S', 3),
    ceiling: {
      concurrency: list('BENCH_CEILING_CONCURRENCY', [1, 10, 50]),
      durationS: num('BENCH_CEILING_S', 10),
      /** Completed workflows described for state transitions and history length, per point. */
      sample: num('BENCH_CEILING_SAMPLE', 20),
    },
    lifecycle: {
      concurrency: list('BENCH_LIFECYCLE_CONCURRENCY', [10]),
      durationS: num('BENCH_LIFECYCLE_S', 35),
      /** Same, started directly (bypassing the registry), to separate the registry from the rest of the engine. */
      directDurationS: num('BENCH_LIFECYCLE_DIRECT_S', 25),
      /** Warm-up before counting: at least one incident's latency (about 7 s at concurrency 10 here). */
      warmupS: num('BENCH_LIFECYCLE_WARMUP_S', 10),
      sample: num('BENCH_LIFECYCLE_SAMPLE', 10),
    },
    latency: {
      rate: num('BENCH_LATENCY_RATE', 20),
      durationS: num('BENCH_LATENCY_S', 10),
      /** A second run at a rate the engine sustains, for the uncongested latency. 0 skips it. */
      lowRate: num('BENCH_LATENCY_LOW_RATE', 1),
      lowDurationS: num('BENCH_LATENCY_LOW_S', 20),
      /** Give up waiting for the last incidents' containment after this long, seconds. */
      drainS: num('BENCH_LATENCY_DRAIN_S', 150),
      /** The steady rate again through both opening paths side by side (bench/latency.ts, OpeningPath). 0 skips it. */
      compareOpening: num('BENCH_LATENCY_COMPARE_OPENING', 1) > 0,
    },
    timers: {
      incidents: num('BENCH_TIMER_INCIDENTS', 1000),
      responseS: num('BENCH_TIMER_RESPONSE_S', 60),
      openConcurrency: num('BENCH_TIMER_OPEN_CONCURRENCY', 50),
      /** Give up waiting for the last escalations after this long past the last due time, seconds. */
      graceS: num('BENCH_TIMER_GRACE_S', 60),
    },
    updates: {
      rate: num('BENCH_UPDATE_RATE', 20),
      durationS: num('BENCH_UPDATE_S', 20),
    },
    ids: {
      concurrency: num('BENCH_ID_CONCURRENCY', 50),
      durationS: num('BENCH_ID_S', 30),
    },
    intake: {
      stormAlerts: num('BENCH_INTAKE_STORM_ALERTS', 500),
      stormConcurrency: num('BENCH_INTAKE_STORM_CONCURRENCY', 50),
    },
    /** Worker memory sampling interval, ms. */
    sampleMs: num('BENCH_SAMPLE_MS', 500),
    /**
     * 1: profile mode. The engine worker runs under `node --cpu-prof`, restarted per section, so each section's
     * profiles (one per thread) land in bench/results/profiles/<section>/ with a summary; the figures carry the
     * profiler's overhead and go to bench/results/profile-run.json, not engine.json or the docs.
     */
    cpuProfile: process.env.BENCH_CPU_PROF === '1',
    /**
     * The comparison, not the product: BENCH_SHARED_SCHEMAS=0 bundles the engine's workflows without the shared
     * schema modules (workflows/shared-schemas.ts), so every workflow evaluates zod and its schemas itself, as before
     * they were shared. Results then go to bench/results/without-shared-schemas.json.
     */
    sharedSchemas: process.env.BENCH_SHARED_SCHEMAS !== '0',
    /**
     * A directory: the latency section writes there, per measured alert, the event times of its incident, detect and
     * contain histories (`<rate>-<incident>.json`), for `npx tsx bench/latency-paths.ts <dir>`.
     */
    dumpDir: process.env.BENCH_DUMP_DIR || undefined,
  };
}

export type BenchSettings = ReturnType<typeof readSettings>;

export function runs(settings: BenchSettings, section: Section): boolean {
  return !settings.only || settings.only.includes(section);
}
