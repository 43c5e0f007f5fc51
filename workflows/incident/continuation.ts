// When a long incident continues as new. Its history grows with what happens to it (updates, alerts the stream
// forwards, timers, step events); past CONTINUE_AS_NEW_AFTER_EVENTS (or when Temporal suggests it) the incident
// carries its state into a fresh run at the next quiet moment: while it waits on a phase child or an operator's
// advance, with no update, notification or signal of its own in flight. Temporal warns at 10,240 events and ends a
// workflow at 51,200, so a run never gets near either. Deterministic: it reads only the workflow's own info.
import { allHandlersFinished, condition, log, sleep, workflowInfo } from '@temporalio/workflow';
import { lengthForContinuing } from '../recorded-task';
import { type CarriedIncident, fitCarried } from './carried';
import type { Incident } from './incident';

/** History events after which a run continues as new, below Temporal's 10,240-event warning. */
export const CONTINUE_AS_NEW_AFTER_EVENTS = 8_000;
/** The lowest the start input may set it to (tests and drills exercise continuing with short histories). */
export const MIN_CONTINUE_AS_NEW_AFTER_EVENTS = 100;

export class Continuation {
  private inFlight = 0;
  /** The history length of the last workflow task in which an update ran or finished. */
  private lastUpdateTask: number | undefined;
  /** Continuing waited only on an update handled in this task: wake the run again in a later one. */
  private nudge = false;
  /** The state did not fit one payload: this run stays (its update budget still bounds it). */
  private tooLarge = false;

  constructor(
    /** The incident-continues-as-new patch: runs started before it never continue as new. */
    readonly enabled: boolean,
    private readonly incident: Incident,
    private readonly afterEvents = CONTINUE_AS_NEW_AFTER_EVENTS,
    /**
     * The continue-at-recorded-length patch: the history's length is estimated from the last task that recorded
     * something and the jobs since (workflows/recorded-task.ts), which replays the same; before, read from the current
     * task, which a replay that merges a task recording nothing with the next can read later than the worker did.
     */
    private readonly atRecordedTask = false,
  ) {}

  /** Counts a notification or signal in flight until it settles: the run does not end while one is. */
  track(promise: Promise<void>): Promise<void> {
    this.inFlight++;
    return promise.finally(() => this.inFlight--);
  }

  /**
   * An update handler ran or finished in this workflow task. The run does not continue as new in that same task: the
   * server may then hand an update it has just completed to the next run as if it were new, and the next run would
   * apply it again (temporalio/temporal#6375; seen here on the dev server: an operator's note recorded twice).
   */
  noteUpdate(): void {
    this.lastUpdateTask = workflowInfo().historyLength;
  }

  /** The history is long enough and nothing is in flight: the run should continue as new now. */
  due(): boolean {
    if (!this.enabled || this.tooLarge) return false;
    const { historyLength, continueAsNewSuggested } = lengthForContinuing(this.atRecordedTask);
    if (historyLength < this.afterEvents && !continueAsNewSuggested) return false;
    const quiet = this.inFlight === 0 && allHandlersFinished() && !this.incident.deciding;
    if (quiet && workflowInfo().historyLength === this.lastUpdateTask) {
      this.nudge = true;
      return false;
    }
    return quiet;
  }

  /**
   * Until `done`: when continuing waited only on an update handled in that task, a one-second timer brings a later
   * task to continue in (nothing else may come for hours). Under a stream of updates every task may hold one; the
   * update budget (domain/limits.ts) then ends that stream, and the run continues.
   */
  async keepAwake(done: () => boolean): Promise<void> {
    while (!done()) {
      await condition(() => this.nudge || done());
      if (done()) return;
      this.nudge = false;
      await sleep(1_000);
    }
  }

  /**
   * What the next run starts from, with the ids of the last updates applied, when it is still due; undefined (and
   * never again) when it does not fit.
   */
  carry(appliedUpdateIds: string[]): CarriedIncident | undefined {
    if (!this.due()) return undefined;
    const carried = fitCarried({ ...this.incident.carry(), appliedUpdateIds });
    if (!carried) {
      this.tooLarge = true;
      log.warn('the incident state is too large to carry into a new run; it stays in this one', {
        incidentId: this.incident.incidentId,
      });
    }
    return carried;
  }
}
