// Metrics across incidents and the periodic reports (the FailSafe-Qore procedures, "Key Metrics to Track" and
// "Reporting"). Every figure comes from the compact summary each incident leaves at close, so a report never reads a
// history. Pure: windows and clocks are given; src/reports/ reads the store and renders.
import {
  type AuditCheck,
  type ThreatSeen,
  type TrainingLine,
  securityAudit,
  threatModelUpdate,
  trainingRecord,
} from './quarterly-review';
import type { EscalationPolicy } from './escalation-policy';
import { DEFAULT_ESCALATION_POLICY } from './escalation-policy';
import type { Phase } from './incident';
import type { Review } from './review';
import { SEVERITIES, type Severity } from './severity';

export const SUMMARY_FORMAT = 1;

/** What a closed incident leaves in the summary store: enough for every metric and report, nothing more. */
export interface IncidentSummaryRecord {
  v: typeof SUMMARY_FORMAT;
  incidentId: string;
  title: string;
  runbookId: string;
  category: string;
  eventType: string;
  /** Severity at close; `initialSeverity` at classification. */
  severity: Severity;
  initialSeverity: Severity;
  status: string;
  drill: boolean;
  openedAt: number;
  closedAt: number;
  /** Time to acknowledge, detect, contain, eradicate, resolve (ms), when known. */
  tta?: number;
  ttd?: number;
  ttc?: number;
  tte?: number;
  ttr?: number;
  /** The response time and resolution SLA of its severity (from its runbook's policy). */
  ackTargetMs: number;
  resolveTargetMs: number;
  escalations: { trigger: string; toLevel: number }[];
  phasesLate: Phase[];
  /** Runbook plus the alert labels (or affected systems when it had no labels): what "the same issue" means. */
  target: string;
  rootCause?: string;
  dataBreachConfirmed: boolean;
  evidence: number;
  lessons: string[];
  /** `id` since follow-ups could be completed after close (older summaries lack it). */
  followUpsOpen: { id?: string; title: string; owner: string; dueAt: number }[];
}

/** A P0's "immediate" response time is measured against the detect window (15 minutes by default). */
export function acknowledgeTarget(policy: EscalationPolicy, severity: Severity): number {
  return policy.responseTimeMs[severity] || policy.phaseWindows.detect.toMs;
}

function canonicalTarget(labels: Record<string, string>, systems: string[]): string {
  const entries = Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (entries.length > 0) return entries.map(([k, v]) => `${k}=${v}`).join(',');
  return [...systems].sort().join(',');
}

/** The summary a closed incident leaves, from its review and its runbook's policy. */
export function summarize(review: Review, policy: EscalationPolicy = DEFAULT_ESCALATION_POLICY): IncidentSummaryRecord {
  const s = review.summary;
  const t = review.times;
  return {
    v: SUMMARY_FORMAT,
    incidentId: s.incidentId,
    title: s.title,
    runbookId: s.runbook.id,
    category: s.category,
    eventType: s.eventType,
    severity: s.severity,
    initialSeverity: review.severityHistory[0]?.severity ?? s.severity,
    status: s.status,
    drill: s.drill,
    openedAt: s.openedAt,
    closedAt: s.closedAt ?? s.resolvedAt ?? s.openedAt,
    ...(t.acknowledgeMs !== undefined ? { tta: t.acknowledgeMs } : {}),
    ...(t.detectMs !== undefined ? { ttd: t.detectMs } : {}),
    ...(t.containMs !== undefined ? { ttc: t.containMs } : {}),
    ...(t.eradicateMs !== undefined ? { tte: t.eradicateMs } : {}),
    ...(t.resolveMs !== undefined ? { ttr: t.resolveMs } : {}),
    ackTargetMs: acknowledgeTarget(policy, s.severity),
    resolveTargetMs: policy.resolutionSlaMs[s.severity],
    escalations: review.escalations.map((e) => ({ trigger: e.trigger, toLevel: e.toLevel })),
    phasesLate: review.phases.filter((p) => p.verdict === 'late').map((p) => p.phase),
    target: canonicalTarget(s.alertLabels, review.impact.affectedSystems),
    ...(review.rootCause ? { rootCause: review.rootCause.summary } : {}),
    dataBreachConfirmed: review.impact.dataBreachConfirmed,
    evidence: review.evidence.length,
    lessons: review.lessons.map((l) => l.text),
    followUpsOpen: review.followUps
      .filter((f) => f.doneAt === undefined)
      .map((f) => ({ id: f.id, title: f.title, owner: f.owner, dueAt: f.dueAt })),
  };
}

// ---- metrics over a window ----

export interface DurationStats {
  n: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
}

export interface Compliance {
  met: number;
  total: number;
  /** met / total, or null when nothing counted. */
  rate: number | null;
}

export interface MetricsBlock {
  count: number;
  mtta: DurationStats | null;
  mttd: DurationStats | null;
  mttc: DurationStats | null;
  mtte: DurationStats | null;
  mttr: DurationStats | null;
  /** Acknowledged within the severity's response time (never acknowledged counts as missed). */
  acknowledgedInTime: Compliance;
  /** Resolved within the severity's SLA (incidents that were never resolved, like false positives, are not counted). */
  resolvedInTime: Compliance;
}

export interface Recurrence {
  runbookId: string;
  target: string;
  count: number;
  incidents: string[];
}

export interface WindowMetrics {
  window: { from: number; to: number };
  overall: MetricsBlock;
  bySeverity: Record<string, MetricsBlock>;
  byCategory: Record<string, MetricsBlock>;
  byRunbook: Record<string, MetricsBlock>;
  counts: { bySeverity: Record<string, number>; byCategory: Record<string, number>; byStatus: Record<string, number> };
  escalationsByTrigger: Record<string, number>;
  recurring: Recurrence[];
  /** Drills closed in the window, reported apart and left out of every figure above. */
  drills: { count: number; byRunbook: Record<string, number>; incidents: string[] };
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

export function durationStats(values: number[]): DurationStats | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mean = sorted.reduce((sum, v) => sum + v, 0) / sorted.length;
  return { n: sorted.length, meanMs: Math.round(mean), p50Ms: percentile(sorted, 50), p90Ms: percentile(sorted, 90) };
}

function compliance(met: number, total: number): Compliance {
  return { met, total, rate: total === 0 ? null : met / total };
}

export function metricsBlock(records: IncidentSummaryRecord[]): MetricsBlock {
  const values = (key: 'tta' | 'ttd' | 'ttc' | 'tte' | 'ttr') =>
    records.flatMap((r) => (r[key] !== undefined ? [r[key]] : []));
  let ackMet = 0;
  let resolveMet = 0;
  let resolved = 0;
  for (const r of records) {
    if (r.tta !== undefined && r.tta <= r.ackTargetMs) ackMet++;
    if (r.ttr !== undefined) {
      resolved++;
      if (r.ttr <= r.resolveTargetMs) resolveMet++;
    }
  }
  return {
    count: records.length,
    mtta: durationStats(values('tta')),
    mttd: durationStats(values('ttd')),
    mttc: durationStats(values('ttc')),
    mtte: durationStats(values('tte')),
    mttr: durationStats(values('ttr')),
    acknowledgedInTime: compliance(ackMet, records.length),
    resolvedInTime: compliance(resolveMet, resolved),
  };
}

function groupBy(records: IncidentSummaryRecord[], key: (r: IncidentSummaryRecord) => string) {
  const groups = new Map<string, IncidentSummaryRecord[]>();
  for (const r of records) {
    const k = key(r);
    const list = groups.get(k);
    if (list) list.push(r);
    else groups.set(k, [r]);
  }
  return new Map([...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function blocks(groups: Map<string, IncidentSummaryRecord[]>): Record<string, MetricsBlock> {
  return Object.fromEntries([...groups].map(([k, list]) => [k, metricsBlock(list)]));
}

function counts(groups: Map<string, IncidentSummaryRecord[]>): Record<string, number> {
  return Object.fromEntries([...groups].map(([k, list]) => [k, list.length]));
}

/** Incidents closed in [from, to). */
export function inWindow(records: IncidentSummaryRecord[], from: number, to: number): IncidentSummaryRecord[] {
  return records.filter((r) => r.closedAt >= from && r.closedAt < to);
}

/** Every metric over the incidents closed in [from, to); drills apart. */
export function windowMetrics(all: IncidentSummaryRecord[], from: number, to: number): WindowMetrics {
  const closed = inWindow(all, from, to);
  const records = closed.filter((r) => !r.drill);
  const drills = closed.filter((r) => r.drill);
  const bySeverity = groupBy(records, (r) => r.severity);
  const escalationsByTrigger: Record<string, number> = {};
  for (const r of records)
    for (const e of r.escalations) escalationsByTrigger[e.trigger] = (escalationsByTrigger[e.trigger] ?? 0) + 1;
  const recurring = [...groupBy(records, (r) => `${r.runbookId}\u0000${r.target}`).values()]
    .filter((list) => list.length >= 2)
    .map((list) => ({
      runbookId: list[0]!.runbookId,
      target: list[0]!.target,
      count: list.length,
      incidents: list.map((r) => r.incidentId).sort(),
    }))
    .sort((a, b) => b.count - a.count || (a.runbookId < b.runbookId ? -1 : 1));
  return {
    window: { from, to },
    overall: metricsBlock(records),
    bySeverity: blocks(bySeverity),
    byCategory: blocks(groupBy(records, (r) => r.category)),
    byRunbook: blocks(groupBy(records, (r) => r.runbookId)),
    counts: {
      // Every severity is named, so a chart shows an empty bar rather than no bar.
      bySeverity: { ...Object.fromEntries(SEVERITIES.map((s) => [s, 0])), ...counts(bySeverity) },
      byCategory: counts(groupBy(records, (r) => r.category)),
      byStatus: counts(groupBy(records, (r) => r.status)),
    },
    escalationsByTrigger: Object.fromEntries(Object.entries(escalationsByTrigger).sort()),
    recurring,
    drills: {
      count: drills.length,
      byRunbook: counts(groupBy(drills, (r) => r.runbookId)),
      incidents: drills.map((r) => r.incidentId).sort(),
    },
  };
}

// ---- periods ----

export const REPORT_KINDS = ['weekly', 'monthly', 'quarterly'] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];

const DAY = 86_400_000;

/** The period of `kind` starting at `from`: 7 days, one calendar month or three (UTC). */
export function periodEnd(kind: ReportKind, from: number): number {
  if (kind === 'weekly') return from + 7 * DAY;
  const d = new Date(from);
  d.setUTCMonth(d.getUTCMonth() + (kind === 'monthly' ? 1 : 3));
  return d.getTime();
}

/** The period of `kind` ending at `to`. */
export function periodStart(kind: ReportKind, to: number): number {
  if (kind === 'weekly') return to - 7 * DAY;
  const d = new Date(to);
  d.setUTCMonth(d.getUTCMonth() - (kind === 'monthly' ? 1 : 3));
  return d.getTime();
}

/** The start of the last whole period before `at`: Monday 00:00 UTC, the 1st of the month, the 1st of the quarter. */
export function previousPeriodStart(kind: ReportKind, at: number): number {
  const d = new Date(at);
  const midnight = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  if (kind === 'weekly') {
    const sinceMonday = (new Date(midnight).getUTCDay() + 6) % 7;
    return midnight - sinceMonday * DAY - 7 * DAY;
  }
  const months = kind === 'monthly' ? 1 : 3;
  const month = d.getUTCMonth() - (d.getUTCMonth() % months);
  return Date.UTC(d.getUTCFullYear(), month - months, 1);
}

// ---- the periodic report ----

export const REPORT_FORMAT = 'incident-engine/report@1';

export interface DrillHeld {
  /** Epoch ms when it was held. */
  at: number;
  scenario: string;
  title: string;
  runbook: string;
  mode: string;
  participants: string[];
  passed: boolean;
  expectationsMet: string[];
  expectationsMissed: string[];
  /** Who or what held it: `schedule`, `cli`, ... */
  via: string;
}

export interface ReportIncidentLine {
  incidentId: string;
  title: string;
  severity: Severity;
  category: string;
  runbookId: string;
  status: string;
  ttr?: number;
  ackMet: boolean;
  resolveMet?: boolean;
  escalations: string[];
  rootCause?: string;
  phasesLate: Phase[];
  lessons: string[];
}

export interface PeriodicReport {
  format: typeof REPORT_FORMAT;
  kind: ReportKind;
  window: { from: number; to: number };
  generatedAt: number;
  metrics: WindowMetrics;
  /** Incident summary: every (non-drill) incident closed in the window. */
  incidents: ReportIncidentLine[];
  /** Trend: the same figures over the previous periods, oldest first, this one last. */
  trend: { from: number; to: number; count: number; mttrMeanMs: number | null; resolvedInTimeRate: number | null }[];
  recommendations: string[];
  /** Open follow-ups of incidents closed up to the window's end. */
  followUpsOpen: { incidentId: string; title: string; owner: string; dueAt: number; overdue: boolean }[];
  /** Monthly and quarterly: root causes, by runbook; incidents with none. */
  rootCauses?: { runbookId: string; incidentId: string; rootCause: string }[];
  missingRootCause?: string[];
  /** Monthly and quarterly: what to change in the process, from late phases, escalations and lessons. */
  processImprovements?: string[];
  /** Monthly and quarterly: the security posture. */
  securityPosture?: {
    securityIncidents: number;
    privacyIncidents: number;
    critical: number;
    dataBreaches: number;
    evidenceItems: number;
    byEventType: Record<string, number>;
  };
  /** Quarterly: each runbook's record, for the procedure review. */
  procedureReview?: {
    runbookId: string;
    incidents: number;
    acknowledgedInTime: Compliance;
    resolvedInTime: Compliance;
    phasesLate: Record<string, number>;
    drills: number;
  }[];
  /** Quarterly: drills held in the window. */
  drillsHeld?: DrillHeld[];
  /** Quarterly: the threats the quarter's incidents realised, for the threat model update. */
  threatModel?: ThreatSeen[];
  /** Quarterly: the security audit's checks and the incidents each found. */
  securityAudit?: AuditCheck[];
  /** Quarterly: both documents' training requirements, with the drills that exercised them. */
  training?: TrainingLine[];
}

const TREND_PERIODS: Record<ReportKind, number> = { weekly: 8, monthly: 6, quarterly: 4 };

function fmtRate(c: Compliance): string {
  return c.rate === null ? 'n/a' : `${Math.round(c.rate * 100)}%`;
}

function recommendations(
  m: WindowMetrics,
  trend: PeriodicReport['trend'],
  followUps: PeriodicReport['followUpsOpen'],
): string[] {
  const out: string[] = [];
  const o = m.overall;
  if (o.acknowledgedInTime.total > o.acknowledgedInTime.met)
    out.push(
      `${o.acknowledgedInTime.total - o.acknowledgedInTime.met} incident(s) acknowledged late or never (${fmtRate(o.acknowledgedInTime)} in time): review on-call coverage and paging.`,
    );
  if (o.resolvedInTime.total > o.resolvedInTime.met)
    out.push(
      `${o.resolvedInTime.total - o.resolvedInTime.met} incident(s) resolved past their SLA (${fmtRate(o.resolvedInTime)} in time): review containment and eradication steps of the runbooks involved.`,
    );
  for (const r of m.recurring)
    out.push(
      `Recurring: ${r.count} incidents of runbook ${r.runbookId} on ${r.target || '(no target)'} (${r.incidents.join(', ')}): fix the underlying cause.`,
    );
  const overdue = m.escalationsByTrigger.phase_overdue ?? 0;
  if (overdue > 0)
    out.push(`${overdue} phase-overdue escalation(s): check the phase windows against what the team can do.`);
  const noRoot = m.escalationsByTrigger.no_root_cause ?? 0;
  if (noRoot > 0) out.push(`${noRoot} incident(s) went 2 hours without a root cause: improve diagnostics and logging.`);
  const previous = trend.at(-2);
  const current = trend.at(-1);
  if (previous?.mttrMeanMs && current?.mttrMeanMs && current.mttrMeanMs > previous.mttrMeanMs * 1.2)
    out.push('Mean time to resolve rose by more than 20% over the previous period.');
  const late = followUps.filter((f) => f.overdue).length;
  if (late > 0) out.push(`${late} follow-up action(s) are overdue: chase their owners.`);
  if (out.length === 0) out.push('No issue stands out: keep the current procedures.');
  return out;
}

export interface ReportInput {
  kind: ReportKind;
  from: number;
  to: number;
  generatedAt: number;
  /** Every summary in the store (the trend looks before the window). */
  summaries: IncidentSummaryRecord[];
  drillsHeld?: DrillHeld[];
}

export function buildPeriodicReport(input: ReportInput): PeriodicReport {
  const { kind, from, to, summaries } = input;
  const metrics = windowMetrics(summaries, from, to);
  const records = inWindow(summaries, from, to).filter((r) => !r.drill);
  records.sort((a, b) => a.closedAt - b.closedAt || (a.incidentId < b.incidentId ? -1 : 1));

  const trend: PeriodicReport['trend'] = [];
  let end = to;
  for (let i = 0; i < TREND_PERIODS[kind]; i++) {
    const start = i === 0 ? from : periodStart(kind, end);
    const block = metricsBlock(inWindow(summaries, start, end).filter((r) => !r.drill));
    trend.unshift({
      from: start,
      to: end,
      count: block.count,
      mttrMeanMs: block.mttr?.meanMs ?? null,
      resolvedInTimeRate: block.resolvedInTime.rate,
    });
    end = start;
  }

  const followUpsOpen = summaries
    .filter((r) => !r.drill && r.closedAt < to)
    .flatMap((r) => r.followUpsOpen.map((f) => ({ incidentId: r.incidentId, ...f, overdue: f.dueAt < to })))
    .sort((a, b) => a.dueAt - b.dueAt);

  const report: PeriodicReport = {
    format: REPORT_FORMAT,
    kind,
    window: { from, to },
    generatedAt: input.generatedAt,
    metrics,
    incidents: records.map((r) => ({
      incidentId: r.incidentId,
      title: r.title,
      severity: r.severity,
      category: r.category,
      runbookId: r.runbookId,
      status: r.status,
      ...(r.ttr !== undefined ? { ttr: r.ttr } : {}),
      ackMet: r.tta !== undefined && r.tta <= r.ackTargetMs,
      ...(r.ttr !== undefined ? { resolveMet: r.ttr <= r.resolveTargetMs } : {}),
      escalations: r.escalations.map((e) => `${e.trigger}->L${e.toLevel}`),
      ...(r.rootCause ? { rootCause: r.rootCause } : {}),
      phasesLate: r.phasesLate,
      lessons: r.lessons,
    })),
    trend,
    recommendations: recommendations(metrics, trend, followUpsOpen),
    followUpsOpen,
  };
  if (kind === 'weekly') return report;

  report.rootCauses = records.flatMap((r) =>
    r.rootCause ? [{ runbookId: r.runbookId, incidentId: r.incidentId, rootCause: r.rootCause }] : [],
  );
  report.missingRootCause = records
    .filter((r) => !r.rootCause && r.status !== 'false_positive')
    .map((r) => r.incidentId);
  const lateByPhase: Record<string, number> = {};
  for (const r of records) for (const p of r.phasesLate) lateByPhase[p] = (lateByPhase[p] ?? 0) + 1;
  report.processImprovements = [
    ...Object.entries(lateByPhase).map(
      ([phase, n]) => `The ${phase} phase ran past its window in ${n} incident(s): revisit its steps or its window.`,
    ),
    ...Object.entries(metrics.escalationsByTrigger).map(([trigger, n]) => `${n} escalation(s) on ${trigger}.`),
    ...records.flatMap((r) => r.lessons.map((l) => `Lesson from ${r.incidentId}: ${l}`)),
  ];
  const byEventType: Record<string, number> = {};
  for (const r of records) byEventType[r.eventType] = (byEventType[r.eventType] ?? 0) + 1;
  report.securityPosture = {
    securityIncidents: records.filter((r) => r.category === 'security').length,
    privacyIncidents: records.filter((r) => r.category === 'privacy').length,
    critical: records.filter((r) => r.severity === 'P0').length,
    dataBreaches: records.filter((r) => r.dataBreachConfirmed).length,
    evidenceItems: records.reduce((n, r) => n + r.evidence, 0),
    byEventType: Object.fromEntries(Object.entries(byEventType).sort()),
  };
  if (kind === 'monthly') return report;

  const drillsHeld = (input.drillsHeld ?? []).filter((d) => d.at >= from && d.at < to).sort((a, b) => a.at - b.at);
  const runbooks = new Set([...records.map((r) => r.runbookId), ...drillsHeld.map((d) => d.runbook)]);
  report.procedureReview = [...runbooks].sort().map((runbookId) => {
    const mine = records.filter((r) => r.runbookId === runbookId);
    const block = metricsBlock(mine);
    const phasesLate: Record<string, number> = {};
    for (const r of mine) for (const p of r.phasesLate) phasesLate[p] = (phasesLate[p] ?? 0) + 1;
    return {
      runbookId,
      incidents: mine.length,
      acknowledgedInTime: block.acknowledgedInTime,
      resolvedInTime: block.resolvedInTime,
      phasesLate,
      drills: drillsHeld.filter((d) => d.runbook === runbookId).length,
    };
  });
  report.drillsHeld = drillsHeld;
  report.threatModel = threatModelUpdate(records);
  report.securityAudit = securityAudit(
    records,
    followUpsOpen.filter((f) => f.overdue),
  );
  report.training = trainingRecord(drillsHeld);
  return report;
}
