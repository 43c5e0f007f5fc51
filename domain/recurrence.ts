// Recurrence after close: the registry remembers, per dedup key, the last incident that was resolved and closed, for
// the enhanced-monitoring window after its resolution (the FailSafe-Qore procedures, Phase 4: 24-48 hours). An
// incident opened for that key inside the window is a recurrence of it. Pure and sandbox-safe: the registry workflow
// calls it with workflow time.
import { formatDuration } from './duration';

/** The far end of the enhanced-monitoring window after resolution. */
export const ENHANCED_MONITORING_MS = 48 * 3_600_000;
/** Most closed incidents remembered: past it the oldest resolution is forgotten first. */
export const MAX_RECENTLY_CLOSED = 1_000;
/** Most characters of dedup keys remembered in all, so the registry's carried state stays small. */
export const MAX_RECENTLY_CLOSED_KEY_CHARS = 256 * 1_024;

/** The incident a new one recurs: its id and when it was resolved (epoch ms). */
export interface RecurrenceOf {
  incidentId: string;
  resolvedAt: number;
}

/** A closed incident the registry remembers for its dedup key. */
export interface RecentlyClosed extends RecurrenceOf {
  dedupKey: string;
}

/** Still inside the enhanced-monitoring window at `now`. */
const inWindow = (entry: RecurrenceOf, now: number): boolean => now - entry.resolvedAt <= ENHANCED_MONITORING_MS;

/**
 * The list with `entry` in place of any earlier one for its key, oldest resolution first, without entries whose
 * window has passed, within MAX_RECENTLY_CLOSED entries and MAX_RECENTLY_CLOSED_KEY_CHARS of keys.
 */
export function rememberClosed(list: readonly RecentlyClosed[], entry: RecentlyClosed, now: number): RecentlyClosed[] {
  const kept = [...list.filter((e) => e.dedupKey !== entry.dedupKey), entry]
    .filter((e) => inWindow(e, now))
    .sort((a, b) => a.resolvedAt - b.resolvedAt);
  let chars = kept.reduce((n, e) => n + e.dedupKey.length, 0);
  while (kept.length > MAX_RECENTLY_CLOSED || chars > MAX_RECENTLY_CLOSED_KEY_CHARS)
    chars -= kept.shift()!.dedupKey.length;
  return kept;
}

/** The entries whose window has not passed at `now`. */
export function pruneClosed(list: readonly RecentlyClosed[], now: number): RecentlyClosed[] {
  return list.filter((e) => inWindow(e, now));
}

/** The incident an open for `dedupKey` at `now` recurs, if one was resolved inside its window. */
export function recurrenceFor(
  list: readonly RecentlyClosed[],
  dedupKey: string,
  now: number,
): RecurrenceOf | undefined {
  const found = list.find((e) => e.dedupKey === dedupKey && inWindow(e, now));
  return found ? { incidentId: found.incidentId, resolvedAt: found.resolvedAt } : undefined;
}

/** "recurrence of INC-2026-004 (resolved 3h ago) within its enhanced-monitoring window", as of `at`. */
export function describeRecurrence(previousIncidentId: string, resolvedAt: number, at: number): string {
  const ms = at - resolvedAt;
  const ago = ms < 60_000 ? 'under a minute ago' : `${formatDuration(Math.floor(ms / 60_000) * 60_000)} ago`;
  return `recurrence of ${previousIncidentId} (resolved ${ago}) within its enhanced-monitoring window`;
}
