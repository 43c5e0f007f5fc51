// Drills play the same way whatever the load: every shipped scenario, run RUNS times, PARALLEL at a time, beside a CPU
// burner, gives one JSON report. And the facilitator's check: one scenario eight times, two at a time, one report.
import { createHash } from 'node:crypto';
import type { WorkflowBundle } from '@temporalio/worker';
import pLimit from 'p-limit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drillFiles, loadDrillFile } from '../../src/drills/load';
import { reportJson } from '../../src/drills/report';
import { runDrill } from '../../src/drills/runner';
import { quietTemporalRuntime } from '../../src/drills/server';
import { bundleWorkflows } from '../../src/worker';
import { type CpuBurner, startCpuBurner } from './cpu-burner';
import { recordFigures } from './results';

const RUNS = Number(process.env.DRILL_RUNS ?? 10);
const PARALLEL = 4;

let bundle: WorkflowBundle;
let burner: CpuBurner | undefined;
let compared = 0;
let distinctExtra = 0;

beforeAll(async () => {
  await quietTemporalRuntime();
  bundle = await bundleWorkflows();
});

afterAll(() => {
  burner?.stop();
  recordFigures('drills', {
    drill_runs_compared: compared,
    drill_reports_distinct: distinctExtra + (compared > 0 ? 1 : 0),
  });
});

/** Runs `file` `runs` times, `parallel` at a time; the distinct reports' hashes and one report per hash. */
async function playMany(file: string, runs: number, parallel: number): Promise<Map<string, string>> {
  const scenario = loadDrillFile(file);
  const limit = pLimit(parallel);
  const reports = await Promise.all(
    Array.from({ length: runs }, () =>
      limit(async () =>
        reportJson(await runDrill(scenario, { workflowBundle: bundle, tabletop: scenario.mode === 'technical' })),
      ),
    ),
  );
  compared += runs;
  const byHash = new Map<string, string>();
  for (const json of reports) byHash.set(createHash('sha256').update(json).digest('hex'), json);
  distinctExtra += byHash.size - 1;
  return byHash;
}

/** The first lines where two reports differ, for a failure message a facilitator can read. */
function firstDifference(reports: string[]): string {
  if (reports.length < 2) return '';
  const [a, b] = reports.map((r) => r.split('\n'));
  const line = a!.findIndex((l, i) => l !== b![i]);
  return `first difference at line ${line + 1}:\n- ${a![line]}\n+ ${b![line]}`;
}

describe('drills under load', () => {
  it('one scenario eight times, two at a time, gives one report', async () => {
    const file = drillFiles().find((f) => f.endsWith('malicious-file-upload.yaml'))!;
    const reports = await playMany(file, 8, 2);
    expect(reports.size, firstDifference([...reports.values()])).toBe(1);
  }, 600_000);

  it.each(drillFiles().map((file) => [file.slice(file.lastIndexOf('/') + 1), file]))(
    `%s: ${RUNS} runs, ${PARALLEL} at a time beside a CPU burner, give one report`,
    async (_name, file) => {
      burner ??= startCpuBurner(2);
      const reports = await playMany(file, RUNS, PARALLEL);
      expect(reports.size, firstDifference([...reports.values()])).toBe(1);
    },
    900_000,
  );
});
