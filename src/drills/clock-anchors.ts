// How the drill runner turns a time on the server's clock into the simulated instant a report shows. The runner moves
// the time-skipping server's clock from stop to stop; at each stop the clock runs on in real time while the engine
// works, by however long the machine takes. Reports must not show that, so every server time is mapped back to the
// instant the runner meant.

/**
 * One stop of the clock: the simulated instant the runner stood at (`target`), and from when until when it stood there
 * by the server's clock. That clock runs on in real time while the engine works at a stop, so the server is a little
 * ahead of the simulated instant by the time a timer is armed there; a stop at that timer has its `from` (when the
 * server fires it) a little after its `target` (when the runbook meant it to fire).
 */
export interface Anchor {
  target: number;
  from: number;
  /** Unset while the runner still stands at this stop. */
  to?: number;
}

/**
 * The simulated instant of a server time, given the stops so far (in order) and the opening (a whole-second origin).
 * - Inside a stop: that stop's instant (work done while the runner stood there counts at that instant).
 * - Between two stops, or after the last: a deadline the engine fixed in advance and the clock skipped over. The runner
 *   moves the clock to absolute instants, so at each stop the server's clock starts where the simulated one does and
 *   runs ahead only by the engine's lag there. A deadline fixed from the opening (a resolution SLA) is a whole number
 *   of seconds after it; one fixed at a stop (`now + timeout`) is that plus the lag. Cutting to the whole second below
 *   gives both exactly, under any load shorter than a second; the result stays between the two stops around it.
 */
export function simulatedInstant(anchors: readonly Anchor[], openedAt: number, ms: number): number {
  for (let i = anchors.length - 1; i >= 0; i--) {
    const a = anchors[i]!;
    if (ms >= a.from && (a.to === undefined || ms <= a.to)) return a.target;
  }
  let before: Anchor | undefined;
  let after: Anchor | undefined;
  for (const a of anchors) {
    if (a.to !== undefined && ms > a.to) before = a;
    else if (ms < a.from) {
      after = a;
      break;
    }
  }
  if (!before) return ms;
  const whole = openedAt + Math.floor((ms - openedAt) / 1000) * 1000;
  return Math.min(Math.max(whole, before.target), after?.target ?? Number.POSITIVE_INFINITY);
}
