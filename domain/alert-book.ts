// The alert book: every alert a detector sends for one incident, coalesced per fingerprint (first seen, last seen,
// count, status), with exact counts however many arrive. It decides which alerts the incident must hear about (a new
// fingerprint, a change of status, new label names, a higher severity); repeats only change counts. Fingerprints past
// a cap are counted, not tracked, so the book's size is bounded; with a bound on status changes too, so is what it
// forwards in any hour. Pure and sandbox-safe: no clock, no I/O.
import { z } from 'zod';
import type { AlertSignalInput } from './messages';
import { type Severity, severityRank } from './severity';

/** Most fingerprints tracked one by one; later new fingerprints are summarized in `untracked`. */
export const MAX_TRACKED_FINGERPRINTS = 1_000;
/** Most label names the book remembers having forwarded (the incident keeps at most MAX_ALERT_LABELS). */
export const MAX_FORWARDED_LABEL_NAMES = 200;

/**
 * Status changes (firing to resolved and back) of tracked fingerprints forwarded one by one in any hour, when the
 * caller bounds them: every other kind of news is bounded in total (the fingerprint cap, the label names, four
 * severities), but a detector whose alerts flap could otherwise make the incident's history grow with its rate. Past
 * it a change is counted only: the counts the incident gets carry firing and resolved fingerprints exactly.
 */
export const MAX_STATUS_FORWARDS_PER_HOUR = 30;
const HOUR_MS = 3_600_000;

export interface FingerprintEntry {
  firstSeen: number;
  lastSeen: number;
  count: number;
  status: 'firing' | 'resolved';
}

const Count = z.number().int().nonnegative();

/** Exact counts of the alerts an incident received, for its view (the alertCounts signal's payload). */
export const AlertCounts = z
  .object({
    /** Every alert received. */
    total: Count,
    firing: Count,
    resolved: Count,
    /** Distinct fingerprints tracked, and how many of them fire now. */
    fingerprints: Count,
    firingFingerprints: Count,
    /** Alerts whose fingerprint was first seen past the tracking cap: counted only. */
    untracked: Count,
    lastAlertAt: Count.optional(),
  })
  .strict();
export type AlertCounts = z.infer<typeof AlertCounts>;

export interface AlertBook {
  counts: AlertCounts;
  fingerprints: Record<string, FingerprintEntry>;
  forwardedLabelNames: string[];
  highestSeverity?: Severity;
  /** Status changes forwarded in the hour that began at `since` (kept when they are bounded). */
  statusForwards?: { since: number; count: number };
}

export function emptyAlertBook(): AlertBook {
  return {
    counts: { total: 0, firing: 0, resolved: 0, fingerprints: 0, firingFingerprints: 0, untracked: 0 },
    fingerprints: {},
    forwardedLabelNames: [],
  };
}

/** The fingerprint an alert is coalesced under: its own, else its source, summary and labels. */
export function fingerprintOf(alert: AlertSignalInput): string {
  if (alert.fingerprint) return alert.fingerprint;
  const labels = Object.keys(alert.labels)
    .sort()
    .map((name) => `${name}=${alert.labels[name]}`)
    .join(',');
  return `${alert.source}|${alert.summary}|${labels}`;
}

/** Whether one more status change may be forwarded this hour (and counts it when it may). */
function takeStatusForward(book: AlertBook, at: number): boolean {
  const current = book.statusForwards;
  const hour = current && at - current.since < HOUR_MS ? current : { since: at, count: 0 };
  book.statusForwards = hour;
  if (hour.count >= MAX_STATUS_FORWARDS_PER_HOUR) return false;
  hour.count += 1;
  return true;
}

/**
 * Adds one alert to the book (in place). Returns whether the incident must hear about it: a newly tracked fingerprint,
 * a tracked fingerprint changing status (with `boundStatusChanges`, at most MAX_STATUS_FORWARDS_PER_HOUR), label names
 * not forwarded yet (firing alerts only), or a higher severity.
 */
export function observeAlert(
  book: AlertBook,
  alert: AlertSignalInput,
  at: number,
  boundStatusChanges = false,
): boolean {
  const { counts } = book;
  counts.total += 1;
  counts[alert.status] += 1;
  counts.lastAlertAt = at;
  const key = fingerprintOf(alert);
  const entry = book.fingerprints[key];
  let forward = false;
  if (entry) {
    entry.count += 1;
    entry.lastSeen = at;
    if (entry.status !== alert.status) {
      counts.firingFingerprints += alert.status === 'firing' ? 1 : -1;
      entry.status = alert.status;
      forward = !boundStatusChanges || takeStatusForward(book, at);
    }
  } else if (counts.fingerprints < MAX_TRACKED_FINGERPRINTS) {
    book.fingerprints[key] = { firstSeen: at, lastSeen: at, count: 1, status: alert.status };
    counts.fingerprints += 1;
    if (alert.status === 'firing') counts.firingFingerprints += 1;
    forward = true;
  } else {
    counts.untracked += 1;
  }
  if (alert.status === 'firing') {
    const known = new Set(book.forwardedLabelNames);
    const fresh = Object.keys(alert.labels).filter((name) => !known.has(name));
    if (fresh.length > 0 && book.forwardedLabelNames.length < MAX_FORWARDED_LABEL_NAMES) {
      book.forwardedLabelNames.push(...fresh.slice(0, MAX_FORWARDED_LABEL_NAMES - book.forwardedLabelNames.length));
      forward = true;
    }
    if (
      alert.severity &&
      (!book.highestSeverity || severityRank(alert.severity) < severityRank(book.highestSeverity))
    ) {
      book.highestSeverity = alert.severity;
      forward = true;
    }
  }
  return forward;
}

/** Every tracked fingerprint is resolved (and none arrived past the cap, whose state the book does not know). */
export function allAlertsResolved(counts: AlertCounts): boolean {
  return counts.fingerprints > 0 && counts.firingFingerprints === 0 && counts.untracked === 0;
}
