// The Incident: the state of one incident and every rule about it, without Temporal. It owns the lifecycle (the
// Stage type and its transition table), what each operator update may do in each state (its refusal rule) and what
// it changes (its apply function), the timeline, the escalation facts, the steps the phase children report and the
// order compensation undoes them in. The workflow (workflow.ts) wires it to handlers, timers and children; the hooks
// are its only way out (search attributes, notifications, signals), called in the order the workflow has always
// issued those commands, so recorded histories replay. Unit-tested without a server (test/unit/incident-*.test.ts).
import { ApplicationFailure } from '@temporalio/common';
import type { z } from 'zod';
import type { StepFacts } from '../../domain/condition';
import { type FiredEscalation, runEscalations } from '../../domain/escalation';
import {
  type IncidentState,
  type FollowUp,
  type IncidentStatus,
  type Phase,
  PHASES,
  type StepResult,
  type TimelineEvent,
  classifiedApart,
  classify,
  incidentMetrics,
  mergeAlertLabels,
} from '../../domain/incident';
import type { IncidentNotice } from '../../domain/actions';
import { type AlertCounts, allAlertsResolved, emptyAlertBook, observeAlert } from '../../domain/alert-book';
import { ACTIONS, isActionName } from '../../domain/actions';
import { type ReminderIncident, followUpDueNotice } from '../../domain/follow-up-reminder';
import { MAX_LIST_ITEMS, MAX_RECORDS_BYTES, MAX_UPDATE_HISTORY_EVENTS } from '../../domain/limits';
import { jsonBytes } from '../../domain/utf8';
import { type AlertSignalInput, LESSON_KINDS, dueAtOf } from '../../domain/messages';
import type { ApiRole } from '../../domain/roles';
import type { PlanStep } from '../../domain/runbook';
import { describeSeverity, severityRank } from '../../domain/severity';
import { formatDuration } from '../../domain/duration';
import { describeRecurrence } from '../../domain/recurrence';
import { statusUpdateMessage } from '../../domain/status-updates';
import { usesAlertTemplates } from '../../domain/template';
import { FINISHING_UPDATES, UPDATES, type UpdateInput, type UpdateName } from '../../domain/updates';
import type { IncidentInput, IncidentStatusView, StepDecision, StepEvent, WaitingStep } from '../definitions';
import type { PhaseInput, PhaseResult } from '../steps';
import type { CarriedIncident, PhaseEnd } from './carried';

/**
 * Where the incident is in its life. Together with `status` (active, resolved, false_positive, failed, closed) this
 * is the whole state machine; docs/ARCHITECTURE.md draws it.
 */
export type Stage =
  | 'opened' // created, no phase started yet
  | 'phase_starting' // a phase child is being started (it cannot take signals yet)
  | 'phase_running' // the phase child runs its steps
  | 'phase_done' // the phase child ended
  | 'awaiting_advance' // a manual phase is done and waits for advancePhase (or a resolve, or a false positive)
  | 'compensating' // undoing completed steps, newest first (false positive or failed phase)
  | 'closed'; // ended; takes no more updates

/** Which stage may follow which. Anything else is a bug in the workflow, not an operator's mistake. */
export const STAGE_TRANSITIONS: Readonly<Record<Stage, readonly Stage[]>> = {
  opened: ['phase_starting'],
  phase_starting: ['phase_running', 'phase_done'],
  phase_running: ['phase_done'],
  phase_done: ['awaiting_advance', 'phase_starting', 'compensating', 'closed'],
  awaiting_advance: ['phase_starting', 'compensating', 'closed'],
  compensating: ['closed'],
  closed: [],
};

/**
 * Which status may follow which; failed and closed are final. A false positive becomes failed only when a critical
 * step failed before the stop reached the running phase.
 */
export const STATUS_TRANSITIONS: Readonly<Record<IncidentStatus, readonly IncidentStatus[]>> = {
  active: ['resolved', 'false_positive', 'failed', 'closed'],
  resolved: ['failed', 'closed'],
  false_positive: ['failed'],
  failed: [],
  closed: [],
};

/** Who an automatic resolve is recorded as (a runbook's `autoResolve`). */
export const AUTO_RESOLVER = 'auto-resolve';

export const TERMINAL: readonly IncidentStatus[] = ['closed', 'false_positive', 'failed'];

/** What the Incident asks of the workflow: each is one command (or none) in the history. */
export interface IncidentHooks {
  /** Upsert the search attributes from the state. */
  publish(): void;
  /** Notify an escalation's audience (an activity). */
  notify(fired: FiredEscalation): void;
  /** Send the running phase fresh facts (phaseFacts signal). */
  sendFacts(phase: Phase, facts: StepFacts): void;
  /** Cancel the running phase child (false positives before the false-positive-compensates patch). */
  cancelPhase(): void;
  /** Send a notification about the incident to its internal audience (the notifyIncident activity). */
  tell?(notice: IncidentNotice): void;
  /** Events in the incident's history so far (workflowInfo().historyLength): the update budget reads it. */
  historyLength?(): number;
}

/** The patched() decisions the Incident's rules depend on (workflows/patches.ts); each asked at most once. */
export interface IncidentPatches {
  alertLabels(): boolean;
  /** Alerts can raise the severity, tell when all resolved, and recur after resolution (alert-lifecycle). */
  alertLifecycle?(): boolean;
  /** An opening alert's labels count in the severity (combined-severity). */
  combinedSeverity?(): boolean;
  /** Without labels, both documents' event-type criteria count too (severity-without-labels). */
  severityWithoutLabels?(): boolean;
  /** Updates without an API role are marked break-glass on the timeline. */
  senderRecorded(): boolean;
  falsePositiveCompensates(): boolean;
  phaseFailureCompensates(): boolean;
}

/** What the workflow still has to do for an accepted update before it answers. */
export type UpdateEffect =
  | { kind: 'answer' }
  /** Answer once the handler's turn is over (a false positive that cancelled the running phase). */
  | { kind: 'cancelled' }
  /** Answer once this holds (advancePhase: the phase has moved). */
  | { kind: 'wait'; until: () => boolean }
  /** Stop the running phase (if `phase`), then answer once closed (false positive with compensation). */
  | { kind: 'stop'; phase?: Phase; reason: string }
  /** Forward a decision to the phase waiting on the step; answer once it applied it. */
  | { kind: 'decide'; decision: StepDecision };

/** An internal status update's notification (the notifyIncident activity's input). */
export interface StatusUpdateNotice {
  incidentId: string;
  audience: 'internal';
  severity: IncidentState['severity'];
  subject: string;
  text: string;
  kind: 'status_update';
  drill: boolean;
  idempotencyKey: string;
}

/** The message of the innermost failure: the activity's or child's own words, not the wrapper's. */
export function failureMessage(error: unknown): string {
  let current: unknown = error;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}

/** Refuses an update: the reason reaches the caller, the incident is unchanged. */
export function refuse(message: string): never {
  throw ApplicationFailure.create({ type: 'UpdateRefused', message, nonRetryable: true });
}

/**
 * Parses an update's input with its schema; bad input is refused naming each field and what was expected. A
 * `recorded` update (replayed: no validator ran) is parsed under the bounds it was accepted with (UpdateSpec.recorded).
 */
export function parseUpdate<N extends UpdateName>(name: N, raw: unknown, recorded = false): UpdateInput<N> {
  const spec: { input: z.ZodType; recorded?: z.ZodType } = UPDATES[name];
  const schema = (recorded ? (spec.recorded ?? spec.input) : spec.input) as z.ZodType<UpdateInput<N>>;
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => (i.path.length ? `${i.path.map(String).join('.')}: ` : '') + i.message);
  refuse(`invalid input: ${issues.join('; ')}`);
}

/** Refuses an update the sender's API role or runbook roles may not send: the API answers 403. */
export function forbid(message: string): never {
  throw ApplicationFailure.create({ type: 'UpdateForbidden', message, nonRetryable: true });
}

/** The sender fields every update input carries (domain/messages.ts, SENDER_FIELDS). */
interface Sender {
  by: string;
  apiRole?: ApiRole;
  runbookRoles?: string[];
}

type Rules = { [N in UpdateName]: (input: UpdateInput<N>) => void };
type Appliers = { [N in UpdateName]: (input: UpdateInput<N>) => UpdateEffect };

const ANSWER: UpdateEffect = { kind: 'answer' };

export class Incident {
  readonly incidentId: string;
  readonly state: IncidentState;
  readonly timeline: TimelineEvent[];
  /** Timeline events of earlier runs not carried into this one (carried.ts): the export has them. */
  readonly timelineOmitted: number;
  /** This run's number: 1, then one more each time the incident continues as new. */
  readonly runs: number;
  /** Bumped on every change: wakes the workflow's loops so every deadline is re-armed at once. */
  version = 0;
  nextEscalationAt: number | undefined;
  private stageNow: Stage = 'opened';
  private advanceRequested = false;
  /** Steps that wait for a person, in request order; `deciding` while a decision is being applied. */
  private readonly waiting = new Map<string, WaitingStep & { deciding?: boolean }>();
  /** How a forwarded decision ended, for the update that waits on it. */
  private readonly settled = new Map<string, 'decided' | 'timed_out'>();
  private readonly acceptedSteps = new Set<string>();
  private lastFactsSent: string | undefined;
  private readonly basis: 'opener' | 'assessment';
  /** Since when every alert has been resolved (the alert stream's counts), while none fired again. */
  private alertsQuietSince: number | undefined;
  /** How the running phase's child said it ended (phase_ended), for a run that did not start it. */
  phaseEnd: PhaseEnd | undefined;
  /** Internal status updates sent, and the instant the last one spoke as of (timers.ts keeps the cadence). */
  readonly statusUpdates: { sent: number; lastAt: number };
  /** The latest deadline whose timer has fired: the workflow clock is never taken to be before it (clockAtLeast). */
  private clockFloor = 0;

  /** A new incident, or (with `carried`) the same incident in the next run after it continued as new. */
  constructor(
    readonly input: IncidentInput,
    private readonly clock: () => number,
    private readonly hooks: IncidentHooks,
    private readonly patches: IncidentPatches,
    carried?: CarriedIncident,
  ) {
    this.incidentId = input.incidentId;
    if (carried) {
      this.state = carried.state;
      this.timeline = carried.timeline;
      this.timelineOmitted = carried.timelineOmitted;
      this.runs = carried.run + 1;
      this.version = carried.version;
      this.nextEscalationAt = carried.nextEscalationAt;
      this.stageNow = carried.stage;
      this.advanceRequested = carried.advanceRequested;
      for (const step of carried.waiting) this.waiting.set(step.stepId, step);
      for (const stepId of carried.acceptedSteps) this.acceptedSteps.add(stepId);
      this.lastFactsSent = carried.lastFactsSent;
      this.basis = carried.basis;
      this.alertsQuietSince = carried.alertsQuietSince;
      this.phaseEnd = carried.phaseEnd;
      this.statusUpdates = { ...carried.statusUpdates };
      return;
    }
    this.timeline = [];
    this.timelineOmitted = 0;
    this.runs = 1;
    const { plan } = input;
    const openedAt = clock();
    this.statusUpdates = { sent: 0, lastAt: openedAt };
    // An alert's labels count once the combined-severity patch is in (asked only when there are labels); without
    // labels, both documents' criteria count once severity-without-labels is in (asked only where they differ).
    const labels =
      input.labels !== undefined
        ? patches.combinedSeverity?.()
          ? input.labels
          : undefined
        : classifiedApart(input.eventType, input.severity) && patches.severityWithoutLabels?.()
          ? {}
          : undefined;
    const classification = classify(input.eventType, input.severity, labels);
    this.basis = classification.basis;
    this.state = {
      incidentId: input.incidentId,
      title: input.title,
      runbookId: plan.id,
      runbookVersion: plan.version,
      runbookHash: plan.contentHash,
      category: input.category ?? plan.category,
      eventType: input.eventType,
      severity: classification.severity,
      status: 'active',
      phase: 'detect',
      awaitingAdvance: false,
      drill: input.drill ?? false,
      startedAt: Math.min(input.startedAt ?? openedAt, openedAt),
      openedAt,
      dataBreachConfirmed: input.eventType === 'data_breach',
      executiveAttentionRequested: false,
      affectedSystems: [...new Set(input.affectedSystems ?? [])],
      alertLabels: mergeAlertLabels({}, input.labels),
      ...(input.source !== undefined ? { alertSource: input.source } : {}),
      ...(input.recurrenceOf ? { recurrenceOf: input.recurrenceOf } : {}),
      escalation: { level: 0, levelSince: openedAt, levelAcknowledged: false, fired: [] },
      phases: {},
      steps: [],
      evidence: [],
    };
  }

  /** The workflow clock, never before a deadline whose timer has fired. */
  now(): number {
    return Math.max(this.clock(), this.clockFloor);
  }

  /**
   * A timer for `at` has fired, so it is at least `at`. Under load the SDK has been seen to wake a workflow by its
   * timer with the clock of its previous task (docs/DESIGN.md, "stale clock"): the incident then found nothing due and
   * armed the timer again, and the replay, with the right clock, failed. With a right clock this changes nothing.
   */
  clockAtLeast(at: number): void {
    this.clockFloor = Math.max(this.clockFloor, at);
  }

  // ---- lifecycle -------------------------------------------------------------------------------------------

  get stage(): Stage {
    return this.stageNow;
  }

  get terminal(): boolean {
    return TERMINAL.includes(this.state.status);
  }

  get isFalsePositive(): boolean {
    return this.state.status === 'false_positive';
  }

  get closed(): boolean {
    return this.stageNow === 'closed';
  }

  /** A phase is running its steps (its child is starting or started). */
  get phaseRunning(): boolean {
    return this.stageNow === 'phase_starting' || this.stageNow === 'phase_running';
  }

  /** The running phase's child exists and can take signals. */
  get childStarted(): boolean {
    return this.stageNow === 'phase_running';
  }

  private moveTo(stage: Stage): void {
    if (!STAGE_TRANSITIONS[this.stageNow].includes(stage)) {
      throw new Error(`incident ${this.incidentId}: no transition from ${this.stageNow} to ${stage}`);
    }
    this.stageNow = stage;
  }

  private setStatus(status: IncidentStatus): void {
    if (!STATUS_TRANSITIONS[this.state.status].includes(status)) {
      throw new Error(`incident ${this.incidentId}: no status change from ${this.state.status} to ${status}`);
    }
    this.state.status = status;
  }

  /** Records the opening, publishes the search attributes and fires what is due at once. */
  open(): void {
    const { state } = this;
    const at = state.openedAt;
    this.record({
      at,
      type: 'opened',
      severity: state.severity,
      eventType: state.eventType,
      trigger: this.input.trigger,
      title: state.title,
    });
    this.record({ at, type: 'classified', severity: state.severity, basis: this.basis });
    const recurs = state.recurrenceOf;
    if (recurs) {
      this.record({ at, type: 'recurrence_of', previousIncidentId: recurs.incidentId, resolvedAt: recurs.resolvedAt });
    }
    this.openingAlerts();
    this.hooks.publish();
    this.evaluateEscalations();
    if (recurs) this.openedAsRecurrence(recurs.incidentId, recurs.resolvedAt);
  }

  /**
   * The detector's alerts the incident opened with (an input only new openers set, so histories without it replay
   * unchanged): recorded as alerts arriving through its stream are, with their exact counts; the stream a later
   * alert starts counts them first (alert-stream.ts), so its counts include them.
   */
  private openingAlerts(): void {
    const alerts = this.input.alerts ?? [];
    if (alerts.length === 0) return;
    const book = emptyAlertBook();
    for (const alert of alerts) {
      observeAlert(book, alert, this.now());
      this.onAlert(alert);
    }
    this.onAlertCounts({ ...book.counts });
  }

  /** Opened within a resolved incident's enhanced-monitoring window: the owner is told and L1 is paged at least. */
  private openedAsRecurrence(previous: string, resolvedAt: number): void {
    const what = describeRecurrence(previous, resolvedAt, this.now());
    this.tell('recurrence', `Recurrence of ${previous}: ${this.incidentId}`, `${this.incidentId} is a ${what}.`, 1);
    if (this.state.escalation.level < 1) this.escalateTo(this.input.trigger, what, 1);
  }

  startPhase(phase: Phase): void {
    this.moveTo('phase_starting');
    this.phaseEnd = undefined;
    this.state.phase = phase;
    this.state.phases[phase] = { startedAt: this.now() };
    this.record({ at: this.now(), type: 'phase_started', phase });
    this.hooks.publish();
    this.changed();
    this.lastFactsSent = JSON.stringify(this.facts());
  }

  /** The input of the phase child. */
  phaseInput(phase: Phase): PhaseInput {
    return {
      incidentId: this.incidentId,
      phase,
      steps: this.input.plan.phases[phase].steps,
      drill: this.state.drill,
      context: this.context(),
      facts: this.facts(),
    };
  }

  phaseChildStarted(): void {
    this.moveTo('phase_running');
    this.sendFacts();
  }

  /** The child's result: records steps it did not report live; returns the failure, if a critical step failed. */
  phaseResult(phase: Phase, result: PhaseResult): string | undefined {
    // When the incident learns of it, as a live report is recorded: the child's own clock (endedAt) can fall before
    // events the incident recorded since, and a drill maps each time to the stop it happened at.
    for (const step of result.steps) this.acceptStep(phase, step, this.now());
    return result.failed ? `critical step "${result.failed.stepId}" failed: ${result.failed.error}` : undefined;
  }

  /** The child ended (or never started): its waits end with it. */
  phaseEnded(phase: Phase): void {
    this.moveTo('phase_done');
    for (const [stepId, entry] of this.waiting) if (entry.phase === phase) this.waiting.delete(stepId);
  }

  /**
   * After a phase: `stop` ends the phase loop (failed with compensation, or a compensating false positive), `wait`
   * holds until `advanceReady` (a manual phase), `next` goes on.
   */
  afterPhase(phase: Phase, failure: string | undefined): 'stop' | 'wait' | 'next' {
    if (failure !== undefined) {
      this.record({ at: this.now(), type: 'phase_failed', phase, error: failure });
      if (this.patches.phaseFailureCompensates()) {
        // The runbook could not be carried out: undo what it did and leave the rest to people.
        this.setStatus('failed');
        this.hooks.publish();
        this.changed();
        return 'stop';
      }
    }
    if (this.isFalsePositive && this.patches.falsePositiveCompensates()) return 'stop';
    // After a resolve, eradication and recovery finish their steps without waiting for an operator.
    const waitsForOperator =
      this.input.plan.phases[phase].advance === 'manual' &&
      !(this.state.status === 'resolved' && phase !== 'post-incident');
    if (waitsForOperator && !this.advanceRequested) {
      this.moveTo('awaiting_advance');
      this.state.awaitingAdvance = true;
      this.record({ at: this.now(), type: 'phase_completed', phase, awaitingAdvance: true });
      this.changed();
      return 'wait';
    }
    this.record({ at: this.now(), type: 'phase_completed', phase, awaitingAdvance: false });
    return 'next';
  }

  /** Whether advancing the awaited phase reaches the end of recovery (which resolves) with no manual phase between. */
  private advanceResolves(): boolean {
    const from = PHASES.indexOf(this.state.phase);
    const recover = PHASES.indexOf('recover');
    return (
      from <= recover &&
      PHASES.slice(from + 1, recover + 1).every((phase) => this.input.plan.phases[phase].advance !== 'manual')
    );
  }

  /** An awaited manual phase may move on: advancePhase or a resolve asked for it, or it was a false positive. */
  get advanceReady(): boolean {
    return this.advanceRequested || this.isFalsePositive;
  }

  /** Ends a phase that went on (or was advanced); false when a false positive ends the phase loop. */
  finishPhase(phase: Phase): boolean {
    this.state.awaitingAdvance = false;
    this.advanceRequested = false;
    if (this.isFalsePositive) return false;
    this.state.phases[phase] = { ...this.state.phases[phase], endedAt: this.now() };
    if (phase === 'recover' && this.state.status === 'active') {
      this.setStatus('resolved');
      this.state.resolvedAt = this.now();
      this.record({ at: this.now(), type: 'resolved', summary: 'recovery completed' });
    }
    this.changed();
    return true;
  }

  /** Whether the incident undoes its completed steps before closing, and why. */
  compensationReason(): 'false_positive' | 'phase_failed' | undefined {
    if (this.state.status === 'failed') return 'phase_failed';
    if (this.isFalsePositive && this.patches.falsePositiveCompensates()) return 'false_positive';
    return undefined;
  }

  /** The completed steps that have an undo, newest first, across every phase that ran; records the start. */
  compensation(reason: 'false_positive' | 'phase_failed'): { step: StepResult; planned?: PlanStep }[] {
    const undoable = this.state.steps.filter((step) => step.status === 'completed' && step.undo);
    if (undoable.length === 0) return [];
    this.moveTo('compensating');
    const order = [...undoable].reverse();
    this.record({ at: this.now(), type: 'compensation_started', reason, steps: order.map((step) => step.stepId) });
    return order.map((step) => ({ step, planned: this.findStep(step.stepId)?.step }));
  }

  /** How one undo went: `error` when it failed (the rest still run). */
  compensated(step: StepResult, error?: string): void {
    const undo = step.undo!.action;
    const { phase, stepId, action } = step;
    if (error === undefined) this.record({ at: this.now(), type: 'step_compensated', phase, stepId, action, undo });
    else this.record({ at: this.now(), type: 'compensation_failed', phase, stepId, action, undo, error });
  }

  close(): void {
    this.moveTo('closed');
    if (this.state.status !== 'false_positive' && this.state.status !== 'failed') this.setStatus('closed');
    this.state.closedAt = this.now();
    this.record({ at: this.now(), type: 'closed', status: this.state.status });
    this.hooks.publish();
    this.version++;
  }

  /** Everything the next run needs, as of now; see carried.ts for the size bound. */
  carry(): CarriedIncident {
    return {
      run: this.runs,
      state: this.state,
      timeline: this.timeline,
      timelineOmitted: this.timelineOmitted,
      version: this.version,
      ...(this.nextEscalationAt !== undefined ? { nextEscalationAt: this.nextEscalationAt } : {}),
      stage: this.stageNow,
      advanceRequested: this.advanceRequested,
      waiting: [...this.waiting.values()],
      acceptedSteps: [...this.acceptedSteps],
      ...(this.lastFactsSent !== undefined ? { lastFactsSent: this.lastFactsSent } : {}),
      basis: this.basis,
      ...(this.alertsQuietSince !== undefined ? { alertsQuietSince: this.alertsQuietSince } : {}),
      ...(this.phaseEnd ? { phaseEnd: this.phaseEnd } : {}),
      statusUpdates: { ...this.statusUpdates },
    };
  }

  /** A decision is being forwarded to the running phase: the run may not continue as new before it settles. */
  get deciding(): boolean {
    return [...this.waiting.values()].some((step) => step.deciding === true);
  }

  // ---- what clients read -----------------------------------------------------------------------------------

  view(): IncidentStatusView {
    return {
      ...this.state,
      metrics: incidentMetrics(this.state),
      ...(this.nextEscalationAt !== undefined ? { nextEscalationAt: this.nextEscalationAt } : {}),
      waitingSteps: [...this.waiting.values()].map(({ deciding: _deciding, ...step }) => step),
      ...(this.runs > 1 ? { runs: this.runs } : {}),
      ...(this.timelineOmitted > 0 ? { timelineOmitted: this.timelineOmitted } : {}),
    };
  }

  record(event: TimelineEvent): void {
    this.timeline.push(event);
  }

  // ---- operator updates: the refusal rule and the apply function of each, keyed like domain/updates.ts -----------

  /** Throws the refusal when `name` may not be applied now (the validator); the incident is unchanged. */
  check<N extends UpdateName>(name: N, input: UpdateInput<N>): void {
    const { by, apiRole } = input as Sender;
    const roles = UPDATES[name].roles;
    if (apiRole !== undefined && !roles.includes(apiRole)) {
      forbid(`${name} needs an API role of ${roles.join(' or ')}; ${by} has ${apiRole}`);
    }
    (this.rules[name] as (input: UpdateInput<N>) => void)(input);
    this.checkHistoryBudget(name);
  }

  /** Past MAX_UPDATE_HISTORY_EVENTS only the updates that finish the incident are taken (a refusal adds no event). */
  private checkHistoryBudget(name: UpdateName): void {
    const events = this.hooks.historyLength?.() ?? 0;
    if (events < MAX_UPDATE_HISTORY_EVENTS || UPDATES[name].finishes) return;
    refuse(
      `incident ${this.incidentId} has ${events} events in its history, past the ${MAX_UPDATE_HISTORY_EVENTS} after ` +
        `which only updates that finish it are taken (Temporal ends a workflow at 51,200 events); still taken: ` +
        FINISHING_UPDATES.join(', '),
    );
  }

  /** Applies an accepted update; says what the workflow still has to do before answering. */
  apply<N extends UpdateName>(name: N, input: UpdateInput<N>): UpdateEffect {
    const from = this.timeline.length;
    const stamp = this.senderStamp(input as Sender);
    const effect = (this.appliers[name] as (input: UpdateInput<N>) => UpdateEffect)(input);
    // The events the sender caused now; a decision's are recorded when the phase applies it (StepDecision carries it).
    for (const event of this.timeline.slice(from)) if (event.by === (input as Sender).by) Object.assign(event, stamp);
    return effect.kind === 'decide' ? { ...effect, decision: { ...effect.decision, ...stamp } } : effect;
  }

  /** What the timeline records about the sender: its API role, or break-glass when it came straight to Temporal. */
  private senderStamp({ apiRole }: Sender): { apiRole?: ApiRole; breakGlass?: true } {
    if (apiRole !== undefined) return { apiRole };
    // Incidents from before the sender was recorded keep their timelines as they were.
    return this.patches.senderRecorded() ? { breakGlass: true } : {};
  }

  /** Commander only, when the sender's API role is known; break-glass updates are recorded instead. */
  private requireCommander({ by, apiRole }: Sender, what: string): void {
    if (apiRole !== undefined && apiRole !== 'commander') {
      forbid(`${by} has API role ${apiRole}, which may not ${what}; that needs a commander key`);
    }
  }

  private refuseIfClosed(): void {
    if (this.terminal) refuse(`incident ${this.incidentId} is ${this.state.status.replace('_', ' ')}`);
  }

  private readonly rules: Rules = {
    acknowledge: () => {
      this.refuseIfClosed();
      if (this.state.status === 'resolved') refuse(`incident ${this.incidentId} is already resolved`);
      if (this.state.escalation.levelAcknowledged) {
        const level = this.state.escalation.level;
        refuse(
          `incident ${this.incidentId} is already acknowledged at level ${level}` +
            (this.state.acknowledgedBy && level === 0 ? ` by ${this.state.acknowledgedBy}` : ''),
        );
      }
    },
    setSeverity: (input) => {
      this.refuseIfClosed();
      if (input.severity === this.state.severity) refuse(`severity is already ${describeSeverity(input.severity)}`);
      if (this.state.severity === 'P0') this.requireCommander(input, `lower ${this.incidentId} from P0`);
    },
    recordRootCause: () => this.refuseIfClosed(),
    assignOwner: ({ owner }) => {
      this.refuseIfClosed();
      if (this.state.owner === owner) refuse(`${owner} already owns incident ${this.incidentId}`);
    },
    escalate: ({ level }) => {
      this.refuseIfClosed();
      const target = level ?? Math.min(3, this.state.escalation.level + 1);
      if (target === 3 && this.state.executiveAttentionRequested) refuse('executive attention was already requested');
      if (target !== 3 && target <= this.state.escalation.level) {
        refuse(`incident ${this.incidentId} is already at escalation level ${this.state.escalation.level}`);
      }
    },
    updateImpact: ({ dataBreachConfirmed }) => {
      this.refuseIfClosed();
      if (dataBreachConfirmed === false && this.state.dataBreachConfirmed) {
        refuse('a confirmed data breach cannot be withdrawn');
      }
    },
    advancePhase: (input) => {
      this.refuseIfClosed();
      if (this.state.awaitingAdvance) {
        // The end of recovery resolves the incident: reaching it by hand is resolving a P0, a commander's call.
        if (this.state.severity === 'P0' && this.state.status === 'active' && this.advanceResolves()) {
          this.requireCommander(
            input,
            `advance ${this.incidentId}, a P0 incident, past ${this.state.phase}: the end of recovery resolves it`,
          );
        }
        return;
      }
      const waits = [...this.waiting.values()].map((w) => `${w.kind === 'task' ? 'task' : 'approval of'} ${w.stepId}`);
      refuse(
        this.phaseRunning
          ? `phase ${this.state.phase} is still running its steps` +
              (waits.length > 0 ? ` (waiting for ${waits.join(', ')})` : '')
          : `phase ${this.state.phase} advances by itself when its steps are done`,
      );
    },
    resolve: (input) => {
      this.refuseIfClosed();
      if (this.state.severity === 'P0') this.requireCommander(input, `resolve ${this.incidentId}, a P0 incident`);
      if (this.state.status === 'resolved') refuse(`incident ${this.incidentId} is already resolved`);
      if (this.state.phase === 'detect' || this.state.phase === 'contain') {
        refuse(`cannot resolve incident ${this.incidentId}: containment has not ended (phase is ${this.state.phase})`);
      }
    },
    declareFalsePositive: (input) => {
      this.refuseIfClosed();
      if (this.state.severity === 'P0') {
        this.requireCommander(input, `declare ${this.incidentId}, a P0 incident, a false positive`);
      }
      if (this.state.status === 'resolved') {
        refuse(`incident ${this.incidentId} is resolved; a resolved incident is not a false positive`);
      }
    },
    approveStep: (input) => {
      this.checkDecision('approval', input);
      // Decided from the pinned plan, so what the step does cannot change between the check and the approval.
      const { action } = this.findStep(input.stepId)!.step;
      if (isActionName(action) && ACTIONS[action].destructive === true) {
        this.requireCommander(
          input,
          `approve step "${input.stepId}" of ${this.incidentId}, whose action ${action} is destructive`,
        );
      }
    },
    rejectStep: (input) => this.checkDecision('approval', input),
    completeTask: (input) => this.checkDecision('task', input),
    addNote: (input) => this.checkRecord('notes', this.state.notes?.length ?? 0, 1, input),
    recordLessons: (input) => {
      const adding = Object.keys(LESSON_KINDS).reduce(
        (n, key) => n + (input[key as keyof typeof LESSON_KINDS]?.length ?? 0),
        0,
      );
      this.checkRecord('lessons', this.state.lessons?.length ?? 0, adding, input);
    },
    addFollowUp: (input) => this.checkRecord('follow-ups', this.state.followUps?.length ?? 0, 1, input),
    completeFollowUp: ({ followUpId }) => {
      this.refuseIfClosed();
      const followUps = this.state.followUps ?? [];
      const found = followUps.find((f) => f.id === followUpId);
      if (!found) {
        const ids = followUps.map((f) => f.id);
        refuse(
          `no follow-up "${followUpId}" on incident ${this.incidentId}; ` +
            (ids.length ? `its follow-ups are: ${ids.join(', ')}` : 'it has none'),
        );
      }
      if (found.doneAt !== undefined) {
        refuse(`follow-up "${followUpId}" was already completed by ${found.doneBy ?? '?'}`);
      }
    },
  };

  /**
   * Notes, lessons and follow-ups are taken until the incident ends, within the limit of each list and of their size
   * together: every answer carries them (the incident's view), and one answer is one payload.
   */
  private checkRecord(what: string, has: number, adding: number, input: unknown): void {
    this.refuseIfClosed();
    if (has + adding > MAX_LIST_ITEMS) {
      refuse(`incident ${this.incidentId} has ${has} ${what}; at most ${MAX_LIST_ITEMS} are kept`);
    }
    const { notes = [], lessons = [], followUps = [] } = this.state;
    const kept = jsonBytes([notes, lessons, followUps]);
    const more = jsonBytes(input);
    if (kept + more > MAX_RECORDS_BYTES) {
      const kib = (bytes: number) => `${Math.ceil(bytes / 1024)} KiB`;
      refuse(
        `incident ${this.incidentId} keeps ${kib(kept)} of notes, lessons and follow-ups; this update's ${what} ` +
          `(${kib(more)}) would take them past the ${kib(MAX_RECORDS_BYTES)} they may hold together ` +
          "(every answer carries them, within Temporal's 2 MB a payload)",
      );
    }
  }

  private readonly appliers: Appliers = {
    acknowledge: ({ by, note }) => {
      const { state } = this;
      state.acknowledgedAt ??= this.now();
      state.acknowledgedBy ??= by;
      state.escalation = { ...state.escalation, levelAcknowledged: true };
      this.record({
        at: this.now(),
        by,
        type: 'acknowledged',
        level: state.escalation.level,
        ...(note ? { note } : {}),
      });
      this.changed();
      return ANSWER;
    },
    setSeverity: ({ by, severity, reason }) => {
      const from = this.state.severity;
      this.state.severity = severity;
      this.record({ at: this.now(), by, type: 'severity_changed', from, to: severity, ...(reason ? { reason } : {}) });
      this.hooks.publish();
      this.changed();
      return ANSWER;
    },
    recordRootCause: ({ by, summary }) => {
      this.state.rootCause = { summary, by, at: this.now() };
      this.record({ at: this.now(), by, type: 'root_cause_recorded', summary });
      this.changed();
      return ANSWER;
    },
    assignOwner: ({ by, owner }) => {
      this.state.owner = owner;
      this.record({ at: this.now(), by, type: 'owner_assigned', owner });
      this.changed();
      return ANSWER;
    },
    escalate: ({ by, reason, level }) => {
      this.escalateTo(by, reason, level);
      return ANSWER;
    },
    updateImpact: ({ by, affectedSystems, dataBreachConfirmed }) => {
      const { state } = this;
      if (affectedSystems) state.affectedSystems = [...new Set([...state.affectedSystems, ...affectedSystems])];
      if (dataBreachConfirmed) state.dataBreachConfirmed = true;
      this.record({
        at: this.now(),
        by,
        type: 'impact_updated',
        affectedSystems: state.affectedSystems,
        dataBreachConfirmed: state.dataBreachConfirmed,
      });
      this.changed();
      return ANSWER;
    },
    advancePhase: ({ by, note }) => {
      const from = this.state.phase;
      const to = PHASES[PHASES.indexOf(from) + 1] ?? 'closed';
      this.record({ at: this.now(), by, type: 'phase_advanced', from, to, ...(note ? { note } : {}) });
      this.advanceRequested = true;
      this.version++;
      // Answer once the move has happened, so the caller sees the phase it asked for.
      return { kind: 'wait', until: () => this.state.phase !== from || this.terminal };
    },
    resolve: ({ by, summary }) => {
      this.setStatus('resolved');
      this.state.resolvedAt = this.now();
      this.record({ at: this.now(), by, type: 'resolved', ...(summary ? { summary } : {}) });
      if (this.state.awaitingAdvance) this.advanceRequested = true;
      this.hooks.publish();
      this.changed();
      return ANSWER;
    },
    declareFalsePositive: ({ by, reason }) => {
      this.setStatus('false_positive');
      this.record({ at: this.now(), by, type: 'false_positive', reason });
      if (this.patches.falsePositiveCompensates()) {
        // Stop the running phase rather than cancel it: it ends its waits, lets an activity in flight finish (so its
        // effect is known), and returns what ran; the phase loop then undoes completed steps and closes.
        const stopping = this.phaseRunning ? this.state.phase : undefined;
        this.hooks.publish();
        this.changed();
        return { kind: 'stop', ...(stopping ? { phase: stopping } : {}), reason: `declared a false positive by ${by}` };
      }
      this.hooks.cancelPhase();
      this.hooks.publish();
      this.changed();
      return { kind: 'cancelled' };
    },
    approveStep: ({ by, role, stepId, note }) => ({
      kind: 'decide',
      decision: { stepId, kind: 'approve', by, role, ...(note ? { note } : {}) },
    }),
    rejectStep: ({ by, role, stepId, reason }) => ({
      kind: 'decide',
      decision: { stepId, kind: 'reject', by, role, reason },
    }),
    completeTask: ({ by, role, stepId, note }) => ({
      kind: 'decide',
      decision: { stepId, kind: 'complete', by, ...(role ? { role } : {}), ...(note ? { note } : {}) },
    }),
    addNote: ({ by, text, finding }) => {
      const at = this.now();
      (this.state.notes ??= []).push({ at, by, text, ...(finding ? { finding } : {}) });
      this.record({ at, by, type: 'note_added', text, finding: finding ?? false });
      this.version++;
      return ANSWER;
    },
    recordLessons: (input) => {
      const at = this.now();
      const lessons = (this.state.lessons ??= []);
      const counts: Partial<Record<(typeof LESSON_KINDS)[keyof typeof LESSON_KINDS], number>> = {};
      for (const [key, kind] of Object.entries(LESSON_KINDS)) {
        const texts = input[key as keyof typeof LESSON_KINDS] ?? [];
        for (const text of texts) lessons.push({ at, by: input.by, kind, text });
        if (texts.length > 0) counts[kind] = texts.length;
      }
      this.record({ at, by: input.by, type: 'lessons_recorded', counts });
      this.version++;
      return ANSWER;
    },
    addFollowUp: ({ by, title, owner, due }) => {
      const at = this.now();
      const followUps = (this.state.followUps ??= []);
      const followUpId = `F${followUps.length + 1}`;
      const dueAt = dueAtOf(due);
      followUps.push({ id: followUpId, title, owner, dueAt, createdAt: at, createdBy: by });
      this.record({ at, by, type: 'follow_up_added', followUpId, title, owner, dueAt });
      this.version++;
      return ANSWER;
    },
    completeFollowUp: ({ by, followUpId, note }) => {
      const at = this.now();
      const followUp = this.state.followUps!.find((f) => f.id === followUpId)!;
      Object.assign(followUp, { doneAt: at, doneBy: by, ...(note ? { note } : {}) });
      const { title } = followUp;
      this.record({ at, by, type: 'follow_up_completed', followUpId, title, ...(note ? { note } : {}) });
      this.version++;
      return ANSWER;
    },
  };

  // ---- follow-up reminders ---------------------------------------------------------------------------------------

  /** The earliest due date of an open follow-up whose owner has not been reminded yet. */
  get nextFollowUpDueAt(): number | undefined {
    let next: number | undefined;
    for (const f of this.pendingReminders()) if (next === undefined || f.dueAt < next) next = f.dueAt;
    return next;
  }

  /** The follow-ups whose owner is still to be reminded: open and not reminded yet. */
  pendingReminders(): FollowUp[] {
    return (this.state.followUps ?? []).filter((f) => f.doneAt === undefined && f.remindedAt === undefined);
  }

  /** What a follow-up reminder says of this incident. */
  get reminderIncident(): ReminderIncident {
    const { severity, title, drill } = this.state;
    return { incidentId: this.incidentId, title, severity, drill };
  }

  /** Reminds the owner of every open follow-up that has fallen due, once each (the notifyIncident activity). */
  remindDueFollowUps(): void {
    const now = this.now();
    for (const f of this.pendingReminders()) {
      if (f.dueAt > now) continue;
      f.remindedAt = now;
      const { id: followUpId, title, owner, dueAt } = f;
      this.record({ at: now, type: 'follow_up_due', followUpId, title, owner, dueAt });
      this.hooks.tell?.(followUpDueNotice(this.reminderIncident, f));
    }
    this.version++;
  }

  // ---- steps that wait for a person -----------------------------------------------------------------------------

  /** Where a step stands, for a refusal: "completed", "skipped (...)", "not reached yet". */
  private stepState(stepId: string, phase: Phase): string {
    const done = this.state.steps.find((s) => s.stepId === stepId);
    if (done) {
      return `it ${done.status === 'completed' ? 'completed' : done.status === 'failed' ? 'failed' : 'was skipped'}`;
    }
    const order = PHASES.indexOf(phase) - PHASES.indexOf(this.state.phase);
    if (order > 0 || (order === 0 && this.phaseRunning))
      return `it has not been reached yet (phase ${this.state.phase})`;
    return 'it did not run';
  }

  /** The rule of approveStep, rejectStep and completeTask. */
  private checkDecision(kind: 'approval' | 'task', input: Sender & { stepId: string; role?: string }): void {
    const { stepId, role } = input;
    this.refuseIfClosed();
    const found = this.findStep(stepId);
    if (!found) {
      const steps = this.planSteps().map((s) => s.step.id);
      refuse(`no step "${stepId}" in runbook ${this.input.plan.id}; its steps are: ${steps.join(', ')}`);
    }
    const entry = this.waiting.get(stepId);
    if (!entry || entry.kind !== kind) {
      if (kind === 'approval' && !found.step.approval) refuse(`step "${stepId}" has no approval gate`);
      if (kind === 'task' && found.step.action !== 'task') {
        refuse(`step "${stepId}" is a ${found.step.action} step, not a task`);
      }
      const now = entry
        ? `it waits for ${entry.kind === 'task' ? 'completeTask' : 'approveStep or rejectStep'}`
        : this.stepState(stepId, found.phase);
      refuse(`step "${stepId}" is not waiting for ${kind === 'approval' ? 'approval' : 'completion'}: ${now}`);
    }
    if (entry.deciding) refuse(`a decision on step "${stepId}" is already being applied`);
    // A key bound to runbook roles acts only in those.
    if (input.runbookRoles !== undefined && role !== undefined && !input.runbookRoles.includes(role)) {
      const has = input.runbookRoles.length > 0 ? input.runbookRoles.join(', ') : 'none';
      forbid(`${input.by} may not act as "${role}"; the runbook roles of its key are: ${has}`);
    }
    if (entry.roles && entry.roles.length > 0) {
      const may = kind === 'approval' ? 'approve' : 'complete';
      if (role === undefined) {
        refuse(`step "${stepId}" needs a role to ${may} it; expected one of: ${entry.roles.join(', ')}`);
      }
      if (!entry.roles.includes(role)) {
        refuse(`role "${role}" may not ${may} step "${stepId}"; expected one of: ${entry.roles.join(', ')}`);
      }
    }
  }

  /** Marks a decision as being applied; returns the phase to forward it to. */
  beginDecision(decision: StepDecision): Phase {
    const entry = this.waiting.get(decision.stepId);
    if (!entry) refuse(`step "${decision.stepId}" is no longer waiting`);
    entry.deciding = true;
    this.settled.delete(decision.stepId);
    return entry.phase;
  }

  /** The phase applied the decision, or the step stopped waiting. */
  decisionSettled(stepId: string): boolean {
    return this.settled.has(stepId) || !this.waiting.has(stepId);
  }

  /** Answers the decision's update: refuses when the step timed out or stopped waiting before it got there. */
  finishDecision(stepId: string): void {
    const outcome = this.settled.get(stepId);
    if (outcome === 'decided') return;
    const current = this.waiting.get(stepId);
    if (current) current.deciding = false;
    refuse(
      outcome === 'timed_out'
        ? `step "${stepId}" timed out before the decision reached it`
        : `step "${stepId}" stopped waiting before the decision reached it`,
    );
  }

  /** What a phase child reports while it runs (stepEvent). */
  onStepEvent(event: StepEvent): void {
    const now = this.now();
    switch (event.type) {
      case 'result':
        this.acceptStep(event.result.phase, event.result, now);
        return;
      case 'phase_ended': {
        // Only the running phase's end counts: a late report of an earlier phase changes nothing.
        if (event.phase !== this.state.phase || !this.phaseRunning) return;
        const { type: _type, ...end } = event;
        this.phaseEnd = end;
        this.version++;
        return;
      }
      case 'waiting': {
        const { type: _type, ...entry } = event;
        this.waiting.set(event.stepId, { ...entry, since: now });
        this.settled.delete(event.stepId);
        const { phase, stepId } = event;
        const timeoutAt = event.timeoutAt !== undefined ? { timeoutAt: event.timeoutAt } : {};
        if (event.kind === 'approval') {
          const roles = event.roles ?? [];
          this.record({
            at: now,
            type: 'approval_requested',
            phase,
            stepId,
            action: event.action,
            roles,
            ...timeoutAt,
          });
        } else {
          const instructions = event.instructions ?? '';
          const roles = event.roles ? { roles: event.roles } : {};
          this.record({ at: now, type: 'task_requested', phase, stepId, instructions, ...roles, ...timeoutAt });
        }
        this.version++;
        return;
      }
      case 'timed_out':
        this.stepTimedOut(event);
        this.version++;
        return;
      case 'decided': {
        const { decision, phase } = event;
        const { stepId, by, role } = decision;
        this.waiting.delete(stepId);
        this.settled.set(stepId, 'decided');
        const note = {
          ...(decision.note ? { note: decision.note } : {}),
          ...(decision.apiRole ? { apiRole: decision.apiRole } : {}),
          ...(decision.breakGlass ? { breakGlass: decision.breakGlass } : {}),
        };
        if (decision.kind === 'approve') {
          this.record({ at: now, by, type: 'approval_granted', phase, stepId, role: role ?? '', ...note });
        } else if (decision.kind === 'reject') {
          const reason = decision.reason ?? '';
          this.record({ at: now, by, type: 'approval_rejected', phase, stepId, role: role ?? '', reason });
        } else {
          this.record({ at: now, by, type: 'task_completed', phase, stepId, ...(role ? { role } : {}), ...note });
        }
        this.version++;
        return;
      }
    }
  }

  private stepTimedOut(event: Extract<StepEvent, { type: 'timed_out' }>): void {
    const type = event.kind === 'approval' ? 'approval_timed_out' : 'task_timed_out';
    const { phase, stepId, onTimeout } = event;
    this.record({ at: this.now(), type, phase, stepId, onTimeout });
    const entry = this.waiting.get(stepId);
    if (event.stillWaiting && entry) {
      const { timeoutAt: _old, ...rest } = entry;
      this.waiting.set(stepId, { ...rest, ...(event.timeoutAt !== undefined ? { timeoutAt: event.timeoutAt } : {}) });
    } else {
      this.waiting.delete(stepId);
      this.settled.set(stepId, 'timed_out');
    }
    if (onTimeout === 'escalate' && !this.terminal) {
      // At the top already: nothing more to ask for; the step keeps waiting for its decision.
      const target = Math.min(3, this.state.escalation.level + 1);
      if (!(target === 3 && this.state.executiveAttentionRequested)) {
        const what = event.kind === 'approval' ? 'approval of' : 'task';
        const waitsFor = event.kind === 'approval' ? 'a decision' : 'completion';
        this.escalateTo('runbook', `${what} step "${stepId}" timed out waiting for ${waitsFor}`);
      }
    }
  }

  /** Records a step result once, whether it came live from the child or in the phase's result. */
  private acceptStep(phase: Phase, step: StepResult, at: number): void {
    if (this.acceptedSteps.has(step.stepId)) return;
    this.acceptedSteps.add(step.stepId);
    this.state.steps.push(step);
    const type =
      step.status === 'completed' ? 'step_completed' : step.status === 'failed' ? 'step_failed' : 'step_skipped';
    const detail = step.error ?? step.reason;
    this.record({ at, type, phase, stepId: step.stepId, action: step.action, ...(detail ? { detail } : {}) });
    const output = step.output as { archive?: string; sha256?: string } | undefined;
    if (step.status === 'completed' && output?.archive && output.sha256) {
      this.state.evidence.push({ stepId: step.stepId, archive: output.archive, sha256: output.sha256 });
    }
  }

  // ---- alerts ---------------------------------------------------------------------------------------------------

  /** A later alert for the incident (the alert signal, already parsed). */
  onAlert(alert: AlertSignalInput): void {
    const { state } = this;
    const labels = Object.keys(alert.labels).length > 0;
    this.record({
      at: this.now(),
      type: 'alert',
      status: alert.status,
      source: alert.source,
      summary: alert.summary,
      ...(alert.fingerprint ? { fingerprint: alert.fingerprint } : {}),
      ...(labels ? { labels: alert.labels } : {}),
    });
    // Only a firing alert names targets; a resolve says something stopped, not what to act on. The first value of a
    // label wins: a step that already read a label (or its `when` that tested it) never sees it change.
    if (alert.status === 'firing' && (labels || state.alertSource === undefined) && this.patches.alertLabels()) {
      const before = Object.keys(state.alertLabels).length;
      state.alertLabels = mergeAlertLabels(state.alertLabels, alert.labels);
      const sourceNew = state.alertSource === undefined;
      state.alertSource ??= alert.source;
      if (Object.keys(state.alertLabels).length !== before || sourceNew) this.sendFacts();
    }
    if (alert.status === 'firing' && !this.terminal && this.patches.alertLifecycle?.()) this.alertLifecycle(alert);
    if (alert.status === 'firing') this.alertsQuietSince = undefined;
    this.version++;
  }

  /** A firing alert with a higher severity raises the incident; one after resolution is a recurrence. */
  private alertLifecycle(alert: AlertSignalInput): void {
    const { state } = this;
    const by = `alert:${alert.source}`;
    const named = alert.fingerprint ? `alert ${alert.fingerprint}` : `alert "${alert.summary || alert.source}"`;
    if (alert.severity && severityRank(alert.severity) < severityRank(state.severity)) {
      const from = state.severity;
      state.severity = alert.severity;
      const reason = `${named} from ${alert.source} is ${describeSeverity(alert.severity)}`;
      this.record({ at: this.now(), by, type: 'severity_changed', from, to: alert.severity, reason });
      this.hooks.publish();
      this.changed();
    }
    if (state.status === 'resolved') {
      // Numbered after the recurrence the incident opened as, if it did (its notice is number 1).
      const n = this.timeline.filter((e) => e.type === 'alert_recurrence' || e.type === 'recurrence_of').length + 1;
      this.record({ at: this.now(), by, type: 'alert_recurrence', source: alert.source, summary: alert.summary });
      this.tell('recurrence', `Recurrence on ${this.incidentId}`, `${named} fired again after resolution.`, n);
      if (state.escalation.level < 1) this.escalateTo(by, `${named} recurred after resolution`, 1);
    }
  }

  /** The alert stream's exact counts; says so on the timeline and to the owner when every alert has resolved. */
  onAlertCounts(counts: AlertCounts): void {
    const wasResolved = this.state.alertCounts ? allAlertsResolved(this.state.alertCounts) : false;
    this.state.alertCounts = counts;
    const quietSince = allAlertsResolved(counts) ? (this.alertsQuietSince ?? this.now()) : undefined;
    // Wakes the auto-resolve timer; incidents whose runbook has none keep the commands they always had.
    if (quietSince !== this.alertsQuietSince && this.input.plan.autoResolve) this.version++;
    this.alertsQuietSince = quietSince;
    if (!wasResolved && allAlertsResolved(counts) && !this.terminal && this.patches.alertLifecycle?.()) {
      const n = this.timeline.filter((event) => event.type === 'alerts_resolved').length + 1;
      this.record({ at: this.now(), type: 'alerts_resolved', fingerprints: counts.fingerprints, alerts: counts.total });
      const owner = this.state.owner ? ` (owner: ${this.state.owner})` : '';
      this.tell(
        'alerts_resolved',
        `All alerts resolved on ${this.incidentId}${owner}`,
        `All ${counts.fingerprints} alerts behind the incident have resolved.`,
        n,
      );
    }
  }

  /**
   * When a runbook's `autoResolve` resolves the incident: `quietForMs` after every alert resolved, while it is active
   * and a resolve is allowed (containment has ended). Undefined while any of that does not hold.
   */
  autoResolveAt(quietForMs: number): number | undefined {
    if (this.alertsQuietSince === undefined || this.state.status !== 'active') return undefined;
    try {
      this.rules.resolve({ by: AUTO_RESOLVER });
    } catch {
      return undefined;
    }
    return this.alertsQuietSince + quietForMs;
  }

  /** Resolves as `auto-resolve` when the quiet period has passed (the auto-resolve timer fired). */
  autoResolve(quietForMs: number): void {
    const at = this.autoResolveAt(quietForMs);
    if (at === undefined || at > this.now()) return;
    const summary = `every alert resolved and none fired for ${formatDuration(quietForMs)}`;
    this.appliers.resolve({ by: AUTO_RESOLVER, summary });
  }

  /** Sends a notice to the internal audience (the tell hook: the workflow's notifyIncident). */
  sendNotice(notice: IncidentNotice): void {
    this.hooks.tell?.(notice);
  }

  private tell(kind: string, subject: string, text: string, n: number): void {
    this.hooks.tell?.({
      incidentId: this.incidentId,
      audience: 'internal',
      severity: this.state.severity,
      subject,
      text,
      kind,
      drill: this.state.drill,
      idempotencyKey: `${this.incidentId}/${kind}/${n}`,
    });
  }

  // ---- escalation ------------------------------------------------------------------------------------------------

  /** Fires what is due now and re-arms the next deadline. Called after every change and when a timer expires. */
  evaluateEscalations(): void {
    const result = runEscalations(this.state, this.input.plan.escalation, this.now());
    this.state.escalation = result.escalation;
    this.nextEscalationAt = result.nextDeadline;
    for (const fired of result.fired) this.announce(fired);
  }

  private announce(fired: FiredEscalation): void {
    this.record({ at: this.now(), type: 'escalated', ...fired, trigger: fired.trigger });
    this.hooks.notify(fired);
  }

  /** A manual escalation: to `level`, or one level up; level 3 is "executive attention requested". */
  private escalateTo(by: string, reason: string, level?: 1 | 2 | 3): void {
    const { state } = this;
    const target = level ?? Math.min(3, state.escalation.level + 1);
    if (target === 3) {
      // "Executive attention required" is a trigger of its own; the policy fires it.
      state.executiveAttentionRequested = true;
    } else {
      const now = this.now();
      const fromLevel = state.escalation.level;
      const toLevel = target as 1 | 2;
      const key = `manual:${toLevel}:${now}`;
      state.escalation = {
        level: toLevel,
        levelSince: now,
        levelAcknowledged: false,
        fired: [...state.escalation.fired, key],
      };
      this.announce({
        trigger: 'manual' as FiredEscalation['trigger'],
        key,
        dueAt: now,
        fromLevel,
        toLevel,
        reason: `escalated by ${by}: ${reason}`,
        audience: this.input.plan.escalation.levels[toLevel].audience,
      });
    }
    this.changed();
  }

  /** Records internal status update number `n`, sent at `at`; returns its notification. */
  /** The n-th status update, recorded at `at` and written as of `asOf` (the instant it was due, on cadence). */
  statusUpdate(n: number, at: number, stable: boolean, asOf = at): StatusUpdateNotice {
    const order = stable ? this.planSteps().map((s) => s.step.id) : undefined;
    const message = statusUpdateMessage(this.state, this.input.plan.escalation, n, asOf, order);
    this.record({ at, type: 'status_update', n, audience: 'internal', summary: message.summary });
    return {
      incidentId: this.incidentId,
      audience: 'internal',
      severity: this.state.severity,
      subject: message.subject,
      text: message.text,
      kind: 'status_update',
      drill: this.state.drill,
      idempotencyKey: `${this.incidentId}/status-update/${n}`,
    };
  }

  /** The notification of a fired escalation, to its audience. */
  escalationNotice(fired: FiredEscalation) {
    return {
      incidentId: this.incidentId,
      title: this.state.title,
      severity: this.state.severity,
      trigger: fired.trigger,
      fromLevel: fired.fromLevel,
      toLevel: fired.toLevel,
      levelName: fired.toLevel === 0 ? 'First responders' : this.input.plan.escalation.levels[fired.toLevel].name,
      audience: fired.audience,
      reason: fired.reason,
      drill: this.state.drill,
      idempotencyKey: `${this.incidentId}/escalation/${fired.key}`,
    };
  }

  // ---- facts for the running phase ------------------------------------------------------------------------------

  private changed(): void {
    this.version++;
    this.evaluateEscalations();
    this.sendFacts();
  }

  /** What `when` conditions look at. */
  facts(): StepFacts {
    const { state } = this;
    return {
      severity: state.severity,
      eventType: state.eventType,
      category: state.category,
      dataBreachConfirmed: state.dataBreachConfirmed,
      executiveAttentionRequested: state.executiveAttentionRequested,
      affectedSystems: state.affectedSystems.length,
      escalationLevel: state.escalation.level,
      drill: state.drill,
      labels: state.alertLabels,
      ...(state.alertSource !== undefined ? { alertSource: state.alertSource } : {}),
    };
  }

  /**
   * Keeps the running phase's facts current, for a phase whose steps look at them: a `when`, or a template that reads
   * the alert. Plans without either (every recorded history among them) issue no new commands.
   */
  private sendFacts(): void {
    const phase = this.state.phase;
    const steps = this.input.plan.phases[phase].steps;
    if (!this.childStarted || !steps.some((step) => step.when !== undefined || usesAlertTemplates(step.with))) return;
    const current = this.facts();
    const key = JSON.stringify(current);
    if (key === this.lastFactsSent) return;
    this.lastFactsSent = key;
    this.hooks.sendFacts(phase, current);
  }

  /** What templates read at the phase's start (`${incident.id}`, `${alert.labels.<name>}`...). */
  private context(): Record<string, unknown> {
    const { state } = this;
    return {
      // The runner overlays fresh facts on the alert's labels and source.
      alert: { labels: state.alertLabels, ...(state.alertSource !== undefined ? { source: state.alertSource } : {}) },
      incident: {
        id: this.incidentId,
        title: state.title,
        severity: state.severity,
        category: state.category,
        eventType: state.eventType,
        phase: state.phase,
        owner: state.owner ?? '',
        drill: state.drill,
      },
      runbook: { id: this.input.plan.id, version: this.input.plan.version },
    };
  }

  private planSteps(): { phase: Phase; step: PlanStep }[] {
    return PHASES.flatMap((phase) => this.input.plan.phases[phase].steps.map((step) => ({ phase, step })));
  }

  findStep(stepId: string): { phase: Phase; step: PlanStep } | undefined {
    return this.planSteps().find((s) => s.step.id === stepId);
  }
}
