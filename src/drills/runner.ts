// Runs a drill scenario: one incident on the time-skipping test server, in drill mode (every action recorded, nothing
// touched; technical drills act on staging only), with the script's events sent at their simulated offsets. The runner
// moves the clock itself (waiting for an update never skips time): it hops from timer to timer (escalations, approval
// and task timeouts, status updates, as the workflows' histories show them) up to each scripted offset and then to
// the end, and lets the engine settle (no workflow task, activity, child start or signal in flight) at every stop, so
// each instant's work is done before time moves on. Everything the engine does while the runner stands at one instant
// is reported at that instant; that, and offsets in whole seconds from the opening, make two runs' reports
// byte-identical.
// It must never touch a server other than the one it started, nor leave that server or its temp directory behind.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { History } from '@temporalio/common/lib/proto-utils';
import type Long from 'long';
import { tsToMs } from '@temporalio/common/lib/time';
import proto from '@temporalio/proto';
import { Worker, type WorkflowBundle } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { readDrillCalls } from '../../activities/drill-recorder';
import { createReportActivities } from '../reports/activities';
import { describeEvent } from '../format';
import { IncidentClient, UpdateRefusedError } from '../client';
import { buildConfig, type EngineConfig } from '../config';
import type { DrillScenario, ScriptEntry } from '../../domain/drill';
import { type Phase, type TimelineEvent } from '../../domain/incident';
import { OpenRequest } from '../../domain/messages';
import { type RunbookPlan, planForOpening } from '../../domain/runbook';
import { bundleWorkflows } from '../worker';
import type { IncidentInput, IncidentStatusView } from '../../workflows/definitions';
import { type Anchor, simulatedInstant } from './clock-anchors';
import { resolveRunbook } from './load';
import {
  type DrillReport,
  type ObservedCall,
  type ScriptOutcome,
  buildReport,
  normaliseText,
  offsetLabel,
} from './report';
import { dataConverterFor } from '../codec/engine';
import { ephemeralCodec } from '../codec/aes-gcm';
import { type DrillServer, type DrillServerOptions, startDrillServer } from './server';
import { DrillRefusedError, type StagingTargets, stagingProblems, technicalActivities } from './technical';

/** Every drill's incident has this id: ids from the registry depend on the simulated year. */
export const DRILL_INCIDENT_ID = 'DRILL-0000-001';
export const DRILL_TASK_QUEUE = 'drill';

export interface DrillProgress {
  /** Seconds after the opening. */
  at: number;
  atLabel: string;
  phase: Phase | '-';
  level: number;
  /** A timeline event of the incident, or a scripted line and how the workflow answered it. */
  kind: 'event' | 'script';
  text: string;
}

export interface DrillRunOptions {
  /** Where the scenario's runbook is looked up (default runbooks/). */
  runbookDir?: string;
  /** A prebuilt workflow bundle (tests and benchmarks reuse one); bundled once otherwise. */
  workflowBundle?: WorkflowBundle;
  /** Carry out a technical scenario's actions against staging (`--technical`). */
  technical?: boolean;
  /** Record a technical scenario's actions instead of performing them (`--tabletop`, what CI does). */
  tabletop?: boolean;
  /** The staging targets of a technical drill. */
  staging?: StagingTargets;
  onProgress?: (progress: DrillProgress) => void;
  /** Run this plan instead of the scenario's runbook from disk (reenacting a history runs the plan it pinned). */
  plan?: RunbookPlan;
  /** The server seam; the time-skipping test server by default. */
  startServer?: (options: DrillServerOptions) => Promise<DrillServer>;
}

/** Decides how a scenario runs, or refuses with a reason an operator can act on. */
export function executionFor(
  scenario: DrillScenario,
  options: Pick<DrillRunOptions, 'technical' | 'tabletop'>,
): 'tabletop' | 'technical' {
  if (options.technical && options.tabletop) throw new DrillRefusedError('choose --technical or --tabletop, not both');
  if (scenario.mode === 'tabletop') {
    if (options.technical) {
      throw new DrillRefusedError(
        `drill ${scenario.id} is a tabletop drill (mode: tabletop in ${scenario.file}); --technical applies only to scenarios with mode: technical`,
      );
    }
    return 'tabletop';
  }
  if (options.tabletop) return 'tabletop';
  if (!options.technical) {
    throw new DrillRefusedError(
      `drill ${scenario.id} is a technical drill (mode: technical in ${scenario.file}): its actions run for real against staging. ` +
        'Pass --technical to run them against targets marked staging: true (or a --staging-config file), or --tabletop to record them instead.',
    );
  }
  return 'technical';
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const { EventType } = proto.temporal.api.enums.v1;

/** How long (simulated, and so wall-clock while an event is applied) before a timer the runner lets it fire first. */
const GUARD_MS = 5_000;

/** How long a scripted event may take to be answered (wall clock). */
const EVENT_DEADLINE_MS = 60_000;

/** Deadline of one status/timeline read, and how many reads before the drill gives up. */
const QUERY_DEADLINE_MS = 10_000;
const QUERY_ATTEMPTS = 6;

/** How long the engine may take to settle at one instant (wall clock) before the drill gives up. */
const SETTLE_LIMIT_MS = 120_000;

/** What the runner reads from the incident: its status and timeline. */
interface IncidentState {
  status: IncidentStatusView;
  timeline: TimelineEvent[];
}

/** A timer the runner will stop at: when the runbook means it to fire, and when the server will fire it. */
interface TimerStop {
  logical: number;
  server: number;
}

export async function runDrill(scenario: DrillScenario, options: DrillRunOptions = {}): Promise<DrillReport> {
  const execution = executionFor(scenario, options);
  // Pinned as every open pins it: a P0 or P1's containment is not held by people's detect-phase checks.
  const plan = planForOpening(options.plan ?? resolveRunbook(scenario.runbook, options.runbookDir), scenario.incident);
  const performed = new Set<string>();
  let staging: StagingTargets | undefined;
  if (execution === 'technical') {
    staging = options.staging;
    if (!staging) {
      throw new DrillRefusedError(
        `technical drill ${scenario.id} refused: no staging target. Mark emergencyApi or connectors staging: true in incident-engine.yaml, or pass --staging-config <file>.`,
      );
    }
    const problems = stagingProblems(plan, staging);
    if (problems.length > 0) {
      throw new DrillRefusedError(
        `technical drill ${scenario.id} refused: runbook ${plan.id} would act on targets not known to be staging:\n  ${problems.join('\n  ')}`,
      );
    }
  }

  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'incident-drill-'));
  const base = buildConfig({ dataDir, taskQueue: DRILL_TASK_QUEUE, channels: {}, audiences: {} }, dataDir);
  const config: EngineConfig =
    execution === 'technical' && staging
      ? { ...staging.config, dataDir, evidenceDir: path.join(dataDir, 'evidence'), taskQueue: DRILL_TASK_QUEUE }
      : base;
  const stagingTargets = staging ? { ...staging, config } : undefined;
  // A drill closes as an incident does: its review and summary go to the drill's own data directory.
  const { recordClosedIncident } = createReportActivities({ config });
  const activities = {
    ...(stagingTargets ? technicalActivities(config, stagingTargets, performed) : createActivities({ config })),
    recordClosedIncident,
  };

  let server: DrillServer | undefined;
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  try {
    const bundle = options.workflowBundle ?? (await bundleWorkflows());
    // A drill's history is encrypted too, under a key that lives only as long as the drill.
    const dataConverter = dataConverterFor(ephemeralCodec());
    server = await (options.startServer ?? startDrillServer)({ dataConverter });
    worker = await Worker.create({
      dataConverter,
      connection: server.nativeConnection,
      namespace: server.namespace,
      taskQueue: DRILL_TASK_QUEUE,
      workflowBundle: bundle,
      activities,
    });
    running = worker.run();
    const session = new DrillSession(server, scenario, plan, options.onProgress);
    const observed = await session.play();
    const calls: ObservedCall[] = (await readDrillCalls(config.dataDir, DRILL_INCIDENT_ID)).map((call) => ({
      ...call,
      performed: performed.has(call.idempotencyKey),
    }));
    return buildReport({ ...observed, scenario, plan, execution, incidentId: DRILL_INCIDENT_ID, calls });
  } finally {
    if (worker) {
      worker.shutdown();
      await running?.catch(() => undefined);
    }
    await server?.close().catch(() => undefined);
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** A timer a workflow has armed and the server has not fired yet. */
interface PendingTimer {
  workflowId: string;
  timerId: string;
  /** Server time at which the workflow armed it (epoch ms). */
  startedAt: number;
  /** Server time at which it fires (epoch ms). */
  firesAt: number;
}

/** What the runner learns from one workflow's history: the work it has in flight, and its pending timers. */
interface HistoryFacts {
  length: number;
  /** Work started and not finished: empty when the workflow is quiescent (or closed). */
  inFlight: string[];
  timers: PendingTimer[];
}

const CLOSED_EVENTS = new Set<number>([
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
]);

/**
 * Reads the whole history, not only its last event: one workflow task's completion writes several events (an update
 * completed after a signal to another workflow, a timer after a child start), so the last event alone can look quiet
 * while something the task started is still in flight. Every start is matched with its end by event id.
 */
export function historyFacts(workflowId: string, history: History): HistoryFacts {
  const events = history.events ?? [];
  const timers = new Map<string, PendingTimer>();
  const open = new Map<string, string>();
  let workflowTask: string | undefined;
  let closed = false;
  const id = (value: Long | number | null | undefined): string => String(value ?? '');
  for (const event of events) {
    const type = event.eventType as number;
    const eventId = id(event.eventId);
    const start = event.timerStartedEventAttributes;
    if (start?.timerId) {
      const startedAt = tsToMs(event.eventTime);
      timers.set(start.timerId, {
        workflowId,
        timerId: start.timerId,
        startedAt,
        firesAt: startedAt + tsToMs(start.startToFireTimeout),
      });
    }
    const timerDone = event.timerFiredEventAttributes?.timerId ?? event.timerCanceledEventAttributes?.timerId;
    if (timerDone) timers.delete(timerDone);
    switch (type) {
      case EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
      case EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
        workflowTask = `workflow task (event ${eventId})`;
        break;
      case EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
      case EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
      case EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
        // A failed or timed-out task is scheduled again by the server; that new task shows as its own event.
        workflowTask = undefined;
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        open.set(eventId, `activity ${event.activityTaskScheduledEventAttributes?.activityType?.name ?? ''}`);
        break;
      case EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
        open.set(eventId, `child start ${event.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId ?? ''}`);
        break;
      case EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
        open.set(
          eventId,
          `signal to ${event.signalExternalWorkflowExecutionInitiatedEventAttributes?.workflowExecution?.workflowId ?? ''}`,
        );
        break;
      case EventType.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
        open.set(eventId, 'cancel request to another workflow');
        break;
      default:
        if (CLOSED_EVENTS.has(type)) closed = true;
    }
    const a = event;
    const ended =
      a.activityTaskCompletedEventAttributes?.scheduledEventId ??
      a.activityTaskFailedEventAttributes?.scheduledEventId ??
      a.activityTaskTimedOutEventAttributes?.scheduledEventId ??
      a.activityTaskCanceledEventAttributes?.scheduledEventId ??
      a.childWorkflowExecutionStartedEventAttributes?.initiatedEventId ??
      a.startChildWorkflowExecutionFailedEventAttributes?.initiatedEventId ??
      a.externalWorkflowExecutionSignaledEventAttributes?.initiatedEventId ??
      a.signalExternalWorkflowExecutionFailedEventAttributes?.initiatedEventId ??
      a.externalWorkflowExecutionCancelRequestedEventAttributes?.initiatedEventId ??
      a.requestCancelExternalWorkflowExecutionFailedEventAttributes?.initiatedEventId;
    if (ended !== undefined && ended !== null) open.delete(id(ended));
  }
  const inFlight = closed ? [] : [...(workflowTask ? [workflowTask] : []), ...open.values()];
  return { length: events.length, inFlight, timers: [...timers.values()] };
}

/**
 * The final timeline with each event seen live in its live form: the timeline only grows, so the first events of the
 * final read are those read live, in the same order, differing at most in their times.
 */
export function withLiveTimes(live: TimelineEvent[], final: TimelineEvent[]): TimelineEvent[] {
  const same = (a: TimelineEvent, b: TimelineEvent): boolean =>
    JSON.stringify({ ...a, at: 0 }) === JSON.stringify({ ...b, at: 0 });
  if (live.length > final.length || live.some((event, i) => !same(event, final[i]!))) {
    throw new Error(
      `the incident's final timeline does not extend the one read while it ran (${live.length} live events, ${final.length} final)`,
    );
  }
  return [...live, ...final.slice(live.length)];
}

/** One scenario played against one server. */
class DrillSession {
  private readonly incidents: IncidentClient;
  private readonly client: Client;
  private readonly anchors: Anchor[] = [];
  private openedAt = 0;
  private emitted = 0;
  /** The phase and escalation level as of the last event shown. */
  private shownPhase: Phase | '-' = '-';
  private shownLevel = 0;
  /** The incident workflow has closed (seen by settle). */
  private incidentClosed = false;
  private finalState: IncidentState | undefined;
  /** The timeline as last read while the incident ran (answered live, not replayed). */
  private liveTimeline: TimelineEvent[] = [];
  /** Per workflow watched (the incident and its running phase): what its history said at its last length. */
  private readonly facts = new Map<string, HistoryFacts>();
  /** The workflows the last snapshot watched. */
  private watched: string[] = [DRILL_INCIDENT_ID];
  /** Why the last settle poll found the engine busy, for the error when it never settles. */
  private busy = 'nothing observed yet';

  constructor(
    private readonly server: DrillServer,
    private readonly scenario: DrillScenario,
    private readonly plan: RunbookPlan,
    private readonly onProgress: DrillRunOptions['onProgress'],
  ) {
    this.client = server.client;
    this.incidents = new IncidentClient(server.client, DRILL_TASK_QUEUE);
  }

  /** Whole seconds after the opening; work done while the runner stood at an instant counts at that instant. */
  readonly offsetOf = (ms: number): number => Math.round((this.logicalOf(ms) - this.openedAt) / 1000);

  /** The simulated instant of a server time (see simulatedInstant). */
  private logicalOf(ms: number): number {
    return simulatedInstant(this.anchors, this.openedAt, ms);
  }

  async play(): Promise<{
    openedAt: number;
    endedAt: number;
    status: IncidentStatusView;
    timeline: TimelineEvent[];
    script: ScriptOutcome[];
    offsetOf: (ms: number) => number;
  }> {
    const { scenario, plan } = this;
    const incident = scenario.incident;
    const beforeStart = await this.server.now();
    const request = OpenRequest.parse({
      title: incident.title,
      eventType: incident.eventType ?? 'other',
      ...(incident.severity ? { severity: incident.severity } : {}),
      ...(incident.category ? { category: incident.category } : {}),
      trigger: `drill:${scenario.id}`,
      affectedSystems: incident.systems,
      ...(incident.labels ? { labels: incident.labels } : {}),
      ...(incident.source ? { source: incident.source } : {}),
      drill: true,
      ...(incident.startedBefore !== undefined ? { startedAt: Math.max(0, beforeStart - incident.startedBefore) } : {}),
    });
    const input: IncidentInput = { ...request, incidentId: DRILL_INCIDENT_ID, plan };
    await this.client.workflow.start('incidentWorkflow', {
      workflowId: DRILL_INCIDENT_ID,
      taskQueue: DRILL_TASK_QUEUE,
      args: [input],
    });
    this.anchors.push({ target: beforeStart, from: beforeStart });
    const opening = await this.settle();
    this.openedAt = opening.status.openedAt;
    this.anchors[0] = { target: this.openedAt, from: beforeStart };
    this.report(opening);

    const script: ScriptOutcome[] = [];
    for (const entry of scenario.script) {
      await this.advanceTo(this.openedAt + entry.atMs);
      const outcome = await this.perform(entry);
      script.push(outcome);
      this.progress(
        'script',
        Math.floor(entry.atMs / 1000),
        `${entry.by}: ${entry.kind} ${outcome.outcome}${outcome.reason ? `: ${normaliseText(outcome.reason, this.openedAt, this.offsetOf)}` : ''}`,
      );
      this.report(await this.settle());
    }
    const endedAt = this.openedAt + scenario.endMs;
    await this.advanceTo(endedAt);
    const final = await this.settle();
    this.anchors.at(-1)!.to = await this.server.now();
    this.report(final);
    return {
      openedAt: this.openedAt,
      endedAt,
      status: final.status,
      timeline: final.timeline,
      script,
      offsetOf: this.offsetOf,
    };
  }

  /** Sends one scripted event; a refusal is an outcome, anything else is the drill breaking. */
  private async perform(entry: ScriptEntry): Promise<ScriptOutcome> {
    try {
      await this.client.withDeadline(Date.now() + EVENT_DEADLINE_MS, () => this.send(entry));
      return { entry, outcome: 'accepted' };
    } catch (error) {
      if (error instanceof UpdateRefusedError) {
        return { entry, outcome: 'refused', reason: error.message.replace(/^\S+ refused for \S+: /, '') };
      }
      const at = offsetLabel(Math.floor(entry.atMs / 1000));
      throw new Error(
        `drill ${this.scenario.id}: ${entry.kind} at ${at} got no answer within ${EVENT_DEADLINE_MS / 1000} s of wall time ` +
          `(${(error as Error).message}). The time-skipping server can lose a workflow task when a timer fires while an ` +
          'update is applied; run the drill again.',
        { cause: error },
      );
    }
  }

  private async send(entry: ScriptEntry): Promise<unknown> {
    const id = DRILL_INCIDENT_ID;
    const by = entry.by;
    const i = this.incidents;
    switch (entry.kind) {
      case 'alert':
        return i.signalAlert(id, { ...entry.payload });
      case 'acknowledge':
        return i.acknowledge(id, { by, ...entry.payload });
      case 'setSeverity':
        return i.setSeverity(id, { by, ...entry.payload });
      case 'rootCause':
        return i.recordRootCause(id, { by, summary: entry.payload.summary });
      case 'assign':
        return i.assignOwner(id, { by, owner: entry.payload.owner });
      case 'approve':
        return i.approveStep(id, {
          by,
          role: entry.payload.role,
          stepId: entry.payload.step,
          ...(entry.payload.note ? { note: entry.payload.note } : {}),
        });
      case 'reject':
        return i.rejectStep(id, {
          by,
          role: entry.payload.role,
          stepId: entry.payload.step,
          reason: entry.payload.reason,
        });
      case 'completeTask':
        return i.completeTask(id, {
          by,
          stepId: entry.payload.step,
          ...(entry.payload.role ? { role: entry.payload.role } : {}),
          ...(entry.payload.note ? { note: entry.payload.note } : {}),
        });
      case 'advance':
        return i.advancePhase(id, { by, ...entry.payload });
      case 'resolve':
        return i.resolve(id, { by, ...entry.payload });
      case 'falsePositive':
        return i.declareFalsePositive(id, { by, reason: entry.payload.reason });
      case 'impact':
        return i.updateImpact(id, {
          by,
          ...(entry.payload.systems ? { affectedSystems: entry.payload.systems } : {}),
          ...(entry.payload.dataBreach ? { dataBreachConfirmed: true } : {}),
        });
      case 'escalate':
        return i.escalate(id, {
          by,
          reason: entry.payload.reason,
          ...(entry.payload.level ? { level: entry.payload.level } : {}),
        });
    }
  }

  /**
   * Every timer armed in the watched workflows that the server has not fired by `now`, by when the runbook means it to
   * fire. A timer of a whole number of seconds (a timeout, a cadence) means that long after the instant that armed it;
   * the server fires it later by however long the engine took at that instant, which depends on the machine's load.
   * Any other timer runs to a deadline the workflow computed (an escalation's due time), rounded to its second.
   */
  private timerStops(now: number): TimerStop[] {
    return this.watched
      .flatMap((id) => this.facts.get(id)?.timers ?? [])
      .filter((t) => t.firesAt > now)
      .map((t) => {
        const duration = t.firesAt - t.startedAt;
        const logical =
          duration % 1000 === 0
            ? this.logicalOf(t.startedAt) + duration
            : this.openedAt + Math.round((t.firesAt - this.openedAt) / 1000) * 1000;
        return { logical, server: t.firesAt };
      })
      .sort((a, b) => a.logical - b.logical || a.server - b.server);
  }

  /**
   * Moves the clock to `target`, stopping at every timer due on the way (escalations, approval and task timeouts,
   * status updates), so each one's consequences are settled before time moves on. Then, before the caller acts at
   * `target`, it also lets fire any timer due within GUARD_MS after it: the clock runs on in real time while an event
   * is applied, and a timer firing in the middle of an update is what the time-skipping server handles worst.
   * Each stop is recorded at its simulated instant whatever the server's clock says, so load never shows in a report.
   */
  private async advanceTo(target: number): Promise<void> {
    for (;;) {
      const here = this.anchors.at(-1)!.target;
      const now = await this.server.now();
      const [first] = this.timerStops(now);
      let stop: TimerStop;
      if (here < target) {
        stop =
          first && first.logical <= target
            ? { logical: Math.max(here, first.logical), server: first.server }
            : { logical: target, server: target };
      } else if (first && first.logical <= here + GUARD_MS) {
        stop = { logical: Math.max(here, first.logical), server: first.server };
      } else return;
      this.anchors.at(-1)!.to = now;
      if (stop.server > now) await this.server.sleep(stop.server - now);
      this.anchors.push({ target: stop.logical, from: Math.max(now, stop.server) });
      this.report(await this.settle());
    }
  }

  /** Keeps the state read at a stop and shows what is new in the timeline. */
  private report({ timeline }: IncidentState): void {
    for (const event of timeline.slice(this.emitted)) {
      if (event.type === 'phase_started') this.shownPhase = event.phase;
      if (event.type === 'escalated') this.shownLevel = event.toLevel;
      this.progress(
        'event',
        this.offsetOf(event.at),
        normaliseText(describeEvent(event), this.openedAt, this.offsetOf),
      );
    }
    this.emitted = Math.max(this.emitted, timeline.length);
  }

  private progress(kind: DrillProgress['kind'], at: number, text: string): void {
    this.onProgress?.({ at, atLabel: offsetLabel(at), phase: this.shownPhase, level: this.shownLevel, kind, text });
  }

  /**
   * Status and timeline. A query to a closed workflow replays its history on a worker, and on the time-skipping
   * server such a query sometimes hangs until the connection is reset; so reads carry a deadline and are retried,
   * and once the incident has closed its final state is read once and kept.
   * That replay is also why the timeline read live is kept: an event's time is the workflow's clock when it was
   * recorded, and a replay may deliver signals that arrived together with a later task (seen: a step reported at
   * +20m replayed at the next stop, +22m, whenever the worker had taken two step signals in one task). So the events
   * seen while the incident ran keep their live times; only those recorded at the close come from the replay.
   */
  private async readState(): Promise<IncidentState> {
    if (this.finalState) return this.finalState;
    const closed = this.incidentClosed;
    for (let attempt = 1; ; attempt++) {
      try {
        const state = await this.client.withDeadline(Date.now() + QUERY_DEADLINE_MS, async () => {
          const [status, timeline] = await Promise.all([
            this.incidents.status(DRILL_INCIDENT_ID),
            this.incidents.timeline(DRILL_INCIDENT_ID),
          ]);
          return { status, timeline };
        });
        if (!closed) {
          this.liveTimeline = state.timeline;
          return state;
        }
        this.finalState = { status: state.status, timeline: withLiveTimes(this.liveTimeline, state.timeline) };
        return this.finalState;
      } catch (error) {
        if (attempt >= QUERY_ATTEMPTS) {
          throw new Error(
            `drill ${this.scenario.id}: cannot read the incident's state after ${attempt} attempts: ${(error as Error).message}`,
            {
              cause: error,
            },
          );
        }
      }
    }
  }

  /**
   * Waits (wall clock) until nothing is in flight in the incident or its running phase, twice in a row, and no timer
   * is past due without having fired; returns the state read then.
   */
  private async settle(): Promise<IncidentState> {
    const deadline = Date.now() + SETTLE_LIMIT_MS;
    let previous: string | undefined;
    for (;;) {
      const snapshot = await this.snapshot();
      if (snapshot !== undefined && snapshot === previous) {
        const now = await this.server.now();
        const overdue = this.watched
          .flatMap((id) => this.facts.get(id)?.timers.map((t) => t.firesAt) ?? [])
          .filter((t) => t <= now);
        if (overdue.length === 0) return this.readState();
        this.busy = `timer(s) due at ${overdue.map((t) => offsetLabel(Math.floor((t - this.openedAt) / 1000))).join(', ')} not fired yet`;
        previous = undefined;
      } else previous = snapshot;
      if (Date.now() > deadline) {
        throw new Error(
          `drill ${this.scenario.id}: the incident did not settle within ${SETTLE_LIMIT_MS / 1000} s of wall time: ${this.busy}`,
        );
      }
      await delay(10);
    }
  }

  /** The history lengths of the incident and its running children when all are quiet; undefined when busy. */
  private async snapshot(): Promise<string | undefined> {
    const ids = [DRILL_INCIDENT_ID];
    const parts: string[] = [];
    let busy = false;
    for (let k = 0; k < ids.length; k++) {
      const id = ids[k]!;
      const handle = this.client.workflow.getHandle(id);
      let description;
      try {
        description = await handle.describe();
      } catch (error) {
        this.busy = `cannot describe ${id}: ${(error as Error).message}`;
        return undefined;
      }
      const raw = description.raw;
      if (id === DRILL_INCIDENT_ID && description.status.name !== 'RUNNING') this.incidentClosed = true;
      for (const child of raw.pendingChildren ?? []) if (child.workflowId) ids.push(child.workflowId);
      const pending = raw.pendingActivities ?? [];
      if (pending.length > 0) {
        busy = true;
        this.busy = `${id} has activities in flight: ${pending
          .map(
            (a) =>
              `${a.activityType?.name} (attempt ${a.attempt}${a.lastFailure?.message ? `, last failure: ${a.lastFailure.message}` : ''})`,
          )
          .join('; ')}`;
      }
      const length = description.historyLength;
      parts.push(`${id}:${length}`);
      let facts = this.facts.get(id);
      if (!facts || facts.length !== length) {
        facts = historyFacts(id, await handle.fetchHistory());
        this.facts.set(id, facts);
      }
      if (facts.inFlight.length > 0) {
        busy = true;
        this.busy = `${id} has in flight: ${facts.inFlight.join('; ')}`;
      }
    }
    this.watched = ids;
    return busy ? undefined : parts.join(',');
  }
}
