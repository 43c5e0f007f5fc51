// The post-incident review: one document built from what an incident exposes (its status view and timeline), the
// runbook plan it ran (phase windows, step parameters) and the people's notes, lessons and follow-ups. Pure: no clock,
// no files; src/reports/ renders it as Markdown and HTML and writes it at close. Not for workflow code.
import { DEFAULT_ESCALATION_POLICY, type EscalationPolicy } from './escalation-policy';
import {
  type IncidentMetrics,
  type IncidentState,
  type Phase,
  PHASES,
  type StepResult,
  type TimelineEvent,
  incidentMetrics,
} from './incident';
import type { RunbookPlan } from './runbook';
// The terminal's wording of an event, so a review reads like `incident-engine show`.
import { describeEvent } from './timeline-text';
import type { Severity } from './severity';

export const REVIEW_FORMAT = 'incident-engine/review@1';

export interface ReviewNote {
  at: number;
  by: string;
  text: string;
  /** A finding rather than a running note. */
  finding?: boolean;
}

export interface ReviewLesson {
  at: number;
  by: string;
  text: string;
  /** Which of the review's lists it belongs to (absent: a lesson learned). */
  kind?: 'lesson_learned' | 'response_effectiveness' | 'improvement_opportunity' | 'procedure_update';
}

export interface ReviewFollowUp {
  id: string;
  title: string;
  owner: string;
  /** Epoch ms. */
  dueAt: number;
  createdAt?: number;
  doneAt?: number;
  doneBy?: string;
}

/** Everything a review is built from. Notes, lessons and follow-ups are optional: older incidents have none. */
export interface ReviewInput {
  status: IncidentState & { metrics?: IncidentMetrics };
  timeline: TimelineEvent[];
  /** The plan the incident ran: its phase windows and step parameters. Without it the default windows are used. */
  plan?: Pick<RunbookPlan, 'escalation' | 'phases' | 'contentHash'>;
  notes?: ReviewNote[];
  lessons?: ReviewLesson[];
  followUps?: ReviewFollowUp[];
}

export interface ReviewPhase {
  phase: Phase;
  startedAt?: number;
  endedAt?: number;
  durationMs?: number;
  /** The window, as offsets from the opening. */
  window: { fromMs: number; toMs: number };
  /** When the phase was due to be finished (opening + window end). */
  dueAt: number;
  verdict: 'on_time' | 'late' | 'running' | 'not_reached';
  /** How far past its window's end the phase ended (late only). */
  overByMs?: number;
}

export interface ReviewAction {
  phase: Phase;
  stepId: string;
  action: string;
  status: StepResult['status'];
  startedAt: number;
  endedAt: number;
  /** The step's parameters as the runbook gives them (placeholders unresolved), when the plan is known. */
  params?: Record<string, unknown>;
  output?: unknown;
  error?: string;
  reason?: string;
  undone?: { at: number; undo: string; params?: Record<string, unknown>; failed?: string };
}

export interface ReviewDecision {
  at: number;
  kind: 'approved' | 'rejected' | 'task_completed' | 'approval_timed_out' | 'task_timed_out';
  phase: Phase;
  stepId: string;
  by?: string;
  role?: string;
  /** The note of an approval or task, the reason of a rejection, what the timeout did. */
  why?: string;
}

export interface ReviewEscalation {
  at: number;
  trigger: string;
  fromLevel: number;
  toLevel: number;
  reason: string;
  by?: string;
}

export interface ReviewTimelineEntry {
  at: number;
  /** Milliseconds after the opening. */
  offsetMs: number;
  by?: string;
  type: TimelineEvent['type'];
  text: string;
}

export interface Review {
  format: typeof REVIEW_FORMAT;
  /** Final once the incident is closed; a draft before. */
  final: boolean;
  summary: {
    incidentId: string;
    title: string;
    runbook: { id: string; version: number; hash: string };
    category: string;
    eventType: string;
    severity: Severity;
    status: string;
    drill: boolean;
    owner?: string;
    detectedBy?: string;
    /** The labels of the alerts behind it: what it was about (a host, an address, a service). */
    alertLabels: Record<string, string>;
    startedAt: number;
    openedAt: number;
    acknowledgedAt?: number;
    acknowledgedBy?: string;
    resolvedAt?: number;
    closedAt?: number;
    resolution?: string;
    falsePositiveReason?: string;
    /** The plan's phase windows were not known, so the defaults were used. */
    defaultWindows: boolean;
  };
  severityHistory: { at: number; severity: Severity; by?: string; basis: string }[];
  times: {
    acknowledgeMs?: number;
    detectMs?: number;
    containMs?: number;
    eradicateMs?: number;
    resolveMs?: number;
  };
  phases: ReviewPhase[];
  escalations: ReviewEscalation[];
  actions: ReviewAction[];
  decisions: ReviewDecision[];
  rootCause?: { summary: string; by: string; at: number };
  impact: {
    affectedSystems: string[];
    dataBreachConfirmed: boolean;
    changes: { at: number; by?: string; affectedSystems: string[]; dataBreachConfirmed: boolean }[];
  };
  evidence: { stepId: string; archive: string; sha256: string }[];
  notes: ReviewNote[];
  lessons: ReviewLesson[];
  followUps: ReviewFollowUp[];
  timeline: ReviewTimelineEntry[];
  /** Timeline events left out of the condensed timeline (status updates, repeated alerts, requests), by type. */
  condensedAway: Record<string, number>;
}

const TERMINAL = new Set(['closed', 'false_positive', 'failed']);

/** Events the condensed timeline leaves out: routine messages whose effect shows elsewhere in the review. */
const ROUTINE: ReadonlySet<TimelineEvent['type']> = new Set([
  'status_update',
  'approval_requested',
  'task_requested',
  'phase_completed',
]);

/** The timeline with routine events and repeats of an alert state already seen left out. */
function condense(
  timeline: TimelineEvent[],
  openedAt: number,
): { entries: ReviewTimelineEntry[]; away: Record<string, number> } {
  const entries: ReviewTimelineEntry[] = [];
  const away: Record<string, number> = {};
  const alertStates = new Set<string>();
  for (const e of timeline) {
    let routine = ROUTINE.has(e.type);
    if (e.type === 'alert') {
      const key = `${e.fingerprint ?? e.summary}\u0000${e.status}`;
      routine = alertStates.has(key);
      alertStates.add(key);
    }
    if (routine) {
      away[e.type] = (away[e.type] ?? 0) + 1;
      continue;
    }
    entries.push({
      at: e.at,
      offsetMs: e.at - openedAt,
      ...(e.by ? { by: e.by } : {}),
      type: e.type,
      text: describeEvent(e),
    });
  }
  return { entries, away };
}

function phaseReviews(state: IncidentState, policy: EscalationPolicy, now: number | undefined): ReviewPhase[] {
  return PHASES.map((phase) => {
    const times = state.phases[phase] ?? {};
    const window = policy.phaseWindows[phase];
    const dueAt = state.openedAt + window.toMs;
    const base = {
      phase,
      ...(times.startedAt !== undefined ? { startedAt: times.startedAt } : {}),
      ...(times.endedAt !== undefined ? { endedAt: times.endedAt } : {}),
      window: { fromMs: window.fromMs, toMs: window.toMs },
      dueAt,
    };
    if (times.startedAt === undefined) return { ...base, verdict: 'not_reached' as const };
    if (times.endedAt === undefined) {
      const overByMs = now !== undefined && now > dueAt ? now - dueAt : undefined;
      return { ...base, verdict: 'running' as const, ...(overByMs !== undefined ? { overByMs } : {}) };
    }
    const durationMs = times.endedAt - times.startedAt;
    if (times.endedAt > dueAt)
      return { ...base, durationMs, verdict: 'late' as const, overByMs: times.endedAt - dueAt };
    return { ...base, durationMs, verdict: 'on_time' as const };
  });
}

function actionReviews(state: IncidentState, timeline: TimelineEvent[], plan: ReviewInput['plan']): ReviewAction[] {
  const undone = new Map<string, ReviewAction['undone']>();
  for (const e of timeline) {
    if (e.type === 'step_compensated') undone.set(e.stepId, { at: e.at, undo: e.undo });
    if (e.type === 'compensation_failed') undone.set(e.stepId, { at: e.at, undo: e.undo, failed: e.error });
  }
  return state.steps.map((step) => {
    const params = plan?.phases[step.phase]?.steps.find((s) => s.id === step.stepId)?.with;
    const undo = undone.get(step.stepId);
    return {
      phase: step.phase,
      stepId: step.stepId,
      action: step.action,
      status: step.status,
      startedAt: step.startedAt,
      endedAt: step.endedAt,
      ...(params ? { params } : {}),
      ...(step.output !== undefined ? { output: step.output } : {}),
      ...(step.error ? { error: step.error } : {}),
      ...(step.reason ? { reason: step.reason } : {}),
      ...(undo ? { undone: { ...undo, ...(step.undo ? { params: step.undo.with } : {}) } } : {}),
    };
  });
}

function decisionReviews(timeline: TimelineEvent[]): ReviewDecision[] {
  const out: ReviewDecision[] = [];
  for (const e of timeline) {
    const by = e.by ? { by: e.by } : {};
    if (e.type === 'approval_granted')
      out.push({
        at: e.at,
        kind: 'approved',
        phase: e.phase,
        stepId: e.stepId,
        ...by,
        role: e.role,
        ...(e.note ? { why: e.note } : {}),
      });
    else if (e.type === 'approval_rejected')
      out.push({ at: e.at, kind: 'rejected', phase: e.phase, stepId: e.stepId, ...by, role: e.role, why: e.reason });
    else if (e.type === 'task_completed')
      out.push({
        at: e.at,
        kind: 'task_completed',
        phase: e.phase,
        stepId: e.stepId,
        ...by,
        ...(e.role ? { role: e.role } : {}),
        ...(e.note ? { why: e.note } : {}),
      });
    else if (e.type === 'approval_timed_out' || e.type === 'task_timed_out')
      out.push({
        at: e.at,
        kind: e.type,
        phase: e.phase,
        stepId: e.stepId,
        why: `nobody decided in time: ${e.onTimeout}`,
      });
  }
  return out;
}

/** Time from opening to the first acknowledgement. */
export function timeToAcknowledge(state: Pick<IncidentState, 'openedAt' | 'acknowledgedAt'>): number | undefined {
  return state.acknowledgedAt !== undefined ? state.acknowledgedAt - state.openedAt : undefined;
}

/** Builds the review. `now` marks running phases past their window in a draft; a closed incident needs none. */
export function buildReview(input: ReviewInput, now?: number): Review {
  const { status: state, timeline } = input;
  const policy = input.plan?.escalation ?? DEFAULT_ESCALATION_POLICY;
  const metrics = incidentMetrics(state);
  const { entries, away } = condense(timeline, state.openedAt);

  const severityHistory: Review['severityHistory'] = [];
  for (const e of timeline) {
    if (e.type === 'classified')
      severityHistory.push({ at: e.at, severity: e.severity, basis: e.basis, ...(e.by ? { by: e.by } : {}) });
    if (e.type === 'severity_changed')
      severityHistory.push({ at: e.at, severity: e.to, basis: e.reason ?? 'changed', ...(e.by ? { by: e.by } : {}) });
  }
  if (severityHistory.length === 0)
    severityHistory.push({ at: state.openedAt, severity: state.severity, basis: 'opener' });

  const resolvedEvent = timeline.find((e) => e.type === 'resolved');
  const fpEvent = timeline.find((e) => e.type === 'false_positive');
  const ackTime = timeToAcknowledge(state);
  return {
    format: REVIEW_FORMAT,
    final: TERMINAL.has(state.status),
    summary: {
      incidentId: state.incidentId,
      title: state.title,
      runbook: { id: state.runbookId, version: state.runbookVersion, hash: state.runbookHash },
      category: state.category,
      eventType: state.eventType,
      severity: state.severity,
      status: state.status,
      drill: state.drill,
      ...(state.owner ? { owner: state.owner } : {}),
      ...(state.alertSource ? { detectedBy: state.alertSource } : {}),
      alertLabels: state.alertLabels ?? {},
      startedAt: state.startedAt,
      openedAt: state.openedAt,
      ...(state.acknowledgedAt !== undefined ? { acknowledgedAt: state.acknowledgedAt } : {}),
      ...(state.acknowledgedBy ? { acknowledgedBy: state.acknowledgedBy } : {}),
      ...(state.resolvedAt !== undefined ? { resolvedAt: state.resolvedAt } : {}),
      ...(state.closedAt !== undefined ? { closedAt: state.closedAt } : {}),
      ...(resolvedEvent?.type === 'resolved' && resolvedEvent.summary ? { resolution: resolvedEvent.summary } : {}),
      ...(fpEvent?.type === 'false_positive' ? { falsePositiveReason: fpEvent.reason } : {}),
      defaultWindows: input.plan === undefined,
    },
    severityHistory,
    times: {
      ...(ackTime !== undefined ? { acknowledgeMs: ackTime } : {}),
      ...(metrics.timeToDetectMs !== undefined ? { detectMs: metrics.timeToDetectMs } : {}),
      ...(metrics.timeToContainMs !== undefined ? { containMs: metrics.timeToContainMs } : {}),
      ...(metrics.timeToEradicateMs !== undefined ? { eradicateMs: metrics.timeToEradicateMs } : {}),
      ...(metrics.timeToResolveMs !== undefined ? { resolveMs: metrics.timeToResolveMs } : {}),
    },
    phases: phaseReviews(state, policy, TERMINAL.has(state.status) ? undefined : now),
    escalations: timeline.flatMap((e) =>
      e.type === 'escalated'
        ? [
            {
              at: e.at,
              trigger: e.trigger,
              fromLevel: e.fromLevel,
              toLevel: e.toLevel,
              reason: e.reason,
              ...(e.by ? { by: e.by } : {}),
            },
          ]
        : [],
    ),
    actions: actionReviews(state, timeline, input.plan),
    decisions: decisionReviews(timeline),
    ...(state.rootCause ? { rootCause: state.rootCause } : {}),
    impact: {
      affectedSystems: state.affectedSystems,
      dataBreachConfirmed: state.dataBreachConfirmed,
      changes: timeline.flatMap((e) =>
        e.type === 'impact_updated'
          ? [
              {
                at: e.at,
                ...(e.by ? { by: e.by } : {}),
                affectedSystems: e.affectedSystems,
                dataBreachConfirmed: e.dataBreachConfirmed,
              },
            ]
          : [],
      ),
    },
    evidence: state.evidence,
    notes: input.notes ?? [],
    lessons: input.lessons ?? [],
    followUps: input.followUps ?? [],
    timeline: entries,
    condensedAway: away,
  };
}
