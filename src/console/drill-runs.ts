// Drill runs started from the console: one at a time per API process (each starts its own time-skipping test server
// and worker, which is heavy), always as a tabletop (every action recorded, nothing touched), with their progress
// kept as it comes so the page can watch it, and the report when done. Kept in memory, the most recent few only.
import { randomBytes } from 'node:crypto';
import type { WorkflowBundle } from '@temporalio/worker';
import type { DrillScenarioSummary } from '../../domain/drill';
import { DEFAULT_DRILL_DIR, drillFiles, findDrill, loadDrillFile } from '../drills/load';
import type { DrillProgress } from '../drills/runner';
import type { DrillReport } from '../drills/report';

export type DrillRunState = 'running' | 'passed' | 'failed' | 'error';

export interface DrillRun {
  runId: string;
  scenario: { id: string; title: string };
  by: string;
  state: DrillRunState;
  startedAt: number;
  endedAt?: number;
  progress: DrillProgress[];
  report?: DrillReport;
  error?: string;
}

/** Most runs remembered, and most progress lines kept per run (the first ones; the report has everything). */
const KEEP_RUNS = 20;
const KEEP_PROGRESS = 2_000;

export class DrillBusyError extends Error {
  constructor(readonly running: DrillRun) {
    super(
      `drill ${running.scenario.id} (run ${running.runId}, started by ${running.by}) is still running; one drill runs at a time`,
    );
  }
}

export class DrillRuns {
  private readonly runs = new Map<string, DrillRun>();
  private bundle: Promise<WorkflowBundle> | undefined;

  constructor(private readonly dir = DEFAULT_DRILL_DIR) {}

  scenarios(): DrillScenarioSummary[] {
    return drillFiles(this.dir).flatMap((file) => {
      try {
        const s = loadDrillFile(file, { skipRunbookCheck: true });
        return [
          {
            id: s.id,
            title: s.title,
            ...(s.description !== undefined ? { description: s.description } : {}),
            runbook: s.runbook,
            mode: s.mode,
            events: s.script.length,
          },
        ];
      } catch {
        return []; // `drill validate` names what is wrong with it
      }
    });
  }

  list(): DrillRun[] {
    return [...this.runs.values()].reverse();
  }

  get(runId: string): DrillRun | undefined {
    return this.runs.get(runId);
  }

  /** Starts a tabletop run of a scenario (by id); throws DrillNotFoundError or DrillBusyError. */
  start(scenarioId: string, by: string, now = Date.now()): DrillRun {
    const running = [...this.runs.values()].find((r) => r.state === 'running');
    if (running) throw new DrillBusyError(running);
    const scenario = findDrill(scenarioId, this.dir);
    const run: DrillRun = {
      runId: randomBytes(6).toString('hex'),
      scenario: { id: scenario.id, title: scenario.title },
      by,
      state: 'running',
      startedAt: now,
      progress: [],
    };
    this.runs.set(run.runId, run);
    while (this.runs.size > KEEP_RUNS) this.runs.delete(this.runs.keys().next().value as string);
    void (async () => {
      try {
        // Loaded here: the API pays for the drill runner and the workflow bundle only when a drill runs.
        const [{ runDrill }, { bundleWorkflows }] = await Promise.all([
          import('../drills/runner'),
          import('../worker'),
        ]);
        this.bundle ??= bundleWorkflows();
        const report = await runDrill(scenario, {
          tabletop: true,
          workflowBundle: await this.bundle,
          onProgress: (p) => {
            if (run.progress.length < KEEP_PROGRESS) run.progress.push(p);
          },
        });
        run.report = report;
        run.state = report.passed ? 'passed' : 'failed';
      } catch (error) {
        run.state = 'error';
        run.error = (error as Error).message;
        this.bundle = undefined;
      } finally {
        run.endedAt = Date.now();
      }
    })();
    return run;
  }
}
