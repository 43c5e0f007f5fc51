// Alert labels driving steps, under time skipping, as drills (every action recorded, nothing touched): an incident
// opened with labels runs the automated block and suspend with the labels' values and skips the task that stands in
// for them; one opened without labels skips them and waits for the task; labels that arrive with an alert while a
// phase runs reach its later steps (the first value of a label wins); a step reading a label nobody sent fails
// naming it. Plans are built here from YAML and validated by the runbook schema, as in steps.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDrillCalls } from '../../activities/drill-recorder';
import type { StepResult, TimelineEvent } from '../../domain/incident';
import type { RunbookPlan } from '../../domain/runbook';
import type { IncidentOutcome, IncidentStatusView } from '../../workflows/definitions';
import { incidentInput, planFromPhases, startIncident } from '../helpers/incident-fixtures';
import { type TimeSkippingEngine, startTimeSkippingEngine, until } from '../helpers/time-skipping-engine';

let engine: TimeSkippingEngine;

beforeAll(async () => {
  engine = await startTimeSkippingEngine('alert-labels-test');
});

afterAll(async () => {
  await engine?.close();
});

function planOf(phasesYaml: string): RunbookPlan {
  return planFromPhases(
    'alert-labels-test',
    ['unauthorized_access'],
    phasesYaml,
    'test/workflows/alert-labels.test.ts',
  );
}

/** Containment as the shipped runbooks write it: automated steps for named targets, the task for the rest. */
const CONTAIN = `
contain:
  steps:
    - id: isolate
      parallel:
        - id: block-source-address
          action: network.blockSource
          when: { labels: { source_ip: present } }
          with:
            targets: '\${alert.labels.source_ip}'
            reason: '\${incident.id}: source named by \${alert.source}'
        - id: suspend-user-account
          action: accounts.suspend
          when: { labels: { user: present } }
          with:
            account: '\${alert.labels.user}'
        - id: isolate-by-hand
          action: task
          when:
            any:
              - labels: { source_ip: absent }
              - labels: { user: absent }
          with:
            instructions: Block the source and suspend the account at the firewall and the identity provider.
    - id: page-on-critical
      action: notify.send
      when: { labels: { severity: [critical, high] } }
      with:
        audience: internal
        message: '\${incident.id}: \${alert.labels.source_ip} blocked, \${alert.labels.user} suspended'
`;

async function open(id: string, plan: RunbookPlan, request: Parameters<typeof incidentInput>[2]) {
  return startIncident(
    engine.env.client,
    engine.taskQueue,
    incidentInput(id, plan, { severity: 'P2', drill: true, ...request }),
  );
}

const status = (id: string): Promise<IncidentStatusView> => engine.incidents.status(id);
const stepOf = (s: IncidentStatusView, stepId: string): StepResult | undefined =>
  s.steps.find((x) => x.stepId === stepId);
const eventsOf = <T extends TimelineEvent['type']>(timeline: TimelineEvent[], type: T) =>
  timeline.filter((e): e is TimelineEvent & { type: T } => e.type === type);

/** The drill record's calls for the incident's steps (escalation notices left out), by step id. */
async function stepCalls(id: string): Promise<Record<string, { activity: string; params: unknown }>> {
  const calls = await readDrillCalls(engine.config.dataDir, id);
  return Object.fromEntries(
    calls
      .filter((c) => !c.idempotencyKey.startsWith(`${id}/escalation/`))
      .map((c) => [c.idempotencyKey.slice(id.length + 1), { activity: c.activity, params: c.params }]),
  );
}

describe('alert labels in steps', () => {
  it('opened with labels: block and suspend run with the labels’ values, the fallback task is skipped', async () => {
    const id = 'INC-2026-601';
    const handle = await open(id, planOf(CONTAIN), {
      labels: { source_ip: '203.0.113.7', user: 'user-4711', severity: 'critical' },
      source: 'waf',
    });
    const outcome = (await handle.result()) as IncidentOutcome;
    expect(outcome.status).toBe('closed');

    const s = await status(id);
    expect(s.alertLabels).toEqual({ source_ip: '203.0.113.7', user: 'user-4711', severity: 'critical' });
    expect(s.alertSource).toBe('waf');
    expect(
      ['block-source-address', 'suspend-user-account', 'page-on-critical'].map((x) => stepOf(s, x)?.status),
    ).toEqual(['completed', 'completed', 'completed']);
    expect(stepOf(s, 'isolate-by-hand')).toMatchObject({
      status: 'skipped',
      reason:
        'when: none of: label source_ip is 203.0.113.7, expected absent; label user is user-4711, expected absent',
    });
    // The undo is worked out from the rendered parameters.
    expect(stepOf(s, 'block-source-address')?.undo).toEqual({
      action: 'network.unblockSource',
      with: { targets: ['203.0.113.7'], reason: `${id}: source named by waf` },
    });

    // The drill record holds the calls with the labels' values, parsed as the actions parse them.
    const calls = await stepCalls(id);
    expect(calls['block-source-address']).toEqual({
      activity: 'network.blockSource',
      params: { targets: ['203.0.113.7'], reason: `${id}: source named by waf` },
    });
    expect(calls['suspend-user-account']).toEqual({ activity: 'accounts.suspend', params: { account: 'user-4711' } });
    expect(calls['page-on-critical']).toMatchObject({
      activity: 'notify.send',
      params: { message: `${id}: 203.0.113.7 blocked, user-4711 suspended` },
    });
    expect(calls['isolate-by-hand']).toBeUndefined();
    const timeline = await engine.incidents.timeline(id);
    expect(eventsOf(timeline, 'task_requested')).toEqual([]);
    // Nothing real was touched: no notification reached the webhook peer.
    expect(engine.sink.deliveriesFor(`${id}/page-on-critical`)).toEqual([]);
  });

  it('opened without labels: the automated steps are skipped with the reason and the task waits for a person', async () => {
    const id = 'INC-2026-602';
    const handle = await open(id, planOf(CONTAIN), {});
    const waiting = await until(
      () => status(id),
      (s) => s.waitingSteps.some((w) => w.stepId === 'isolate-by-hand'),
      `${id}: isolate-by-hand waiting`,
    );
    expect(waiting.alertLabels).toEqual({});
    expect(waiting.alertSource).toBeUndefined();
    expect(stepOf(waiting, 'block-source-address')).toMatchObject({
      status: 'skipped',
      reason: 'when: label source_ip is absent, expected present',
    });
    expect(stepOf(waiting, 'suspend-user-account')).toMatchObject({
      status: 'skipped',
      reason: 'when: label user is absent, expected present',
    });
    // Still waiting after a while: nothing completes the task but a person.
    await engine.env.sleep('1h');
    expect((await status(id)).waitingSteps.map((w) => w.stepId)).toEqual(['isolate-by-hand']);

    await engine.incidents.completeTask(id, {
      by: 'alice',
      stepId: 'isolate-by-hand',
      note: 'blocked 198.51.100.4 by hand',
    });
    const outcome = (await handle.result()) as IncidentOutcome;
    expect(outcome.status).toBe('closed');
    const s = await status(id);
    expect(stepOf(s, 'isolate-by-hand')).toMatchObject({
      status: 'completed',
      output: { completed: true, completedBy: 'alice' },
    });
    expect(stepOf(s, 'page-on-critical')).toMatchObject({
      status: 'skipped',
      reason: 'when: label severity is absent, expected critical or high',
    });
    expect(await stepCalls(id)).toEqual({});
  });

  it('labels arriving with an alert during a phase reach its later steps; the first value of a label wins', async () => {
    const id = 'INC-2026-603';
    const plan = planOf(`
contain:
  steps:
    - id: triage
      action: task
      with: { instructions: Look at the alerts. }
    - id: block-source-address
      action: network.blockSource
      when: { labels: { source_ip: present } }
      after: { steps: [triage], reason: the alerts that arrive meanwhile add labels }
      with:
        targets: '\${alert.labels.source_ip}'
        reason: 'named by \${alert.source}'
recover:
  steps:
    - id: check-again
      action: task
      with: { instructions: Look again. }
    # No when in this phase: the template alone makes the incident send it fresh labels.
    - id: tell-late-label
      action: notify.send
      after: { steps: [check-again], reason: a late alert adds a label meanwhile }
      with: { message: 'late label: \${alert.labels.late}' }
`);
    const handle = await open(id, plan, { labels: { job: 'waf' } });
    await until(
      () => status(id),
      (s) => s.waitingSteps.some((w) => w.stepId === 'triage'),
      `${id}: triage waiting`,
    );

    await engine.incidents.signalAlert(id, {
      source: 'waf-eu',
      status: 'firing',
      summary: 'SQL injection from one address',
      fingerprint: 'f-1',
      labels: { source_ip: '198.51.100.4', job: 'edge' },
    });
    // A later alert may add labels, never change one: the block keeps the first address.
    await engine.incidents.signalAlert(id, {
      source: 'waf-us',
      status: 'firing',
      summary: 'again',
      fingerprint: 'f-2',
      labels: { source_ip: '192.0.2.99', rule: 'sqli' },
    });
    // A resolve adds nothing.
    await engine.incidents.signalAlert(id, {
      source: 'waf-eu',
      status: 'resolved',
      summary: 'stopped',
      fingerprint: 'f-1',
      labels: { user: 'x' },
    });
    const merged = await until(
      () => status(id),
      (s) => s.alertLabels.rule === 'sqli',
      `${id}: labels merged`,
    );
    expect(merged.alertLabels).toEqual({ job: 'waf', source_ip: '198.51.100.4', rule: 'sqli' });
    expect(merged.alertSource).toBe('waf-eu');

    await engine.incidents.completeTask(id, { by: 'alice', stepId: 'triage' });
    await until(
      () => status(id),
      (s) => s.waitingSteps.some((w) => w.stepId === 'check-again'),
      `${id}: check-again waiting`,
    );
    await engine.incidents.signalAlert(id, {
      source: 'waf-eu',
      status: 'firing',
      summary: 'more',
      fingerprint: 'f-3',
      labels: { late: 'yes' },
    });
    await until(
      () => status(id),
      (s) => s.alertLabels.late === 'yes',
      `${id}: late label merged`,
    );
    await engine.incidents.completeTask(id, { by: 'alice', stepId: 'check-again' });
    expect(((await handle.result()) as IncidentOutcome).status).toBe('closed');
    expect((await stepCalls(id))['tell-late-label']?.params).toMatchObject({ message: 'late label: yes' });
    const s = await status(id);
    expect(stepOf(s, 'block-source-address')).toMatchObject({ status: 'completed' });
    expect((await stepCalls(id))['block-source-address']?.params).toEqual({
      targets: ['198.51.100.4'],
      reason: 'named by waf-eu',
    });

    // Each alert is on the timeline with its own labels, as it sent them.
    const alerts = eventsOf(await engine.incidents.timeline(id), 'alert');
    expect(alerts.map((a) => [a.source, a.status, a.labels])).toEqual([
      ['waf-eu', 'firing', { source_ip: '198.51.100.4', job: 'edge' }],
      ['waf-us', 'firing', { source_ip: '192.0.2.99', rule: 'sqli' }],
      ['waf-eu', 'resolved', { user: 'x' }],
      ['waf-eu', 'firing', { late: 'yes' }],
    ]);
  });

  it('a step reading a label nobody sent fails, naming the label; one with a bad value fails naming the field', async () => {
    const id = 'INC-2026-604';
    const plan = planOf(`
contain:
  steps:
    - id: tell-about-user
      action: notify.send
      with: { message: 'account \${alert.labels.user}' }
    - id: block-source-address
      action: network.blockSource
      when: { labels: { source_ip: present } }
      with: { targets: '\${alert.labels.source_ip}' }
`);
    const handle = await open(id, plan, { labels: { source_ip: 'not-an-address' } });
    expect(((await handle.result()) as IncidentOutcome).status).toBe('closed');
    const s = await status(id);
    expect(stepOf(s, 'tell-about-user')).toMatchObject({
      status: 'failed',
      error:
        'template path "alert.labels.user" has no value: no alert of this incident has the label "user" (guard the step with when: { labels: { user: present } })',
    });
    expect(stepOf(s, 'block-source-address')).toMatchObject({
      status: 'failed',
      error: expect.stringContaining(
        'network.blockSource (step block-source-address): targets: expected an IPv4/IPv6 address or CIDR',
      ),
    });
    expect(await stepCalls(id)).toEqual({});
  });
});
