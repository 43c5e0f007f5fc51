// The alert book's bound on forwarded status changes, the re-fire after a quiet period that goes past it, and the alert
// stream's counts cadence: what keeps an incident's events per hour independent of how fast its alerts arrive without
// hiding a real re-fire from it.
import { describe, expect, it } from 'vitest';
import {
  type AlertBook,
  type ForwardRules,
  MAX_REFIRE_FORWARDS_PER_HOUR,
  MAX_STATUS_FORWARDS_PER_HOUR,
  MAX_TRACKED_FINGERPRINTS,
  REFIRE_QUIET_MS,
  emptyAlertBook,
  observeAlert,
} from '../../domain/alert-book';
import type { AlertSignalInput } from '../../domain/messages';
import { COUNTS_CADENCE, countsEveryMs } from '../../workflows/alert-stream';

const HOUR = 3_600_000;
const MINUTE = 60_000;
const bounded: ForwardRules = { boundStatusChanges: true };
const refiring: ForwardRules = { boundStatusChanges: true, refireAfterQuiet: true };
const alert = (fingerprint: string, status: AlertSignalInput['status']): AlertSignalInput => ({
  source: 'prometheus',
  status,
  summary: 'error rate',
  fingerprint,
  labels: {},
});

/** Flaps one fingerprint `times` times at `at`; returns how many of the changes were forwarded. */
function flap(book: AlertBook, times: number, at: number, rules: ForwardRules): number {
  let forwarded = 0;
  for (let i = 0; i < times; i++) {
    if (observeAlert(book, alert('f1', i % 2 === 0 ? 'resolved' : 'firing'), at, rules)) forwarded++;
  }
  return forwarded;
}

/** A book whose f1 fired at 0 and then flapped past the hour's allowance, resolved last (at 1 s). */
function flappedOut(rules: ForwardRules): AlertBook {
  const book = emptyAlertBook();
  observeAlert(book, alert('f1', 'firing'), 0, rules);
  flap(book, 2 * MAX_STATUS_FORWARDS_PER_HOUR + 1, 1_000, rules);
  expect(book.statusForwards!.count).toBe(MAX_STATUS_FORWARDS_PER_HOUR);
  expect(book.counts.firingFingerprints).toBe(0);
  return book;
}

describe('status changes', () => {
  it(`are forwarded at most ${MAX_STATUS_FORWARDS_PER_HOUR} an hour when bounded, and counted exactly`, () => {
    const book = emptyAlertBook();
    expect(observeAlert(book, alert('f1', 'firing'), 0, bounded)).toBe(true); // a new fingerprint always goes
    expect(flap(book, 100, 1_000, bounded)).toBe(MAX_STATUS_FORWARDS_PER_HOUR);
    expect(book.counts).toMatchObject({ total: 101, firing: 51, resolved: 50, fingerprints: 1 });
    expect(book.counts.firingFingerprints).toBe(1); // the last of the 100 changes was a firing
    // A repeat of the same status is no change at all.
    expect(observeAlert(book, alert('f1', 'firing'), 2_000, bounded)).toBe(false);
    // The next hour forwards again.
    expect(flap(book, 100, HOUR + 1_000, bounded)).toBe(MAX_STATUS_FORWARDS_PER_HOUR);
  });

  it('are all forwarded unbounded (streams that ran before the bound)', () => {
    const book = emptyAlertBook();
    observeAlert(book, alert('f1', 'firing'), 0);
    expect(flap(book, 100, 1_000, {})).toBe(100);
  });

  it('do not hold back news of another kind past the bound', () => {
    const book = emptyAlertBook();
    observeAlert(book, alert('f1', 'firing'), 0, bounded);
    flap(book, 2 * MAX_STATUS_FORWARDS_PER_HOUR, 1_000, bounded);
    expect(observeAlert(book, alert('f2', 'firing'), 2_000, bounded)).toBe(true);
    expect(observeAlert(book, { ...alert('f1', 'firing'), severity: 'P0' }, 3_000, bounded)).toBe(true);
  });
});

describe('a firing alert after a quiet period', () => {
  const quietEnds = 1_000 + REFIRE_QUIET_MS;

  it('is forwarded past the status changes allowance (a re-fire a flapping detector cannot hide)', () => {
    const book = flappedOut(refiring);
    expect(observeAlert(book, alert('f1', 'firing'), quietEnds, refiring)).toBe(true);
    expect(book.refireForwards).toEqual({ since: quietEnds, count: 1 });
    // Its resolve and the next flaps are past the allowance again: counted only.
    expect(flap(book, 10, quietEnds + MINUTE, refiring)).toBe(0);
    expect(book.counts).toMatchObject({ total: 1 + 61 + 1 + 10, fingerprints: 1, firingFingerprints: 1 });
  });

  it('is counted only under the bound alone (streams that ran before the rule)', () => {
    const book = flappedOut(bounded);
    expect(observeAlert(book, alert('f1', 'firing'), quietEnds, bounded)).toBe(false);
  });

  it(`is not one until nothing has fired for ${REFIRE_QUIET_MS / MINUTE} minutes`, () => {
    const book = flappedOut(refiring);
    expect(observeAlert(book, alert('f1', 'firing'), quietEnds - 1, refiring)).toBe(false);
    // The firing broke the quiet: it starts again at the next resolve.
    observeAlert(book, alert('f1', 'resolved'), quietEnds, refiring);
    expect(observeAlert(book, alert('f1', 'firing'), quietEnds + REFIRE_QUIET_MS - 1, refiring)).toBe(false);
    expect(book.refireForwards).toBeUndefined();
  });

  it('needs every tracked fingerprint resolved', () => {
    const book = flappedOut(refiring);
    observeAlert(book, alert('f2', 'firing'), 2_000, refiring); // new: forwarded, and it keeps firing
    observeAlert(book, alert('f2', 'firing'), 3_000, refiring); // a repeat
    expect(observeAlert(book, alert('f1', 'firing'), quietEnds + HOUR / 2, refiring)).toBe(false);
  });

  it('counts its quiet from the first resolve: repeated resolves do not restart it', () => {
    const book = flappedOut(refiring);
    for (let at = 2_000; at < quietEnds; at += MINUTE) observeAlert(book, alert('f1', 'resolved'), at, refiring);
    expect(book.quietSince).toBe(1_000);
    expect(observeAlert(book, alert('f1', 'firing'), quietEnds, refiring)).toBe(true);
  });

  it(`is forwarded at most ${MAX_REFIRE_FORWARDS_PER_HOUR} times an hour, then again the next hour`, () => {
    /** A slow flap: `times` firings, each after a quiet period and resolved at once; how many were forwarded. */
    const slowFlap = (book: AlertBook, from: number, times: number) => {
      let forwarded = 0;
      for (let i = 1; i <= times; i++) {
        const at = from + i * (REFIRE_QUIET_MS + 1);
        if (observeAlert(book, alert('f1', 'firing'), at, refiring)) forwarded++;
        observeAlert(book, alert('f1', 'resolved'), at + 1, refiring);
      }
      return forwarded;
    };
    const times = MAX_REFIRE_FORWARDS_PER_HOUR + 1;
    expect(times * (REFIRE_QUIET_MS + 1)).toBeLessThan(HOUR); // all in the first hour
    const book = flappedOut(refiring);
    expect(slowFlap(book, 1_000, times)).toBe(MAX_REFIRE_FORWARDS_PER_HOUR);
    // The next hour: the detector uses the status changes' allowance again, and the re-fires have theirs anew.
    const next = 2 * HOUR;
    expect(flap(book, 2 * MAX_STATUS_FORWARDS_PER_HOUR + 1, next, refiring)).toBe(MAX_STATUS_FORWARDS_PER_HOUR);
    expect(slowFlap(book, next, times)).toBe(MAX_REFIRE_FORWARDS_PER_HOUR);
  });

  it('brings a fingerprint past the tracking cap to the incident, within the same allowance', () => {
    const book = emptyAlertBook();
    for (let i = 0; i < MAX_TRACKED_FINGERPRINTS; i++) observeAlert(book, alert(`f${i}`, 'resolved'), 0, refiring);
    expect(observeAlert(book, alert('past-cap', 'firing'), 1, refiring)).toBe(false);
    expect(observeAlert(book, alert('past-cap', 'resolved'), 2, refiring)).toBe(false);
    expect(book.quietSince).toBe(2); // the untracked firing broke the quiet that began at 0
    expect(observeAlert(book, alert('past-cap', 'firing'), 2 + REFIRE_QUIET_MS, refiring)).toBe(true);
    expect(book.counts.untracked).toBe(3);
  });
});

describe('the counts cadence', () => {
  it('slows as the incident gets more count deliveries', () => {
    expect(countsEveryMs(0)).toBe(10_000);
    expect(countsEveryMs(59)).toBe(10_000);
    expect(countsEveryMs(60)).toBe(60_000);
    expect(countsEveryMs(179)).toBe(60_000);
    expect(countsEveryMs(180)).toBe(600_000);
    expect(countsEveryMs(1_000_000)).toBe(600_000);
  });

  it('costs a week-long storm under 1,300 deliveries (about 4 history events each)', () => {
    let delivered = 0;
    for (let elapsed = 0; elapsed < 7 * 24 * HOUR; elapsed += countsEveryMs(delivered)) delivered++;
    expect(delivered).toBeLessThan(1_300);
    expect(delivered * 4).toBeLessThan(10_240);
    expect(COUNTS_CADENCE.at(-1)!.upTo).toBe(Infinity);
  });
});
