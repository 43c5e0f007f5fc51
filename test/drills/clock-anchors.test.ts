// Server times mapped back to the drill's simulated instants, with the server's clock ahead of the simulated one by a
// load-dependent lag at every stop: the mapped instants must not depend on that lag.
import { describe, expect, it } from 'vitest';
import { type Anchor, simulatedInstant } from '../../src/drills/clock-anchors';

const OPENED = Date.UTC(2026, 10, 23, 10, 0, 0, 123);
const S = 1000;
const H = 3600 * S;

/** Stops at +0, +10m, +3h30m and +2d, the runner standing at each for `lag` ms of server time. */
function stops(lag: number): Anchor[] {
  return [0, 600 * S, 3.5 * H, 48 * H].map((at, i, all) => ({
    target: OPENED + at,
    from: OPENED + at,
    ...(i < all.length - 1 ? { to: OPENED + at + lag } : {}),
  }));
}

const offset = (anchors: Anchor[], ms: number) => (simulatedInstant(anchors, OPENED, ms) - OPENED) / S;

describe('simulated instants of server times', () => {
  it('puts work done while the runner stood at a stop at that stop, however long it took', () => {
    for (const lag of [3, 450, 900]) {
      expect(offset(stops(lag), OPENED + 600 * S + lag)).toBe(600);
      expect(offset(stops(lag), OPENED + 48 * H + 5 * S)).toBe(48 * 3600);
    }
  });

  it('keeps a deadline fixed from the opening exact when the clock skipped over it, whatever the lag', () => {
    // A P0's resolution SLA, four hours after the opening, between the stops at +3h30m and +2d.
    for (const lag of [3, 450, 600, 999]) expect(offset(stops(lag), OPENED + 4 * H)).toBe(4 * 3600);
  });

  it('keeps a deadline fixed at a stop (now + timeout) at that stop plus the timeout, whatever the lag', () => {
    for (const lag of [3, 450, 600, 999]) {
      const armed = OPENED + 600 * S + lag; // at the +10m stop, once the engine got to it
      expect(offset(stops(lag), armed + 15 * 60 * S)).toBe(600 + 900);
    }
  });

  it('never maps a skipped time outside the two stops around it', () => {
    const anchors: Anchor[] = [
      { target: OPENED, from: OPENED, to: OPENED + 2 * S },
      { target: OPENED + 60 * S, from: OPENED + 61 * S }, // a timer the server fired a second late
    ];
    expect(offset(anchors, OPENED + 60 * S + 500)).toBe(60);
    expect(offset(anchors, OPENED + 1500)).toBe(0);
  });

  it('leaves a time before the first stop as it is', () => {
    expect(simulatedInstant(stops(10), OPENED, OPENED - 5 * S)).toBe(OPENED - 5 * S);
  });
});
