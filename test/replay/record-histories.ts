// `npm run record-histories [-- scenario...]`: records the histories the replay gate (test/replay/replay.test.ts)
// replays against the current workflow code. Each scenario drives one incident on the time-skipping test server
// with a real worker, real activities and a real webhook peer (the same engine the workflow tests use), then writes
// the incident's history, the history of each child it started (phases, follow-up reminders) and of each run of its
// alert stream as proto JSON, the format `temporal workflow show --output json` prints, into
// test/replay/histories/<scenario>.<incident|phase|follow-ups|alerts|alerts-run-N>.json.
//
// Re-recording replaces a scenario's files; histories an operator added under other names are left alone.
// Only record with workflow code you trust: the gate treats these files as the behaviour to stay compatible with.
import { testDataConverter } from '../helpers/codec';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Client, type WorkflowHandle } from '@temporalio/client';
import { reviewDir } from '../../src/reports/store';
import { compileRunbook } from '../../src/runbooks/load';
import type { TimelineEvent } from '../../domain/incident';
import type { AlertSignalInput } from '../../domain/messages';
import { STREAM_HISTORY_BOUND } from '../../workflows/alert-stream';
import { type IncidentOutcome, alertStreamId, incidentUpdates } from '../../workflows/definitions';
import { followUpRemindersId } from '../../workflows/follow-up-reminders';
import { BASELINE_PATCH, type PatchId } from '../../workflows/patches';
import { incidentInput, nodeAlerts, plan, startIncident, waitingOnTaskPlan } from '../helpers/incident-fixtures';
import { signalAlertsSettled } from '../helpers/settled-alerts';
import { type TimeSkippingEngine, startTimeSkippingEngine, until } from '../helpers/time-skipping-engine';
import { HISTORIES_DIR, recordIncidentHistories } from './history-files';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

interface Scenario {
  /** File name prefix: `<name>.incident.json`, `<name>.<phase>.json`. */
  name: string;
  incidentId: string;
  /** Drives the incident to its end; returns the handle of the incident workflow. */
  run(engine: TimeSkippingEngine, incidentId: string): Promise<WorkflowHandle>;
  /** Patches whose marker (or the baseline's) the recorded files must carry: the recording fails when one is missing. */
  takes?: readonly PatchId[];
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

/** The patch ids whose markers a recorded history file carries. */
function patchMarkers(file: string): string[] {
  const history = JSON.parse(readFileSync(file, 'utf8')) as {
    events: { markerRecordedEventAttributes?: { details?: Record<string, { payloads?: { data?: string }[] }> } }[];
  };
  return history.events.flatMap((event) =>
    (event.markerRecordedEventAttributes?.details?.['patch-data']?.payloads ?? []).map(
      (payload) => (JSON.parse(Buffer.from(payload.data ?? '', 'base64').toString('utf8')) as { id: string }).id,
    ),
  );
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
  const written = await recordIncidentHistories(engine.env.client, scenario.incidentId, scenario.name);
  const taken = new Set<string>();
  for (const { file, events } of written) {
    const markers = patchMarkers(file);
    markers.forEach((id) => taken.add(id));
    const patches = markers.length ? ` (patches: ${markers.join(', ')})` : '';
    process.stdout.write(`  ${path.relative(process.cwd(), file)}: ${events} events${patches}\n`);
  }
  // Recorded since the baseline patch, a workflow carries its one marker in place of the markers of the patches it
  // lists (workflows/patches.ts): there, the scenario's own checks show each patch's path was taken.
  const missing = (scenario.takes ?? []).filter((id) => !taken.has(id) && !taken.has(BASELINE_PATCH));
  check(missing.length === 0, `${scenario.name} recorded without the marker of ${missing.join(', ')}`);
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

/**
 * The runbook of the alert-storm and quiet-close scenarios: a slow service whose containment is a person's task;
 * eradication waits for an operator (or the automatic resolve, once every alert has resolved and none fired for 30m).
 */
const QUIET_CLOSE_RUNBOOK = `id: quiet-close-history
version: 1
title: Quiet close (replay history)
category: operational
eventTypes: [performance_degradation]
autoResolve: { quietFor: 30m }
phases:
  detect:
    steps:
      - id: notify-responders
        action: notify.send
        with: { message: '\${incident.id} opened at \${incident.severity}' }
  contain:
    steps:
      - id: shed-load
        action: task
        with: { instructions: Shed load from the slow endpoint. }
      - id: tell-contained
        action: notify.send
        with: { message: '\${incident.id} contained' }
  eradicate:
    advance: manual
  recover:
    steps:
      - id: tell-recovered
        action: notify.send
        with: { message: '\${incident.id} recovered' }
  post-incident:
    advance: manual
`;

function quietCloseIncident(id: string, request: Parameters<typeof incidentInput>[2]) {
  return incidentInput(id, compileRunbook(QUIET_CLOSE_RUNBOOK, 'test/replay/record-histories.ts'), {
    eventType: 'performance_degradation',
    ...request,
  });
}

const slowSearch = (fingerprint: string, status: AlertSignalInput['status']): AlertSignalInput => ({
  source: 'prometheus',
  status,
  summary: 'search p99 above 2 s',
  fingerprint,
  labels: { service: 'search' },
});

/** Completes containment's task once it waits, then waits for eradication to wait for an operator. */
async function containedByHand(engine: TimeSkippingEngine, id: string) {
  await until(
    () => engine.incidents.status(id),
    (s) => s.waitingSteps.some((w) => w.stepId === 'shed-load'),
    `${id} waiting for shed-load`,
  );
  await engine.incidents.completeTask(id, { by: 'alice', stepId: 'shed-load' });
  return waitingInEradicate(engine, id);
}

SCENARIOS.push(
  {
    // Alerts through the incident's alert stream: one new alert, then a storm of repeats of it, one signal each,
    // until the stream passes its history bound while counts are still to be sent and continues as new carrying them
    // (stream-carries-queue; its first run is the long one). The second run ends when the incident, resolved by an
    // operator, closes.
    name: 'alert-storm',
    incidentId: 'INC-2026-906',
    takes: ['alert-delivery-bounded', 'stream-carries-queue'],
    async run(engine, id) {
      const handle = await startIncident(
        engine.env.client,
        engine.taskQueue,
        quietCloseIncident(id, { title: 'search slow in every region', severity: 'P2' }),
      );
      await engine.incidents.acknowledge(id, { by: 'alice' });
      const stream = engine.env.client.workflow.getHandle(alertStreamId(id));
      const repeat = () => engine.incidents.deliverAlert(id, slowSearch('search-p99', 'firing'));
      let sent = 0;
      /** Repeats one at a time until the stream's history has `events`. */
      const stormUntil = async (events: number) => {
        while ((await stream.describe()).historyLength < events) {
          check(sent < 5_000, `the alert stream's history reached ${events} events within 5,000 alerts`);
          for (let i = 0; i < 5; i++, sent++) await repeat();
        }
      };
      await repeat();
      sent++;
      const firstRun = (await stream.describe()).runId;
      // Close to the bound, a pause: the counts reach the incident (every 10 s while alerts keep coming).
      await stormUntil(STREAM_HISTORY_BOUND - 50);
      await until(
        () => engine.incidents.status(id),
        (s) => s.alertCounts?.total === sent,
        `${id} counted ${sent} alerts`,
      );
      // Then single repeats, each in a workflow task of its own, so the run passes its bound on exactly one of them,
      // within 10 s of those counts: the counts of the latest repeats are not due yet, and the run continues as new
      // carrying them. (A storm that went on would keep it from continuing: the server refuses a workflow task that
      // completes the run while new signals wait. Waiting on describe, not a query: a query answered as the run
      // continues as new leaves the time-skipping server's history of that run without its last events.)
      for (let i = 0; ; i++) {
        const before = await stream.describe();
        if (before.runId !== firstRun) break;
        check(i < 20, `${id}'s alert stream continued as new once past its history bound`);
        await repeat();
        sent++;
        // Its workflow task done: the signal and the task's three events, or the run continued as new.
        await until(
          () => stream.describe(),
          (d) => d.runId !== firstRun || d.historyLength >= before.historyLength + 4,
          `${id}'s alert stream took alert ${sent}`,
        );
      }
      const { alertCounts } = await until(
        () => engine.incidents.status(id),
        (s) => s.alertCounts?.total === sent,
        `${id} counted ${sent} alerts`,
      );
      check(alertCounts?.fingerprints === 1, `one fingerprint, got ${JSON.stringify(alertCounts)}`);
      await containedByHand(engine, id);
      await engine.incidents.recordRootCause(id, { by: 'alice', summary: 'search index rebuilt during peak hours' });
      const resolved = await engine.incidents.resolve(id, { by: 'alice', summary: 'rebuild moved to the night' });
      check(resolved.status === 'resolved', 'resolved');
      await closeFromPostIncident(engine, id);
      return handle;
    },
  },
  {
    // Opened with an alert's labels (impact partial_outage raises the performance degradation from P2 to P1 by
    // combined severity); three alerts through the alert stream, the second and third in one batch. Acknowledged, a
    // note and a follow-up due after close; two hourly status updates on cadence; every alert resolves and after 30
    // quiet minutes the incident resolves itself (auto-resolve). Closed: its review recorded (record-at-close), its
    // follow-up's reminder outlives it (follow-ups-outlive) and is sent when due, three days after opening.
    name: 'quiet-close',
    incidentId: 'INC-2026-907',
    takes: [
      'combined-severity',
      'alert-delivery-bounded',
      'status-update-on-cadence',
      'auto-resolve',
      'record-at-close',
      'follow-ups-outlive',
    ],
    async run(engine, id) {
      const handle = await startIncident(
        engine.env.client,
        engine.taskQueue,
        quietCloseIncident(id, {
          title: 'search slow in eu-west',
          labels: { impact: 'partial_outage', service: 'search' },
          source: 'prometheus',
        }),
      );
      const opened = await engine.incidents.status(id);
      check(opened.severity === 'P1', `partial outage classified P1, got ${opened.severity}`);
      await engine.incidents.acknowledge(id, { by: 'alice', note: 'looking at the search cluster' });
      await Promise.all([
        engine.incidents.deliverAlert(id, slowSearch('search-p99-eu', 'firing')),
        engine.incidents.deliverAlert(id, slowSearch('search-errors-eu', 'firing')),
        engine.incidents.deliverAlert(id, slowSearch('search-p99-eu', 'firing')),
      ]);
      const { openedAt } = await containedByHand(engine, id);
      await engine.incidents.recordRootCause(id, { by: 'alice', summary: 'one search node out of heap' });
      await engine.incidents.addNote(id, { by: 'alice', text: 'node restarted with a larger heap' });
      await engine.incidents.addFollowUp(id, {
        by: 'alice',
        title: 'alert on search heap usage',
        owner: 'bob',
        due: new Date(openedAt + 3 * DAY).toISOString(),
      });
      await sleepUntil(engine, openedAt + 2 * HOUR + 1_000);
      const updates = (await engine.incidents.timeline(id)).filter((e) => e.type === 'status_update');
      check(updates.length === 2, `two hourly status updates, got ${updates.length}`);
      await Promise.all([
        engine.incidents.deliverAlert(id, slowSearch('search-p99-eu', 'resolved')),
        engine.incidents.deliverAlert(id, slowSearch('search-errors-eu', 'resolved')),
      ]);
      await until(
        () => engine.incidents.status(id),
        (s) => s.alertCounts?.fingerprints === 2 && s.alertCounts.firingFingerprints === 0,
        `${id} told every alert resolved`,
      );
      const quietFrom = await engine.env.currentTimeMs();
      await sleepUntil(engine, quietFrom + 31 * MINUTE);
      const resolved = (await engine.incidents.timeline(id)).find((e) => e.type === 'resolved');
      check(resolved?.by === 'auto-resolve', `resolved by auto-resolve, got ${JSON.stringify(resolved)}`);
      await closeFromPostIncident(engine, id);
      const review = path.join(reviewDir(engine.config.dataDir), `${id}.json`);
      check(existsSync(review), `the closed incident's review recorded in ${review}`);
      const reminders = engine.env.client.workflow.getHandle(followUpRemindersId(id));
      check((await reminders.describe()).status.name === 'RUNNING', 'the follow-up reminders outlive the incident');
      await sleepUntil(engine, openedAt + 3 * DAY + 1_000);
      await until(
        async () => (await reminders.describe()).status.name,
        (status) => status === 'COMPLETED',
        `${id} follow-up reminders ended`,
      );
      const reminded = engine.sink.requests.filter((r) => r.idempotencyKey === `${id}/follow-up-due/F1` && r.applied);
      check(reminded.length === 1, `bob reminded once after close, got ${reminded.length}`);
      return handle;
    },
  },
);

SCENARIOS.push({
  // A long incident (its history bound lowered to 100 events through the start input): 120 alerts signalled
  // straight to it while detect waits on a task take it past the bound; it asks the running child to report its end
  // and continues as new. The task completed in the second run reaches the child the first run started; the phases
  // go on and it closes. Files: both runs of the incident and the five children.
  name: 'continue-as-new',
  incidentId: 'INC-2026-910',
  takes: ['incident-continues-as-new'],
  async run(engine, id) {
    const handle = await startIncident(engine.env.client, engine.taskQueue, {
      ...incidentInput(id, waitingOnTaskPlan('continue-as-new-history', 'test/replay/record-histories.ts'), {
        severity: 'P2',
        eventType: 'service_outage',
      }),
      continueAsNewAfterEvents: 100,
    });
    await until(
      () => engine.incidents.status(id),
      (s) => s.waitingSteps.some((step) => step.stepId === 'confirm-scope'),
      `${id} waiting on its task`,
    );
    await signalAlertsSettled(engine, id, nodeAlerts(120));
    await until(
      () => engine.incidents.status(id),
      (s) => (s.runs ?? 1) >= 2,
      `${id} in its second run`,
    );
    await engine.incidents.completeTask(id, { stepId: 'confirm-scope', by: 'alice' });
    await closeFromPostIncident(engine, id);
    return handle;
  },
});

// Both again, recorded after the baseline patch (workflows/patches.ts): each workflow carries its one marker in place of
// the markers of every patch above, so alert-storm and quiet-close keep the patches' own markers under test and these
// the baseline's.
for (const [name, incidentId] of [
  ['alert-storm', 'INC-2026-908'],
  ['quiet-close', 'INC-2026-909'],
] as const) {
  SCENARIOS.push({ ...SCENARIOS.find((s) => s.name === name)!, name: `baseline-${name}`, incidentId });
}

/** A recorded scenario again under another name and incident id, also taking `more` patches. */
function again(base: string, name: string, incidentId: string, more: readonly PatchId[]): Scenario {
  const scenario = SCENARIOS.find((s) => s.name === base)!;
  return { ...scenario, name, incidentId, takes: [...(scenario.takes ?? []), ...more] };
}

SCENARIOS.push(
  // quiet-close once more under the second baseline (patches-through-2026-12-03-b): each phase's last step result
  // reaches the incident in the phase's result instead of a signal (phase-end-in-result); containment's notification,
  // done while its task still waits, is still signalled.
  again('quiet-close', 'phase-end-quiet-close', 'INC-2026-911', ['phase-end-in-result']),
  // quiet-close under the third baseline (patches-through-2026-12-03-c): phase children of the types born with it (no
  // patch marker of their own), and only changed search attributes upserted.
  again('quiet-close', 'phase-types-quiet-close', 'INC-2026-912', [
    'phase-end-in-result',
    'phase-types-born-patched',
    'search-attributes-changed-only',
  ]),
  // quiet-close under the fourth baseline (patches-through-2026-12-03-d): phase children of the types born with it,
  // whose automated steps run as local activities (a marker each, no scheduled activity).
  again('quiet-close', 'local-steps-quiet-close', 'INC-2026-913', [
    'phase-end-in-result',
    'phase-types-born-patched',
    'search-attributes-changed-only',
    'steps-as-local-activities',
  ]),
  // continue-as-new under the fourth baseline: the second run asks the detect child the first run started to report
  // its end again at its start (earlier-child-watched), and cancels that check's timer once the report arrives.
  again('continue-as-new', 'watched-continue-as-new', 'INC-2026-914', ['earlier-child-watched']),
  // continue-as-new once the first run asks the detect child it started to report its end only once, however often
  // it finds itself due to continue while not yet quiet (phase-child-asked-once).
  again('continue-as-new', 'asked-once-continue-as-new', 'INC-2026-916', [
    'earlier-child-watched',
    'phase-child-asked-once',
  ]),
);

SCENARIOS.push({
  // A system compromise opened without labels or a severity: both documents' criteria make it P0
  // (severity-without-labels), where the Fiovana assess_incident table alone said P3; then a false positive.
  name: 'compromise-without-labels',
  incidentId: 'INC-2026-917',
  takes: ['severity-without-labels'],
  async run(engine, id) {
    const handle = await startIncident(
      engine.env.client,
      engine.taskQueue,
      incidentInput(id, plan('security-incident'), {
        eventType: 'system_compromise',
        title: 'unknown binary running as root on a build host',
      }),
    );
    const opened = await engine.incidents.status(id);
    check(opened.severity === 'P0', `a system compromise opens as P0, got ${opened.severity}`);
    await engine.incidents.declareFalsePositive(id, { by: 'alice', reason: 'a sanctioned red-team implant' });
    const outcome = await outcomeOf(engine, id);
    check(outcome.status === 'false_positive', `false positive, got ${outcome.status}`);
    return handle;
  },
});

SCENARIOS.push({
  // A detector's delivery opens the incident with its first two alerts in the input (no patch: only openers since
  // then set them): both are on the timeline and counted at the opening. A repeat of one and a new fingerprint then
  // start the alert stream (seedOpening), whose first run reads the opening alerts with a local activity before it
  // takes them, so only the new fingerprint is forwarded and the counts include all four. Resolved by an operator.
  name: 'opening-alerts',
  incidentId: 'INC-2026-918',
  async run(engine, id) {
    const handle = await startIncident(
      engine.env.client,
      engine.taskQueue,
      quietCloseIncident(id, {
        title: 'search slow in us-east',
        severity: 'P2',
        source: 'prometheus',
        alerts: [slowSearch('search-p99-us', 'firing'), slowSearch('search-errors-us', 'firing')],
      }),
    );
    const opened = await engine.incidents.status(id);
    check(opened.alertCounts?.total === 2, `two alerts counted at the opening, got ${opened.alertCounts?.total}`);
    await engine.incidents.deliverAlert(id, slowSearch('search-p99-us', 'firing'));
    await engine.incidents.deliverAlert(id, slowSearch('search-p50-us', 'firing'));
    const { alertCounts } = await until(
      () => engine.incidents.status(id),
      (s) => s.alertCounts?.total === 4,
      `${id} counted 4 alerts`,
    );
    check(alertCounts?.fingerprints === 3, `three fingerprints, got ${JSON.stringify(alertCounts)}`);
    const alerts = (await engine.incidents.timeline(id)).filter((e) => e.type === 'alert');
    check(alerts.length === 3, `the repeat not forwarded: ${alerts.length} alerts on the timeline`);
    await containedByHand(engine, id);
    await engine.incidents.recordRootCause(id, { by: 'alice', summary: 'a slow query on the us-east replica' });
    const resolved = await engine.incidents.resolve(id, { by: 'alice', summary: 'query plan pinned' });
    check(resolved.status === 'resolved', 'resolved');
    await closeFromPostIncident(engine, id);
    return handle;
  },
});

SCENARIOS.push({
  // continue-as-new with an operator's note sent under a fixed update id in the first run and the same id again in
  // the second, as the server may hand it on (temporalio/temporal#6375): the second run carries the first run's
  // update ids and answers the repeat without adding the note again. Files: both runs of the incident and the children.
  name: 'repeat-after-continue-as-new',
  incidentId: 'INC-2026-915',
  takes: ['incident-continues-as-new'],
  async run(engine, id) {
    const handle = await startIncident(engine.env.client, engine.taskQueue, {
      ...incidentInput(id, waitingOnTaskPlan('continue-as-new-history', 'test/replay/record-histories.ts'), {
        severity: 'P2',
        eventType: 'service_outage',
      }),
      continueAsNewAfterEvents: 100,
    });
    await until(
      () => engine.incidents.status(id),
      (s) => s.waitingSteps.some((step) => step.stepId === 'confirm-scope'),
      `${id} waiting on its task`,
    );
    const note = () =>
      engine.env.client.workflow.getHandle(id).executeUpdate(incidentUpdates.addNote, {
        args: [{ by: 'alice', text: 'scope is EU only' }],
        updateId: 'note-1',
      });
    await note();
    await signalAlertsSettled(engine, id, nodeAlerts(120));
    await until(
      () => engine.incidents.status(id),
      (s) => (s.runs ?? 1) >= 2,
      `${id} in its second run`,
    );
    const repeated = await note();
    check(repeated.notes?.length === 1, `the repeated note not added again, got ${repeated.notes?.length}`);
    await engine.incidents.completeTask(id, { stepId: 'confirm-scope', by: 'alice' });
    await closeFromPostIncident(engine, id);
    return handle;
  },
});

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((name) => !SCENARIOS.some((s) => s.name === name));
  if (unknown.length)
    throw new Error(`unknown scenario(s) ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  const scenarios = wanted.length ? SCENARIOS.filter((s) => wanted.includes(s.name)) : SCENARIOS;
  mkdirSync(HISTORIES_DIR, { recursive: true });
  // A server of its own for each scenario: once an abandoned child (follow-up reminders) has ended, the time-skipping
  // server hangs on a sleep (temporalio/sdk-typescript#1101), and a scenario after it would wait forever.
  for (const scenario of scenarios) {
    const engine = await startTimeSkippingEngine('record-histories');
    try {
      await record(engine, scenario);
    } finally {
      await engine.close();
    }
  }
}

try {
  await main();
} catch (error) {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
}
