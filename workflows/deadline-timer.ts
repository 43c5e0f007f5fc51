// A durable timer for a deadline that is checked again on every state change. Re-arming it on each change (as
// `condition(changed, timeout)` does) costs a cancelled and a new timer, two commands and two history events, even
// when the deadline did not move; this keeps the timer while its deadline stays the same. `onDeadline` is the loop
// each such timer of the incident runs (escalations, automatic resolve, follow-up reminders).
import { CancellationScope, condition, sleep } from '@temporalio/workflow';

export class DeadlineTimer {
  private at: number | undefined;
  private scope: CancellationScope | undefined;
  private firedAt: number | undefined;

  /** Arms the timer for `at` (epoch ms, workflow clock), unless it is already armed for it; undefined disarms. */
  set(at: number | undefined): void {
    if (at === this.at && (this.scope !== undefined || this.firedAt !== undefined)) return;
    this.scope?.cancel();
    this.scope = undefined;
    this.at = at;
    this.firedAt = undefined;
    if (at === undefined) return;
    const scope = new CancellationScope();
    this.scope = scope;
    scope
      .run(() => sleep(Math.max(1, at - Date.now())))
      .then(
        () => {
          if (this.scope !== scope) return;
          this.scope = undefined;
          this.firedAt = at;
        },
        // Cancelled because the deadline moved: the new timer carries on.
        () => undefined,
      );
  }

  /** True while the armed deadline has passed and nobody took it yet. */
  get fired(): boolean {
    return this.firedAt !== undefined;
  }

  /**
   * Takes the firing, so the next `set` arms again even for the same instant; returns the deadline that fired, or
   * undefined when none had.
   */
  take(): number | undefined {
    const fired = this.firedAt;
    if (fired !== undefined) {
      this.firedAt = undefined;
      this.at = undefined;
    }
    return fired;
  }
}

/**
 * What a deadline loop watches: its `version` changes on every change; it is told when a deadline's timer has fired
 * (so its clock is at least that deadline, whatever the workflow's clock says: Incident.clockAtLeast).
 */
interface Watched {
  readonly version: number;
  clockAtLeast(at: number): void;
}

/**
 * Until `done()`: one timer armed at `deadline()`, read again after every change of `watched`, and `due()` each time
 * it fires. The timer is cancelled at the end. No deadline, no timer: the loop then issues no command.
 */
export async function onDeadline(
  watched: Watched,
  loop: { done: () => boolean; deadline: () => number | undefined; due: () => void },
): Promise<void> {
  const timer = new DeadlineTimer();
  while (!loop.done()) {
    const seen = watched.version;
    timer.set(loop.deadline());
    await condition(() => watched.version !== seen || timer.fired);
    const fired = timer.take();
    if (fired !== undefined) {
      watched.clockAtLeast(fired);
      loop.due();
    }
  }
  timer.set(undefined);
}
