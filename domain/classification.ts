// Severity from both procedure documents: the Fiovana procedures' assessment (its `assess_incident` table and its
// Severity Levels descriptions) beside the FailSafe-Qore procedures' P0-P3 criteria, read from an alert's event type
// and labels. The more severe of the two wins, and of a sender's own severity too. docs/ESCALATION.md has the table.
// Pure and sandbox-safe: no I/O, imports only domain modules.
import type { EventType } from './incident';
import { type Severity, severityRank } from './severity';

/** One criterion that held, with the document and words it comes from. */
export interface SeverityReason {
  severity: Severity;
  source: 'fiovana' | 'failsafe-qore' | 'sender';
  criterion: string;
}

export interface AlertClassification {
  severity: Severity;
  /** `sender` when the sender's own severity is the most severe, else the document whose criterion decided. */
  basis: SeverityReason['source'];
  /** Every criterion that held, most severe first. */
  reasons: SeverityReason[];
}

/** The Fiovana procedures: `assess_incident` (its three event types) and its Severity Levels descriptions. */
const FIOVANA_BY_EVENT_TYPE: Partial<Record<EventType, [Severity, string]>> = {
  data_breach: ['P0', 'assess_incident: DataBreach => Critical'],
  system_compromise: ['P0', 'Severity Levels, Critical: "System compromise"'],
  unauthorized_access: ['P1', 'assess_incident: UnauthorizedAccess => High'],
  policy_violation: ['P2', 'assess_incident: PolicyViolation => Medium'],
  performance_degradation: ['P2', 'Severity Levels, Medium: "performance issues"'],
};

/** The FailSafe-Qore procedures' criteria that an event type states by itself. */
const FAILSAFE_BY_EVENT_TYPE: Partial<Record<EventType, [Severity, string]>> = {
  data_exposure: ['P1', 'P1: "Data exposure suspected"'],
  configuration_error: ['P3', 'P3: "Documentation or configuration issue"'],
};

/**
 * The `impact` label's words (lower case, spaces and dashes read as `_`): the FailSafe-Qore procedures' service
 * criteria, and the Fiovana procedures' outage words (complete outage Critical, partial outage High).
 */
const IMPACT: Record<string, [Severity, SeverityReason['source'], string]> = {
  unavailable: ['P0', 'failsafe-qore', 'P0: "System completely unavailable"'],
  system_unavailable: ['P0', 'failsafe-qore', 'P0: "System completely unavailable"'],
  complete_outage: ['P0', 'fiovana', 'Severity Levels, Critical: "complete outage"'],
  outage: ['P0', 'fiovana', 'Severity Levels, Critical: "complete outage"'],
  down: ['P0', 'failsafe-qore', 'P0: "System completely unavailable"'],
  significant_degradation: ['P1', 'failsafe-qore', 'P1: "Significant degradation of service"'],
  significantly_degraded: ['P1', 'failsafe-qore', 'P1: "Significant degradation of service"'],
  core_unavailable: ['P1', 'failsafe-qore', 'P1: "Core functionality unavailable"'],
  partial_outage: ['P1', 'fiovana', 'Severity Levels, High: "partial outage"'],
  partial_degradation: ['P2', 'failsafe-qore', 'P2: "Partial degradation of service"'],
  degraded: ['P2', 'failsafe-qore', 'P2: "Partial degradation of service"'],
  non_core_unavailable: ['P2', 'failsafe-qore', 'P2: "Non-core functionality unavailable"'],
  performance: ['P2', 'failsafe-qore', 'P2: "Performance issues affecting users"'],
  minor_degradation: ['P3', 'failsafe-qore', 'P3: "Minor degradation of service"'],
  cosmetic: ['P3', 'failsafe-qore', 'P3: "Cosmetic UI issues"'],
};

/** The `exploitation` label: the FailSafe-Qore procedures' exploitation criteria. */
const EXPLOITATION: Record<string, [Severity, string]> = {
  in_progress: ['P0', 'P0: "Active exploitation in progress"'],
  active: ['P0', 'P0: "Active exploitation in progress"'],
  exploited: ['P1', 'P1: "Security vulnerability being actively exploited"'],
  identified: ['P2', 'P2: "Security vulnerability identified but not exploited"'],
  not_exploited: ['P2', 'P2: "Security vulnerability identified but not exploited"'],
  low_impact: ['P3', 'P3: "Security issue with low impact"'],
};

/** The `data` label: the FailSafe-Qore procedures' data criteria. */
const DATA: Record<string, [Severity, string]> = {
  breach_confirmed: ['P0', 'P0: "Data breach confirmed"'],
  breach: ['P0', 'P0: "Data breach confirmed"'],
  exposure_suspected: ['P1', 'P1: "Data exposure suspected"'],
  exposed: ['P1', 'P1: "Data exposure suspected"'],
};

const PRODUCTION = new Set(['production', 'prod']);

/** A label value as the tables spell it: lower case, spaces and dashes as underscores. */
function word(value: string | undefined): string | undefined {
  return value
    ?.trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
}

/** The Fiovana procedures' column: by event type, and the outage words of the `impact` label. */
export function fiovanaSeverity(eventType: EventType): SeverityReason {
  const [severity, criterion] = FIOVANA_BY_EVENT_TYPE[eventType] ?? ['P3', 'assess_incident: anything else => Low'];
  return { severity, source: 'fiovana', criterion };
}

/** Every FailSafe-Qore (and Fiovana outage-word) criterion the event type and labels meet. */
export function labelCriteria(eventType: EventType, labels: Record<string, string>): SeverityReason[] {
  const reasons: SeverityReason[] = [];
  const byType = FAILSAFE_BY_EVENT_TYPE[eventType];
  if (byType) reasons.push({ severity: byType[0], source: 'failsafe-qore', criterion: byType[1] });
  const impact = IMPACT[word(labels.impact) ?? ''];
  if (impact)
    reasons.push({ severity: impact[0], source: impact[1], criterion: `impact=${labels.impact}: ${impact[2]}` });
  const exploitation = EXPLOITATION[word(labels.exploitation) ?? ''];
  if (exploitation)
    reasons.push({
      severity: exploitation[0],
      source: 'failsafe-qore',
      criterion: `exploitation=${labels.exploitation}: ${exploitation[1]}`,
    });
  const data = DATA[word(labels.data) ?? ''];
  if (data) reasons.push({ severity: data[0], source: 'failsafe-qore', criterion: `data=${labels.data}: ${data[1]}` });
  const environment = word(labels.environment ?? labels.env);
  if (eventType === 'unauthorized_access' && environment !== undefined && PRODUCTION.has(environment)) {
    reasons.push({
      severity: 'P0',
      source: 'failsafe-qore',
      criterion: `environment=${labels.environment ?? labels.env}: P0: "Unauthorized access to production systems"`,
    });
  }
  return reasons;
}

/**
 * The severity of an alert: the most severe of the Fiovana assessment, the FailSafe-Qore criteria its event type and
 * labels meet, and the sender's own severity when it gave one. Ties keep that order's first (the sender's last).
 */
export function classifyAlert(input: {
  eventType: EventType;
  labels?: Record<string, string>;
  given?: Severity;
}): AlertClassification {
  const reasons = [
    fiovanaSeverity(input.eventType),
    ...labelCriteria(input.eventType, input.labels ?? {}),
    ...(input.given
      ? [{ severity: input.given, source: 'sender' as const, criterion: 'the alert’s own severity' }]
      : []),
  ];
  // A stable sort: equal severities keep the order above, so a document's criterion names the basis before the sender.
  const ordered = reasons
    .map((reason, index) => ({ reason, index }))
    .sort((a, b) => severityRank(a.reason.severity) - severityRank(b.reason.severity) || a.index - b.index)
    .map(({ reason }) => reason);
  const top = ordered[0]!;
  return { severity: top.severity, basis: top.source, reasons: ordered };
}
