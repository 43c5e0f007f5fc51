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
import { tsToMs } from '@temporalio/common/lib/time';
import proto from '@temporalio/proto';
import { Worker, type WorkflowBundle } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { readDrillCalls } from '../../activities/drill-recorder';
import { describeEvent } from '../format';
import { IncidentClient, UpdateRefusedError } from '../client';
import { buildConfig, type EngineConfig } from '../config';
import type { DrillScenario, ScriptEntry } from '../../domain/drill';
import { type Phase, type TimelineEvent } from '../../domain/incident';
import { OpenRequest } from '../../domain/messages';
import type { RunbookPlan } from '../../domain/runbook';
import { bundleWorkflows } from '../worker';
import type { IncidentInput, IncidentStatusView } from '../../workflows/definitions';
import { resolveRunbook } from './load';
import {
  type DrillReport,
  type ObservedCall,
  type ScriptOutcome,
  buildReport,
  normaliseText,
  offsetLabel,
} from './report';
import { type DrillServer, startDrillServer } from './server';
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
  startServer?: () => Promise<DrillServer>;
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
/** The last event of a workflow that has nothing in flight: its last task completed, or it is closed. */
const QUIET_LAST_EVENTS = new Set<number>([
  EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
  EventType.EVENT_TYPE_TIMER_STARTED,
  EventType.EVENT_TYPE_TIMER_CANCELED,
  EventType.EVENT_TYPE_MARKER_RECORDED,
  EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
  EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
]);

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

/** One stop of the clock: the instant the runner stood at, from when until when (server time). */
interface Anchor {
  target: number;
  from: number;
  to?: number;
}

export async function runDrill(scenario: DrillScenario, options: DrillRunOptions = {}): Promise<DrillReport> {
  const execution = executionFor(scenario, options);
  const plan = options.plan ?? resolveRunbook(scenario.runbook, options.runbookDir);
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
  const activities = stagingTargets
    ? technicalActivities(config, stagingTargets, performed)
    : createActivities({ config });

  let server: DrillServer | undefined;
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  try {
    const bundle = options.workflowBundle ?? (await bundleWorkflows());
    server = await (options.startServer ?? startDrillServer)();
    worker = await Worker.create({
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
  /** Server time at which it fires (epoch ms). */
  firesAt: number;
}

/** What the runner learns from one workflow's history: whether it is quiet, and its pending timers. */
interface HistoryFacts {
  length: number;
  quiet: boolean;
  lastEvent: string;
  timers: PendingTimer[];
}

function historyFacts(workflowId: string, history: History): HistoryFacts {
  const events = history.events ?? [];
  const started = new Map<string, PendingTimer>();
  for (const event of events) {
    const start = event.timerStartedEventAttributes;
    if (start?.timerId) {
      const at = tsToMs(event.eventTime);
      started.set(start.timerId, {
        workflowId,
        timerId: start.timerId,
        firesAt: at + tsToMs(start.startToFireTimeout),
      });
    }
    const done = event.timerFiredEventAttributes?.timerId ?? event.timerCanceledEventAttributes?.timerId;
    if (done) started.delete(done);
  }
  const last = events.at(-1);
  const type = last?.eventType as number | undefined;
  return {
    length: events.length,
    quiet: type !== undefined && QUIET_LAST_EVENTS.has(type),
    lastEvent: type === undefined ? 'none' : (EventType[type] ?? String(type)),
    timers: [...started.values()],
  };
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
  readonly offsetOf = (ms: number): number => {
    for (let i = this.anchors.length - 1; i >= 0; i--) {
      const anchor = this.anchors[i]!;
      if (ms < anchor.from) continue;
      if (anchor.to === undefined || ms <= anchor.to) return Math.floor((anchor.target - this.openedAt) / 1000);
      break;
    }
    return Math.floor((ms - this.openedAt) / 1000);
  };

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

  /** Every timer armed in the watched workflows and not fired yet, by when it fires. */
  private pendingTimers(): number[] {
    return this.watched.flatMap((id) => this.facts.get(id)?.timers.map((t) => t.firesAt) ?? []).sort((a, b) => a - b);
  }

  /**
   * Moves the clock to `target`, stopping at every timer armed on the way (escalations, approval and task timeouts,
   * status updates), so each one's consequences are settled before time moves on. Then, before the caller acts at
   * `target`, it also lets fire any timer due within GUARD_MS after it: the clock runs on in real time while an event
   * is applied, and a timer firing in the middle of an update is what the time-skipping server handles worst.
   */
  private async advanceTo(target: number): Promise<void> {
    for (;;) {
      const now = await this.server.now();
      const upcoming = this.pendingTimers().filter((t) => t > now);
      let next: number;
      if (now < target) next = Math.min(target, upcoming[0] ?? Number.POSITIVE_INFINITY);
      else if (upcoming[0] !== undefined && upcoming[0] <= now + GUARD_MS) next = upcoming[0];
      else return;
      this.anchors.at(-1)!.to = now;
      await this.server.sleep(Math.max(1, next - now));
      this.anchors.push({ target: next, from: next });
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
        if (closed) this.finalState = state;
        return state;
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
        const overdue = this.pendingTimers().filter((t) => t <= now);
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
      if (!facts.quiet) {
        busy = true;
        this.busy = `${id}'s last event is ${facts.lastEvent}`;
      }
    }
    this.watched = ids;
    return busy ? undefined : parts.join(',');
  }
}
