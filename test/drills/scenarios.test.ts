// Every drill scenario shipped in runbooks/drills, run twice (a test server each) on the time-skipping server:
// all its expectations must pass, and the two JSON reports must be byte-identical (reports carry simulated offsets and deterministic data
// only). Technical scenarios run as tabletop here (recorded, nothing touched), as CI runs them.
import type { WorkflowBundle } from '@temporalio/worker';
import { beforeAll, describe, expect, it } from 'vitest';
import { drillFiles, loadDrillFile } from '../../src/drills/load';
import { reportJson } from '../../src/drills/report';
import { runDrill } from '../../src/drills/runner';
import { bundleWorkflows } from '../../src/worker';

const FILES = drillFiles();
let bundle: WorkflowBundle;

beforeAll(async () => {
  bundle = await bundleWorkflows();
});

describe('shipped drill scenarios', () => {
  it('are there: a security-breach tabletop, a technical recovery, a communication drill and the five scenarios of the Fiovana procedures, command injection and XSS', () => {
    const ids = FILES.map((file) => loadDrillFile(file).id);
    expect(ids).toEqual(
      expect.arrayContaining([
        'security-breach-tabletop',
        'technical-recovery',
        'communication-protocol',
        'malicious-file-upload',
        'unauthorized-access',
        'system-compromise',
        'dos',
        'replay-attack',
        'command-injection',
        'xss',
      ]),
    );
    const runbooks = Object.fromEntries(FILES.map((file) => loadDrillFile(file)).map((s) => [s.id, s.runbook]));
    expect(runbooks).toMatchObject({
      'malicious-file-upload': 'malicious-file-upload',
      'unauthorized-access': 'unauthorized-access',
      'system-compromise': 'system-compromise',
      dos: 'dos',
      'replay-attack': 'replay-attack',
      'command-injection': 'command-injection',
      xss: 'xss',
    });
    expect(loadDrillFile(FILES.find((f) => f.endsWith('technical-recovery.yaml'))!).mode).toBe('technical');
  });

  it.each(FILES.map((file) => [file.slice(file.lastIndexOf('/') + 1), file]))(
    '%s: every expectation passes, and two runs give byte-identical JSON reports',
    async (_name, file) => {
      const scenario = loadDrillFile(file);
      const options = { workflowBundle: bundle, tabletop: scenario.mode === 'technical' };
      // One after the other: each run has its own test server, and two at once on a loaded two-core machine can
      // still move a deadline the workflow computes from its clock by a second (docs/RELIABILITY.md).
      const first = await runDrill(scenario, options);
      const second = await runDrill(scenario, options);
      const failed = first.expectations.filter((e) => !e.passed);
      expect(failed, failed.map((e) => `${e.name}: ${e.actual} (${e.difference})`).join('\n')).toEqual([]);
      expect(first.passed).toBe(true);
      expect(first.scenario.executed).toBe('tabletop');
      // Nothing absolute in a report: no temp directory, no epoch time, no wall-clock date.
      const json = reportJson(first);
      expect(json).not.toMatch(/\/tmp\/|incident-drill-|\b1[7-9]\d{11}\b|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/);
      expect(reportJson(second)).toBe(json);
    },
    600_000,
  );
});
