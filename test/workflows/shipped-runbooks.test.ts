// Every runbook shipped in runbooks/ runs end to end as a drill on the time-skipping server and closes: two tests per
// file (discovered when the tests are collected, so a new runbook is covered without touching this file), driven by a
// generic operator loop that only reacts to what the incident shows (waiting steps, phases awaiting an operator).
// Each runbook is drilled twice: opened without alert labels, and opened with a label for every target a runbook step
// can take from the alert (source_ip, user, endpoint, key_id, path, breaker), so both branches of every step guarded
// by `when: { labels: ... }` run: the automated step with the label's value, or the task it stands in for.
// Checks per runbook and variant: the incident closes; every planned step is on the timeline as completed or skipped
// with a reason; a step whose `when` tests only labels ran exactly when its condition holds for the variant's labels;
// the drill record holds exactly one call per automated step that ran, with its rendered parameters (label values
// included); and nothing real was touched (notification peer and file, emergency API, control plane, ledger,
// evidence).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDrillCalls } from '../../activities/drill-recorder';
import { UpdateRefusedError } from '../../src/client';
import { EngineConfigFile } from '../../src/config';
import { loadRunbookFile, runbookFiles } from '../../src/runbooks/load';
import { ACTION_PARAMS, isActionName } from '../../domain/actions';
import { CONNECTOR_ACTION_NAMES } from '../../domain/actions/connectors';
import { isWorkflowAction } from '../../domain/actions/task';
import { type Condition, evaluateCondition } from '../../domain/condition';
import { PHASES, type Phase, type TimelineEvent } from '../../domain/incident';
import type { RunbookPlan } from '../../domain/runbook';
import { renderTemplate } from '../../domain/template';
import type { IncidentOutcome, IncidentStatusView } from '../../workflows/definitions';
import { type ControlPlaneServer, startControlPlaneServer } from '../helpers/control-plane-server';
import { type EmergencyApiServer, startEmergencyApiServer } from '../helpers/emergency-api-server';
import { ALERT_TARGET_LABELS, incidentInput, startIncident, tempDir } from '../helpers/incident-fixtures';
import { testDataConverter } from '../helpers/codec';
import { type TimeSkippingEngine, startTimeSkippingEngine } from '../helpers/time-skipping-engine';

const TASK_QUEUE = 'shipped-runbooks-test';
/** Collected once, when vitest collects this file: one `it` per runbook. */
const RUNBOOK_FILES = runbookFiles();
/** Wall-clock poll interval of the driver. */
const POLL_MS = 100;
/** Polls without any change (and nothing to do) before the driver moves simulated time on. */
const IDLE_POLLS_BEFORE_SLEEP = 5;
/** Simulated time moved when the incident is idle (retry backoffs, timers). */
const IDLE_SLEEP = '1m';
/** Hard cap on the driver loop; an incident that needs more is stuck. */
const MAX_ITERATIONS = 600;
const TERMINAL = ['closed', 'failed', 'false_positive'];
const OPERATOR = 'drill-operator';

/** The two ways each runbook is opened: as an operator would (no labels), and as a detector naming every target. */
const VARIANTS = [
  { name: 'without alert labels', firstId: 801, labels: undefined, source: undefined },
  {
    name: 'with alert labels',
    firstId: 851,
    labels: ALERT_TARGET_LABELS,
    source: 'drill-detector',
  },
] as const;

/** A condition that tests nothing but labels (directly or through any/all/not): its outcome depends on the variant. */
function labelsOnly(condition: Condition): boolean {
  const keys = Object.keys(condition).filter((k) => condition[k as keyof Condition] !== undefined);
  return (
    keys.length > 0 &&
    keys.every((k) =>
      k === 'labels'
        ? true
        : k === 'any' || k === 'all'
          ? (condition[k] ?? []).every(labelsOnly)
          : k === 'not'
            ? labelsOnly(condition.not!)
            : false,
    )
  );
}

let engine: TimeSkippingEngine;
/**
 * A plain client on the same server, for reading outcomes: the time-skipping client's result() unlocks time skipping
 * and the test server then jumps its clock (10 years per call, even when the workflow has already closed).
 */
let outcomes: Client;
let emergencyApi: EmergencyApiServer;
let controlPlane: ControlPlaneServer;

beforeAll(async () => {
  engine = await startTimeSkippingEngine(TASK_QUEUE);
  outcomes = new Client({ connection: engine.env.connection, namespace: 'default', dataConverter: testDataConverter });
  // Point every real destination an action could reach at an observable peer, so "nothing was touched" is checked
  // rather than assumed: the emergency API, one connector for every connector action, and the quarantine root.
  // The worker's activities read this config object.
  emergencyApi = await startEmergencyApiServer();
  controlPlane = await startControlPlaneServer();
  const wired = EngineConfigFile.parse({
    emergencyApi: { baseUrl: emergencyApi.url, headers: { Authorization: `Bearer ${emergencyApi.token}` } },
    connectors: {
      'control-plane': {
        url: `${controlPlane.url}/v1/drill-probe/\${action}`,
        headers: { Authorization: `Bearer ${controlPlane.token}` },
        body: { params: '${params}', incident: '${incident.id}' },
      },
    },
    connectorFor: Object.fromEntries(CONNECTOR_ACTION_NAMES.map((action) => [action, 'control-plane'])),
    http: { allowHosts: [new URL(controlPlane.url).host] },
  });
  engine.config.emergencyApi = wired.emergencyApi;
  engine.config.connectors = wired.connectors;
  engine.config.connectorFor = wired.connectorFor;
  engine.config.http = wired.http;
  engine.config.quarantine = { roots: [tempDir('shipped-quarantine')] };
});

afterAll(async () => {
  await engine?.close();
  await emergencyApi?.close();
  await controlPlane?.close();
});

type StepEvent = Extract<TimelineEvent, { type: 'step_completed' | 'step_failed' | 'step_skipped' }>;
const isStepEvent = (e: TimelineEvent): e is StepEvent =>
  e.type === 'step_completed' || e.type === 'step_failed' || e.type === 'step_skipped';

const sleepWall = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One line per status, for failure messages. */
function describeStatus(s: IncidentStatusView | undefined): string {
  if (!s) return '(no status read)';
  const waiting = s.waitingSteps.map((w) => `${w.kind} ${w.stepId}${w.roles ? ` [${w.roles.join(', ')}]` : ''}`);
  const steps = s.steps.map(
    (r) => `${r.stepId}:${r.status}${r.error ? ` (${r.error})` : r.reason ? ` (${r.reason})` : ''}`,
  );
  return JSON.stringify(
    {
      status: s.status,
      phase: s.phase,
      awaitingAdvance: s.awaitingAdvance,
      acknowledged: s.escalation.levelAcknowledged,
      escalationLevel: s.escalation.level,
      rootCause: s.rootCause?.summary ?? null,
      waiting,
      steps,
    },
    null,
    2,
  );
}

/**
 * The generic operator: reads the status and does the one thing a responder would do next. Approves every waiting
 * approval (in the first role it allows), completes every waiting task, acknowledges the current escalation level,
 * records a root cause and resolves once containment has ended, and advances a phase that waits for an operator.
 * When the incident is idle it moves simulated time on. Refusals (races with the workflow) are logged and the loop
 * reads the status again. Returns the terminal status, or fails with the last status and what the driver did.
 */
async function driveToClose(incidentId: string, source: string): Promise<IncidentStatusView> {
  const log: string[] = [];
  const act = async (what: string, call: () => Promise<unknown>): Promise<void> => {
    try {
      await call();
      log.push(what);
    } catch (error) {
      if (!(error instanceof UpdateRefusedError)) throw error;
      log.push(`${what}: REFUSED ${error.message}`);
    }
  };
  let last: IncidentStatusView | undefined;
  let lastFingerprint = '';
  let idle = 0;

  for (let iteration = 0; iteration < MAX_ITERATIONS; iteration++) {
    const s = await engine.incidents.status(incidentId);
    last = s;
    if (TERMINAL.includes(s.status)) return s;

    let acted = false;
    for (const w of s.waitingSteps) {
      acted = true;
      if (w.kind === 'approval') {
        // An approval gate always names its roles (the loader refuses `roles: []`).
        const role = w.roles?.[0] ?? 'incident-commander';
        await act(`approve ${w.stepId} as ${role}`, () =>
          engine.incidents.approveStep(incidentId, {
            by: OPERATOR,
            role,
            stepId: w.stepId,
            note: 'drill: approved by the driver',
          }),
        );
      } else {
        const role = w.roles?.[0];
        await act(`complete task ${w.stepId}${role ? ` as ${role}` : ''}`, () =>
          engine.incidents.completeTask(incidentId, {
            by: OPERATOR,
            stepId: w.stepId,
            ...(role ? { role } : {}),
            note: 'drill: done',
          }),
        );
      }
    }
    if (acted) {
      idle = 0;
      continue;
    }

    if (s.status === 'active' && !s.escalation.levelAcknowledged) {
      await act(`acknowledge at level ${s.escalation.level}`, () =>
        engine.incidents.acknowledge(incidentId, { by: OPERATOR }),
      );
      acted = true;
    }
    const containmentEnded = s.phase !== 'detect' && s.phase !== 'contain';
    if (s.status === 'active' && containmentEnded) {
      if (!s.rootCause) {
        await act('record root cause', () =>
          engine.incidents.recordRootCause(incidentId, { by: OPERATOR, summary: `drill of ${source}` }),
        );
      }
      await act(`resolve in ${s.phase}`, () =>
        engine.incidents.resolve(incidentId, { by: OPERATOR, summary: 'drill: resolved by the driver' }),
      );
      acted = true;
    } else if (s.awaitingAdvance) {
      await act(`advance from ${s.phase}`, () =>
        engine.incidents.advancePhase(incidentId, { by: OPERATOR, note: 'drill: advanced by the driver' }),
      );
      acted = true;
    }
    if (acted) {
      idle = 0;
      continue;
    }

    // Nothing to do: wait for the workflow; if nothing changes for a while, move simulated time on.
    const fingerprint = JSON.stringify([s.status, s.phase, s.awaitingAdvance, s.steps.length, s.escalation.level]);
    idle = fingerprint === lastFingerprint ? idle + 1 : 0;
    lastFingerprint = fingerprint;
    if (idle >= IDLE_POLLS_BEFORE_SLEEP) {
      await engine.env.sleep(IDLE_SLEEP);
      log.push(`sleep ${IDLE_SLEEP} (idle in ${s.phase})`);
      idle = 0;
    } else {
      await sleepWall(POLL_MS);
    }
  }
  throw new Error(
    `${incidentId} (${source}) did not reach a terminal status within ${MAX_ITERATIONS} driver iterations.\n` +
      `Last status: ${describeStatus(last)}\nDriver actions (last 30): ${JSON.stringify(log.slice(-30), null, 2)}`,
  );
}

/** The template context the phase workflows render `with` against (workflows/incident.ts `context()`). */
function templateContext(s: IncidentStatusView, plan: RunbookPlan, phase: Phase): Record<string, unknown> {
  return {
    alert: { labels: s.alertLabels, ...(s.alertSource !== undefined ? { source: s.alertSource } : {}) },
    incident: {
      id: s.incidentId,
      title: s.title,
      severity: s.severity,
      category: s.category,
      eventType: s.eventType,
      phase,
      owner: s.owner ?? '',
      drill: s.drill,
    },
    runbook: { id: plan.id, version: plan.version },
  };
}

/** Lines of a JSONL file that mention `needle`; none when the file does not exist. */
function linesMentioning(file: string, needle: string): string[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.includes(needle));
}

describe('shipped runbooks close as drills under a generic operator', () => {
  it('finds runbooks to drill in runbooks/', () => {
    expect(RUNBOOK_FILES.length).toBeGreaterThan(0);
  });

  const cases = RUNBOOK_FILES.flatMap((file, index) => VARIANTS.map((variant) => ({ file, index, variant })));
  cases.forEach(({ file, index, variant }) => {
    const name = path.basename(file);
    it(`drills ${name} to closed, ${variant.name}`, { timeout: 240_000 }, async () => {
      // Loaded inside the test: a runbook that does not load fails its own test, with the loader's message.
      const plan = loadRunbookFile(file);
      const incidentId = `INC-2026-${String(variant.firstId + index).padStart(3, '0')}`;
      const opened = Date.now();
      // P0 and two affected systems: steps gated on high severity or impact run (and are checked) rather than skip.
      await startIncident(
        engine.env.client,
        TASK_QUEUE,
        incidentInput(incidentId, plan, {
          title: `Drill of ${plan.title}`,
          eventType: plan.eventTypes[0],
          severity: 'P0',
          affectedSystems: ['web-frontend', 'billing-db'],
          trigger: 'drill:shipped-runbooks-test',
          drill: true,
          ...(variant.labels ? { labels: { ...variant.labels }, source: variant.source } : {}),
        }),
      );

      const final = await driveToClose(incidentId, name);
      const timeline = await engine.incidents.timeline(incidentId);
      const stepEvents = timeline.filter(isStepEvent);
      const trail = stepEvents.map((e) => `${e.type} ${e.stepId}${e.detail ? `: ${e.detail}` : ''}`).join('\n  ');
      expect(
        final.status,
        `${name}: incident ended ${final.status}; steps:\n  ${trail}\n${describeStatus(final)}`,
      ).toBe('closed');
      const outcome = (await outcomes.workflow.getHandle(incidentId).result()) as IncidentOutcome;
      expect(outcome.status).toBe('closed');

      // Every planned step is on the timeline once, completed or skipped with a reason; none failed.
      const planned = PHASES.flatMap((phase) => plan.phases[phase].steps.map((step) => ({ phase, step })));
      const problems: string[] = [];
      for (const { phase, step } of planned) {
        const events = stepEvents.filter((e) => e.stepId === step.id);
        const event = events[0];
        if (events.length !== 1 || !event)
          problems.push(`${phase}/${step.id}: expected one step event, found ${events.length}`);
        else if (event.phase !== phase) problems.push(`${phase}/${step.id}: recorded in phase ${event.phase}`);
        else if (event.type === 'step_failed')
          problems.push(`${phase}/${step.id} (${step.action}) failed: ${event.detail ?? 'no error'}`);
        else if (event.type === 'step_skipped' && !event.detail)
          problems.push(`${phase}/${step.id} was skipped without a reason`);
      }
      const unplanned = stepEvents
        .filter((e) => !planned.some(({ step }) => step.id === e.stepId))
        .map((e) => e.stepId);
      // A step guarded only by labels ran exactly when its condition holds for this variant's labels.
      for (const { phase, step } of planned) {
        if (!step.when || !labelsOnly(step.when)) continue;
        const event = stepEvents.find((e) => e.stepId === step.id);
        const holds = evaluateCondition(step.when, {
          ...final,
          affectedSystems: 0,
          escalationLevel: 0,
          labels: final.alertLabels,
        });
        const expected = holds.ok ? 'step_completed' : 'step_skipped';
        if (event?.type !== expected) {
          problems.push(
            `${phase}/${step.id}: expected ${expected} (${holds.reason}), found ${event?.type ?? 'nothing'}`,
          );
        } else if (!holds.ok && event.detail !== `when: ${holds.reason}`) {
          problems.push(`${phase}/${step.id}: skipped as "${event.detail}", expected "when: ${holds.reason}"`);
        }
      }
      expect(problems, `${name}: steps:\n  ${trail}`).toEqual([]);
      expect(final.alertLabels).toEqual(variant.labels ?? {});
      expect(unplanned).toEqual([]);
      expect(timeline.filter((e) => e.type === 'phase_failed' || e.type === 'compensation_started')).toEqual([]);
      for (const phase of PHASES) expect(final.phases[phase]?.endedAt, `${name}: phase ${phase} ended`).toBeDefined();

      // The drill record: one call per automated step that ran, keyed by incident and step, with the parameters the
      // step's `with` renders to (and parses to) in its phase; escalation notices are recorded too, and nothing else.
      const calls = await readDrillCalls(engine.config.dataDir, incidentId);
      const escalationPrefix = `${incidentId}/escalation/`;
      const stepCalls = calls.filter((c) => !c.idempotencyKey.startsWith(escalationPrefix));
      expect(
        calls
          .filter((c) => c.idempotencyKey.startsWith(escalationPrefix))
          .every((c) => c.activity === 'notifyEscalation'),
      ).toBe(true);
      const ran = stepEvents.filter((e) => e.type === 'step_completed' && !isWorkflowAction(e.action));
      const expected = ran.map((e) => {
        const step = planned.find(({ step: p }) => p.id === e.stepId)!.step;
        if (!isActionName(step.action)) throw new Error(`${name}: step ${step.id} has unknown action ${step.action}`);
        const rendered = renderTemplate(step.with, templateContext(final, plan, e.phase));
        const params = JSON.parse(JSON.stringify(ACTION_PARAMS[step.action].parse(rendered))) as unknown;
        return { activity: step.action, idempotencyKey: `${incidentId}/${step.id}`, params };
      });
      const byKey = <T extends { idempotencyKey: string }>(list: T[]) =>
        [...list].sort((a, b) => a.idempotencyKey.localeCompare(b.idempotencyKey));
      expect(new Set(stepCalls.map((c) => c.idempotencyKey)).size).toBe(stepCalls.length);
      expect(byKey(stepCalls)).toEqual(byKey(expected));
      for (const call of stepCalls)
        expect(JSON.stringify(call.params), `${call.idempotencyKey}: unrendered template`).not.toMatch(/\$\{/);

      // Nothing real was touched: no notification reached the webhook peer or the default file channel, no request
      // reached the emergency API or the control plane, no ledger entry and no evidence for this incident.
      const mentions = (body: unknown) => JSON.stringify(body ?? null).includes(incidentId);
      expect(
        engine.sink.requests.filter((r) => r.idempotencyKey?.startsWith(`${incidentId}/`) || mentions(r.body)),
      ).toEqual([]);
      expect(linesMentioning(path.join(engine.config.dataDir, 'notifications.jsonl'), incidentId)).toEqual([]);
      expect(emergencyApi.requests).toEqual([]);
      expect(controlPlane.requests).toEqual([]);
      expect(linesMentioning(path.join(engine.config.dataDir, 'ledger.jsonl'), incidentId)).toEqual([]);
      const evidence = existsSync(engine.config.evidenceDir) ? readdirSync(engine.config.evidenceDir) : [];
      expect(evidence.filter((entry) => entry.includes(incidentId))).toEqual([]);

      console.info(
        `${name} (${variant.name}): closed in ${Date.now() - opened} ms wall; ${stepEvents.length} steps ` +
          `(${ran.length} recorded calls, ${stepEvents.filter((e) => e.type === 'step_skipped').length} skipped)`,
      );
    });
  });
});
