// Step runner used by every phase workflow: runs a phase's steps in order as activities, resolving templates and
// recording each result. Deterministic: no I/O except through activities.
import { ActivityFailure, ApplicationFailure, log, proxyActivities } from '@temporalio/workflow';
import type { createActivities } from '../activities';
import type { Phase, StepResult } from '../src/schemas/incident';
import type { PlanStep } from '../src/schemas/runbook';
import type { ActionInput } from '../src/schemas/actions';
import { renderTemplate } from '../src/schemas/template';

type Activities = ReturnType<typeof createActivities>;
type ActionActivity = (input: ActionInput) => Promise<unknown>;

export interface PhaseInput {
  incidentId: string;
  phase: Phase;
  steps: PlanStep[];
  drill: boolean;
  /** Values templates may refer to: `${incident.id}`, `${incident.severity}`, ... */
  context: Record<string, unknown>;
}

export interface PhaseResult {
  phase: Phase;
  steps: StepResult[];
}

const DEFAULT_STEP_TIMEOUT_MS = 2 * 60_000;

function activityFor(step: PlanStep): ActionActivity {
  const proxies = proxyActivities<Activities>({
    startToCloseTimeout: step.timeoutMs ?? DEFAULT_STEP_TIMEOUT_MS,
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 5},
  }) as unknown as Record<string, ActionActivity>;
  const activity = proxies[step.action];
  if (!activity) throw ApplicationFailure.create({ type: 'UnknownAction', message: `unknown action "${step.action}"`, nonRetryable: true });
  return activity;
}

function describeFailure(error: unknown): string {
  if (error instanceof ActivityFailure && error.cause) return error.cause.message;
  return error instanceof Error ? error.message : String(error);
}

export async function runSteps(input: PhaseInput): Promise<PhaseResult> {
  const results: StepResult[] = [];
  for (const step of input.steps) {
    const startedAt = Date.now();
    try {
      const params = renderTemplate(step.with, input.context);
      const output = await activityFor(step)({
        incidentId: input.incidentId,
        phase: input.phase,
        stepId: step.id,
        action: step.action,
        params,
        drill: input.drill,
        idempotencyKey: `${input.incidentId}/${step.id}`,
      });
      results.push({ phase: input.phase, stepId: step.id, action: step.action, status: 'completed', startedAt, endedAt: Date.now(), output });
    } catch (error) {
      // A failed step is recorded and the phase goes on: the operator sees it on the timeline and decides.
      const message = describeFailure(error);
      log.warn('step failed', { incidentId: input.incidentId, stepId: step.id, error: message });
      results.push({ phase: input.phase, stepId: step.id, action: step.action, status: 'failed', startedAt, endedAt: Date.now(), error: message });
    }
  }
  return { phase: input.phase, steps: results };
}
