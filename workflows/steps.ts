// Step runner used by every phase workflow: runs a phase's steps in order (parallel groups together) as activities,
// except that people's tasks and approval gates run beside the automated steps after them rather than before (a step
// that needs a person's work done first names it in `after:`),
// skips a step whose `when` does not hold, holds a step at its approval gate or `task` until a person decides (with a
// durable timeout), stops at a failed critical step, and tells the incident about every step as it happens so the
// timeline, the approval validators and compensation see it live. Deterministic: no I/O except through activities,
// signals and timers; conditions are plain comparisons, templates plain path lookups.
import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { createActivities } from '../activities';
import { ACTIONS, type ActionInput, type ActionSpec, isActionName } from '../domain/actions';
import { TaskParams, isWorkflowAction } from '../domain/actions/task';
import { type StepFacts, evaluateCondition } from '../domain/condition';
import { formatDuration } from '../domain/duration';
import { NON_RETRYABLE_ERROR_TYPES } from '../domain/errors';
import type { OnTimeoutBehaviour, Phase, StepResult } from '../domain/incident';
import { DEFAULT_STEP_RETRY, type PlanRetry, type PlanStep, planEntries } from '../domain/runbook';
import { renderTemplate } from '../domain/template';
import {
  type StepDecision,
  type StepEvent,
  phaseFactsSignal,
  reportPhaseEndSignal,
  stepDecisionSignal,
  stepEventSignal,
  stopPhaseSignal,
} from './definitions';
import type { PhaseEnd } from './incident/carried';
import { isPatched, patchOnce } from './patches';

type Activities = ReturnType<typeof createActivities>;
type ActionActivity = (input: ActionInput) => Promise<unknown>;

export interface PhaseInput {
  incidentId: string;
  phase: Phase;
  steps: PlanStep[];
  drill: boolean;
  /** Values templates may refer to: `${incident.id}`, `${incident.severity}`, `${alert.labels.<name>}`, ... */
  context: Record<string, unknown>;
  /** What `when` conditions look at, as of the phase's start; the incident sends fresh facts when they change. */
  facts?: StepFacts;
  /**
   * Started abandoned by an incident that may continue as new: the child outlives the run that started it, reports
   * its end (a phase_ended step event) when the incident asks (reportPhaseEnd), and starts nothing more once it cannot
   * reach its incident (terminated outside the engine).
   */
  abandoned?: boolean;
}

export interface PhaseResult {
  phase: Phase;
  /** In order of completion. */
  steps: StepResult[];
  /** A critical step failed: the phase stopped after it (and after the rest of its parallel group). */
  failed?: { stepId: string; error: string };
  /** The incident stopped the phase (false positive): steps not started did not run, waits ended. */
  stopped?: string;
}

export const DEFAULT_STEP_TIMEOUT_MS = 2 * 60_000;
/** How many times an `escalate` timeout escalates before the step waits without a limit (levels 1, 2, 3). */
export const MAX_TIMEOUT_ESCALATIONS = 3;

/** A step that waits for a person: a task, or an action behind an approval gate. */
export function waitsForPerson(step: PlanStep): boolean {
  return isWorkflowAction(step.action) || step.approval !== undefined;
}

/**
 * The steps each step of a phase waits for: a task, every step of the entries before it (people work in the
 * runbook's order); any other step, the steps of the entries before it that need no person; either, the steps of
 * this phase before it that its `after` names. Pure, so tests and the runbook review can read it.
 */
export function stepDependencies(steps: PlanStep[]): Map<string, string[]> {
  const deps = new Map<string, string[]>();
  const before: PlanStep[] = [];
  for (const entry of planEntries(steps)) {
    for (const step of entry.steps) {
      const implicit = isWorkflowAction(step.action) ? before : before.filter((s) => !waitsForPerson(s));
      const named = (step.after ?? []).filter((id) => before.some((s) => s.id === id));
      deps.set(step.id, [...new Set([...implicit.map((s) => s.id), ...named])]);
    }
    before.push(...entry.steps);
  }
  return deps;
}

export function retryOptions(retry: PlanRetry | undefined) {
  const policy = retry ?? DEFAULT_STEP_RETRY;
  return {
    initialInterval: policy.initialIntervalMs,
    backoffCoefficient: policy.backoffCoefficient,
    maximumInterval: policy.maximumIntervalMs,
    maximumAttempts: policy.maximumAttempts,
    // The failure types a retry cannot fix (domain/errors.ts): the activities mark the same ones non-retryable.
    nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
  };
}

/**
 * The activity that runs `action`, with the step's timeout and retry policy; with `local`, a local activity of one
 * attempt and at most `local.timeoutMs` instead (runAction).
 */
export function actionActivity(
  action: string,
  step: Pick<PlanStep, 'timeoutMs' | 'retry'>,
  local?: { timeoutMs: number },
): ActionActivity {
  const proxies = (local
    ? proxyLocalActivities<Activities>({ startToCloseTimeout: local.timeoutMs, retry: { maximumAttempts: 1 } })
    : proxyActivities<Activities>({
        startToCloseTimeout: step.timeoutMs ?? DEFAULT_STEP_TIMEOUT_MS,
        retry: retryOptions(step.retry),
      })) as unknown as Record<string, ActionActivity>;
  const activity = isActionName(action) && !isWorkflowAction(action) ? proxies[action] : undefined;
  if (!activity)
    throw ApplicationFailure.create({
      type: 'UnknownAction',
      message: `unknown action "${action}"`,
      nonRetryable: true,
    });
  return activity;
}

/**
 * The longest a step's first attempt runs as a local activity. A local activity runs inside the phase's workflow
 * task and holds one of the worker's workflow task slots while it runs (20, WORKER_LIMITS): a peer that hangs must not
 * hold them longer than this, or escalations and operators' updates on that worker wait behind it.
 */
export const LOCAL_ATTEMPT_MS = 2_000;

/** A failure that another attempt cannot fix: a non-retryable type (domain/errors.ts), or the phase was cancelled. */
function final(error: unknown): boolean {
  if (isCancellation(error)) return true;
  // An activity's failure carries the action's as its cause; an unknown action fails before any activity.
  const cause = error instanceof ActivityFailure ? error.cause : error;
  return (
    cause instanceof ApplicationFailure &&
    (cause.nonRetryable || (NON_RETRYABLE_ERROR_TYPES as readonly string[]).includes(cause.type ?? ''))
  );
}

/**
 * Runs a step's action. With `local`, its first attempt is a local activity of at most LOCAL_ATTEMPT_MS (a marker
 * in the phase's own workflow task: no task-queue round trip); an attempt that fails or runs longer goes on as a
 * scheduled activity with the step's timeout and the rest of its attempts, under the same idempotency key. A step
 * allowed one attempt only runs it as a scheduled activity, with its whole timeout.
 */
export async function runAction(step: PlanStep, input: ActionInput, local: boolean): Promise<unknown> {
  const attempts = step.retry?.maximumAttempts ?? DEFAULT_STEP_RETRY.maximumAttempts;
  if (!local || attempts === 1) return actionActivity(step.action, step)(input);
  const timeoutMs = Math.min(step.timeoutMs ?? DEFAULT_STEP_TIMEOUT_MS, LOCAL_ATTEMPT_MS);
  try {
    return await actionActivity(step.action, step, { timeoutMs })(input);
  } catch (error) {
    if (final(error)) throw error;
    const retry = { ...(step.retry ?? DEFAULT_STEP_RETRY), ...(attempts > 1 ? { maximumAttempts: attempts - 1 } : {}) };
    return actionActivity(step.action, { ...step, retry })(input);
  }
}

export function describeFailure(error: unknown): string {
  if (error instanceof ActivityFailure && error.cause) return error.cause.message;
  return error instanceof Error ? error.message : String(error);
}

/** The step that undoes a completed one, from its action's `compensate`; none when `compensate: false`. */
function undoFor(step: PlanStep, params: Record<string, unknown>, output: unknown): StepResult['undo'] {
  if (step.compensate === false || !isActionName(step.action)) return undefined;
  const spec = ACTIONS[step.action] as ActionSpec;
  if (!spec.compensate) return undefined;
  const parsed = spec.params.safeParse(params);
  if (!parsed.success) return undefined;
  try {
    return spec.compensate(parsed.data, output);
  } catch (error) {
    log.warn('compensate() threw; the step cannot be undone', { stepId: step.id, error: describeFailure(error) });
    return undefined;
  }
}

/**
 * What a step's templates render against: the phase's context, with `alert` taken from the latest facts when they
 * carry labels (alerts that came in during the phase add labels; a label's value never changes), so a step renders
 * the labels its `when` was evaluated on.
 */
export function templateContext(
  context: Record<string, unknown>,
  facts: StepFacts | undefined,
): Record<string, unknown> {
  if (facts?.labels === undefined) return context;
  const source = facts.alertSource ?? (context.alert as { source?: unknown } | undefined)?.source;
  return { ...context, alert: { labels: facts.labels, ...(source !== undefined ? { source } : {}) } };
}

type WaitOutcome =
  | { kind: 'decided'; decision: StepDecision }
  | { kind: 'timed_out'; onTimeout: Exclude<OnTimeoutBehaviour, 'escalate'>; after: number }
  | { kind: 'stopped'; reason: string };

export async function runSteps(input: PhaseInput): Promise<PhaseResult> {
  const parentId = workflowInfo().parent?.workflowId;
  if (!input.abandoned || parentId === undefined) return runPhaseSteps(input, () => false);
  // Asked by an incident run about to continue as new. Signal handlers run before the workflow code in an
  // activation, so a request that meets the phase's last step is still seen before the phase returns.
  let reportEnd = false;
  setHandler(reportPhaseEndSignal, () => void (reportEnd = true));
  const tell = async (end: PhaseEnd) => {
    if (!reportEnd) return;
    try {
      await getExternalWorkflowHandle(parentId).signal(stepEventSignal, { type: 'phase_ended', ...end });
    } catch (error) {
      log.warn('could not report the phase end', { incidentId: input.incidentId, error: describeFailure(error) });
    }
  };
  let result: PhaseResult;
  try {
    // Asked to report its end, the phase reports every step live: the run that asked may not see its result.
    result = await runPhaseSteps(input, () => reportEnd);
  } catch (error) {
    await tell({ phase: input.phase, error: describeFailure(error) });
    throw error;
  }
  const { failed, stopped } = result;
  await tell({ phase: input.phase, ...(failed ? { failed } : {}), ...(stopped ? { stopped } : {}) });
  return result;
}

/** `reportsEnd`: the incident asked this phase to report its end (phase_ended) rather than read its result. */
async function runPhaseSteps(input: PhaseInput, reportsEnd: () => boolean): Promise<PhaseResult> {
  const { incidentId, phase } = input;
  const parentId = workflowInfo().parent?.workflowId;
  // Children recorded before this patch never signalled their incident; new ones report every step live.
  const live = parentId !== undefined && isPatched('step-events');
  // Asked when the first automated step runs, so a phase of people's tasks only records no marker for it.
  const localSteps = patchOnce('steps-as-local-activities');
  let facts = input.facts;
  let stopped: string | undefined;
  /** A critical step failed while tasks beside it waited: they stop waiting (the phase ends). */
  let halted: string | undefined;
  const decisions = new Map<string, StepDecision>();
  setHandler(phaseFactsSignal, (next) => {
    facts = next;
  });
  setHandler(stepDecisionSignal, (decision) => {
    decisions.set(decision.stepId, decision);
  });
  setHandler(stopPhaseSignal, ({ reason }) => {
    stopped ??= reason;
  });

  async function report(event: StepEvent): Promise<void> {
    if (!live || parentId === undefined) return;
    try {
      // Awaited: the incident has the event in its history before this phase goes on (or completes).
      await getExternalWorkflowHandle(parentId).signal(stepEventSignal, event);
    } catch (error) {
      log.warn('could not report a step event to the incident', {
        incidentId,
        type: event.type,
        error: describeFailure(error),
      });
      // Its incident no longer runs (terminated outside the engine): this phase starts nothing more.
      if (input.abandoned) stopped ??= 'the incident is no longer running';
    }
  }

  const results: StepResult[] = [];
  let failed: PhaseResult['failed'];
  /** Steps not settled yet (running, waiting, or not started): at 1 in finish(), the step is the phase's last. */
  let unsettled = input.steps.length;

  async function finish(result: StepResult): Promise<StepResult> {
    results.push(result);
    // The phase's last result reaches the incident with the phase's own result a moment later: no signal, and one
    // workflow task fewer on each side.
    const inResult = unsettled === 1 && !reportsEnd() && isPatched('phase-end-in-result');
    if (!inResult) await report({ type: 'result', result });
    return result;
  }

  /** Waits for a person's decision on `step`, honouring the timeout and onTimeout (escalate keeps waiting). */
  async function waitForPerson(
    step: PlanStep,
    kind: 'approval' | 'task',
    spec: { roles?: string[]; timeoutMs?: number; onTimeout: OnTimeoutBehaviour; instructions?: string },
  ): Promise<WaitOutcome> {
    const accepts = (d: StepDecision | undefined): d is StepDecision =>
      d !== undefined && (kind === 'task' ? d.kind === 'complete' : d.kind !== 'complete');
    let limit = spec.timeoutMs;
    let escalations = 0;
    await report({
      type: 'waiting',
      phase,
      stepId: step.id,
      action: step.action,
      kind,
      ...(spec.roles ? { roles: spec.roles } : {}),
      ...(spec.instructions ? { instructions: spec.instructions } : {}),
      ...(limit !== undefined ? { timeoutAt: Date.now() + limit, onTimeout: spec.onTimeout } : {}),
    });
    for (;;) {
      const ready = (): boolean => accepts(decisions.get(step.id)) || stopped !== undefined || halted !== undefined;
      if (limit === undefined) await condition(ready);
      else await condition(ready, limit);
      const decision = decisions.get(step.id);
      if (accepts(decision)) {
        // A decision that arrived with the timer still counts: the operator acted within the window.
        decisions.delete(step.id);
        await report({ type: 'decided', phase, decision });
        return { kind: 'decided', decision };
      }
      if (stopped !== undefined) return { kind: 'stopped', reason: stopped };
      if (halted !== undefined) return { kind: 'stopped', reason: halted };
      const waited = limit ?? 0;
      if (spec.onTimeout !== 'escalate') {
        await report({
          type: 'timed_out',
          phase,
          stepId: step.id,
          kind,
          onTimeout: spec.onTimeout,
          stillWaiting: false,
        });
        return { kind: 'timed_out', onTimeout: spec.onTimeout, after: waited };
      }
      // Escalate: the incident moves up one level and the step keeps waiting; after the top level, without a limit.
      escalations++;
      limit = escalations < MAX_TIMEOUT_ESCALATIONS ? spec.timeoutMs : undefined;
      await report({
        type: 'timed_out',
        phase,
        stepId: step.id,
        kind,
        onTimeout: 'escalate',
        stillWaiting: true,
        ...(limit !== undefined ? { timeoutAt: Date.now() + limit } : {}),
      });
    }
  }

  async function runOne(step: PlanStep, group: string | undefined): Promise<StepResult | undefined> {
    if (stopped !== undefined) return undefined;
    const startedAt = Date.now();
    const base = { phase, stepId: step.id, action: step.action, startedAt, ...(group ? { group } : {}) };
    const skip = (reason: string) => finish({ ...base, status: 'skipped', endedAt: Date.now(), reason });
    const fail = (error: string) => finish({ ...base, status: 'failed', endedAt: Date.now(), error });

    if (step.when) {
      if (facts) {
        const verdict = evaluateCondition(step.when, facts);
        if (!verdict.ok) return skip(`when: ${verdict.reason}`);
      } else {
        log.warn('no incident facts for a when condition; running the step', { incidentId, stepId: step.id });
      }
    }

    let proceededWithout: string | undefined;
    if (step.approval) {
      const outcome = await waitForPerson(step, 'approval', step.approval);
      if (outcome.kind === 'stopped') return skip(`not approved before the phase stopped: ${outcome.reason}`);
      if (outcome.kind === 'decided' && outcome.decision.kind === 'reject') {
        const { by, role, reason } = outcome.decision;
        return skip(`approval rejected by ${by} (${role ?? 'no role'}): ${reason ?? 'no reason given'}`);
      }
      if (outcome.kind === 'timed_out') {
        const why = `approval not given within ${formatDuration(outcome.after)}`;
        if (outcome.onTimeout === 'skip') return skip(why);
        if (outcome.onTimeout === 'fail') return fail(why);
        proceededWithout = why;
      }
    }

    let params: Record<string, unknown>;
    try {
      params = renderTemplate(step.with, templateContext(input.context, facts));
    } catch (error) {
      return fail(describeFailure(error));
    }

    if (isWorkflowAction(step.action)) {
      const task = TaskParams.safeParse(params);
      if (!task.success) return fail(`task: ${task.error.issues.map((i) => i.message).join('; ')}`);
      const { instructions, roles, timeout, onTimeout } = task.data;
      const outcome = await waitForPerson(step, 'task', {
        instructions,
        ...(roles ? { roles } : {}),
        ...(timeout !== undefined ? { timeoutMs: timeout } : {}),
        onTimeout: onTimeout ?? 'escalate',
      });
      if (outcome.kind === 'stopped') return skip(`not completed before the phase stopped: ${outcome.reason}`);
      if (outcome.kind === 'timed_out') {
        const why = `task not completed within ${formatDuration(outcome.after)}`;
        if (outcome.onTimeout === 'skip') return skip(why);
        if (outcome.onTimeout === 'fail') return fail(why);
        return finish({
          ...base,
          status: 'completed',
          endedAt: Date.now(),
          output: { completed: false, timedOut: true },
        });
      }
      const { by, role, note } = outcome.decision;
      return finish({
        ...base,
        status: 'completed',
        endedAt: Date.now(),
        output: { completed: true, completedBy: by, ...(role ? { role } : {}), ...(note ? { note } : {}) },
      });
    }

    try {
      const output = await runAction(
        step,
        {
          incidentId,
          phase,
          stepId: step.id,
          action: step.action,
          params,
          drill: input.drill,
          idempotencyKey: `${incidentId}/${step.id}`,
        },
        localSteps(),
      );
      const undo = undoFor(step, params, output);
      return finish({
        ...base,
        status: 'completed',
        endedAt: Date.now(),
        output,
        ...(undo ? { undo } : {}),
        ...(proceededWithout ? { reason: `${proceededWithout}; ran anyway (onTimeout: proceed)` } : {}),
      });
    } catch (error) {
      // A failed step is recorded and the phase goes on, unless it is critical: the operator sees it and decides.
      const message = describeFailure(error);
      log.warn('step failed', { incidentId, stepId: step.id, error: message });
      return fail(message);
    }
  }

  if (isPatched('tasks-beside-steps')) {
    // Every step starts as soon as the steps it depends on are done; a failed critical step stops the phase: steps
    // not started never start, tasks waiting beside it stop waiting.
    const deps = stepDependencies(input.steps);
    const settledSteps = new Map<string, Promise<void>>();
    for (const entry of planEntries(input.steps)) {
      for (const step of entry.steps) {
        const waitFor = (deps.get(step.id) ?? []).map((id) => settledSteps.get(id));
        const run = Promise.all(waitFor).then(async () => {
          try {
            if (stopped !== undefined || failed) return;
            const result = await runOne(step, entry.group);
            if (result?.status === 'failed' && step.critical && !failed) {
              failed = { stepId: step.id, error: result.error ?? 'failed' };
              halted = `critical step "${step.id}" failed`;
            }
          } finally {
            unsettled--;
          }
        });
        settledSteps.set(step.id, run);
      }
    }
    await Promise.all(settledSteps.values());
  } else {
    for (const entry of planEntries(input.steps)) {
      if (stopped !== undefined || failed) break;
      const ran = await Promise.all(entry.steps.map((step) => runOne(step, entry.group)));
      unsettled -= entry.steps.length;
      const critical = ran.find(
        (result) => result?.status === 'failed' && input.steps.find((s) => s.id === result.stepId)?.critical,
      );
      if (critical) failed = { stepId: critical.stepId, error: critical.error ?? 'failed' };
    }
  }
  return {
    phase,
    steps: results,
    ...(failed ? { failed } : {}),
    ...(stopped !== undefined ? { stopped } : {}),
  };
}
