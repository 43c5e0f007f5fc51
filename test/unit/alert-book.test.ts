// The alert book's bound on forwarded status changes and the alert stream's counts cadence: what keeps an incident's
// events per hour independent of how fast its alerts arrive.
import { describe, expect, it } from 'vitest';
import { MAX_STATUS_FORWARDS_PER_HOUR, emptyAlertBook, observeAlert } from '../../domain/alert-book';
import type { AlertSignalInput } from '../../domain/messages';
import { COUNTS_CADENCE, countsEveryMs } from '../../workflows/alert-stream';

const HOUR = 3_600_000;
const alert = (fingerprint: string, status: AlertSignalInput['status']): AlertSignalInput => ({
  source: 'prometheus',
  status,
  summary: 'error rate',
  fingerprint,
  labels: {},
});

/** Flaps one fingerprint `times` times at `at`; returns how many of the changes were forwarded. */
function flap(book: ReturnType<typeof emptyAlertBook>, times: number, at: number, bounded: boolean): number {
  let forwarded = 0;
  for (let i = 0; i < times; i++) {
    if (observeAlert(book, alert('f1', i % 2 === 0 ? 'resolved' : 'firing'), at, bounded)) forwarded++;
  }
  return forwarded;
}

describe('status changes', () => {
  it(`are forwarded at most ${MAX_STATUS_FORWARDS_PER_HOUR} an hour when bounded, and counted exactly`, () => {
    const book = emptyAlertBook();
    expect(observeAlert(book, alert('f1', 'firing'), 0, true)).toBe(true); // a new fingerprint always goes
    expect(flap(book, 100, 1_000, true)).toBe(MAX_STATUS_FORWARDS_PER_HOUR);
    expect(book.counts).toMatchObject({ total: 101, firing: 51, resolved: 50, fingerprints: 1 });
    expect(book.counts.firingFingerprints).toBe(1); // the last of the 100 changes was a firing
    // A repeat of the same status is no change at all.
    expect(observeAlert(book, alert('f1', 'firing'), 2_000, true)).toBe(false);
    // The next hour forwards again.
    expect(flap(book, 100, HOUR + 1_000, true)).toBe(MAX_STATUS_FORWARDS_PER_HOUR);
  });

  it('are all forwarded unbounded (streams that ran before the bound)', () => {
    const book = emptyAlertBook();
    observeAlert(book, alert('f1', 'firing'), 0);
    expect(flap(book, 100, 1_000, false)).toBe(100);
  });

  it('do not hold back news of another kind past the bound', () => {
    const book = emptyAlertBook();
    observeAlert(book, alert('f1', 'firing'), 0, true);
    flap(book, 2 * MAX_STATUS_FORWARDS_PER_HOUR, 1_000, true);
    expect(observeAlert(book, alert('f2', 'firing'), 2_000, true)).toBe(true);
    expect(observeAlert(book, { ...alert('f1', 'firing'), severity: 'P0' }, 3_000, true)).toBe(true);
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
