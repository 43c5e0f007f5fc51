// Incident vocabulary: phases, categories, event types, statuses, state and timeline. Sandbox-safe: imports only zod.
import { z } from 'zod';
import { classifyAlert } from './classification';
import type { AlertCounts } from './alert-book';
import type { LessonKind } from './messages';
import type { RecurrenceOf } from './recurrence';
import type { ReviewFollowUp, ReviewLesson, ReviewNote } from './review';
import type { ApiRole } from './roles';
import { type Severity } from './severity';

export const PHASES = ['detect', 'contain', 'eradicate', 'recover', 'post-incident'] as const;
export const Phase = z.enum(PHASES, { error: `expected a phase: ${PHASES.join(', ')}` });
export type Phase = z.infer<typeof Phase>;

export const CATEGORIES = ['security', 'operational', 'privacy'] as const;
export const Category = z.enum(CATEGORIES, { error: `expected a category: ${CATEGORIES.join(', ')}` });
export type Category = z.infer<typeof Category>;

/** What was detected. The first three drive the Fiovana procedures' assessment table; the rest name the documents' scenarios. */
export const EVENT_TYPES = [
  'data_breach',
  'unauthorized_access',
  'policy_violation',
  'malicious_file_upload',
  'system_compromise',
  'command_injection',
  'xss',
  'dos',
  'replay_attack',
  'data_exposure',
  'service_outage',
  'performance_degradation',
  'data_corruption',
  'configuration_error',
  'deployment_failure',
  // The FailSafe-Qore procedures' Privacy Incidents: "Logging/monitoring issues", "Third-party data sharing concerns".
  'logging_issue',
  'third_party_sharing',
  'other',
] as const;
export const EventType = z.enum(EVENT_TYPES, { error: `expected an event type: ${EVENT_TYPES.join(', ')}` });
export type EventType = z.infer<typeof EventType>;

/**
 * The incident's severity at opening. Without `labels`: the opener's severity when given, else the Fiovana procedures'
 * `assess_incident` table (data breach Critical, unauthorized access High, policy violation Medium, else Low); what
 * incidents opened without labels computed before the severity-without-labels patch, so it must not change (new
 * ones pass `{}` where classifiedApart says it matters). With `labels` (an alert's): the more severe of both
 * documents' criteria and the opener's (domain/classification.ts). A running incident that starts passing labels
 * computes a different severity on replay, so that change goes behind patched().
 */
export function classify(
  eventType: EventType,
  given: Severity | undefined,
  labels?: Record<string, string>,
): { severity: Severity; basis: 'opener' | 'assessment' } {
  if (labels !== undefined) {
    const combined = classifyAlert({ eventType, labels, ...(given ? { given } : {}) });
    return { severity: combined.severity, basis: combined.basis === 'sender' ? 'opener' : 'assessment' };
  }
  return given ? { severity: given, basis: 'opener' } : { severity: assessSeverity(eventType), basis: 'assessment' };
}

/**
 * Whether an incident opened without labels or a severity gets another severity from both documents' criteria than
 * from the Fiovana assessment alone (a system compromise, a suspected data exposure, a performance degradation):
 * where the severity-without-labels patch matters. An operator's own severity stands.
 */
export function classifiedApart(eventType: EventType, given: Severity | undefined): boolean {
  return given === undefined && classify(eventType, undefined, {}).severity !== assessSeverity(eventType);
}

export function assessSeverity(eventType: EventType): Severity {
  switch (eventType) {
    case 'data_breach':
      return 'P0';
    case 'unauthorized_access':
      return 'P1';
    case 'policy_violation':
      return 'P2';
    default:
      return 'P3';
  }
}

export const STATUSES = ['active', 'resolved', 'closed', 'false_positive', 'failed'] as const;
export type IncidentStatus = (typeof STATUSES)[number];

export const ESCALATION_TRIGGERS = [
  'unacknowledged',
  'level_unacknowledged',
  'no_root_cause',
  'sla_breached',
  'phase_overdue',
  'severity_p0',
  'data_breach_confirmed',
  'multiple_systems',
  'executive_attention',
] as const;
export type EscalationTrigger = (typeof ESCALATION_TRIGGERS)[number];

export type EscalationLevel = 0 | 1 | 2 | 3;

export interface EscalationState {
  /** 0 = the severity's first responders; 1-3 = the procedure's escalation levels. */
  level: EscalationLevel;
  /** When the current level was reached (epoch ms). */
  levelSince: number;
  /** Whether someone acknowledged since the current level was reached. */
  levelAcknowledged: boolean;
  /** Keys of triggers that already fired (`no_root_cause`, `phase_overdue:contain`, `level_unacknowledged:1`...). */
  fired: string[];
}

export interface PhaseTimes {
  startedAt?: number;
  endedAt?: number;
}

export interface StepResult {
  phase: Phase;
  stepId: string;
  action: string;
  status: 'completed' | 'failed' | 'skipped';
  startedAt: number;
  endedAt: number;
  output?: unknown;
  error?: string;
  /** Why a step was skipped: its `when` did not hold, its approval was rejected or timed out, the phase stopped. */
  reason?: string;
  /** The parallel group it ran in. */
  group?: string;
  /** The step that undoes it (from its action's `compensate`), when it completed and may be undone. */
  undo?: { action: string; with: Record<string, unknown> };
}

/** Most label names an incident keeps (`alertLabels`); the names beyond, in arrival order, are dropped. */
export const MAX_ALERT_LABELS = 100;

/**
 * `labels` merged into `into` (a new object): a name already there keeps its value (the first value wins), and no
 * more than MAX_ALERT_LABELS names are kept. Deterministic: follows the objects' own key order.
 */
export function mergeAlertLabels(
  into: Record<string, string>,
  labels: Record<string, string> | undefined,
): Record<string, string> {
  const merged: [string, string][] = Object.entries(into);
  const known = new Set(merged.map(([name]) => name));
  for (const [name, value] of Object.entries(labels ?? {})) {
    if (merged.length >= MAX_ALERT_LABELS) break;
    if (known.has(name) || typeof value !== 'string') continue;
    known.add(name);
    merged.push([name, value]);
  }
  // fromEntries defines own properties, so a label named like an Object.prototype member stays a plain label.
  return Object.fromEntries(merged);
}

/** What happens when nobody approves a step or completes a task in time. */
export type OnTimeoutBehaviour = 'proceed' | 'skip' | 'escalate' | 'fail';

export interface IncidentState {
  incidentId: string;
  title: string;
  runbookId: string;
  runbookVersion: number;
  runbookHash: string;
  category: Category;
  eventType: EventType;
  severity: Severity;
  status: IncidentStatus;
  phase: Phase;
  /** The phase's steps are done and it waits for `advancePhase`. */
  awaitingAdvance: boolean;
  owner?: string;
  drill: boolean;
  /** When the incident itself began (alert start, or as reported); TTD runs from here. */
  startedAt: number;
  /** When the incident record was opened. */
  openedAt: number;
  acknowledgedAt?: number;
  acknowledgedBy?: string;
  rootCause?: { summary: string; by: string; at: number };
  resolvedAt?: number;
  closedAt?: number;
  dataBreachConfirmed: boolean;
  executiveAttentionRequested: boolean;
  affectedSystems: string[];
  /**
   * The labels of the alerts behind the incident: the opener's, then each later firing alert's labels that are not
   * here yet. The first value of a label wins, so a target a step read (`${alert.labels.source_ip}`) never changes
   * under it. At most MAX_ALERT_LABELS names.
   */
  alertLabels: Record<string, string>;
  /** What detected it: the opener's `source`, else the first firing alert's (`${alert.source}`). */
  alertSource?: string;
  /**
   * The incident this one recurs: the last of its dedup key, resolved within the enhanced-monitoring window before
   * this one opened (set by the registry).
   */
  recurrenceOf?: RecurrenceOf;
  escalation: EscalationState;
  /** Exact counts of the alerts delivered through the incident's alert stream (absent when none came that way). */
  alertCounts?: AlertCounts;
  phases: Partial<Record<Phase, PhaseTimes>>;
  steps: StepResult[];
  evidence: { stepId: string; archive: string; sha256: string }[];
  /** Notes and findings, in the order they were added (absent until the first). */
  notes?: ReviewNote[];
  /** Lessons learned, response effectiveness, improvement opportunities and procedure updates (absent until any). */
  lessons?: ReviewLesson[];
  /** Follow-up actions (absent until the first); they outlive the incident in its review and the reports. */
  followUps?: FollowUp[];
}

/** A follow-up action as the incident keeps it: the review's, plus when its owner was reminded. */
export interface FollowUp extends ReviewFollowUp {
  createdBy?: string;
  remindedAt?: number;
  note?: string;
}

/** Per-incident durations in ms, as the procedure's metrics define them; undefined until both ends are known. */
export interface IncidentMetrics {
  timeToDetectMs?: number;
  timeToContainMs?: number;
  timeToEradicateMs?: number;
  timeToResolveMs?: number;
}

export type TimelineEvent = {
  at: number;
  by?: string;
  /** The sender's API role, when the update came through the HTTP API. */
  apiRole?: ApiRole;
  /** The update came straight to Temporal, without an API role: the break-glass path. */
  breakGlass?: true;
} & (
  | { type: 'opened'; severity: Severity; eventType: EventType; trigger: string; title: string }
  | { type: 'classified'; severity: Severity; basis: 'opener' | 'assessment' }
  | { type: 'acknowledged'; level: EscalationLevel; note?: string }
  | { type: 'severity_changed'; from: Severity; to: Severity; reason?: string }
  | { type: 'owner_assigned'; owner: string }
  | { type: 'root_cause_recorded'; summary: string }
  | { type: 'impact_updated'; affectedSystems: string[]; dataBreachConfirmed: boolean }
  | { type: 'phase_started'; phase: Phase }
  | { type: 'phase_completed'; phase: Phase; awaitingAdvance: boolean }
  | { type: 'phase_advanced'; from: Phase; to: Phase | 'closed'; note?: string }
  | { type: 'phase_failed'; phase: Phase; error: string }
  | {
      type: 'step_completed' | 'step_failed' | 'step_skipped';
      phase: Phase;
      stepId: string;
      action: string;
      detail?: string;
    }
  | { type: 'approval_requested'; phase: Phase; stepId: string; action: string; roles: string[]; timeoutAt?: number }
  | { type: 'approval_granted'; phase: Phase; stepId: string; role: string; note?: string }
  | { type: 'approval_rejected'; phase: Phase; stepId: string; role: string; reason: string }
  | { type: 'task_requested'; phase: Phase; stepId: string; instructions: string; roles?: string[]; timeoutAt?: number }
  | { type: 'task_completed'; phase: Phase; stepId: string; role?: string; note?: string }
  | { type: 'approval_timed_out' | 'task_timed_out'; phase: Phase; stepId: string; onTimeout: OnTimeoutBehaviour }
  | { type: 'compensation_started'; reason: 'false_positive' | 'phase_failed'; steps: string[] }
  | { type: 'step_compensated'; phase: Phase; stepId: string; action: string; undo: string }
  | { type: 'compensation_failed'; phase: Phase; stepId: string; action: string; undo: string; error: string }
  | {
      type: 'escalated';
      trigger: EscalationTrigger | 'manual';
      key: string;
      fromLevel: EscalationLevel;
      toLevel: EscalationLevel;
      dueAt: number;
      reason: string;
    }
  | { type: 'notification_failed'; audience: string; error: string }
  | { type: 'status_update'; n: number; audience: string; summary: string }
  | {
      type: 'alert';
      status: 'firing' | 'resolved';
      source: string;
      summary: string;
      fingerprint?: string;
      /** The alert's own labels, as it sent them (left out when it had none). */
      labels?: Record<string, string>;
    }
  | { type: 'alert_recurrence'; source: string; summary: string }
  /** Opened for the dedup key of an incident resolved within its enhanced-monitoring window. */
  | { type: 'recurrence_of'; previousIncidentId: string; resolvedAt: number }
  | { type: 'alerts_resolved'; fingerprints: number; alerts: number }
  | { type: 'note_added'; text: string; finding: boolean }
  | { type: 'lessons_recorded'; counts: Partial<Record<LessonKind, number>> }
  | { type: 'follow_up_added'; followUpId: string; title: string; owner: string; dueAt: number }
  | { type: 'follow_up_completed'; followUpId: string; title: string; note?: string }
  | { type: 'follow_up_due'; followUpId: string; title: string; owner: string; dueAt: number }
  | { type: 'resolved'; summary?: string }
  | { type: 'false_positive'; reason: string }
  | { type: 'closed'; status: IncidentStatus }
);
export type TimelineEventType = TimelineEvent['type'];

/** The procedure's metrics for one incident (the FailSafe-Qore procedures, "Key Metrics to Track"). */
export function incidentMetrics(state: Pick<IncidentState, 'startedAt' | 'phases' | 'resolvedAt'>): IncidentMetrics {
  const span = (from?: number, to?: number) => (from !== undefined && to !== undefined ? to - from : undefined);
  const detectedAt = state.phases.detect?.endedAt;
  const containedAt = state.phases.contain?.endedAt;
  return {
    timeToDetectMs: span(state.startedAt, detectedAt),
    timeToContainMs: span(detectedAt, containedAt),
    // "Time to Eradicate: time from containment to resolution".
    timeToEradicateMs: span(containedAt, state.resolvedAt),
    timeToResolveMs: span(state.startedAt, state.resolvedAt),
  };
}
