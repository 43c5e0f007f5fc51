// A durable timer for a deadline that is checked again on every state change. Re-arming it on each change (as
// `condition(changed, timeout)` does) costs a cancelled and a new timer, two commands and two history events, even
// when the deadline did not move; this keeps the timer while its deadline stays the same.
import { CancellationScope, sleep } from '@temporalio/workflow';

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

  /** Takes the firing, so the next `set` arms again even for the same instant; returns whether it had fired. */
  take(): boolean {
    const fired = this.firedAt !== undefined;
    if (fired) {
      this.firedAt = undefined;
      this.at = undefined;
    }
    return fired;
  }
}
