// `npm run bench:drills`: how fast drills and replay are. (1) The compression ratio of a seven-day full-lifecycle
// drill: simulated seconds per wall-clock second of `runDrill` (server start to teardown, with a prebuilt workflow
// bundle), median of several runs. (2) Replay throughput: histories per second replaying the recorded histories of
// test/replay/histories (several copies each) against the current code with one prebuilt bundle, in one batch, on
// one to three threads, their replay threads started ahead and not; and in `drill replay`'s own order. Writes
// bench/results/drills.json (figures, the command, the machine) and prints a summary. Never touches a server other
// than the ones it starts.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compileDrill } from '../src/drills/load';
import { type ReplayOptions, loadHistories, replayHistories, startReplayThreads } from '../src/drills/replay';
import { defaultReplayThreads } from '../src/drills/replay-thread-count';
import { runDrill } from '../src/drills/runner';
import { quietTemporalRuntime } from '../src/drills/server';
import { bundleWorkflows } from '../src/worker';

const ROOT = path.resolve(import.meta.dirname, '..');
const RESULTS = path.join(ROOT, 'bench/results/drills.json');
const HISTORIES = path.join(ROOT, 'test/replay/histories');
const DRILL_RUNS = Number(process.env.BENCH_DRILL_RUNS ?? 3);
const REPLAY_ROUNDS = Number(process.env.BENCH_REPLAY_ROUNDS ?? 3);
const REPLAY_COPIES = Number(process.env.BENCH_REPLAY_COPIES ?? 5);
/** Replay threads side by side (the product's default is one per core); each count is measured in every round. */
const REPLAY_THREADS = (process.env.BENCH_REPLAY_THREADS ?? '1,2,3').split(',').map(Number);
const PRODUCT_REPLAY_THREADS = defaultReplayThreads();

/**
 * A P3 incident over its whole life: opened, contained, a root cause in the first hours, resolved on day three
 * (eradication and recovery then finish by themselves), and the post-incident review closes it seven days after
 * opening. The eradication window (24h) and the post-incident window (7d) give the clock timers to stop at.
 */
const SEVEN_DAYS = `id: bench-seven-day-lifecycle
title: Seven-day full lifecycle (benchmark)
runbook: security-incident
incident: { title: Policy violation found by the weekly audit, severity: P3, eventType: policy_violation }
operator: alice
script:
  - at: 30m
    acknowledge: looking into it
  - at: 1h30m
    rootCause: a service account kept write access after a team move
  - at: 3d
    resolve: access removed and the access model fixed
  - at: 7d
    advance: review held
end: 7d
expect:
  finalStatus: closed
  phaseFinished: { phase: contain, within: 1h }
`;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

async function main(): Promise<void> {
  await quietTemporalRuntime();
  const bundleStarted = performance.now();
  const bundle = await bundleWorkflows();
  const bundleMs = performance.now() - bundleStarted;

  // (1) Seven-day drill.
  const scenario = compileDrill(SEVEN_DAYS, path.join(ROOT, 'bench/drills.ts'));
  const simulatedSeconds = scenario.endMs / 1000;
  const drillWallMs: number[] = [];
  for (let run = 1; run <= DRILL_RUNS; run++) {
    const started = performance.now();
    const report = await runDrill(scenario, { workflowBundle: bundle });
    const wall = performance.now() - started;
    if (!report.passed) throw new Error(`the benchmark drill failed its own expectations: ${report.summary}`);
    drillWallMs.push(wall);
    process.stdout.write(
      `drill run ${run}/${DRILL_RUNS}: ${report.clock.endLabel} simulated in ${(wall / 1000).toFixed(2)} s, ${report.timeline.length} timeline events\n`,
    );
  }
  const drillMedianMs = median(drillWallMs);

  // (2) Replay throughput: every recorded history, REPLAY_COPIES times over, in one batch, REPLAY_ROUNDS batches. Each
  // thread count with its replay threads started inside the clock (their start spread over their share), and, from
  // two threads up, started before it and ready, as `drill replay` has them once it has bundled. (3) Once a round,
  // `drill replay`'s own order: threads started, code bundled, batch replayed; the replay's time after the bundle.
  const recorded = loadHistories([HISTORIES]);
  const histories = Array.from({ length: REPLAY_COPIES }, () => recorded).flat();
  const cold = new Map<number, number[]>(REPLAY_THREADS.map((t) => [t, []]));
  const ahead = new Map<number, number[]>(REPLAY_THREADS.filter((t) => t > 1).map((t) => [t, []]));
  const asCommand = { bundleMs: [] as number[], replayMs: [] as number[] };
  /** Wall time of one clean replay of the batch; a history that no longer replays stops the bench. */
  const timed = async (options: ReplayOptions) => {
    const started = performance.now();
    const outcomes = await replayHistories(histories, { ...options, locate: false });
    const wall = performance.now() - started;
    const bad = outcomes.filter((o) => !o.ok);
    if (bad.length)
      throw new Error(`recorded histories no longer replay: ${[...new Set(bad.map((o) => o.name))].join(', ')}`);
    return wall;
  };
  for (let round = 1; round <= REPLAY_ROUNDS; round++) {
    for (const threads of round % 2 ? REPLAY_THREADS : [...REPLAY_THREADS].reverse()) {
      cold.get(threads)!.push(await timed({ workflowBundle: bundle, threads }));
      if (threads < 2) continue;
      const replayThreads = startReplayThreads(histories.length, threads)!;
      try {
        await replayThreads.ready();
        ahead.get(threads)!.push(await timed({ workflowBundle: bundle, replayThreads }));
      } finally {
        await replayThreads.close();
      }
    }
    const started = performance.now();
    const replayThreads = startReplayThreads(histories.length);
    try {
      const fresh = await bundleWorkflows();
      asCommand.bundleMs.push(performance.now() - started);
      asCommand.replayMs.push(await timed({ workflowBundle: fresh, ...(replayThreads ? { replayThreads } : {}) }));
    } finally {
      await replayThreads?.close();
    }
  }
  const rate = (ms: number[]) => ({
    medianWallSeconds: round(median(ms) / 1000, 2),
    historiesPerSecond: round(histories.length / (median(ms) / 1000), 1),
  });
  const byThreads = Object.fromEntries(
    [...cold].map(([t, ms]) => [t, { ...rate(ms), ...(ahead.has(t) ? { startedAhead: rate(ahead.get(t)!) } : {}) }]),
  );
  // The product's figure: one thread per core, started ahead (one core: nothing to start).
  const replayWallMs = ahead.get(PRODUCT_REPLAY_THREADS) ?? cold.get(PRODUCT_REPLAY_THREADS) ?? [...cold.values()][0]!;
  const replayMedianMs = median(replayWallMs);
  const coldMedianMs = median(cold.get(PRODUCT_REPLAY_THREADS) ?? [...cold.values()][0]!);
  const events = histories.reduce((n, h) => n + h.history.events.length, 0);

  const result = {
    command: 'npm run bench:drills',
    machine: {
      node: process.version,
      platform: `${process.platform}/${process.arch}`,
      cpus: os.cpus().length,
      loadAverage1m: round(os.loadavg()[0] ?? 0, 2),
    },
    bundleMs: Math.round(bundleMs),
    sevenDayDrill: {
      scenario: scenario.id,
      runbook: scenario.runbook,
      simulatedSeconds,
      runs: DRILL_RUNS,
      wallSeconds: drillWallMs.map((ms) => round(ms / 1000, 2)),
      medianWallSeconds: round(drillMedianMs / 1000, 2),
      compressionRatio: Math.round(simulatedSeconds / (drillMedianMs / 1000)),
      note: 'runDrill from server start to teardown, prebuilt bundle; simulated seconds per wall-clock second',
    },
    replay: {
      recordedHistories: recorded.length,
      copies: REPLAY_COPIES,
      histories: histories.length,
      events,
      rounds: REPLAY_ROUNDS,
      wallSeconds: replayWallMs.map((ms) => round(ms / 1000, 2)),
      medianWallSeconds: round(replayMedianMs / 1000, 2),
      historiesPerSecond: round(histories.length / (replayMedianMs / 1000), 1),
      eventsPerSecond: Math.round(events / (replayMedianMs / 1000)),
      threads: PRODUCT_REPLAY_THREADS,
      /** The same, with the replay threads' start inside the clock. */
      coldHistoriesPerSecond: round(histories.length / (coldMedianMs / 1000), 1),
      /** Each thread count, measured side by side in the same rounds (1: in the calling thread). */
      byThreads,
      /** `drill replay`'s order: threads started, then the code bundled, then the batch replayed. */
      asDrillReplay: {
        bundleSeconds: round(median(asCommand.bundleMs) / 1000, 2),
        replaySecondsAfterBundle: round(median(asCommand.replayMs) / 1000, 2),
        historiesPerSecondAfterBundle: round(histories.length / (median(asCommand.replayMs) / 1000), 1),
      },
      note: 'test/replay/histories, each file REPLAY_COPIES times, replayed in one batch per round, shared among the calling thread and a replay thread per other core (the product default), started and ready before the clock as drill replay has them once it has bundled; prebuilt bundle; no divergence search',
    },
  };
  mkdirSync(path.dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(
    `seven-day drill: ${simulatedSeconds} simulated s in ${result.sevenDayDrill.medianWallSeconds} s (median of ${DRILL_RUNS}): ` +
      `compression ${result.sevenDayDrill.compressionRatio}x\n` +
      `replay: ${histories.length} histories (${events} events) in ${result.replay.medianWallSeconds} s (median of ${REPLAY_ROUNDS}): ` +
      `${result.replay.historiesPerSecond} histories/s (threads started inside the clock: ${result.replay.coldHistoriesPerSecond}; ` +
      `as drill replay, after its ${result.replay.asDrillReplay.bundleSeconds} s bundle: ${result.replay.asDrillReplay.historiesPerSecondAfterBundle})\n` +
      `written to ${path.relative(process.cwd(), RESULTS)}\n`,
  );
}

try {
  await main();
} catch (error) {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
}
