// One incident, from opening to close: state, timeline, the five phases as child workflows, and the escalation
// engine armed from the pinned runbook's policy. Deterministic: time comes from the workflow clock, effects from
// activities; operator input is validated at the boundary and refused with a reason, never crashing a task.
import {
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  executeChild,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { createActivities } from '../activities';
import {
  type IncidentState,
  type IncidentStatus,
  type Phase,
  PHASES,
  type TimelineEvent,
  incidentMetrics,
} from '../src/schemas/incident';
import {
  AcknowledgeInput,
  AdvancePhaseInput,
  AlertSignalInput,
  AssignOwnerInput,
  DeclareFalsePositiveInput,
  EscalateInput,
  RecordRootCauseInput,
  ResolveInput,
  SetSeverityInput,
  UpdateImpactInput,
} from '../src/schemas/messages';
import { describeSeverity } from '../src/schemas/severity';
import {
  type IncidentInput,
  type IncidentOutcome,
  type IncidentStatusView,
  REGISTRY_WORKFLOW_ID,
  acknowledgeUpdate,
  advancePhaseUpdate,
  alertSignal,
  assignOwnerUpdate,
  declareFalsePositiveUpdate,
  escalateUpdate,
  incidentClosedSignal,
  recordRootCauseUpdate,
  resolveUpdate,
  setSeverityUpdate,
  statusQuery,
  timelineQuery,
  updateImpactUpdate,
} from './definitions';
import { type FiredEscalation, runEscalations } from './escalation';
import { containPhase } from './phases/contain';
import { classify, detectPhase } from './phases/detect';
import { eradicatePhase } from './phases/eradicate';
import { postIncidentPhase } from './phases/post-incident';
import { recoverPhase } from './phases/recover';
import { incidentSearchAttributes } from './search-attributes';
import type { PhaseInput, PhaseResult } from './steps';

const { notifyEscalation } = proxyActivities<ReturnType<typeof createActivities>>({
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
function parseInput<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } } }, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  refuse(
    'invalid input: ' +
      parsed.error.issues.map((i) => (i.path.length ? `${i.path.map(String).join('.')}: ${i.message}` : i.message)).join('; '),
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

  // A function, not an inline test: handlers change the status while the main loop awaits.
  const isFalsePositive = (): boolean => state.status === 'false_positive';
  const view = (): IncidentStatusView => ({
    ...state,
    metrics: incidentMetrics(state),
    ...(nextEscalationAt !== undefined ? { nextEscalationAt } : {}),
  });
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
    record({
      at: now(),
      type: 'alert',
      status: alert.status,
      source: alert.source,
      summary: alert.summary,
      ...(alert.fingerprint ? { fingerprint: alert.fingerprint } : {}),
    });
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
      record({ at: now(), by, type: 'impact_updated', affectedSystems: state.affectedSystems, dataBreachConfirmed: state.dataBreachConfirmed });
      changed();
      return view();
    },
    {
      validator: (raw) => {
        const { dataBreachConfirmed } = parseInput(UpdateImpactInput, raw);
        refuseIfClosed();
        if (dataBreachConfirmed === false && state.dataBreachConfirmed) refuse('a confirmed data breach cannot be withdrawn');
      },
    },
  );

  setHandler(
    advancePhaseUpdate,
    async (raw) => {
      const { by, note } = AdvancePhaseInput.parse(raw);
      const from = state.phase;
      const index = PHASES.indexOf(from);
      record({ at: now(), by, type: 'phase_advanced', from, to: PHASES[index + 1] ?? 'closed', ...(note ? { note } : {}) });
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
              ? `phase ${state.phase} is still running its steps`
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
    (raw) => {
      const { by, reason } = DeclareFalsePositiveInput.parse(raw);
      state.status = 'false_positive';
      record({ at: now(), by, type: 'false_positive', reason });
      phaseScope.current?.cancel();
      publish();
      changed();
      return view();
    },
    {
      validator: (raw) => {
        parseInput(DeclareFalsePositiveInput, raw);
        refuseIfClosed();
        if (state.status === 'resolved') refuse(`incident ${incidentId} is resolved; a resolved incident is not a false positive`);
      },
    },
  );

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

  const escalationLoop = (async () => {
    while (!TERMINAL.includes(state.status)) {
      const seen = version;
      const deadline = nextEscalationAt;
      if (deadline === undefined) await condition(() => version !== seen);
      else if (!(await condition(() => version !== seen, Math.max(1, deadline - now())))) evaluateEscalations();
    }
  })();

  const context = (): Record<string, unknown> => ({
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
    try {
      const scope = new CancellationScope();
      phaseScope.current = scope;
      const result = await scope.run(() =>
        executeChild(PHASE_WORKFLOWS[phase], {
          workflowId: `${incidentId}.${phase}`,
          args: [{ incidentId, phase, steps: plan.phases[phase].steps, drill: state.drill, context: context() }],
        }),
      );
      for (const step of result.steps) {
        state.steps.push(step);
        const type = step.status === 'completed' ? 'step_completed' : step.status === 'failed' ? 'step_failed' : 'step_skipped';
        record({ at: step.endedAt, type, phase, stepId: step.stepId, action: step.action, ...(step.error ? { detail: step.error } : {}) });
        const output = step.output as { archive?: string; sha256?: string } | undefined;
        if (step.status === 'completed' && output?.archive && output.sha256) {
          state.evidence.push({ stepId: step.stepId, archive: output.archive, sha256: output.sha256 });
        }
      }
    } catch (error) {
      if (isCancellation(error) && isFalsePositive()) break;
      record({ at: now(), type: 'phase_failed', phase, error: failureMessage(error) });
    } finally {
      phaseRunning = false;
      phaseScope.current = undefined;
    }

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

  if (state.status !== 'false_positive') state.status = 'closed';
  state.closedAt = now();
  record({ at: now(), type: 'closed', status: state.status });
  publish();
  version++;
  await escalationLoop;
  await Promise.all(notifications);

  const parent = workflowInfo().parent;
  if (input.dedupKey && parent?.workflowId === REGISTRY_WORKFLOW_ID) {
    try {
      await getExternalWorkflowHandle(REGISTRY_WORKFLOW_ID).signal(incidentClosedSignal, { incidentId, dedupKey: input.dedupKey });
    } catch (error) {
      log.warn('could not tell the registry the incident closed', { incidentId, error: String(error) });
    }
  }
  await condition(allHandlersFinished);
  return { incidentId, status: state.status, metrics: incidentMetrics(state) };
}
