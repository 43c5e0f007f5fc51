// How long the history may be by now, as the continue-as-new decisions of the incident, its alert stream and the
// registry read it: the length as of the last workflow task that recorded something (a command, an update's acceptance
// or answer), plus at most EVENTS_PER_JOB_AT_MOST for every event-driven job since (a signal, a timer, an activity's or
// child's result). Not the current task's length: a task that records nothing, followed at once by another task (one
// for an update that arrived while it ran), is replayed merged with that next one, so jobs the worker saw at length 98
// replay at length 101, and a decision read from the current length went one way live and the other on replay (a CI
// run, at the continue-as-new bound). A recording task is never merged, and the jobs are the same live and on replay
// (those only a live worker sees are left out: queries, updates its validator may reject, evictions), so this estimate
// replays the same. Kept by internals interceptors (registered in src/worker.ts, bundleWorkflows); module state is per
// workflow (the SDK gives each workflow its own module instances).
import { type WorkflowInterceptorsFactory, workflowInfo } from '@temporalio/workflow';
import type { coresdk } from '@temporalio/proto';

/** A job's own event and, at worst, the three events of a task of its own. */
const EVENTS_PER_JOB_AT_MOST = 4;

export interface HistoryEstimate {
  /** The history's length now, at most (never below the length of the last recording task). */
  historyLength: number;
  /** Temporal's continue-as-new suggestion as of the last recording task. */
  continueAsNewSuggested: boolean;
}

let recorded: { historyLength: number; continueAsNewSuggested: boolean } | undefined;
let jobsSince = 0;

/** Undefined before the first recording task, or where the interceptors are not in the bundle. */
function historyEstimate(): HistoryEstimate | undefined {
  if (!recorded) return undefined;
  return {
    historyLength: recorded.historyLength + EVENTS_PER_JOB_AT_MOST * jobsSince,
    continueAsNewSuggested: recorded.continueAsNewSuggested,
  };
}

/**
 * The length and suggestion a continue-as-new decision reads: the estimate, for a run with the
 * continue-at-recorded-length patch (and the interceptors in its bundle); else the current task's, as before it.
 */
export function lengthForContinuing(atRecordedTask: boolean): HistoryEstimate {
  const { historyLength, continueAsNewSuggested } = workflowInfo();
  return (atRecordedTask && historyEstimate()) || { historyLength, continueAsNewSuggested };
}

/** Jobs that come from an event of the history: the same live and on replay. */
const EVENT_JOBS = new Set<string>([
  'fireTimer',
  'signalWorkflow',
  'resolveActivity',
  'resolveChildWorkflowExecutionStart',
  'resolveChildWorkflowExecution',
  'resolveSignalExternalWorkflow',
  'resolveRequestCancelExternalWorkflow',
  'cancelWorkflow',
  'resolveNexusOperationStart',
  'resolveNexusOperation',
]);

function fromEvent(job: coresdk.workflow_activation.IWorkflowActivationJob): boolean {
  return Object.entries(job).some(([variant, value]) => value != null && EVENT_JOBS.has(variant));
}

/** A command that leaves an event in the history: not a query's answer, not an update's rejection. */
function records(command: coresdk.workflow_commands.IWorkflowCommand): boolean {
  if (command.respondToQuery) return false;
  if (command.updateResponse) return !command.updateResponse.rejected;
  return true;
}

export const interceptors: WorkflowInterceptorsFactory = () => ({
  internals: [
    {
      activate(input, next) {
        jobsSince += input.activation.jobs?.filter(fromEvent).length ?? 0;
        return next(input);
      },
      concludeActivation(input, next) {
        if (input.commands.some(records)) {
          const { historyLength, continueAsNewSuggested } = workflowInfo();
          recorded = { historyLength, continueAsNewSuggested };
          jobsSince = 0;
        }
        return next(input);
      },
    },
  ],
});
