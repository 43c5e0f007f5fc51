// Alert batches bounded by count and by size: a batch of the largest alerts allowed stays far below Temporal's 2 MB
// payload limit, and one alert always goes, however large. The alerts an incident opens with are bounded smaller.
import { describe, expect, it } from 'vitest';
import { alertChars, fitsOneBatch, takeBatch } from '../../domain/alert-batch';
import {
  MAX_ALERT_BATCH_CHARS,
  MAX_LABEL_VALUE_CHARS,
  MAX_LABELS,
  MAX_OPENING_ALERTS,
  MAX_OPENING_ALERTS_CHARS,
  MAX_TEXT_CHARS,
} from '../../domain/limits';
import { AlertSignalInput, OpenRequest } from '../../domain/messages';
import { openingAlerts } from '../../src/api/intake/dispatch';

/** The largest alert the schema accepts. */
function largestAlert(n: number): AlertSignalInput {
  const labels = Object.fromEntries(
    Array.from({ length: MAX_LABELS }, (_, i) => [`label_${n}_${i}`, 'v'.repeat(MAX_LABEL_VALUE_CHARS)]),
  );
  return AlertSignalInput.parse({
    source: 's'.repeat(MAX_TEXT_CHARS),
    status: 'firing',
    summary: 'x'.repeat(MAX_TEXT_CHARS),
    fingerprint: `fp-${n}`,
    labels,
  });
}

describe('alert batches', () => {
  it('take at most the count given, in order', () => {
    const queue = Array.from({ length: 250 }, (_, i) => ({ source: 'waf', status: 'firing', n: i }));
    const first = takeBatch(queue, 100, alertChars);
    expect(first.map((a) => a.n)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(queue).toHaveLength(150);
    expect(queue[0]!.n).toBe(100);
  });

  it('keep a hundred of the largest alerts allowed under the size bound, and far below 2 MB', () => {
    const queue = Array.from({ length: 100 }, (_, i) => largestAlert(i));
    expect(fitsOneBatch(queue, 100, alertChars)).toBe(false);
    const batches: AlertSignalInput[][] = [];
    while (queue.length > 0) batches.push(takeBatch(queue, 100, alertChars));
    expect(batches.flat()).toHaveLength(100);
    for (const batch of batches) {
      expect(JSON.stringify(batch).length).toBeLessThanOrEqual(MAX_ALERT_BATCH_CHARS + batch.length);
      expect(Buffer.byteLength(JSON.stringify(batch))).toBeLessThan(2 * 1024 * 1024 - 64 * 1024);
    }
  });

  it('always take one alert, even one past the size bound', () => {
    const huge = { summary: 'x'.repeat(MAX_ALERT_BATCH_CHARS + 10) };
    const queue = [huge, { summary: 'small' }];
    expect(takeBatch(queue, 100, alertChars)).toEqual([huge]);
    expect(queue).toEqual([{ summary: 'small' }]);
    expect(takeBatch([], 100, alertChars)).toEqual([]);
  });
});

describe('the alerts an incident opens with', () => {
  const small = (n: number) =>
    AlertSignalInput.parse({ source: 'waf', status: 'firing', summary: `alert ${n}`, fingerprint: `fp-${n}` });
  const request = (alerts: AlertSignalInput[]) => ({ title: 't', trigger: 'generic:detector', alerts });

  it('takes the first MAX_OPENING_ALERTS of a delivery, in order', () => {
    const alerts = Array.from({ length: MAX_OPENING_ALERTS + 5 }, (_, i) => small(i));
    const taken = openingAlerts(alerts);
    expect(taken).toEqual(alerts.slice(0, MAX_OPENING_ALERTS));
    expect(OpenRequest.safeParse(request(taken)).success).toBe(true);
  });

  it('stops at the size bound, and takes none when the first alert alone is past it', () => {
    const big = [largestAlert(1), small(2)];
    expect(alertChars(big[0])).toBeGreaterThan(MAX_OPENING_ALERTS_CHARS);
    expect(openingAlerts(big)).toEqual([]);
    const medium = (n: number) => ({ ...small(n), summary: 'm'.repeat(MAX_TEXT_CHARS) });
    const taken = openingAlerts([1, 2, 3].map(medium));
    expect(taken).toHaveLength(1);
    expect(OpenRequest.safeParse(request(taken)).success).toBe(true);
  });

  it('is refused past either bound by the open request itself (the registry parses it too)', () => {
    const many = Array.from({ length: MAX_OPENING_ALERTS + 1 }, (_, i) => small(i));
    expect(OpenRequest.safeParse(request(many)).error?.issues[0]?.message).toBe(
      `expected at most ${MAX_OPENING_ALERTS} opening alerts`,
    );
    expect(OpenRequest.safeParse(request([largestAlert(1)])).error?.issues[0]?.message).toBe(
      `expected opening alerts of at most ${MAX_OPENING_ALERTS_CHARS} characters as JSON`,
    );
  });
});
