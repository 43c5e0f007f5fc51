// A long incident continues as new, with a real worker on the time-skipping server and on the dev server (which,
// unlike the former, applies each child's parent-close policy when a run continues as new): its start input lowers
// the history bound so a hundred alerts take it there. The incident waits in detect on a person's task when it
// continues; the next run carries its state (timeline, alert labels, the waiting task, the escalation deadline), the
// task completed in the new run reaches the child the first run started, the phases go on from there, the escalation
// timer armed before fires after (on the time-skipping server, which can skip to its deadline), and the incident
// closes. Its export holds every run, and every run replays.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportIncident } from '../../src/drills/export';
import { type ReplayOutcome, replayHistories } from '../../src/drills/replay';
import type { TimelineEvent } from '../../domain/incident';
import { incidentUpdates } from '../../workflows/definitions';
import { EARLIER_CHILD_CHECK_MS } from '../../workflows/incident/phases';
import { testKeyring } from '../helpers/codec';
import { incidentInput, nodeAlert, nodeAlerts, startIncident, waitingOnTaskPlan } from '../helpers/incident-fixtures';
import { signalAlertsSettled } from '../helpers/settled-alerts';
import {
  type TimeSkippingEngine,
  startLocalEngine,
  startTimeSkippingEngine,
  until,
} from '../helpers/time-skipping-engine';

const TASK_QUEUE = 'continue-as-new-test';
const INCIDENT = 'INC-2026-801';
const ALERTS = 120;

const plan = waitingOnTaskPlan('continue-as-new-test', 'test/workflows/continue-as-new.test.ts');

const types = (timeline: TimelineEvent[]) => timeline.map((event) => event.type);

describe.each([
  { server: 'time-skipping server', start: startTimeSkippingEngine, skipsTime: true },
  { server: 'dev server', start: startLocalEngine, skipsTime: false },
])('a long incident continues as new ($server)', ({ start, skipsTime }) => {
  let engine: TimeSkippingEngine;
  beforeAll(async () => {
    engine = await start(TASK_QUEUE);
  }, 60_000);
  afterAll(async () => {
    await engine?.close();
  });
  const status = () => engine.incidents.status(INCIDENT);

  it('carries its state, its phase child and its timers into the next run', { timeout: 180_000 }, async () => {
    const handle = await startIncident(engine.env.client, TASK_QUEUE, {
      ...incidentInput(INCIDENT, plan, { severity: 'P2', eventType: 'service_outage', drill: true }),
      continueAsNewAfterEvents: 100,
    });
    const firstRunId = handle.firstExecutionRunId;
    const waiting = await until(
      status,
      (s) => s.waitingSteps.some((step) => step.stepId === 'confirm-scope'),
      'detect waiting',
    );
    expect(waiting.runs).toBeUndefined();
    const escalationDue = waiting.nextEscalationAt!;
    expect(escalationDue).toBeGreaterThan(waiting.openedAt);

    // On the dev server, alerts as fast as they go, and operators' notes sent meanwhile: a signal or update that meets
    // the run's end is taken by the next run. The time-skipping server does not continue a run atomically and loses
    // what arrives while it does (test/helpers/settled-alerts.ts): there, one alert at a time, with no note.
    const notes: Promise<unknown>[] = [];
    if (skipsTime) await signalAlertsSettled(engine, INCIDENT, nodeAlerts(ALERTS));
    else {
      for (let i = 0; i < ALERTS; i++) {
        await engine.incidents.signalAlert(INCIDENT, nodeAlert(i));
        if (i % 4 === 0) notes.push(engine.incidents.addNote(INCIDENT, { by: 'alice', text: `note ${i}` }));
      }
    }
    await Promise.all(notes);
    const carried = await until(status, (s) => (s.runs ?? 1) >= 2, 'a second run');
    const described = await engine.env.client.workflow.getHandle(INCIDENT).describe();
    expect(described.runId).not.toBe(firstRunId);

    // The first run ended by continuing as new, with no child terminated.
    const first = await engine.env.client.workflow.getHandle(INCIDENT, firstRunId).fetchHistory();
    expect(first.events!.at(-1)!.workflowExecutionContinuedAsNewEventAttributes).toBeTruthy();
    expect(first.events!.length).toBeLessThan(400);
    // It asked the detect child it started to report its end once, however often it found itself due to continue
    // before it was quiet enough to.
    const asks = first.events!.filter(
      (e) => e.signalExternalWorkflowExecutionInitiatedEventAttributes?.signalName === 'reportPhaseEnd',
    );
    expect(asks).toHaveLength(1);

    // Everything the first run knew is in the second: the opening, every alert, the waiting task, the deadline.
    // Alerts that came while it continued land in the new run: none is lost, none counted twice.
    const timeline = await until(
      () => engine.incidents.timeline(INCIDENT),
      (events) => events.filter((e) => e.type === 'alert').length >= ALERTS,
      'every alert on the timeline',
    );
    expect(types(timeline).slice(0, 2)).toEqual(['opened', 'classified']);
    expect(timeline.filter((e) => e.type === 'alert').length).toBe(ALERTS);
    expect(carried.timelineOmitted).toBeUndefined();
    expect(carried.waitingSteps.map((step) => step.stepId)).toEqual(['confirm-scope']);
    expect(carried.alertLabels.node).toBeDefined();
    expect(carried.nextEscalationAt).toBe(escalationDue);
    expect(carried.phase).toBe('detect');
    if (!skipsTime) {
      // A note that meets the run's end is sent again by the client to the next run, so it can land after one sent
      // later (they were sent without waiting for each other): every note once, in whatever order they landed.
      const texts = (await status()).notes?.map((note) => note.text) ?? [];
      expect([...texts].sort()).toEqual(Array.from({ length: ALERTS / 4 }, (_, i) => `note ${i * 4}`).sort());
    }

    if (skipsTime) {
      // The escalation timer armed in the first run fires in the second.
      const now = await engine.env.currentTimeMs();
      await engine.env.sleep(escalationDue - now + 1_000);
      const escalated = await until(
        () => engine.incidents.timeline(INCIDENT),
        (events) => events.some((e) => e.type === 'escalated'),
        'the escalation after continuing',
      );
      expect(escalated.find((e) => e.type === 'escalated')!.at).toBeGreaterThanOrEqual(escalationDue);
    }

    // The task completed now reaches the child the first run started; the phases go on.
    await engine.incidents.completeTask(INCIDENT, { stepId: 'confirm-scope', by: 'alice' });
    const review = await until(status, (s) => s.phase === 'post-incident' && s.awaitingAdvance, 'post-incident');
    expect(review.steps.map((step) => [step.stepId, step.status])).toEqual([
      ['confirm-scope', 'completed'],
      ['tell-the-team', 'completed'],
    ]);
    expect(review.status).toBe('resolved');
    const closed = await engine.incidents.advancePhase(INCIDENT, { by: 'alice' });
    expect(closed.status).toBe('closed');

    // The export holds every run and the children; every history replays against the code.
    const bundle = await exportIncident(engine.env.client, INCIDENT);
    const roles = bundle.workflows.map((w) => w.role);
    expect(roles.slice(0, 2)).toEqual(['incident', 'incident-run-2']);
    expect(roles).toEqual(expect.arrayContaining(['detect', 'contain', 'eradicate', 'recover', 'post-incident']));
    const outcomes = await replayHistories(
      bundle.workflows.map((w) => ({
        name: w.role,
        workflowId: w.workflowId,
        history: w.history as { events: Record<string, unknown>[] },
      })),
      { keyring: testKeyring },
    );
    const failed = outcomes.filter((o) => !o.ok);
    // A run that does not replay is kept whole for diagnosis, and the events around its divergence are in the message.
    if (failed.length) {
      const file = path.join(os.tmpdir(), `continue-as-new-replay-failure-${Date.now()}.json`);
      writeFileSync(file, JSON.stringify(bundle));
      // The whole run, compact, in the message: CI keeps a failing run's output, not this machine's temp files.
      const events = (o: ReplayOutcome) =>
        (bundle.workflows.find((w) => w.role === o.name)!.history.events as Record<string, unknown>[])
          .map((e) => {
            const type = String(e.eventType).replace('EVENT_TYPE_', '');
            const attempt = (e.workflowTaskScheduledEventAttributes as { attempt?: number } | undefined)?.attempt;
            const found =
              /"(?:signalName|markerName)":"([^"]+)"|"activityType":\{"name":"([^"]+)"|"acceptedRequest":\{.*?"name":"([^"]+)"/.exec(
                JSON.stringify(e),
              );
            const name = found?.slice(1).find(Boolean);
            return `${String(e.eventId)} ${type}${attempt && attempt > 1 ? ` attempt ${attempt}` : ''}${name ? ` ${name}` : ''}`;
          })
          .join(', ');
      expect(failed.map((o) => `${o.name}: ${o.message}; events: ${events(o)}; whole export in ${file}`)).toEqual([]);
    }
  });
});

// A phase child an earlier run started, terminated by hand after the incident continued as new: the next run checks
// on it every few hours (EARLIER_CHILD_CHECK_MS) and fails the phase instead of waiting for a report that cannot come.
describe('a phase child terminated outside the engine after its incident continued as new', () => {
  const incidentId = 'INC-2026-802';
  let engine: TimeSkippingEngine;
  beforeAll(async () => {
    engine = await startTimeSkippingEngine(`${TASK_QUEUE}-terminated`);
  }, 60_000);
  afterAll(async () => {
    await engine?.close();
  });

  it('fails the phase at the next check, naming the child, and the incident ends', { timeout: 180_000 }, async () => {
    const status = () => engine.incidents.status(incidentId);
    await startIncident(engine.env.client, `${TASK_QUEUE}-terminated`, {
      ...incidentInput(incidentId, plan, { severity: 'P2', eventType: 'service_outage', drill: true }),
      continueAsNewAfterEvents: 100,
    });
    await until(status, (s) => s.waitingSteps.some((step) => step.stepId === 'confirm-scope'), 'detect waiting');
    await signalAlertsSettled(engine, incidentId, nodeAlerts(ALERTS));
    await until(status, (s) => (s.runs ?? 1) >= 2, 'a second run');
    // The second run asks the child at once and arms its next check once that ask is answered. Skipping time before
    // the check is armed would arm it 6 hours after the skip, and nothing would skip again (a loaded machine did so).
    const checkSeconds = EARLIER_CHILD_CHECK_MS / 1000;
    await until(
      () => engine.env.client.workflow.getHandle(incidentId).fetchHistory(),
      (history) =>
        (history.events ?? []).some(
          (e) => Number(e.timerStartedEventAttributes?.startToFireTimeout?.seconds ?? 0) === checkSeconds,
        ),
      "the second run's check on the child armed",
    );

    const child = `${incidentId}.detect`;
    await engine.env.client.workflow.getHandle(child).terminate('stuck, terminated by hand');
    await engine.env.sleep(EARLIER_CHILD_CHECK_MS + 60_000);

    const failed = await until(status, (s) => s.status === 'failed', 'the incident failed');
    expect(failed.phase).toBe('detect');
    const timeline = await engine.incidents.timeline(incidentId);
    const phaseFailed = timeline.find((e) => e.type === 'phase_failed');
    expect(phaseFailed).toMatchObject({ phase: 'detect' });
    expect((phaseFailed as { error: string }).error).toBe(
      `the detect phase's workflow ${child} closed without reporting how it ended (terminated or reset outside the engine)`,
    );
    // The incident's own workflow ends: nothing waits on the child any more.
    const outcome = await engine.env.client.workflow.getHandle(incidentId).result();
    expect(outcome).toMatchObject({ status: 'failed' });
  });
});

// The server can hand an update one run applied and completed to the next run as if it were new (an operator's note
// was recorded twice that way on the dev server, temporalio/temporal#6375). The repeat keeps its update id, and the
// next run carries the ids it must not apply again. Here the repeat is sent by hand with the same id once the incident
// has continued as new: it is answered, not applied; a note with a new id still is.
describe('an update applied before the incident continued as new, handed to the next run again', () => {
  const incidentId = 'INC-2026-803';
  let engine: TimeSkippingEngine;
  beforeAll(async () => {
    engine = await startTimeSkippingEngine(`${TASK_QUEUE}-repeat`);
  }, 60_000);
  afterAll(async () => {
    await engine?.close();
  });

  it('is answered with the incident’s view and not applied twice', { timeout: 180_000 }, async () => {
    const status = () => engine.incidents.status(incidentId);
    const handle = await startIncident(engine.env.client, `${TASK_QUEUE}-repeat`, {
      ...incidentInput(incidentId, plan, { severity: 'P2', eventType: 'service_outage', drill: true }),
      continueAsNewAfterEvents: 100,
    });
    await until(status, (s) => s.waitingSteps.some((step) => step.stepId === 'confirm-scope'), 'detect waiting');
    const note = (text: string, updateId: string) =>
      engine.env.client.workflow
        .getHandle(incidentId)
        .executeUpdate(incidentUpdates.addNote, { args: [{ by: 'alice', text }], updateId });
    const first = await note('seen once', 'note-at-the-end-of-run-1');
    expect(first.notes?.map((n) => n.text)).toEqual(['seen once']);

    await signalAlertsSettled(engine, incidentId, nodeAlerts(ALERTS));
    await until(status, (s) => (s.runs ?? 1) >= 2, 'a second run');
    expect((await engine.env.client.workflow.getHandle(incidentId).describe()).runId).not.toBe(
      handle.firstExecutionRunId,
    );

    const repeated = await note('seen once', 'note-at-the-end-of-run-1');
    expect(repeated.notes?.map((n) => n.text)).toEqual(['seen once']);
    const another = await note('a new note', 'note-in-run-2');
    expect(another.notes?.map((n) => n.text)).toEqual(['seen once', 'a new note']);
    const timeline = await engine.incidents.timeline(incidentId);
    expect(timeline.filter((e) => e.type === 'note_added').length).toBe(2);
  });
});
