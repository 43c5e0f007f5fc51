// The parts of the quarterly review the FailSafe-Qore procedures name beside the procedure review ("Quarterly Review:
// Threat model update, Security audit, Response procedure review, Training and simulation"), built from the quarter's
// closed incidents and drills: what the threat model has to take in, what a security audit has to look at, and the
// training both documents require against the exercises held. Pure: no I/O.
import type { DrillHeld, IncidentSummaryRecord } from './report';
import { type Severity, severityRank } from './severity';

/** One event type the quarter's incidents realised: the threat the model has to cover. */
export interface ThreatSeen {
  eventType: string;
  incidents: number;
  worstSeverity: Severity;
  /** Incidents raised above the severity they opened with: the classification underrated the threat. */
  raisedAfterOpening: number;
  /** What the incidents were aimed at (runbook and alert labels or affected systems), distinct. */
  targets: string[];
  rootCauses: string[];
}

/** The FailSafe-Qore procedures, Post-Incident, "Update threat model": the quarter's threats, most incidents first. */
export function threatModelUpdate(records: readonly IncidentSummaryRecord[]): ThreatSeen[] {
  const byType = new Map<string, IncidentSummaryRecord[]>();
  for (const r of records) {
    if (r.status === 'false_positive') continue;
    byType.set(r.eventType, [...(byType.get(r.eventType) ?? []), r]);
  }
  return [...byType.entries()]
    .map(([eventType, mine]) => ({
      eventType,
      incidents: mine.length,
      worstSeverity: mine.map((r) => r.severity).sort((a, b) => severityRank(a) - severityRank(b))[0]!,
      raisedAfterOpening: mine.filter((r) => severityRank(r.severity) < severityRank(r.initialSeverity)).length,
      targets: [...new Set(mine.map((r) => r.target).filter((t) => t !== ''))].sort(),
      rootCauses: [...new Set(mine.flatMap((r) => (r.rootCause ? [r.rootCause] : [])))],
    }))
    .sort((a, b) => b.incidents - a.incidents || a.eventType.localeCompare(b.eventType));
}

/** One check of the security audit, with the incidents it found (none is a result too: the audit looked). */
export interface AuditCheck {
  check: string;
  incidents: string[];
}

/**
 * The FailSafe-Qore procedures, Post-Incident, "Update security audit report": the checks an audit of the quarter's
 * response makes, each with the incidents that call for a look.
 */
export function securityAudit(
  records: readonly IncidentSummaryRecord[],
  followUpsOverdue: readonly { incidentId: string }[],
): AuditCheck[] {
  const real = records.filter((r) => r.status !== 'false_positive');
  const ids = (list: readonly { incidentId: string }[]) => [...new Set(list.map((r) => r.incidentId))].sort();
  return [
    {
      check: 'Security or privacy incident closed with no evidence preserved',
      incidents: ids(real.filter((r) => (r.category === 'security' || r.category === 'privacy') && r.evidence === 0)),
    },
    {
      check: 'Confirmed data breach: were the notifications the law requires made in time?',
      incidents: ids(real.filter((r) => r.dataBreachConfirmed)),
    },
    { check: 'Closed without a root cause', incidents: ids(real.filter((r) => !r.rootCause)) },
    {
      check: 'Raised in severity after opening: did detection underrate it?',
      incidents: ids(real.filter((r) => severityRank(r.severity) < severityRank(r.initialSeverity))),
    },
    {
      check: 'Escalated to executive level (L3)',
      incidents: ids(real.filter((r) => r.escalations.some((e) => e.toLevel === 3))),
    },
    { check: 'Follow-up action overdue', incidents: ids(followUpsOverdue) },
  ];
}

/** A training requirement of either document, and which drills (if any) show it exercised. */
export interface TrainingRequirement {
  audience: string;
  requirement: string;
  source: 'fiovana' | 'failsafe-qore';
  /** The drill mode that exercises it; otherwise the engine holds no record of it. */
  drillMode?: 'tabletop' | 'technical';
}

/** Both documents' Training sections, word for word. */
export const TRAINING_REQUIREMENTS: readonly TrainingRequirement[] = [
  { audience: 'All engineers', requirement: 'Basic incident response', source: 'fiovana' },
  { audience: 'Security team', requirement: 'Advanced incident handling', source: 'fiovana' },
  { audience: 'Management', requirement: 'Communication and decision-making', source: 'fiovana' },
  { audience: 'All developers', requirement: 'Security awareness training', source: 'failsafe-qore' },
  { audience: 'Ops team', requirement: 'Incident response training', source: 'failsafe-qore' },
  { audience: 'All staff', requirement: 'Phishing awareness', source: 'failsafe-qore' },
  { audience: 'Responders', requirement: 'Regular tabletop exercises', source: 'failsafe-qore', drillMode: 'tabletop' },
  {
    audience: 'Responders',
    requirement: 'Tabletop exercises for various scenarios',
    source: 'fiovana',
    drillMode: 'tabletop',
  },
  { audience: 'Responders', requirement: 'Technical recovery drills', source: 'fiovana', drillMode: 'technical' },
];

export interface TrainingLine extends TrainingRequirement {
  /** Drills of its mode held in the quarter, and the scenarios they ran; undefined where no drill exercises it. */
  drills?: { held: number; scenarios: string[] };
}

/** Each requirement with the quarter's drills that exercised it; the rest are for the training records to confirm. */
export function trainingRecord(drillsHeld: readonly DrillHeld[]): TrainingLine[] {
  return TRAINING_REQUIREMENTS.map((t) => {
    if (!t.drillMode) return t;
    const mine = drillsHeld.filter((d) => d.mode === t.drillMode);
    return { ...t, drills: { held: mine.length, scenarios: [...new Set(mine.map((d) => d.scenario))].sort() } };
  });
}
