// Technical drills: the runbook's actions run for real, but only against targets explicitly configured as staging
// (`staging: true` on emergencyApi or a connector, or every target of a `--staging-config` file). This module checks a
// plan before anything runs (and refuses, naming each step that would reach a target not known to be staging) and
// builds the activities a technical drill's worker uses: app.* and connector actions go to staging and are recorded
// as performed; everything else (notifications, evidence, file quarantine, http.request) is only recorded, as in a
// tabletop drill. It must never perform an action whose target is not staging, whatever the plan says.
import { ApplicationFailure } from '@temporalio/activity';
import { createActivities, type ActionActivity } from '../../activities';
import { recordDrillCall } from '../../activities/drill-recorder';
import type { EngineConfig } from '../config';
import { ACTION_PARAMS, ACTIONS, type ActionInput, isActionName } from '../../domain/actions';
import { CONNECTOR_ACTION_NAMES } from '../../domain/actions/connectors';
import { EMERGENCY_ACTIONS } from '../../domain/actions/emergency';
import { PHASES } from '../../domain/incident';
import type { RunbookPlan } from '../../domain/runbook';

export class DrillRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DrillRefusedError';
  }
}

/** Where staging comes from: the engine's own config (flags per target) or a file that is staging as a whole. */
export interface StagingTargets {
  config: EngineConfig;
  /** Every target in `config` is staging (it came from `--staging-config`). */
  wholeFileIsStaging: boolean;
  /** For messages: where the config came from. */
  source: string;
}

const EMERGENCY = new Set(Object.keys(EMERGENCY_ACTIONS));
const CONNECTOR = new Set<string>(CONNECTOR_ACTION_NAMES);

/** Whether a technical drill performs this action (app.* and connector actions) rather than only recording it. */
export function reachesTarget(action: string): boolean {
  return EMERGENCY.has(action) || CONNECTOR.has(action);
}

/** Why `action` with `params` may not run against `targets`, or undefined when its target is staging. */
export function stagingProblem(
  action: string,
  params: Record<string, unknown>,
  targets: StagingTargets,
): string | undefined {
  const { config } = targets;
  if (EMERGENCY.has(action)) {
    if (!config.emergencyApi) return `${action} needs emergencyApi, which ${targets.source} does not configure`;
    if (targets.wholeFileIsStaging || config.emergencyApi.staging === true) return undefined;
    return `${action} would reach emergencyApi ${config.emergencyApi.baseUrl}, which is not marked staging: true in ${targets.source}`;
  }
  if (CONNECTOR.has(action)) {
    const explicit = typeof params.connector === 'string' ? params.connector : undefined;
    if (explicit?.includes('${'))
      return `${action} names its connector by template (${explicit}); a technical drill needs a fixed connector`;
    const name = explicit ?? config.connectorFor[action];
    if (!name)
      return `${action} has no connector: set connectorFor."${action}" in ${targets.source} or give the step a connector`;
    const connector = config.connectors[name];
    if (!connector) return `${action} uses connector "${name}", which ${targets.source} does not configure`;
    if (targets.wholeFileIsStaging || connector.staging === true) return undefined;
    return `${action} would reach connector "${name}" (${connector.url}), which is not marked staging: true in ${targets.source}`;
  }
  return undefined;
}

/**
 * Every step (and every undo a step may need) of the plan that would reach a target not known to be staging.
 * Empty: the plan may run as a technical drill against these targets.
 */
export function stagingProblems(plan: RunbookPlan, targets: StagingTargets): string[] {
  const problems: string[] = [];
  for (const phase of PHASES) {
    for (const step of plan.phases[phase].steps) {
      const problem = stagingProblem(step.action, step.with, targets);
      if (problem) problems.push(`step ${phase}/${step.id}: ${problem}`);
      // The undo reaches the same target under another action name (block/unblock, safe mode back, ...).
      if (!isActionName(step.action) || step.compensate === false) continue;
      const spec = ACTIONS[step.action] as {
        compensate?: (params: never, output: unknown) => { action: string; with: Record<string, unknown> };
      };
      const parsed = ACTION_PARAMS[step.action].safeParse(step.with);
      if (!spec.compensate || !parsed.success) continue;
      try {
        const undo = spec.compensate(parsed.data as never, {});
        const undoProblem = stagingProblem(undo.action, undo.with, targets);
        if (undoProblem && undoProblem !== problem) problems.push(`undo of step ${phase}/${step.id}: ${undoProblem}`);
      } catch {
        // An undo that needs the step's output cannot be checked here; the activity checks it before it runs.
      }
    }
  }
  return problems;
}

/**
 * The activities of a technical drill's worker: actions that reach a staging target run for real (with the drill flag
 * lifted for them alone) and are recorded as performed in `<dataDir>/drills/<incident>.jsonl`; every other call is
 * recorded and not performed, because the incident carries the drill flag.
 */
export function technicalActivities(config: EngineConfig, targets: StagingTargets, performed: Set<string>) {
  const real = createActivities({ config });
  const wrapped: Record<string, unknown> = { ...real };
  for (const [name, activity] of Object.entries(real)) {
    if (!reachesTarget(name)) continue;
    wrapped[name] = async (input: ActionInput) => {
      const problem = stagingProblem(name, input.params, targets);
      if (problem) {
        throw ApplicationFailure.create({
          type: 'NotStaging',
          message: `technical drill refused ${name}: ${problem}`,
          nonRetryable: true,
        });
      }
      const parsed = isActionName(name) ? ACTION_PARAMS[name].safeParse(input.params) : undefined;
      await recordDrillCall(config.dataDir, input.incidentId, {
        activity: name,
        idempotencyKey: input.idempotencyKey,
        params: parsed?.success ? parsed.data : input.params,
      });
      performed.add(input.idempotencyKey);
      return (activity as ActionActivity)({ ...input, drill: false });
    };
  }
  return wrapped as typeof real;
}
