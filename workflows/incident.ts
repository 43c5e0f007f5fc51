// One incident, from opening to close: state, timeline, the five phases as child workflows, and the escalation
// engine armed from the pinned runbook's policy. It validates and forwards operators' decisions on waiting steps to
// the running phase, and undoes completed steps (newest first) on a false positive or a failed phase.
// Deterministic: time comes from the workflow clock, effects from activities; operator input is validated at the
// boundary and refused with a reason, never crashing a task.
import {
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  startChild,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  patched,
  proxyActivities,
  type SignalDefinition,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { createActivities } from '../activities';
import type { StepFacts } from '../domain/condition';
import {
  type IncidentState,
  type IncidentStatus,
  type Phase,
  PHASES,
  type StepResult,
  type TimelineEvent,
  classify,
  incidentMetrics,
  mergeAlertLabels,
} from '../domain/incident';
import {
  AcknowledgeInput,
  AdvancePhaseInput,
  AlertSignalInput,
  ApproveStepInput,
  AssignOwnerInput,
  CompleteTaskInput,
  DeclareFalsePositiveInput,
  EscalateInput,
  RecordRootCauseInput,
  RejectStepInput,
  ResolveInput,
  SetSeverityInput,
  UpdateImpactInput,
} from '../domain/messages';
import { describeSeverity } from '../domain/severity';
import { usesAlertTemplates } from '../domain/template';
import {
  type IncidentInput,
  type IncidentOutcome,
  type IncidentStatusView,
  REGISTRY_WORKFLOW_ID,
  type StepDecision,
  type StepEvent,
  type WaitingStep,
  acknowledgeUpdate,
  advancePhaseUpdate,
  alertSignal,
  approveStepUpdate,
  assignOwnerUpdate,
  completeTaskUpdate,
  declareFalsePositiveUpdate,
  escalateUpdate,
  incidentClosedSignal,
  phaseFactsSignal,
  recordRootCauseUpdate,
  rejectStepUpdate,
  resolveUpdate,
  setSeverityUpdate,
  statusQuery,
  stepDecisionSignal,
  stepEventSignal,
  stopPhaseSignal,
  timelineQuery,
  updateImpactUpdate,
} from './definitions';
import { DeadlineTimer } from './deadline-timer';
import { type FiredEscalation, runEscalations } from '../domain/escalation';
import { statusUpdateInterval, statusUpdateMessage } from '../domain/status-updates';
import { containPhase } from './phases/contain';
import { detectPhase } from './phases/detect';
import { eradicatePhase } from './phases/eradicate';
import { postIncidentPhase } from './phases/post-incident';
import { recoverPhase } from './phases/recover';
import { incidentSearchAttributes } from './search-attributes';
import type { PlanStep } from '../domain/runbook';
import { actionActivity, describeFailure, type PhaseInput, type PhaseResult } from './steps';

const { notifyEscalation, notifyIncident } = proxyActivities<ReturnType<typeof createActivities>>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 8 },
});

const PHASE_WORKFLOWS: Record<Phase, (input: PhaseInput) => Promise<PhaseResult>> = {
  detect: detectPhase,
  contain: containPhase,
  eradicate: eradicatePhase,
  recover: recoverPhase,
  'post-incident': postIncidentPhase,
};

const TERMINAL: IncidentStatus[] = ['closed', 'false_positive', 'failed'];

/** Patch: a false positive stops the running phase and undoes completed steps before closing (it used to cancel). */
export const FALSE_POSITIVE_COMPENSATES_PATCH = 'false-positive-compensates';
/** Patch: a failed phase undoes completed steps and ends the incident as failed (it used to go on to the next phase). */
export const PHASE_FAILURE_COMPENSATES_PATCH = 'phase-failure-compensates';

/** Patch: an active incident sends periodic internal status updates at its severity's cadence. */
export const STATUS_UPDATES_PATCH = 'status-updates';

/**
 * Patch: a status update is the same whatever order the server fires simultaneous timers and parallel steps finish in.
 * It first fires the escalations due at its instant (P1's hourly update and its 1h response time fall due together;
 * before, the update reported the level before or after the escalation, at random), and lists the actions taken in
 * runbook order rather than in the order parallel steps happened to finish. Drill reports must not vary.
 */
export const STATUS_UPDATE_STABLE_PATCH = 'status-update-stable';

/**
 * Patch: a firing alert's labels (and source) are merged into the incident's `alertLabels`, and the running phase gets
 * fresh facts when that adds a label. Incidents that took alerts before this existed keep ignoring their labels.
 */
export const ALERT_LABELS_PATCH = 'alert-labels';

/**
 * Patch: the escalation and status-update timers are kept while their deadline stays the same (DeadlineTimer), instead
 * of being cancelled and started again on every state change.
 */
export const STABLE_TIMERS_PATCH = 'stable-timers';

/** Refuses an update: the reason reaches the caller, the incident is unchanged. */
function refuse(message: string): never {
  throw ApplicationFailure.create({ type: 'UpdateRefused', message, nonRetryable: true });
}

/** The message of the innermost failure: the activity's or child's own words, not the wrapper's. */
function failureMessage(error: unknown): string {
  let current: unknown = error;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}

/** Parses an update payload with its zod schema; a bad payload is refused with zod's message. */
function parseInput<T>(
  schema: {
    safeParse(
      v: unknown,
    ): { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } };
  },
  value: unknown,
): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  refuse(
    'invalid input: ' +
      parsed.error.issues
        .map((i) => (i.path.length ? `${i.path.map(String).join('.')}: ${i.message}` : i.message))
        .join('; '),
  );
}

export async function incidentWorkflow(input: IncidentInput): Promise<IncidentOutcome> {
  const { plan, incidentId } = input;
  const now = (): number => Date.now();
  const openedAt = now();
  const classification = classify(input.eventType, input.severity);

  const state: IncidentState = {
    incidentId,
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
    escalation: { level: 0, levelSince: openedAt, levelAcknowledged: false, fired: [] },
    phases: {},
    steps: [],
    evidence: [],
  };
  const timeline: TimelineEvent[] = [];
  const record = (event: TimelineEvent): void => {
    timeline.push(event);
  };
  let nextEscalationAt: number | undefined;
  /** Bumped on every change; wakes the escalation loop so every deadline is re-armed at once. */
  let version = 0;
  let advanceRequested = false;
  let phaseRunning = false;
  const phaseScope = { current: undefined as CancellationScope | undefined };
  const notifications: Promise<void>[] = [];

  // Steps, as the phase children report them. `waiting` holds the steps that wait for a person, in request order;
  // `settled` says how a forwarded decision ended, for the update handler that waits on it.
  const waiting = new Map<string, WaitingStep & { deciding?: boolean }>();
  const settled = new Map<string, 'decided' | 'timed_out'>();
  const acceptedSteps = new Set<string>();
  let closed = false;
  /** The running phase's child has started (it can take signals). */
  let childStarted = false;
  let lastFactsSent: string | undefined;
  /** Decided once per run, the first time it matters (see the patch constants). */
  let falsePositiveCompensates: boolean | undefined;
  let phaseFailureCompensates: boolean | undefined;
  let alertLabelsMerge: boolean | undefined;
  const fpCompensates = (): boolean => (falsePositiveCompensates ??= patched(FALSE_POSITIVE_COMPENSATES_PATCH));
  const mergesAlertLabels = (): boolean => (alertLabelsMerge ??= patched(ALERT_LABELS_PATCH));
  const failureCompensates = (): boolean => (phaseFailureCompensates ??= patched(PHASE_FAILURE_COMPENSATES_PATCH));

  // A function, not an inline test: handlers change the status while the main loop awaits.
  const isFalsePositive = (): boolean => state.status === 'false_positive';
  const view = (): IncidentStatusView => ({
    ...state,
    metrics: incidentMetrics(state),
    ...(nextEscalationAt !== undefined ? { nextEscalationAt } : {}),
    waitingSteps: [...waiting.values()].map(({ deciding: _deciding, ...step }) => step),
  });

  const planSteps = (): { phase: Phase; step: PlanStep }[] =>
    PHASES.flatMap((phase) => plan.phases[phase].steps.map((step) => ({ phase, step })));
  const findStep = (stepId: string) => planSteps().find((s) => s.step.id === stepId);

  const facts = (): StepFacts => ({
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
  });

  /**
   * Whether a phase's steps look at the facts: a `when`, or a template that reads the alert (rendered from the facts'
   * labels). Only such phases are sent fresh facts, so plans without either (every recorded history among them)
   * issue no new commands.
   */
  const watchesFacts = (phase: Phase): boolean =>
    plan.phases[phase].steps.some((step) => step.when !== undefined || usesAlertTemplates(step.with));

  /** Sends a signal to the running phase child; a child that has just finished is not an error. */
  async function signalPhase<T extends unknown[]>(
    phase: Phase,
    signal: SignalDefinition<T>,
    ...args: T
  ): Promise<void> {
    try {
      await getExternalWorkflowHandle(`${incidentId}.${phase}`).signal(signal, ...args);
    } catch (error) {
      log.warn('could not signal the phase', { incidentId, phase, error: failureMessage(error) });
    }
  }

  /**
   * Keeps the running phase's `when` conditions current. Only for a phase whose plan has a `when` (so incidents
   * pinned to plans without one, including every recorded history, issue no new commands).
   */
  function sendFacts(): void {
    if (!childStarted || !watchesFacts(state.phase)) return;
    const current = facts();
    const key = JSON.stringify(current);
    if (key === lastFactsSent) return;
    lastFactsSent = key;
    void signalPhase(state.phase, phaseFactsSignal, current);
  }

  /** Records a step result once, whether it came live from the child or in the phase's result. */
  function acceptStep(phase: Phase, step: StepResult, at: number): void {
    if (acceptedSteps.has(step.stepId)) return;
    acceptedSteps.add(step.stepId);
    state.steps.push(step);
    const type =
      step.status === 'completed' ? 'step_completed' : step.status === 'failed' ? 'step_failed' : 'step_skipped';
    const detail = step.error ?? step.reason;
    record({ at, type, phase, stepId: step.stepId, action: step.action, ...(detail ? { detail } : {}) });
    const output = step.output as { archive?: string; sha256?: string } | undefined;
    if (step.status === 'completed' && output?.archive && output.sha256) {
      state.evidence.push({ stepId: step.stepId, archive: output.archive, sha256: output.sha256 });
    }
  }

  const publish = (): void => upsertSearchAttributes(incidentSearchAttributes(state));

  async function notify(fired: FiredEscalation): Promise<void> {
    try {
      await notifyEscalation({
        incidentId,
        title: state.title,
        severity: state.severity,
        trigger: fired.trigger,
        fromLevel: fired.fromLevel,
        toLevel: fired.toLevel,
        levelName: fired.toLevel === 0 ? 'First responders' : plan.escalation.levels[fired.toLevel].name,
        audience: fired.audience,
        reason: fired.reason,
        drill: state.drill,
        idempotencyKey: `${incidentId}/escalation/${fired.key}`,
      });
    } catch (error) {
      record({ at: now(), type: 'notification_failed', audience: fired.audience, error: failureMessage(error) });
    }
  }

  function announce(fired: FiredEscalation): void {
    record({ at: now(), type: 'escalated', ...fired, trigger: fired.trigger });
    notifications.push(notify(fired));
  }

  /** Fires what is due now and re-arms the next deadline. Called after every change and when a timer expires. */
  function evaluateEscalations(): void {
    const result = runEscalations(state, plan.escalation, now());
    state.escalation = result.escalation;
    nextEscalationAt = result.nextDeadline;
    for (const fired of result.fired) announce(fired);
  }

  function changed(): void {
    version++;
    evaluateEscalations();
    sendFacts();
  }

  /** A manual escalation: to `level`, or one level up; level 3 is "executive attention requested". */
  function escalateTo(by: string, reason: string, level?: 1 | 2 | 3): void {
    const target = level ?? Math.min(3, state.escalation.level + 1);
    if (target === 3) {
      // "Executive attention required" is a trigger of its own; the policy fires it.
      state.executiveAttentionRequested = true;
    } else {
      const fromLevel = state.escalation.level;
      const toLevel = target as 1 | 2;
      state.escalation = {
        level: toLevel,
        levelSince: now(),
        levelAcknowledged: false,
        fired: [...state.escalation.fired, `manual:${toLevel}:${now()}`],
      };
      announce({
        trigger: 'manual' as FiredEscalation['trigger'],
        key: `manual:${toLevel}:${now()}`,
        dueAt: now(),
        fromLevel,
        toLevel,
        reason: `escalated by ${by}: ${reason}`,
        audience: plan.escalation.levels[toLevel].audience,
      });
    }
    changed();
  }

  function refuseIfClosed(): void {
    if (TERMINAL.includes(state.status)) refuse(`incident ${incidentId} is ${state.status.replace('_', ' ')}`);
  }

  // ---- messages -------------------------------------------------------------------------------------------

  setHandler(statusQuery, view);
  setHandler(timelineQuery, () => timeline);

  setHandler(alertSignal, (raw) => {
    const parsed = AlertSignalInput.safeParse(raw);
    if (!parsed.success) {
      log.warn('alert signal ignored: invalid payload', { incidentId, error: parsed.error.message });
      return;
    }
    const alert = parsed.data;
    const labels = Object.keys(alert.labels).length > 0;
    record({
      at: now(),
      type: 'alert',
      status: alert.status,
      source: alert.source,
      summary: alert.summary,
      ...(alert.fingerprint ? { fingerprint: alert.fingerprint } : {}),
      ...(labels ? { labels: alert.labels } : {}),
    });
    // Only a firing alert names targets; a resolve says something stopped, not what to act on. The first value of a
    // label wins: a step that already read a label (or its `when` that tested it) never sees it change.
    if (alert.status === 'firing' && (labels || state.alertSource === undefined) && mergesAlertLabels()) {
      const before = Object.keys(state.alertLabels).length;
      state.alertLabels = mergeAlertLabels(state.alertLabels, alert.labels);
      const sourceNew = state.alertSource === undefined;
      state.alertSource ??= alert.source;
      if (Object.keys(state.alertLabels).length !== before || sourceNew) sendFacts();
    }
    version++;
  });

  setHandler(
    acknowledgeUpdate,
    (raw) => {
      const { by, note } = AcknowledgeInput.parse(raw);
      state.acknowledgedAt ??= now();
      state.acknowledgedBy ??= by;
      state.escalation = { ...state.escalation, levelAcknowledged: true };
      record({ at: now(), by, type: 'acknowledged', level: state.escalation.level, ...(note ? { note } : {}) });
      changed();
      return view();
    },
    {
      validator: (raw) => {
        parseInput(AcknowledgeInput, raw);
        refuseIfClosed();
        if (state.status === 'resolved') refuse(`incident ${incidentId} is already resolved`);
        if (state.escalation.levelAcknowledged) {
          const level = state.escalation.level;
          refuse(
            `incident ${incidentId} is already acknowledged at level ${level}` +
              (state.acknowledgedBy && level === 0 ? ` by ${state.acknowledgedBy}` : ''),
          );
        }
      },
    },
  );

  setHandler(
    setSeverityUpdate,
    (raw) => {
      const { by, severity, reason } = SetSeverityInput.parse(raw);
      const from = state.severity;
      state.severity = severity;
      record({ at: now(), by, type: 'severity_changed', from, to: severity, ...(reason ? { reason } : {}) });
      publish();
      changed();
      return view();
    },
    {
      validator: (raw) => {
        const { severity } = parseInput(SetSeverityInput, raw);
        refuseIfClosed();
        if (severity === state.severity) refuse(`severity is already ${describeSeverity(severity)}`);
      },
    },
  );

  setHandler(
    recordRootCauseUpdate,
    (raw) => {
      const { by, summary } = RecordRootCauseInput.parse(raw);
      state.rootCause = { summary, by, at: now() };
      record({ at: now(), by, type: 'root_cause_recorded', summary });
      changed();
      return view();
    },
    {
      validator: (raw) => {
        parseInput(RecordRootCauseInput, raw);
        refuseIfClosed();
      },
    },
  );

  setHandler(
    assignOwnerUpdate,
    (raw) => {
      const { by, owner } = AssignOwnerInput.parse(raw);
      state.owner = owner;
      record({ at: now(), by, type: 'owner_assigned', owner });
      changed();
      return view();
    },
    {
      validator: (raw) => {
        const { owner } = parseInput(AssignOwnerInput, raw);
        refuseIfClosed();
        if (state.owner === owner) refuse(`${owner} already owns incident ${incidentId}`);
      },
    },
  );

  setHandler(
    escalateUpdate,
    (raw) => {
      const { by, reason, level } = EscalateInput.parse(raw);
      escalateTo(by, reason, level);
      return view();
    },
    {
      validator: (raw) => {
        const { level } = parseInput(EscalateInput, raw);
        refuseIfClosed();
        const target = level ?? Math.min(3, state.escalation.level + 1);
        if (target === 3 && state.executiveAttentionRequested) refuse('executive attention was already requested');
        if (target !== 3 && target <= state.escalation.level) {
          refuse(`incident ${incidentId} is already at escalation level ${state.escalation.level}`);
        }
      },
    },
  );

  setHandler(
    updateImpactUpdate,
    (raw) => {
      const { by, affectedSystems, dataBreachConfirmed } = UpdateImpactInput.parse(raw);
      if (affectedSystems) state.affectedSystems = [...new Set([...state.affectedSystems, ...affectedSystems])];
      if (dataBreachConfirmed) state.dataBreachConfirmed = true;
      record({
        at: now(),
        by,
        type: 'impact_updated',
        affectedSystems: state.affectedSystems,
        dataBreachConfirmed: state.dataBreachConfirmed,
      });
      changed();
      return view();
    },
    {
      validator: (raw) => {
        const { dataBreachConfirmed } = parseInput(UpdateImpactInput, raw);
        refuseIfClosed();
        if (dataBreachConfirmed === false && state.dataBreachConfirmed)
          refuse('a confirmed data breach cannot be withdrawn');
      },
    },
  );

  setHandler(
    advancePhaseUpdate,
    async (raw) => {
      const { by, note } = AdvancePhaseInput.parse(raw);
      const from = state.phase;
      const index = PHASES.indexOf(from);
      record({
        at: now(),
        by,
        type: 'phase_advanced',
        from,
        to: PHASES[index + 1] ?? 'closed',
        ...(note ? { note } : {}),
      });
      advanceRequested = true;
      version++;
      // Answer once the move has happened, so the caller sees the phase it asked for.
      await condition(() => state.phase !== from || TERMINAL.includes(state.status));
      return view();
    },
    {
      validator: (raw) => {
        parseInput(AdvancePhaseInput, raw);
        refuseIfClosed();
        if (!state.awaitingAdvance) {
          refuse(
            phaseRunning
              ? `phase ${state.phase} is still running its steps` +
                  (waiting.size > 0
                    ? ` (waiting for ${[...waiting.values()].map((w) => `${w.kind === 'task' ? 'task' : 'approval of'} ${w.stepId}`).join(', ')})`
                    : '')
              : `phase ${state.phase} advances by itself when its steps are done`,
          );
        }
      },
    },
  );

  setHandler(
    resolveUpdate,
    (raw) => {
      const { by, summary } = ResolveInput.parse(raw);
      state.status = 'resolved';
      state.resolvedAt = now();
      record({ at: now(), by, type: 'resolved', ...(summary ? { summary } : {}) });
      if (state.awaitingAdvance) advanceRequested = true;
      publish();
      changed();
      return view();
    },
    {
      validator: (raw) => {
        parseInput(ResolveInput, raw);
        refuseIfClosed();
        if (state.status === 'resolved') refuse(`incident ${incidentId} is already resolved`);
        if (state.phase === 'detect' || state.phase === 'contain') {
          refuse(`cannot resolve incident ${incidentId}: containment has not ended (phase is ${state.phase})`);
        }
      },
    },
  );

  setHandler(
    declareFalsePositiveUpdate,
    async (raw) => {
      const { by, reason } = DeclareFalsePositiveInput.parse(raw);
      state.status = 'false_positive';
      record({ at: now(), by, type: 'false_positive', reason });
      if (fpCompensates()) {
        // Stop the running phase rather than cancel it: it ends its waits, lets an activity in flight finish (so its
        // effect is known), and returns what ran; the main loop then undoes completed steps and closes.
        const stopping = phaseRunning ? state.phase : undefined;
        publish();
        changed();
        if (stopping) {
          await condition(() => childStarted || !phaseRunning);
          if (phaseRunning && state.phase === stopping) {
            await signalPhase(stopping, stopPhaseSignal, { reason: `declared a false positive by ${by}` });
          }
        }
        await condition(() => closed);
        return view();
      }
      phaseScope.current?.cancel();
      publish();
      changed();
      return view();
    },
    {
      validator: (raw) => {
        parseInput(DeclareFalsePositiveInput, raw);
        refuseIfClosed();
        if (state.status === 'resolved')
          refuse(`incident ${incidentId} is resolved; a resolved incident is not a false positive`);
      },
    },
  );

  // ---- steps that wait for a person ---------------------------------------------------------------------------

  setHandler(stepEventSignal, (event: StepEvent) => {
    switch (event.type) {
      case 'result':
        acceptStep(event.result.phase, event.result, now());
        return;
      case 'waiting': {
        const { type: _type, ...entry } = event;
        waiting.set(event.stepId, { ...entry, since: now() });
        settled.delete(event.stepId);
        if (event.kind === 'approval') {
          record({
            at: now(),
            type: 'approval_requested',
            phase: event.phase,
            stepId: event.stepId,
            action: event.action,
            roles: event.roles ?? [],
            ...(event.timeoutAt !== undefined ? { timeoutAt: event.timeoutAt } : {}),
          });
        } else {
          record({
            at: now(),
            type: 'task_requested',
            phase: event.phase,
            stepId: event.stepId,
            instructions: event.instructions ?? '',
            ...(event.roles ? { roles: event.roles } : {}),
            ...(event.timeoutAt !== undefined ? { timeoutAt: event.timeoutAt } : {}),
          });
        }
        version++;
        return;
      }
      case 'timed_out': {
        const type = event.kind === 'approval' ? 'approval_timed_out' : 'task_timed_out';
        record({ at: now(), type, phase: event.phase, stepId: event.stepId, onTimeout: event.onTimeout });
        const entry = waiting.get(event.stepId);
        if (event.stillWaiting && entry) {
          const { timeoutAt: _old, ...rest } = entry;
          waiting.set(event.stepId, {
            ...rest,
            ...(event.timeoutAt !== undefined ? { timeoutAt: event.timeoutAt } : {}),
          });
        } else {
          waiting.delete(event.stepId);
          settled.set(event.stepId, 'timed_out');
        }
        if (event.onTimeout === 'escalate' && !TERMINAL.includes(state.status)) {
          const what = event.kind === 'approval' ? 'approval of' : 'task';
          // At the top already: nothing more to ask for; the step keeps waiting for its decision.
          const target = Math.min(3, state.escalation.level + 1);
          if (!(target === 3 && state.executiveAttentionRequested)) {
            escalateTo(
              'runbook',
              `${what} step "${event.stepId}" timed out waiting for ${event.kind === 'approval' ? 'a decision' : 'completion'}`,
            );
          }
        }
        version++;
        return;
      }
      case 'decided': {
        const { decision, phase } = event;
        const { stepId, by, role } = decision;
        waiting.delete(stepId);
        settled.set(stepId, 'decided');
        if (decision.kind === 'approve') {
          record({
            at: now(),
            by,
            type: 'approval_granted',
            phase,
            stepId,
            role: role ?? '',
            ...(decision.note ? { note: decision.note } : {}),
          });
        } else if (decision.kind === 'reject') {
          record({
            at: now(),
            by,
            type: 'approval_rejected',
            phase,
            stepId,
            role: role ?? '',
            reason: decision.reason ?? '',
          });
        } else {
          record({
            at: now(),
            by,
            type: 'task_completed',
            phase,
            stepId,
            ...(role ? { role } : {}),
            ...(decision.note ? { note: decision.note } : {}),
          });
        }
        version++;
        return;
      }
    }
  });

  /** Where a step stands, for a refusal: "completed", "skipped (...)", "not reached yet". */
  function stepState(stepId: string, phase: Phase): string {
    const done = state.steps.find((s) => s.stepId === stepId);
    if (done)
      return `it ${done.status === 'completed' ? 'completed' : done.status === 'failed' ? 'failed' : 'was skipped'}`;
    const order = PHASES.indexOf(phase) - PHASES.indexOf(state.phase);
    if (order > 0 || (order === 0 && phaseRunning)) return `it has not been reached yet (phase ${state.phase})`;
    return 'it did not run';
  }

  /** The validator's checks for approveStep, rejectStep and completeTask. */
  function checkDecision(kind: 'approval' | 'task', stepId: string, role: string | undefined): void {
    refuseIfClosed();
    const found = findStep(stepId);
    if (!found) {
      refuse(
        `no step "${stepId}" in runbook ${plan.id}; its steps are: ${planSteps()
          .map((s) => s.step.id)
          .join(', ')}`,
      );
    }
    const entry = waiting.get(stepId);
    if (!entry || entry.kind !== kind) {
      if (kind === 'approval' && !found.step.approval) refuse(`step "${stepId}" has no approval gate`);
      if (kind === 'task' && found.step.action !== 'task')
        refuse(`step "${stepId}" is a ${found.step.action} step, not a task`);
      const now = entry
        ? `it waits for ${entry.kind === 'task' ? 'completeTask' : 'approveStep or rejectStep'}`
        : stepState(stepId, found.phase);
      refuse(`step "${stepId}" is not waiting for ${kind === 'approval' ? 'approval' : 'completion'}: ${now}`);
    }
    if (entry.deciding) refuse(`a decision on step "${stepId}" is already being applied`);
    if (entry.roles && entry.roles.length > 0) {
      const may = kind === 'approval' ? 'approve' : 'complete';
      if (role === undefined)
        refuse(`step "${stepId}" needs a role to ${may} it; expected one of: ${entry.roles.join(', ')}`);
      if (!entry.roles.includes(role)) {
        refuse(`role "${role}" may not ${may} step "${stepId}"; expected one of: ${entry.roles.join(', ')}`);
      }
    }
  }

  /** Forwards an accepted decision to the phase and answers once the phase has applied it (or it came too late). */
  async function decide(decision: StepDecision): Promise<IncidentStatusView> {
    const entry = waiting.get(decision.stepId);
    if (!entry) refuse(`step "${decision.stepId}" is no longer waiting`);
    entry.deciding = true;
    settled.delete(decision.stepId);
    await signalPhase(entry.phase, stepDecisionSignal, decision);
    await condition(() => settled.has(decision.stepId) || !waiting.has(decision.stepId));
    const outcome = settled.get(decision.stepId);
    if (outcome !== 'decided') {
      const current = waiting.get(decision.stepId);
      if (current) current.deciding = false;
      refuse(
        outcome === 'timed_out'
          ? `step "${decision.stepId}" timed out before the decision reached it`
          : `step "${decision.stepId}" stopped waiting before the decision reached it`,
      );
    }
    return view();
  }

  setHandler(
    approveStepUpdate,
    (raw) => {
      const { by, role, stepId, note } = ApproveStepInput.parse(raw);
      return decide({ stepId, kind: 'approve', by, role, ...(note ? { note } : {}) });
    },
    {
      validator: (raw) => {
        const { stepId, role } = parseInput(ApproveStepInput, raw);
        checkDecision('approval', stepId, role);
      },
    },
  );

  setHandler(
    rejectStepUpdate,
    (raw) => {
      const { by, role, stepId, reason } = RejectStepInput.parse(raw);
      return decide({ stepId, kind: 'reject', by, role, reason });
    },
    {
      validator: (raw) => {
        const { stepId, role } = parseInput(RejectStepInput, raw);
        checkDecision('approval', stepId, role);
      },
    },
  );

  setHandler(
    completeTaskUpdate,
    (raw) => {
      const { by, role, stepId, note } = CompleteTaskInput.parse(raw);
      return decide({ stepId, kind: 'complete', by, ...(role ? { role } : {}), ...(note ? { note } : {}) });
    },
    {
      validator: (raw) => {
        const { stepId, role } = parseInput(CompleteTaskInput, raw);
        checkDecision('task', stepId, role);
      },
    },
  );

  // ---- compensation ---------------------------------------------------------------------------------------

  /** Undoes completed steps that have an undo, newest first, across every phase that ran. Failures do not stop it. */
  async function compensate(reason: 'false_positive' | 'phase_failed'): Promise<void> {
    const undoable = state.steps.filter((step) => step.status === 'completed' && step.undo);
    if (undoable.length === 0) return;
    const order = [...undoable].reverse();
    record({ at: now(), type: 'compensation_started', reason, steps: order.map((step) => step.stepId) });
    for (const step of order) {
      const undo = step.undo!;
      const planned = findStep(step.stepId)?.step;
      try {
        await actionActivity(undo.action, {
          ...(planned?.timeoutMs !== undefined ? { timeoutMs: planned.timeoutMs } : {}),
          ...(planned?.retry ? { retry: planned.retry } : {}),
        })({
          incidentId,
          phase: step.phase,
          stepId: step.stepId,
          action: undo.action,
          params: undo.with,
          drill: state.drill,
          idempotencyKey: `${incidentId}/${step.stepId}/undo`,
        });
        record({
          at: now(),
          type: 'step_compensated',
          phase: step.phase,
          stepId: step.stepId,
          action: step.action,
          undo: undo.action,
        });
      } catch (error) {
        record({
          at: now(),
          type: 'compensation_failed',
          phase: step.phase,
          stepId: step.stepId,
          action: step.action,
          undo: undo.action,
          error: describeFailure(error),
        });
      }
    }
  }

  // ---- lifecycle ------------------------------------------------------------------------------------------

  record({
    at: openedAt,
    type: 'opened',
    severity: state.severity,
    eventType: state.eventType,
    trigger: input.trigger,
    title: state.title,
  });
  record({ at: openedAt, type: 'classified', severity: state.severity, basis: classification.basis });
  publish();
  evaluateEscalations();

  const stableTimers = patched(STABLE_TIMERS_PATCH);

  const escalationLoop = (async () => {
    if (stableTimers) {
      const timer = new DeadlineTimer();
      while (!TERMINAL.includes(state.status)) {
        const seen = version;
        timer.set(nextEscalationAt);
        await condition(() => version !== seen || timer.fired);
        if (timer.take()) evaluateEscalations();
      }
      timer.set(undefined);
      return;
    }
    while (!TERMINAL.includes(state.status)) {
      const seen = version;
      const deadline = nextEscalationAt;
      if (deadline === undefined) await condition(() => version !== seen);
      else if (!(await condition(() => version !== seen, Math.max(1, deadline - now())))) evaluateEscalations();
    }
  })();

  // Status updates: while the incident is active, one every interval of its current severity, counted from the last
  // update (or the opening); a severity change re-arms the timer at once. Incidents started before this existed
  // (no patch marker in their history) never send them.
  const statusUpdates = (async () => {
    if (!patched(STATUS_UPDATES_PATCH)) return;
    let sent = 0;
    let lastAt = openedAt;
    let statusStable: boolean | undefined;
    const timer = stableTimers ? new DeadlineTimer() : undefined;
    while (!TERMINAL.includes(state.status)) {
      const seen = version;
      if (state.status !== 'active') {
        timer?.set(undefined);
        await condition(() => version !== seen);
        continue;
      }
      const dueAt = lastAt + statusUpdateInterval(plan.escalation, state.severity);
      if (dueAt > now()) {
        if (timer) {
          timer.set(dueAt);
          await condition(() => version !== seen || timer.fired);
          // Fired: the next turn finds the update due and sends it.
          timer.take();
        } else await condition(() => version !== seen, dueAt - now());
        continue;
      }
      sent += 1;
      lastAt = now();
      const stable = (statusStable ??= patched(STATUS_UPDATE_STABLE_PATCH));
      if (stable) evaluateEscalations();
      const message = statusUpdateMessage(
        state,
        plan.escalation,
        sent,
        lastAt,
        stable ? planSteps().map((s) => s.step.id) : undefined,
      );
      record({ at: lastAt, type: 'status_update', n: sent, audience: 'internal', summary: message.summary });
      const n = sent;
      notifications.push(
        notifyIncident({
          incidentId,
          audience: 'internal',
          severity: state.severity,
          subject: message.subject,
          text: message.text,
          kind: 'status_update',
          drill: state.drill,
          idempotencyKey: `${incidentId}/status-update/${n}`,
        }).then(
          () => undefined,
          (error: unknown) => {
            record({ at: now(), type: 'notification_failed', audience: 'internal', error: failureMessage(error) });
          },
        ),
      );
    }
    timer?.set(undefined);
  })();

  const context = (): Record<string, unknown> => ({
    // What `${alert.labels.<name>}` and `${alert.source}` read at the phase's start; the runner overlays fresh facts.
    alert: { labels: state.alertLabels, ...(state.alertSource !== undefined ? { source: state.alertSource } : {}) },
    incident: {
      id: incidentId,
      title: state.title,
      severity: state.severity,
      category: state.category,
      eventType: state.eventType,
      phase: state.phase,
      owner: state.owner ?? '',
      drill: state.drill,
    },
    runbook: { id: plan.id, version: plan.version },
  });

  for (const phase of PHASES) {
    if (state.status === 'false_positive') break;
    state.phase = phase;
    state.phases[phase] = { startedAt: now() };
    record({ at: now(), type: 'phase_started', phase });
    publish();
    changed();

    phaseRunning = true;
    lastFactsSent = JSON.stringify(facts());
    let phaseFailure: string | undefined;
    try {
      const scope = new CancellationScope();
      phaseScope.current = scope;
      // startChild then result: the same commands as executeChild, but the incident knows when the child exists
      // and can be signalled.
      const child = await scope.run(() =>
        startChild(PHASE_WORKFLOWS[phase], {
          workflowId: `${incidentId}.${phase}`,
          args: [
            {
              incidentId,
              phase,
              steps: plan.phases[phase].steps,
              drill: state.drill,
              context: context(),
              facts: facts(),
            },
          ],
        }),
      );
      childStarted = true;
      sendFacts();
      const result = await scope.run(() => child.result());
      // Children report steps live; these are the ones a child from before that reported only at the end.
      for (const step of result.steps) acceptStep(phase, step, step.endedAt);
      if (result.failed) phaseFailure = `critical step "${result.failed.stepId}" failed: ${result.failed.error}`;
    } catch (error) {
      if (isCancellation(error) && isFalsePositive()) break;
      phaseFailure = failureMessage(error);
    } finally {
      phaseRunning = false;
      childStarted = false;
      phaseScope.current = undefined;
      for (const [stepId, entry] of waiting) if (entry.phase === phase) waiting.delete(stepId);
    }
    if (phaseFailure !== undefined) {
      record({ at: now(), type: 'phase_failed', phase, error: phaseFailure });
      if (failureCompensates()) {
        // The runbook could not be carried out: undo what it did (below) and leave the rest to people.
        state.status = 'failed';
        publish();
        changed();
        break;
      }
    }
    if (isFalsePositive() && fpCompensates()) break;

    // After a resolve, eradication and recovery finish their steps without waiting for an operator.
    const waitsForOperator =
      plan.phases[phase].advance === 'manual' && !(state.status === 'resolved' && phase !== 'post-incident');
    if (waitsForOperator && !advanceRequested) {
      state.awaitingAdvance = true;
      record({ at: now(), type: 'phase_completed', phase, awaitingAdvance: true });
      changed();
      await condition(() => advanceRequested || state.status === 'false_positive');
      state.awaitingAdvance = false;
    } else {
      record({ at: now(), type: 'phase_completed', phase, awaitingAdvance: false });
    }
    advanceRequested = false;
    if (isFalsePositive()) break;
    state.phases[phase] = { ...state.phases[phase], endedAt: now() };
    if (phase === 'recover' && state.status === 'active') {
      state.status = 'resolved';
      state.resolvedAt = now();
      record({ at: now(), type: 'resolved', summary: 'recovery completed' });
    }
    changed();
  }

  if (state.status === 'failed') await compensate('phase_failed');
  else if (isFalsePositive() && fpCompensates()) await compensate('false_positive');

  if (state.status !== 'false_positive' && state.status !== 'failed') state.status = 'closed';
  state.closedAt = now();
  record({ at: now(), type: 'closed', status: state.status });
  closed = true;
  publish();
  version++;
  await escalationLoop;
  await statusUpdates;
  await Promise.all(notifications);

  const parent = workflowInfo().parent;
  if (input.dedupKey && parent?.workflowId === REGISTRY_WORKFLOW_ID) {
    try {
      await getExternalWorkflowHandle(REGISTRY_WORKFLOW_ID).signal(incidentClosedSignal, {
        incidentId,
        dedupKey: input.dedupKey,
      });
    } catch (error) {
      log.warn('could not tell the registry the incident closed', { incidentId, error: String(error) });
    }
  }
  await condition(allHandlersFinished);
  return { incidentId, status: state.status, metrics: incidentMetrics(state) };
}
