// The drill scenario loader: a valid scenario parses with defaults applied (operator, end, shorthands), and every
// kind of mistake is refused with file:line:column and the field, including references to steps the runbook lacks.
// No server: this is the schema and the loader alone.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileDrill, drillFiles, findDrill, loadDrillFile } from '../../src/drills/load';
import { DEFAULT_REPORTS_CONFIG } from '../../domain/reports-config';
import { refusalOf } from '../helpers/refusal';

const FILE = 'runbooks/drills/example.yaml';

const errorOf = (text: string): string => refusalOf(() => compileDrill(text, FILE), 'the scenario');

const HEAD = `id: example
title: Example drill
runbook: security-incident
incident: { title: Admin login from an unknown address, eventType: unauthorized_access }
`;

describe('drill scenario loader', () => {
  it('holds a quarterly programme by default, of shipped scenarios (both documents ask for quarterly drills)', () => {
    const programme = DEFAULT_REPORTS_CONFIG.drills;
    expect(programme.map((d) => d.scenario)).toEqual(['security-breach-tabletop', 'communication-protocol']);
    for (const drill of programme) {
      expect(findDrill(drill.scenario).mode).toBe('tabletop');
      // Four times a year: the month field names one month of each quarter.
      const months = drill.cron.split(/\s+/)[3]!.split(',').map(Number);
      expect(months.map((m) => Math.floor((m - 1) / 3))).toEqual([0, 1, 2, 3]);
    }
  });

  it('parses a scenario: offsets in ms, shorthands expanded, the operator filled in, end defaulting to the last event', () => {
    const scenario = compileDrill(
      `${HEAD}operator: alice
script:
  - at: 5m
    acknowledge:
  - at: 1h30m
    by: bob
    rootCause: leaked password
  - at: 2h
    alert: { status: resolved, summary: login alert cleared }
expect:
  escalated: { toLevel: 2, at: 2h }
  phaseFinished: { phase: contain, within: 1h }
  finalStatus: active
`,
      FILE,
    );
    expect(scenario.mode).toBe('tabletop');
    expect(scenario.endMs).toBe(2 * 3_600_000);
    expect(scenario.script).toEqual([
      { kind: 'acknowledge', payload: {}, atMs: 300_000, by: 'alice' },
      { kind: 'rootCause', payload: { summary: 'leaked password' }, atMs: 5_400_000, by: 'bob' },
      {
        kind: 'alert',
        payload: { status: 'resolved', source: 'drill', summary: 'login alert cleared', labels: {} },
        atMs: 7_200_000,
        by: 'alice',
      },
    ]);
    expect(scenario.expect.escalated).toEqual([{ toLevel: 2, at: 7_200_000 }]);
    expect(scenario.expect.phaseFinished).toEqual([{ phase: 'contain', within: 3_600_000 }]);
  });

  it.each([
    [
      'an unknown event',
      `script:\n  - at: 5m\n    page: everyone\n`,
      `${FILE}:7:11: script[0].page: unknown event "page"; expected one event: alert, acknowledge`,
    ],
    [
      'two events on one line',
      `script:\n  - at: 5m\n    acknowledge:\n    resolve:\n`,
      `${FILE}:8:13: script[0].resolve: expected one event: alert, acknowledge, setSeverity, rootCause, assign, approve, reject, completeTask, advance, resolve, falsePositive, impact, escalate; found 2 (acknowledge, resolve)`,
    ],
    [
      'a bad duration',
      `script:\n  - at: 5 minutes\n    acknowledge:\n`,
      `${FILE}:6:9: script[0].at: expected a duration like "90s", "15m", "1h30m" or "7d", found "5 minutes"`,
    ],
    [
      'events out of time order',
      `script:\n  - at: 1h\n    acknowledge:\n  - at: 30m\n    rootCause: x\n`,
      `${FILE}:8:9: script[1].at: events must be in time order: 30m is before the previous event's 1h`,
    ],
    [
      'a missing field of an event',
      `script:\n  - at: 1h\n    approve: { step: notify-responders }\n`,
      `${FILE}:7:14: script[0].approve.role: expected a role, like "incident-commander"`,
    ],
    [
      'an unknown severity',
      `script:\n  - at: 1h\n    setSeverity: P7\n`,
      `${FILE}:7:18: script[0].setSeverity.severity: expected a severity: P0, P1, P2, P3 or Critical, High, Medium, Low`,
    ],
    [
      'an impossible escalation level',
      `expect:\n  escalated: [{ toLevel: 4, at: 2h }]\n`,
      `${FILE}:6:26: expect.escalated[0].toLevel: expected an escalation level: 0, 1, 2 or 3`,
    ],
    [
      'an unknown phase',
      `expect:\n  phaseFinished: { phase: containment, within: 1h }\n`,
      `${FILE}:6:27: expect.phaseFinished.phase: expected a phase: detect, contain, eradicate, recover, post-incident`,
    ],
    ['an unknown mode', `mode: live\n`, `${FILE}:5:7: mode: expected mode: tabletop or technical`],
    [
      'an end before the last event',
      `script:\n  - at: 2h\n    acknowledge:\nend: 1h\n`,
      `${FILE}:8:6: end: end (1h) is before the last scripted event (2h)`,
    ],
  ])('refuses %s with file:line:column and the field', (_name, tail, message) => {
    expect(errorOf(HEAD + tail)).toContain(message);
  });

  it('refuses a scenario without severity or event type, and a misspelt top-level field', () => {
    expect(errorOf(`id: x\ntitle: X\nrunbook: security-incident\nincident: { title: t }\n`)).toBe(
      `${FILE}:4:11: incident: expected severity or eventType (the event type sets the severity when none is given)`,
    );
    expect(errorOf(`${HEAD}expects: {}\n`)).toBe(`${FILE}:1:1: Unrecognized key: "expects"`);
  });

  it('checks the script and the expectations against the runbook', () => {
    expect(errorOf(HEAD.replace('runbook: security-incident', 'runbook: no-such-runbook'))).toMatch(
      /^runbooks\/drills\/example\.yaml:3:10: runbook: no runbook "no-such-runbook" in runbooks; known runbooks: .*security-incident/,
    );
    expect(errorOf(`${HEAD}script:\n  - at: 1h\n    completeTask: { step: engage-forensics }\n`)).toBe(
      `${FILE}:7:27: script[0].completeTask.step: no step "engage-forensics" in runbook security-incident; its steps are: notify-responders, preserve-evidence, notify-contained, notify-eradication, notify-users, schedule-review`,
    );
    expect(errorOf(`${HEAD}script:\n  - at: 1h\n    completeTask: notify-eradication\n`)).toBe(
      `${FILE}:7:19: script[0].completeTask.step: step "notify-eradication" is a notify.send step, not a task; completeTask needs action: task`,
    );
    expect(errorOf(`${HEAD}script:\n  - at: 1h\n    approve: { step: preserve-evidence, role: commander }\n`)).toBe(
      `${FILE}:7:22: script[0].approve.step: step "preserve-evidence" has no approval gate; approve needs a step with approval:`,
    );
    expect(errorOf(`${HEAD}expect:\n  stepsRan: [notify-responders, kill-switch]\n`)).toBe(
      `${FILE}:6:33: expect.stepsRan[1]: no step "kill-switch" in runbook security-incident; its steps are: notify-responders, preserve-evidence, notify-contained, notify-eradication, notify-users, schedule-review`,
    );
  });

  it('refuses a scenario long enough that its incident could continue as new, which its server cannot do safely', () => {
    const entries = (n: number) =>
      Array.from({ length: n }, (_, i) => `  - at: ${i + 1}m\n    acknowledge:\n`).join('');
    expect(compileDrill(`${HEAD}script:\n${entries(200)}`, FILE).script).toHaveLength(200);
    expect(errorOf(`${HEAD}script:\n${entries(201)}`)).toBe(
      `${FILE}:6:3: script: expected at most 200 scripted events (a drill's incident must stay short enough never to continue as new); split the scenario`,
    );
    expect(compileDrill(`${HEAD}end: 7d\n`, FILE).endMs).toBe(7 * 86_400_000);
    expect(errorOf(`${HEAD}end: 7d1m\n`)).toBe(
      `${FILE}:5:6: end: expected a drill of at most 7d of simulated time, found 7d1m (a drill's incident must stay short enough never to continue as new)`,
    );
    expect(errorOf(`${HEAD}script:\n  - at: 8d\n    acknowledge:\n`)).toBe(
      `${FILE}:6:9: script[0].at: expected a drill of at most 7d of simulated time, found 8d (a drill's incident must stay short enough never to continue as new)`,
    );
  });

  it('reports a YAML syntax error with its position', () => {
    expect(errorOf(`${HEAD}script:\n  - at: 5m\n   acknowledge:\n`)).toMatch(
      /^runbooks\/drills\/example\.yaml:7:\d+: YAML syntax: /,
    );
  });

  it('finds a scenario by file, by file name or by id, and names the known ones when it cannot', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'drill-loader-'));
    const file = path.join(dir, 'my-drill.yaml');
    writeFileSync(file, HEAD.replace('id: example', 'id: other-id'));
    expect(loadDrillFile(file).id).toBe('other-id');
    expect(findDrill(file).id).toBe('other-id');
    expect(findDrill('my-drill', dir).id).toBe('other-id');
    expect(findDrill('other-id', dir).file).toBe('my-drill.yaml');
    expect(() => findDrill('nope', dir)).toThrow(
      /no drill scenario "nope": not a file, and not in .*; known scenarios: my-drill$/,
    );
    rmSync(dir, { recursive: true, force: true });
  });

  it('every shipped scenario in runbooks/drills is valid', () => {
    const files = drillFiles();
    expect(files.length).toBeGreaterThanOrEqual(8);
    for (const file of files) expect(() => loadDrillFile(file), file).not.toThrow();
  });
});
