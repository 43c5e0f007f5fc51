// `incident-engine drill run` as an operator runs it: a scenario whose expectation fails ends with exit status 1 and a
// report that says what was expected, what happened and by how much it is off; a technical scenario without
// --technical is refused before anything runs; `drill validate` exits 1 naming file:line:column.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli';
import type { DrillReport } from '../../src/drills/report';

const cli = (args: string[]) => runCli(args, { ...process.env, INCIDENT_OPERATOR: 'tester' });

const dir = mkdtempSync(path.join(os.tmpdir(), 'drill-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('incident-engine drill', () => {
  it('exits 1 when an expectation fails, with the difference in the report', async () => {
    const file = path.join(dir, 'late-escalation.yaml');
    // Nobody acknowledges a P1: L1 is paged at 1h; the scenario wrongly expects it at 2h.
    writeFileSync(
      file,
      `id: late-escalation
title: Expects L1 an hour late
runbook: security-incident
incident: { title: Admin login from an unknown address, eventType: unauthorized_access }
script:
  - at: 1h10m
    acknowledge: on it
end: 1h30m
expect:
  escalated: { toLevel: 1, at: 2h }
  phaseFinished: { phase: contain, within: 1h }
`,
    );
    const out = path.join(dir, 'report.json');
    const run = await cli(['drill', 'run', file, '--json', '--out', out]);
    expect(run.code, run.stderr).toBe(1);
    // Progress went to the terminal: the simulated clock, the phase and the events.
    expect(run.stderr).toMatch(/\+1h +eradicate +L1 +ESCALATED L0 -> L1 \[unacknowledged\]/);
    expect(run.stderr).toContain('drill late-escalation: +1h30m of simulated time');
    const report = JSON.parse(readFileSync(out, 'utf8')) as DrillReport;
    expect(report.passed).toBe(false);
    expect(report.summary).toBe('FAIL: 1 of 3 expectation(s) not met');
    expect(report.expectations).toEqual([
      {
        name: 'escalated to L1 at +2h',
        expected: 'to L1 at +2h',
        actual: 'L0->L1 unacknowledged at +1h',
        passed: false,
        difference: '1h early',
      },
      { name: 'phase contain finished within 1h', expected: 'within 1h', actual: 'finished at +0s', passed: true },
      {
        name: 'script ran as written',
        expected: 'every line accepted, or refused where marked refused',
        actual: '1 line(s) as written',
        passed: true,
      },
    ]);
    expect(report.scenario.file).toBe('late-escalation.yaml');
    expect(report.clock).toEqual({ end: 5400, endLabel: '+1h30m' });
  });

  it('refuses a technical scenario without --technical, before anything runs', async () => {
    const run = await cli(['drill', 'run', 'technical-recovery']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      'error: drill technical-recovery is a technical drill (mode: technical in runbooks/drills/technical-recovery.yaml): its actions run for real against staging. Pass --technical',
    );
    expect(run.stdout).toBe('');
  });

  it('validate exits 1 naming file, line, column and field', async () => {
    const file = path.join(dir, 'broken.yaml');
    writeFileSync(
      file,
      'id: broken\ntitle: Broken\nrunbook: security-incident\nincident: { title: x, severity: P9 }\n',
    );
    const run = await cli(['drill', 'validate', file]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      'broken.yaml:4:33: incident.severity: expected a severity: P0, P1, P2, P3 or Critical, High, Medium, Low',
    );
  });
});
