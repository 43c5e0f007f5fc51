// How many queued alerts go in one batch signal: at most a count, and at most MAX_ALERT_BATCH_CHARS of JSON, so a
// batch of the largest alerts allowed stays far below Temporal's 2 MB payload limit. Pure and sandbox-safe: the
// client and the alert stream workflow both batch with it.
import { MAX_ALERT_BATCH_CHARS } from './limits';

/** Takes the next batch off the front of `queue` (always one item at least, when there is one). */
export function takeBatch<T>(
  queue: T[],
  maxItems: number,
  sizeOf: (item: T) => number,
  maxChars: number = MAX_ALERT_BATCH_CHARS,
): T[] {
  let count = 0;
  let chars = 0;
  while (count < queue.length && count < maxItems) {
    chars += sizeOf(queue[count]!);
    if (count > 0 && chars > maxChars) break;
    count++;
  }
  return queue.splice(0, count);
}

/** The characters an alert takes in a signal's JSON payload. */
export const alertChars = (alert: unknown): number => JSON.stringify(alert).length;

/** True when all of `items` would go in one batch. */
export function fitsOneBatch<T>(
  items: readonly T[],
  maxItems: number,
  sizeOf: (item: T) => number,
  maxChars: number = MAX_ALERT_BATCH_CHARS,
): boolean {
  return items.length <= maxItems && items.reduce((chars, item) => chars + sizeOf(item), 0) <= maxChars;
}
