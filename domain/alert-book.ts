// The alert book: every alert a detector sends for one incident, coalesced per fingerprint (first seen, last seen,
// count, status), with exact counts however many arrive. It decides which alerts the incident must hear about (a new
// fingerprint, a change of status, new label names, a higher severity); repeats only change counts. Fingerprints past
// a cap are counted, not tracked, so the book's size is bounded; with a bound on status changes too, so is what it
// forwards in any hour. A firing alert after a quiet period (nothing firing for REFIRE_QUIET_MS) has its own small
// hourly allowance past that bound, so a real re-fire reaches the incident (as a recurrence, if it was resolved) even
// when a flapping detector has used the hour's status changes. Pure and sandbox-safe: no clock, no I/O.
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
/**
 * How long nothing must have fired (every tracked fingerprint resolved, no firing alert arrived) for the next firing
 * alert to be a re-fire rather than a flap. Alertmanager sends a group's changes at most every group_interval (5
 * minutes by default), so an alert flapping through it is never resolved for twice that; a detector flapping faster
 * never is either.
 */
export const REFIRE_QUIET_MS = 10 * 60_000;
/**
 * Re-fires forwarded in any hour once the status changes' allowance is used, when the caller asks for them. Each may
 * cost the incident a recurrence (a timeline event, a notice, an escalation), and a quiet period lasts
 * REFIRE_QUIET_MS, so a real re-fire comes a few times an hour at most: more is a slow flap, and four keeps what it
 * adds to the incident's hour small. With both bounds, status changes and re-fires reach the incident at most
 * MAX_STATUS_FORWARDS_PER_HOUR + MAX_REFIRE_FORWARDS_PER_HOUR times an hour, whatever the detector does.
 */
export const MAX_REFIRE_FORWARDS_PER_HOUR = 4;
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
  statusForwards?: HourlyCount;
  /** Re-fires forwarded past the status changes' allowance in the hour that began at `since`. */
  refireForwards?: HourlyCount;
  /** Since when nothing fires: set by the first resolved alert while no tracked fingerprint fires, cleared by a firing one. */
  quietSince?: number;
}

export interface HourlyCount {
  since: number;
  count: number;
}

/** How the book bounds status changes (a stream's patches decide; the defaults are the oldest streams' rule). */
export interface ForwardRules {
  /** At most MAX_STATUS_FORWARDS_PER_HOUR status changes an hour; the rest are counted only. */
  boundStatusChanges?: boolean;
  /**
   * A firing alert after REFIRE_QUIET_MS of quiet that would be counted only (its status change past the allowance,
   * its fingerprint past the tracking cap) goes, at most MAX_REFIRE_FORWARDS_PER_HOUR an hour.
   */
  refireAfterQuiet?: boolean;
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

/** Whether one more forward of a kind bounded per hour may go (and counts it when it may). */
function takeHourly(book: AlertBook, kind: 'statusForwards' | 'refireForwards', max: number, at: number): boolean {
  const current = book[kind];
  const hour = current && at - current.since < HOUR_MS ? current : { since: at, count: 0 };
  book[kind] = hour;
  if (hour.count >= max) return false;
  hour.count += 1;
  return true;
}

/**
 * Adds one alert to the book (in place). Returns whether the incident must hear about it: a newly tracked fingerprint,
 * a tracked fingerprint changing status (with `boundStatusChanges`, at most MAX_STATUS_FORWARDS_PER_HOUR), label names
 * not forwarded yet (firing alerts only), or a higher severity. With `refireAfterQuiet` too, a firing alert after
 * REFIRE_QUIET_MS of quiet that would not go otherwise (its status change past the allowance, or its fingerprint past
 * the tracking cap) goes while the hour's MAX_REFIRE_FORWARDS_PER_HOUR last.
 */
export function observeAlert(book: AlertBook, alert: AlertSignalInput, at: number, rules: ForwardRules = {}): boolean {
  const { boundStatusChanges = false, refireAfterQuiet = false } = rules;
  const refire =
    refireAfterQuiet &&
    alert.status === 'firing' &&
    book.quietSince !== undefined &&
    at - book.quietSince >= REFIRE_QUIET_MS;
  const takeRefire = () => refire && takeHourly(book, 'refireForwards', MAX_REFIRE_FORWARDS_PER_HOUR, at);
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
      forward =
        !boundStatusChanges || takeHourly(book, 'statusForwards', MAX_STATUS_FORWARDS_PER_HOUR, at) || takeRefire();
    }
  } else if (counts.fingerprints < MAX_TRACKED_FINGERPRINTS) {
    book.fingerprints[key] = { firstSeen: at, lastSeen: at, count: 1, status: alert.status };
    counts.fingerprints += 1;
    if (alert.status === 'firing') counts.firingFingerprints += 1;
    forward = true;
  } else {
    counts.untracked += 1;
    forward = takeRefire();
  }
  if (alert.status === 'firing') book.quietSince = undefined;
  else if (counts.firingFingerprints === 0) book.quietSince ??= at;
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
