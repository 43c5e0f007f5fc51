// `npm run record-histories [-- scenario...]`: records the histories the replay gate (test/replay/replay.test.ts)
// replays against the current workflow code. Each scenario drives one incident on the time-skipping test server
// with a real worker, real activities and a real webhook peer (the same engine the workflow tests use), then writes
// the incident's history and the history of each phase child it started as proto JSON, the format
// `temporal workflow show --output json` prints, into test/replay/histories/<scenario>.<incident|phase>.json.
//
// Re-recording replaces a scenario's files; histories an operator added under other names are left alone.
// Only record with workflow code you trust: the gate treats these files as the behaviour to stay compatible with.
import { testDataConverter } from '../helpers/codec';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Client, type WorkflowHandle } from '@temporalio/client';
import { compileRunbook } from '../../src/runbooks/load';
import type { TimelineEvent } from '../../domain/incident';
import type { IncidentOutcome } from '../../workflows/definitions';
import { incidentInput, plan, startIncident } from '../helpers/incident-fixtures';
import { type TimeSkippingEngine, startTimeSkippingEngine, until } from '../helpers/time-skipping-engine';
import { HISTORIES_DIR, recordIncidentHistories } from './history-files';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

interface Scenario {
  /** File name prefix: `<name>.incident.json`, `<name>.<phase>.json`. */
  name: string;
  incidentId: string;
  /** Drives the incident to its end; returns the handle of the incident workflow. */
  run(engine: TimeSkippingEngine, incidentId: string): Promise<WorkflowHandle>;
}

type Escalated = Extract<TimelineEvent, { type: 'escalated' }>;

function check(condition: unknown, what: string): asserts condition {
  if (!condition) throw new Error(`scenario went off script: ${what}`);
}

async function escalations(engine: TimeSkippingEngine, id: string): Promise<Escalated[]> {
  return (await engine.incidents.timeline(id)).filter((e): e is Escalated => e.type === 'escalated');
}

/** Moves simulated time to `target` (epoch ms); timers due by then fire. */
async function sleepUntil(engine: TimeSkippingEngine, target: number): Promise<void> {
  const now = await engine.env.currentTimeMs();
  if (target > now) await engine.env.sleep(target - now);
}

/**
 * The incident's result without unlocking time skipping. The time-skipping client's `result()` lets the test server
 * jump to its next timer while it waits, which once the incident has finished is years ahead (each scenario would
 * then open a decade after the previous one); a plain client waits in real time, which is all a closing incident needs.
 */
async function outcomeOf(engine: TimeSkippingEngine, id: string): Promise<IncidentOutcome> {
  const plain = new Client({
    connection: engine.env.connection,
    namespace: 'default',
    dataConverter: testDataConverter,
  });
  return (await plain.workflow.getHandle(id).result()) as IncidentOutcome;
}

/** Detect and contain run by themselves; eradicate then waits for an operator. */
function waitingInEradicate(engine: TimeSkippingEngine, id: string) {
  return until(
    () => engine.incidents.status(id),
    (s) => s.phase === 'eradicate' && s.awaitingAdvance,
    `${id} waiting in eradicate`,
  );
}

async function closeFromPostIncident(engine: TimeSkippingEngine, id: string): Promise<void> {
  await until(
    () => engine.incidents.status(id),
    (s) => s.phase === 'post-incident' && s.awaitingAdvance,
    `${id} waiting in post-incident`,
  );
  const closing = await engine.incidents.advancePhase(id, { by: 'alice', note: 'post-incident review held' });
  check(closing.status === 'closed', `${id} closed by advancePhase, got ${closing.status}`);
  const outcome = await outcomeOf(engine, id);
  check(outcome.status === 'closed', `${id} outcome closed, got ${outcome.status}`);
}

/**
 * The alert-labels scenario's runbook: containment blocks the source the alerts name (`when` on a label, the target
 * from `${alert.labels.source_ip}`), or leaves it to a person when none is named; recovery reports a label that
 * arrives late (a template alone, no `when`).
 */
const ALERT_LABELS_RUNBOOK = `id: alert-labels-history
version: 1
title: Alert labels (replay history)
category: security
eventTypes: [dos]
phases:
  detect:
    steps:
      - id: notify-responders
        action: notify.send
        with: { message: '\${incident.id} opened by \${alert.source}' }
  contain:
    steps:
      - id: triage
        action: task
        with: { instructions: Look at the alerts. }
      - id: block
        parallel:
          - id: block-source-address
            action: network.blockSource
            when: { labels: { source_ip: present } }
            with: { targets: '\${alert.labels.source_ip}' }
          - id: block-by-hand
            action: task
            when: { labels: { source_ip: absent } }
            with: { instructions: Block the source at the firewall. }
  eradicate:
    advance: manual
  recover:
    steps:
      - id: check-again
        action: task
        with: { instructions: Look again. }
      - id: tell-late-label
        action: notify.send
        with: { message: 'late label: \${alert.labels.late}' }
  post-incident:
    advance: manual
`;

const SCENARIOS: Scenario[] = [
  {
    // A P1 unauthorized access: acknowledged, an alert clears, root cause recorded, resolved after containment,
    // recovery runs by itself, post-incident advanced to closed. All five phases; no escalation fires.
    name: 'happy-path',
    incidentId: 'INC-2026-901',
    async run(engine, id) {
      const handle = await startIncident(
        engine.env.client,
        engine.taskQueue,
        incidentInput(id, plan('security-incident'), {
          eventType: 'unauthorized_access',
          title: 'admin login from unknown address',
        }),
      );
      check((await engine.incidents.status(id)).severity === 'P1', 'unauthorized access classified P1');
      await engine.incidents.acknowledge(id, { by: 'alice', note: 'on it' });
      await engine.incidents.signalAlert(id, {
        source: 'alertmanager',
        status: 'resolved',
        summary: 'login alert cleared',
        labels: {},
      });
      await waitingInEradicate(engine, id);
      await engine.incidents.recordRootCause(id, { by: 'alice', summary: 'leaked admin password' });
      await engine.env.sleep('30m');
      const resolved = await engine.incidents.resolve(id, { by: 'alice', summary: 'password rotated' });
      check(resolved.status === 'resolved', 'resolved');
      await closeFromPostIncident(engine, id);
      check((await escalations(engine, id)).length === 0, 'no escalation in the happy path');
      return handle;
    },
  },
  {
    // A P1 nobody acknowledges: L1 paged at 1h (response time), L2 at 2h (no root cause), L3 30 minutes after L2
    // (L2 did not acknowledge); L3 acknowledges, the incident is resolved and closed.
    name: 'escalation-chain',
    incidentId: 'INC-2026-902',
    async run(engine, id) {
      const handle = await startIncident(
        engine.env.client,
        engine.taskQueue,
        incidentInput(id, plan('security-incident'), {
          eventType: 'unauthorized_access',
          title: 'service account used from abroad',
        }),
      );
      const { openedAt } = await waitingInEradicate(engine, id);
      const chain = async () =>
        (await escalations(engine, id)).map((e) => `${e.trigger}:${e.fromLevel}->${e.toLevel}`).join(', ');
      await sleepUntil(engine, openedAt + HOUR + 1_000);
      check((await chain()) === 'unacknowledged:0->1', `L1 at 1h, got [${await chain()}]`);
      await sleepUntil(engine, openedAt + 2 * HOUR + 1_000);
      check((await chain()) === 'unacknowledged:0->1, no_root_cause:1->2', `L2 at 2h, got [${await chain()}]`);
      await sleepUntil(engine, openedAt + 2 * HOUR + 30 * MINUTE + 1_000);
      check(
        (await chain()) === 'unacknowledged:0->1, no_root_cause:1->2, level_unacknowledged:2->3',
        `L3 at 2h30m, got [${await chain()}]`,
      );
      const acked = await engine.incidents.acknowledge(id, { by: 'ciso', note: 'taking it from here' });
      check(acked.escalation.level === 3 && acked.escalation.levelAcknowledged, 'acknowledged at L3');
      await engine.incidents.recordRootCause(id, {
        by: 'ciso',
        summary: 'service account key committed to a public repo',
      });
      const resolved = await engine.incidents.resolve(id, { by: 'ciso', summary: 'key revoked, account rotated' });
      check(resolved.status === 'resolved', 'resolved');
      await closeFromPostIncident(engine, id);
      return handle;
    },
  },
  {
    // A P3 raised to P0 ten minutes in: P0 and the now-immediate response time fire at once (L1, then L3), the
    // SLA shrinks to 4h and breaches on its timer, then the incident is declared a false positive in eradication.
    name: 'p0-raise',
    incidentId: 'INC-2026-903',
    async run(engine, id) {
      const handle = await startIncident(
        engine.env.client,
        engine.taskQueue,
        incidentInput(id, plan('security-incident'), { severity: 'P3', title: 'odd outbound traffic from build host' }),
      );
      const { openedAt } = await waitingInEradicate(engine, id);
      await sleepUntil(engine, openedAt + 10 * MINUTE);
      const raised = await engine.incidents.setSeverity(id, {
        by: 'alice',
        severity: 'Critical',
        reason: 'customer data seen on a paste site',
      });
      check(
        raised.severity === 'P0' && raised.escalation.level === 3,
        `raised to P0 at L3, got ${raised.severity} L${raised.escalation.level}`,
      );
      const atRaise = (await escalations(engine, id)).map((e) => e.trigger);
      check(atRaise.join() === 'unacknowledged,severity_p0', `P0 escalations at once, got [${atRaise.join()}]`);
      await sleepUntil(engine, openedAt + 4 * HOUR + 1_000);
      const fired = (await escalations(engine, id)).map((e) => e.trigger);
      check(fired.includes('sla_breached'), `SLA breached at 4h, got [${fired.join()}]`);
      await engine.incidents.declareFalsePositive(id, { by: 'alice', reason: 'paste was a red-team exercise' });
      const outcome = await outcomeOf(engine, id);
      check(outcome.status === 'false_positive', `false positive, got ${outcome.status}`);
      return handle;
    },
  },
  {
    // A drill opened with labels and a source: an alert during containment adds source_ip (the phase gets fresh
    // facts, its block runs with the address, the task for an unnamed source is skipped), a second alert cannot
    // change it, and a label arriving during recovery reaches a template there. Resolved, then closed.
    name: 'alert-labels',
    incidentId: 'INC-2026-904',
    async run(engine, id) {
      const handle = await startIncident(
        engine.env.client,
        engine.taskQueue,
        incidentInput(id, compileRunbook(ALERT_LABELS_RUNBOOK, 'test/replay/record-histories.ts'), {
          eventType: 'dos',
          title: 'request flood on /login',
          labels: { job: 'waf' },
          source: 'waf',
          drill: true,
        }),
      );
      const waitingFor = (stepId: string) =>
        until(
          () => engine.incidents.status(id),
          (s) => s.waitingSteps.some((w) => w.stepId === stepId),
          `${id} waiting for ${stepId}`,
        );
      await waitingFor('triage');
      await engine.incidents.signalAlert(id, {
        source: 'waf-eu',
        status: 'firing',
        summary: 'flood from one address',
        fingerprint: 'f-1',
        labels: { source_ip: '203.0.113.7', job: 'edge' },
      });
      await engine.incidents.signalAlert(id, {
        source: 'waf-us',
        status: 'firing',
        summary: 'flood from another address',
        fingerprint: 'f-2',
        labels: { source_ip: '192.0.2.99' },
      });
      await engine.incidents.acknowledge(id, { by: 'alice' });
      await engine.incidents.completeTask(id, { by: 'alice', stepId: 'triage' });
      const { steps, alertLabels } = await waitingInEradicate(engine, id);
      check(
        alertLabels.source_ip === '203.0.113.7' && alertLabels.job === 'waf',
        `first values kept, got ${JSON.stringify(alertLabels)}`,
      );
      check(
        steps.find((s) => s.stepId === 'block-source-address')?.status === 'completed',
        'block ran with the alert’s label',
      );
      check(
        steps.find((s) => s.stepId === 'block-by-hand')?.status === 'skipped',
        'the task for an unnamed source skipped',
      );
      await engine.incidents.recordRootCause(id, { by: 'alice', summary: 'no rate limit on /login' });
      await engine.incidents.advancePhase(id, { by: 'alice' });
      await waitingFor('check-again');
      await engine.incidents.signalAlert(id, {
        source: 'waf-eu',
        status: 'firing',
        summary: 'more',
        fingerprint: 'f-3',
        labels: { late: 'yes' },
      });
      await until(
        () => engine.incidents.status(id),
        (s) => s.alertLabels.late === 'yes',
        `${id} late label merged`,
      );
      await engine.incidents.completeTask(id, { by: 'alice', stepId: 'check-again' });
      await closeFromPostIncident(engine, id);
      const late = (await engine.incidents.status(id)).steps.find((s) => s.stepId === 'tell-late-label');
      check(late?.status === 'completed', `the late label reached recovery, got ${JSON.stringify(late)}`);
      return handle;
    },
  },
];

async function record(engine: TimeSkippingEngine, scenario: Scenario): Promise<void> {
  const started = Date.now();
  await scenario.run(engine, scenario.incidentId);
  // Recorded histories are kept in the clear (the client's codec decrypts them), so the replay gate needs no keys.
  for (const { file, events } of await recordIncidentHistories(engine.env.client, scenario.incidentId, scenario.name))
    process.stdout.write(`  ${path.relative(process.cwd(), file)}: ${events} events\n`);
  process.stdout.write(
    `${scenario.name} (${scenario.incidentId}) recorded in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );
}

// The escalation chain again, recorded with the escalation and status-update timers kept across state changes (the
// stable-timers patch); escalation-chain itself stays as recorded before that patch, so both paths stay replayed.
SCENARIOS.push({
  ...SCENARIOS.find((s) => s.name === 'escalation-chain')!,
  name: 'stable-timers',
  incidentId: 'INC-2026-905',
});

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((name) => !SCENARIOS.some((s) => s.name === name));
  if (unknown.length)
    throw new Error(`unknown scenario(s) ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  const scenarios = wanted.length ? SCENARIOS.filter((s) => wanted.includes(s.name)) : SCENARIOS;
  mkdirSync(HISTORIES_DIR, { recursive: true });
  const engine = await startTimeSkippingEngine('record-histories');
  try {
    for (const scenario of scenarios) await record(engine, scenario);
  } finally {
    await engine.close();
  }
}

try {
  await main();
} catch (error) {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
}
