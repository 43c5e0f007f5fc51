// The escalation policy as a pure function: which triggers are due at `now`, what each does to the escalation level,
// and when the next one falls due. Runs inside Temporal's workflow sandbox, so it must stay deterministic: it imports
// only from ../src/schemas, never reads a clock (`now` is a parameter), never mutates its input.
import { formatDuration } from './duration';
import { type EscalationPolicy } from './escalation-policy';
import {
  ESCALATION_TRIGGERS,
  type EscalationLevel,
  type EscalationState,
  type EscalationTrigger,
  type IncidentState,
  type IncidentStatus,
} from './incident';
import { describeSeverity } from './severity';

export type EscalationFacts = Pick<
  IncidentState,
  | 'severity'
  | 'status'
  | 'phase'
  | 'openedAt'
  | 'acknowledgedAt'
  | 'rootCause'
  | 'dataBreachConfirmed'
  | 'executiveAttentionRequested'
  | 'affectedSystems'
  | 'escalation'
>;

export interface FiredEscalation {
  trigger: EscalationTrigger;
  /** Once-only key recorded in `escalation.fired` (`no_root_cause`, `level_unacknowledged:1`, `phase_overdue:contain`). */
  key: string;
  /** When the trigger fell due (epoch ms); for event triggers, the `now` at which their condition was seen. */
  dueAt: number;
  fromLevel: EscalationLevel;
  toLevel: EscalationLevel;
  /** Human text naming the rule and where its time limit comes from. */
  reason: string;
  /** Who is notified: the audience of `toLevel` (`L0` for level 0, which only a policy override can produce). */
  audience: string;
}

export interface EscalationRun {
  /** Triggers fired by this call, in the order they were applied. */
  fired: FiredEscalation[];
  /** The escalation state after applying them (a new object; the input's is untouched). */
  escalation: EscalationState;
  /** Earliest due time strictly after `now` among triggers not yet fired, on the state after firing; undefined if none. */
  nextDeadline: number | undefined;
}

/** A trigger that could fire for the given facts, with when it falls due. */
interface Candidate {
  trigger: EscalationTrigger;
  key: string;
  dueAt: number;
  toLevel: EscalationLevel;
  reason: string;
}

/** Tie-break among triggers due at the same instant: the order of ESCALATION_TRIGGERS. */
const TRIGGER_ORDER: Record<EscalationTrigger, number> = Object.fromEntries(
  ESCALATION_TRIGGERS.map((trigger, index) => [trigger, index]),
) as Record<EscalationTrigger, number>;

/**
 * Status gating: an `active` incident is subject to every trigger; a `resolved` one only to `phase_overdue` (its
 * recovery and post-incident phases still have windows); `closed`, `false_positive` and `failed` to none.
 */
function triggerAllowed(status: IncidentStatus, trigger: EscalationTrigger): boolean {
  if (status === 'active') return true;
  if (status === 'resolved') return trigger === 'phase_overdue';
  return false;
}

function within(ms: number): string {
  return ms === 0 ? 'immediately' : `within ${formatDuration(ms)}`;
}

function span(ms: number): string {
  return ms === 0 ? '0' : formatDuration(ms);
}

function maxLevel(a: EscalationLevel, b: EscalationLevel): EscalationLevel {
  return a >= b ? a : b;
}

function nextLevel(level: 1 | 2): EscalationLevel {
  return level === 1 ? 2 : 3;
}

/** Every trigger not yet fired whose condition holds for these facts, each with its due time. */
function candidates(facts: EscalationFacts, policy: EscalationPolicy, now: number): Candidate[] {
  const { escalation, severity, openedAt } = facts;
  const level = escalation.level;
  const fired = new Set(escalation.fired);
  const result: Candidate[] = [];
  // A trigger fires once per incident: its key is its name, unless it can fire again per level or per phase.
  const add = (candidate: Omit<Candidate, 'key' | 'toLevel'> & Partial<Pick<Candidate, 'key' | 'toLevel'>>): void => {
    const key = candidate.key ?? candidate.trigger;
    if (!triggerAllowed(facts.status, candidate.trigger) || fired.has(key)) return;
    const target = candidate.trigger === 'level_unacknowledged' ? undefined : policy.triggerLevels[candidate.trigger];
    // Escalation never lowers the level: toLevel = max(current level, the trigger's target level).
    result.push({ ...candidate, key, toLevel: candidate.toLevel ?? maxLevel(level, target ?? level) });
  };

  // unacknowledged: nobody acknowledged within the severity's response time (the Fiovana procedures' "Response Time"), counted
  // from openedAt with the *current* severity, so raising P2 to P0 makes it due at once.
  if (facts.acknowledgedAt === undefined) {
    const responseMs = policy.responseTimeMs[severity];
    add({
      trigger: 'unacknowledged',
      dueAt: openedAt + responseMs,
      reason: `not acknowledged ${within(responseMs)} (${severity} response time)`,
    });
  }

  // level_unacknowledged: the current level (1 or 2) did not acknowledge within its response time (the FailSafe-Qore procedures'
  // "Escalation Contacts"), counted from when the level was reached; moves to the next level. Level 3 has nowhere to go.
  if ((level === 1 || level === 2) && !escalation.levelAcknowledged) {
    const levelPolicy = policy.levels[level];
    add({
      trigger: 'level_unacknowledged',
      key: `level_unacknowledged:${level}`,
      dueAt: escalation.levelSince + levelPolicy.respondWithinMs,
      toLevel: nextLevel(level),
      reason: `L${level} ${levelPolicy.name} did not acknowledge ${within(levelPolicy.respondWithinMs)}`,
    });
  }

  // no_root_cause: "Root cause not identified within 2 hours" (the FailSafe-Qore procedures), counted from openedAt.
  if (facts.rootCause === undefined) {
    add({
      trigger: 'no_root_cause',
      dueAt: openedAt + policy.rootCauseWithinMs,
      reason: `root cause not identified ${within(policy.rootCauseWithinMs)}`,
    });
  }

  // sla_breached: "Incident not resolved within SLA" (the FailSafe-Qore procedures); the SLA per severity is the product's choice.
  // Only an active incident can breach it (status gating), so resolving stops it.
  const slaMs = policy.resolutionSlaMs[severity];
  add({
    trigger: 'sla_breached',
    dueAt: openedAt + slaMs,
    reason: `not resolved ${within(slaMs)} (${severity} resolution SLA)`,
  });

  // phase_overdue: the current phase is still running past the end of its window (the FailSafe-Qore procedures' phase headings,
  // e.g. "Phase 2: Containment (15-60 minutes)"), counted from openedAt. Only the current phase is considered.
  const window = policy.phaseWindows[facts.phase];
  add({
    trigger: 'phase_overdue',
    key: `phase_overdue:${facts.phase}`,
    dueAt: openedAt + window.toMs,
    reason: `${facts.phase} phase not finished ${within(window.toMs)} of opening (phase window ${span(window.fromMs)} to ${span(window.toMs)})`,
  });

  // Event triggers (the FailSafe-Qore procedures' "Escalation Triggers"): due at `now`, the moment their condition holds.
  if (severity === 'P0') {
    add({ trigger: 'severity_p0', dueAt: now, reason: `severity is ${describeSeverity('P0')}` });
  }
  if (facts.dataBreachConfirmed) {
    add({ trigger: 'data_breach_confirmed', dueAt: now, reason: 'data breach confirmed' });
  }
  // "Multiple systems affected": distinct system names, so a system reported twice counts once.
  const systems = new Set(facts.affectedSystems).size;
  if (systems >= policy.multipleSystemsThreshold) {
    add({
      trigger: 'multiple_systems',
      dueAt: now,
      reason: `${systems} systems affected (threshold ${policy.multipleSystemsThreshold})`,
    });
  }
  if (facts.executiveAttentionRequested) {
    add({ trigger: 'executive_attention', dueAt: now, reason: 'executive attention requested' });
  }
  return result;
}

/** Firing order: by dueAt, then by the trigger's position in ESCALATION_TRIGGERS (then by key, for completeness). */
function compareCandidates(a: Candidate, b: Candidate): number {
  return (
    a.dueAt - b.dueAt ||
    TRIGGER_ORDER[a.trigger] - TRIGGER_ORDER[b.trigger] ||
    (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)
  );
}

/** More than the number of distinct keys that can ever fire (14 with the five phases). */
const MAX_ROUNDS = 64;

function audienceOf(policy: EscalationPolicy, level: EscalationLevel): string {
  return level === 0 ? 'L0' : policy.levels[level].audience;
}

/**
 * Fires every trigger due at `now` (each at most once, by key), in due order, re-evaluating after each (a level
 * change creates new deadlines), and says when the next one is due.
 *
 * Applying a fired trigger appends its key to `fired`; if it raises the level, `level = toLevel`, `levelSince = now`
 * and `levelAcknowledged = false`. A trigger that does not raise the level is still fired: recorded and notified to
 * the current level. The loop ends because each round adds a new key and the set of possible keys is finite
 * (9 triggers, 2 `level_unacknowledged:<level>` and 5 `phase_overdue:<phase>` variants).
 */
export function runEscalations(facts: EscalationFacts, policy: EscalationPolicy, now: number): EscalationRun {
  let escalation: EscalationState = { ...facts.escalation, fired: [...facts.escalation.fired] };
  const fired: FiredEscalation[] = [];
  for (let round = 0; ; round++) {
    // Unreachable with a correct key set (see above); fails loudly rather than spinning if a change breaks that.
    if (round > MAX_ROUNDS) throw new Error(`escalation did not settle after ${MAX_ROUNDS} triggers`);
    const due = candidates({ ...facts, escalation }, policy, now)
      .filter((c) => c.dueAt <= now)
      .sort(compareCandidates)[0];
    if (!due) break;
    const fromLevel = escalation.level;
    const raises = due.toLevel > fromLevel;
    escalation = {
      level: raises ? due.toLevel : fromLevel,
      levelSince: raises ? now : escalation.levelSince,
      levelAcknowledged: raises ? false : escalation.levelAcknowledged,
      fired: [...escalation.fired, due.key],
    };
    fired.push({
      trigger: due.trigger,
      key: due.key,
      dueAt: due.dueAt,
      fromLevel,
      toLevel: due.toLevel,
      reason: due.reason,
      audience: audienceOf(policy, due.toLevel),
    });
  }
  let nextDeadline: number | undefined;
  for (const c of candidates({ ...facts, escalation }, policy, now)) {
    if (c.dueAt > now && (nextDeadline === undefined || c.dueAt < nextDeadline)) nextDeadline = c.dueAt;
  }
  return { fired, escalation, nextDeadline };
}

/**
 * Convenience: `runEscalations(facts, policy, now).nextDeadline`, i.e. when the next trigger falls due once whatever
 * is due at `now` has fired. Undefined when nothing more can fire on a timer (event triggers fire on state changes).
 */
export function nextEscalationDeadline(
  facts: EscalationFacts,
  policy: EscalationPolicy,
  now: number,
): number | undefined {
  return runEscalations(facts, policy, now).nextDeadline;
}
