// The incident's five phases, each a child workflow, run in order from wherever the incident is: the opening, or
// (in a run that continued as new) the phase child an earlier run started or the manual phase waiting to advance.
// Incidents that may continue as new (the incident-continues-as-new patch) start each child abandoned, so it
// outlives the run that started it; before a run continues as new it asks the running child to report its end
// (askPhaseEnd), and the next run awaits that phase_ended report, checking the child still runs (watchEarlierChild).
// A child that is never asked costs no more events than before. Every other incident keeps the commands it always
// issued (startChild, then the child's result). Deterministic.
import {
  CancellationScope,
  ParentClosePolicy,
  condition,
  getExternalWorkflowHandle,
  isCancellation,
  startChild,
} from '@temporalio/workflow';
import { type Phase, PHASES } from '../../domain/incident';
import { containPhase } from '../phases/contain';
import { detectPhase } from '../phases/detect';
import { eradicatePhase } from '../phases/eradicate';
import { postIncidentPhase } from '../phases/post-incident';
import { recoverPhase } from '../phases/recover';
import { containPhaseV2, detectPhaseV2, eradicatePhaseV2, postIncidentPhaseV2, recoverPhaseV2 } from '../phases/v2';
import { containPhaseV3, detectPhaseV3, eradicatePhaseV3, postIncidentPhaseV3, recoverPhaseV3 } from '../phases/v3';
import { isPatched } from '../patches';
import { reportPhaseEndSignal } from '../definitions';
import type { PhaseInput, PhaseResult } from '../steps';
import type { PhaseEnd } from './carried';
import { type Incident, failureMessage } from './incident';

type PhaseWorkflow = (input: PhaseInput) => Promise<PhaseResult>;

/** The phase types children are started as before the phase-types-born-patched patch. */
const PHASE_WORKFLOWS: Record<Phase, PhaseWorkflow> = {
  detect: detectPhase,
  contain: containPhase,
  eradicate: eradicatePhase,
  recover: recoverPhase,
  'post-incident': postIncidentPhase,
};

/** The same phases as types born with every current patch: they record no patch marker (workflows/phases/v2.ts). */
const PHASE_WORKFLOWS_BORN_PATCHED: Record<Phase, PhaseWorkflow> = {
  detect: detectPhaseV2,
  contain: containPhaseV2,
  eradicate: eradicatePhaseV2,
  recover: recoverPhaseV2,
  'post-incident': postIncidentPhaseV2,
};

/** The types new incidents start: born with local-activity steps and every patch before (workflows/phases/v3.ts). */
const PHASE_WORKFLOWS_LOCAL_STEPS: Record<Phase, PhaseWorkflow> = {
  detect: detectPhaseV3,
  contain: containPhaseV3,
  eradicate: eradicatePhaseV3,
  recover: recoverPhaseV3,
  'post-incident': postIncidentPhaseV3,
};

function phaseWorkflow(phase: Phase): PhaseWorkflow {
  if (isPatched('steps-as-local-activities')) return PHASE_WORKFLOWS_LOCAL_STEPS[phase];
  return (isPatched('phase-types-born-patched') ? PHASE_WORKFLOWS_BORN_PATCHED : PHASE_WORKFLOWS)[phase];
}

export interface PhaseRun {
  incident: Incident;
  /** The incident may continue as new: children are abandoned and report their end. */
  continues: boolean;
  /** True when the run should stop here and continue as new (checked while the incident waits). */
  continueNow: () => boolean;
  /** The running child's cancellation scope, for incidents that cancel a phase on a false positive (never carried). */
  setScope: (scope: CancellationScope | undefined) => void;
  /** How the child this run started ended, once it has. */
  outcome?: ChildOutcome;
  /** The running child closed before it could be asked to report its end: this run sees the phase out. */
  holdContinue?: boolean;
  /** This run started the running phase's child (it is not an earlier run's). */
  childHere?: boolean;
  /** The running phase's child has been asked to report its end. */
  asked?: boolean;
}

/** How often a run waiting on a phase child an earlier run started checks that the child still runs. */
export const EARLIER_CHILD_CHECK_MS = 6 * 60 * 60_000;

export function phaseChildId(incidentId: string, phase: Phase): string {
  return `${incidentId}.${phase}`;
}

function endFailure(end: PhaseEnd): string | undefined {
  if (end.error !== undefined) return end.error;
  return end.failed ? `critical step "${end.failed.stepId}" failed: ${end.failed.error}` : undefined;
}

/**
 * Runs the phases until the incident's last one ends or it stops (false positive, failed phase); returns `continue`
 * when the run should continue as new first, with the incident where a next run picks it up.
 */
export async function runPhases(run: PhaseRun): Promise<'done' | 'continue'> {
  const { incident } = run;
  // A carried incident resumes inside its phase; a new one starts at the first.
  let resume = incident.stage === 'opened' ? undefined : incident.stage;
  for (const phase of PHASES.slice(resume ? PHASES.indexOf(incident.state.phase) : 0)) {
    if (resume !== 'awaiting_advance') {
      if (resume === undefined) {
        if (incident.isFalsePositive) break;
        incident.startPhase(phase);
      }
      const ran = await runPhase(run, phase, resume === 'phase_running');
      if (ran === 'continue') return 'continue';
      if (ran.cancelled) break;
      const next = incident.afterPhase(phase, ran.failure);
      if (next === 'stop') break;
      resume = next === 'wait' ? 'awaiting_advance' : undefined;
    }
    if (resume === 'awaiting_advance') {
      await condition(() => incident.advanceReady || run.continueNow());
      if (!incident.advanceReady) return 'continue';
      resume = undefined;
    }
    if (!incident.finishPhase(phase)) break;
  }
  return 'done';
}

type Ran = { failure?: string; cancelled: boolean } | 'continue';
type ChildOutcome = { value: PhaseResult } | { error: unknown };

/** Starts the phase's child (unless an earlier run did) and waits for its end. */
async function runPhase(run: PhaseRun, phase: Phase, started: boolean): Promise<Ran> {
  const { incident } = run;
  let failure: string | undefined;
  let cancelled = false;
  try {
    const scope = new CancellationScope();
    run.setScope(scope);
    if (!started) {
      // startChild then result: the same commands as executeChild, but the incident knows when the child exists.
      const child = await scope.run(() =>
        startChild(phaseWorkflow(phase), {
          workflowId: phaseChildId(incident.incidentId, phase),
          args: [{ ...incident.phaseInput(phase), ...(run.continues ? { abandoned: true } : {}) }],
          ...(run.continues ? { parentClosePolicy: ParentClosePolicy.ABANDON } : {}),
        }),
      );
      incident.phaseChildStarted();
      if (!run.continues) failure = incident.phaseResult(phase, await scope.run(() => child.result()));
      else {
        run.outcome = undefined;
        run.holdContinue = false;
        run.childHere = true;
        run.asked = false;
        void scope
          .run(() => child.result())
          .then(
            (value) => (run.outcome = { value }),
            (error: unknown) => (run.outcome = { error }),
          );
      }
    }
    if (started || run.continues) {
      // This run's child ends with its result; a child an earlier run started, with its phase_ended report.
      let waited = false;
      let childGone = false;
      // Only a child an earlier run started is watched (asked only where it matters, so no marker otherwise).
      if (
        started &&
        incident.phaseEnd === undefined &&
        !(run.childHere && isPatched('phase-child-asked-once')) &&
        isPatched('earlier-child-watched')
      ) {
        void watchEarlierChild(incident.incidentId, phase, () => waited).then((gone) => (childGone = gone));
      }
      await condition(
        () => incident.phaseEnd !== undefined || run.outcome !== undefined || childGone || run.continueNow(),
      );
      waited = true;
      const outcome = run.outcome;
      if (outcome === undefined && incident.phaseEnd === undefined && !childGone) return 'continue';
      if (outcome && 'error' in outcome) throw outcome.error;
      if (outcome) failure = incident.phaseResult(phase, outcome.value);
      else if (incident.phaseEnd) failure = endFailure(incident.phaseEnd);
      else
        failure =
          `the ${phase} phase's workflow ${phaseChildId(incident.incidentId, phase)} closed without reporting how ` +
          'it ended (terminated or reset outside the engine)';
    }
  } catch (error) {
    cancelled = isCancellation(error) && incident.isFalsePositive;
    if (!cancelled) failure = failureMessage(error);
  } finally {
    run.setScope(undefined);
  }
  incident.phaseEnded(phase);
  return { failure, cancelled };
}

/**
 * While this run waits on the phase child an earlier run started: asks it again to report its end, at once and then
 * every EARLIER_CHILD_CHECK_MS. The signal fails only once the child has closed, and a child that reports its end has
 * its phase_ended in this run's history before it closes; so a failed signal with no report means the child was
 * terminated or reset outside the engine, and the phase ends as failed instead of being awaited forever. True when it
 * found the child so.
 */
async function watchEarlierChild(incidentId: string, phase: Phase, waited: () => boolean): Promise<boolean> {
  const child = getExternalWorkflowHandle(phaseChildId(incidentId, phase));
  while (!waited()) {
    try {
      await child.signal(reportPhaseEndSignal);
    } catch {
      return true;
    }
    await condition(waited, EARLIER_CHILD_CHECK_MS);
  }
  return false;
}

/**
 * Before the run continues as new with a phase child running: asks the child to report its end (phase_ended) to
 * the incident's next run. False when the child has already closed: its result reaches this run, which then goes on
 * here (and holds off continuing until that phase ends). Once asked, or once its result is here, it is not asked
 * again.
 */
export async function askPhaseEnd(run: PhaseRun): Promise<boolean> {
  const { incident } = run;
  if ((run.outcome !== undefined || run.asked) && isPatched('phase-child-asked-once')) {
    if (run.outcome === undefined) return true;
    run.holdContinue = true;
    return false;
  }
  try {
    await getExternalWorkflowHandle(phaseChildId(incident.incidentId, incident.state.phase)).signal(
      reportPhaseEndSignal,
    );
    run.asked = true;
    return true;
  } catch {
    run.holdContinue = true;
    return false;
  }
}
