// When a long incident continues as new. Its history grows with what happens to it (updates, alerts the stream
// forwards, timers, step events); past CONTINUE_AS_NEW_AFTER_EVENTS (or when Temporal suggests it) the incident
// carries its state into a fresh run at the next quiet moment: while it waits on a phase child or an operator's
// advance, with no update, notification or signal of its own in flight. Temporal warns at 10,240 events and ends a
// workflow at 51,200, so a run never gets near either. Deterministic: it reads only the workflow's own info.
import { allHandlersFinished, log, workflowInfo } from '@temporalio/workflow';
import { type CarriedIncident, fitCarried } from './carried';
import type { Incident } from './incident';

/** History events after which a run continues as new, below Temporal's 10,240-event warning. */
export const CONTINUE_AS_NEW_AFTER_EVENTS = 8_000;
/** The lowest the start input may set it to (tests and drills exercise continuing with short histories). */
export const MIN_CONTINUE_AS_NEW_AFTER_EVENTS = 100;

export class Continuation {
  private inFlight = 0;
  /** The state did not fit one payload: this run stays (its update budget still bounds it). */
  private tooLarge = false;

  constructor(
    /** The incident-continues-as-new patch: runs started before it never continue as new. */
    readonly enabled: boolean,
    private readonly incident: Incident,
    private readonly afterEvents = CONTINUE_AS_NEW_AFTER_EVENTS,
  ) {}

  /** Counts a notification or signal in flight until it settles: the run does not end while one is. */
  track(promise: Promise<void>): Promise<void> {
    this.inFlight++;
    return promise.finally(() => this.inFlight--);
  }

  /** The history is long enough and nothing is in flight: the run should continue as new now. */
  due(): boolean {
    if (!this.enabled || this.tooLarge) return false;
    const info = workflowInfo();
    if (info.historyLength < this.afterEvents && !info.continueAsNewSuggested) return false;
    return this.inFlight === 0 && allHandlersFinished() && !this.incident.deciding;
  }

  /** What the next run starts from, when it is still due; undefined (and never again) when it does not fit. */
  carry(): CarriedIncident | undefined {
    if (!this.due()) return undefined;
    const carried = fitCarried(this.incident.carry());
    if (!carried) {
      this.tooLarge = true;
      log.warn('the incident state is too large to carry into a new run; it stays in this one', {
        incidentId: this.incident.incidentId,
      });
    }
    return carried;
  }
}
