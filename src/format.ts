// Human-readable rendering of incidents for the terminal (the CLI and drill reports). Pure: takes data, returns text.
import type { IncidentSummary } from './client';
import type { IncidentMetrics, TimelineEvent } from '../domain/incident';
import { formatDuration } from '../domain/duration';
import { describeSeverity } from '../domain/severity';
import type { IncidentStatusView } from '../workflows/definitions';

const iso = (ms: number | undefined): string =>
  ms === undefined ? '-' : new Date(ms).toISOString().replace('.000Z', 'Z');

export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, col) => Math.max(...rows.map((r) => (r[col] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((cell, col) => cell.padEnd(widths[col] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function formatList(incidents: IncidentSummary[]): string {
  if (incidents.length === 0) return 'no incidents';
  return table([
    ['ID', 'SEVERITY', 'STATUS', 'PHASE', 'CATEGORY', 'RUNBOOK', 'OPENED'],
    ...incidents.map((i) => [
      i.incidentId,
      i.severity ?? '-',
      i.status ?? '-',
      i.phase ?? '-',
      i.category ?? '-',
      i.runbookId ?? '-',
      i.startTime.toISOString().replace(/\.\d+Z$/, 'Z'),
    ]),
  ]);
}

export function formatMetrics(m: IncidentMetrics): string {
  const d = (ms?: number) => (ms === undefined ? '-' : formatDuration(ms));
  return `detect ${d(m.timeToDetectMs)}, contain ${d(m.timeToContainMs)}, eradicate ${d(m.timeToEradicateMs)}, resolve ${d(m.timeToResolveMs)}`;
}

export function formatStatus(s: IncidentStatusView): string {
  const lines = [
    `${s.incidentId}  ${s.title}`,
    `  severity    ${describeSeverity(s.severity)}`,
    `  status      ${s.status}${s.drill ? ' (drill)' : ''}`,
    `  phase       ${s.phase}${s.awaitingAdvance ? ' (steps done; waiting for advance)' : ''}`,
    `  category    ${s.category} / ${s.eventType}`,
    `  runbook     ${s.runbookId} v${s.runbookVersion} (${s.runbookHash.slice(0, 12)})`,
    `  owner       ${s.owner ?? '-'}`,
    `  opened      ${iso(s.openedAt)}`,
    `  acknowledged ${s.acknowledgedAt ? `${iso(s.acknowledgedAt)} by ${s.acknowledgedBy}` : 'no'}`,
    `  escalation  level ${s.escalation.level}${s.escalation.levelAcknowledged ? ' (acknowledged)' : ''}`,
    `  next escalation ${iso(s.nextEscalationAt)}`,
    `  root cause  ${s.rootCause ? `${s.rootCause.summary} (${s.rootCause.by})` : '-'}`,
    `  metrics     ${formatMetrics(s.metrics)}`,
  ];
  if (s.affectedSystems.length) lines.push(`  systems     ${s.affectedSystems.join(', ')}`);
  // The targets the alerts named, which label-guarded steps act on (older incidents have none).
  const labels = Object.entries(s.alertLabels ?? {});
  if (labels.length) {
    lines.push(
      `  labels      ${labels.map(([k, v]) => `${k}=${v}`).join(', ')}${s.alertSource ? ` (from ${s.alertSource})` : ''}`,
    );
  }
  if (s.evidence.length) lines.push(...s.evidence.map((e) => `  evidence    ${e.archive} sha256:${e.sha256}`));
  // What the incident waits for from people, with the command that answers it.
  for (const w of s.waitingSteps ?? []) {
    const who = w.roles?.length ? ` (${w.roles.join(' or ')})` : '';
    const until = w.timeoutAt ? `, until ${iso(w.timeoutAt)} then ${w.onTimeout ?? 'escalate'}` : '';
    const answer =
      w.kind === 'approval'
        ? `approve ${s.incidentId} ${w.stepId} --role <role>  |  reject ... -m <reason>`
        : `done ${s.incidentId} ${w.stepId}`;
    lines.push(
      `  waiting     ${w.kind} ${w.phase}/${w.stepId}${who}${until}${w.instructions ? `: ${w.instructions}` : ''}`,
    );
    lines.push(`              answer with: incident-engine ${answer}`);
  }
  return lines.join('\n');
}

export function describeEvent(e: TimelineEvent): string {
  switch (e.type) {
    case 'opened':
      return `opened by ${e.trigger}: ${e.title} (${e.severity}, ${e.eventType})`;
    case 'classified':
      return `classified ${describeSeverity(e.severity)} (${e.basis === 'opener' ? 'given by opener' : 'assessment table'})`;
    case 'acknowledged':
      return `acknowledged at level ${e.level}${e.note ? `: ${e.note}` : ''}`;
    case 'severity_changed':
      return `severity ${e.from} -> ${e.to}${e.reason ? `: ${e.reason}` : ''}`;
    case 'owner_assigned':
      return `owner ${e.owner}`;
    case 'root_cause_recorded':
      return `root cause: ${e.summary}`;
    case 'impact_updated':
      return `impact: systems [${e.affectedSystems.join(', ')}]${e.dataBreachConfirmed ? ', data breach confirmed' : ''}`;
    case 'phase_started':
      return `phase ${e.phase} started`;
    case 'phase_completed':
      return `phase ${e.phase} steps done${e.awaitingAdvance ? '; waiting for advance' : ''}`;
    case 'phase_advanced':
      return `advance ${e.from} -> ${e.to}${e.note ? `: ${e.note}` : ''}`;
    case 'phase_failed':
      return `phase ${e.phase} failed: ${e.error}`;
    case 'step_completed':
    case 'step_failed':
    case 'step_skipped':
      return `${e.type.replace('_', ' ')} ${e.phase}/${e.stepId} (${e.action})${e.detail ? `: ${e.detail}` : ''}`;
    case 'escalated':
      return `ESCALATED L${e.fromLevel} -> L${e.toLevel} [${e.trigger}]: ${e.reason}`;
    case 'status_update':
      return `status update ${e.n} to ${e.audience}: ${e.summary}`;
    case 'notification_failed':
      return `notification to ${e.audience} failed: ${e.error}`;
    case 'alert':
      return `alert ${e.status} from ${e.source}: ${e.summary}`;
    case 'resolved':
      return `resolved${e.summary ? `: ${e.summary}` : ''}`;
    case 'false_positive':
      return `declared false positive: ${e.reason}`;
    case 'approval_requested':
      return `approval requested for ${e.phase}/${e.stepId} (${e.action}) from ${e.roles.join(' or ')}${e.timeoutAt ? ` until ${iso(e.timeoutAt)}` : ''}`;
    case 'approval_granted':
      return `approval granted for ${e.phase}/${e.stepId} as ${e.role}${e.note ? `: ${e.note}` : ''}`;
    case 'approval_rejected':
      return `approval rejected for ${e.phase}/${e.stepId} as ${e.role}: ${e.reason}`;
    case 'task_requested':
      return `task ${e.phase}/${e.stepId}: ${e.instructions}${e.roles ? ` (${e.roles.join(' or ')})` : ''}`;
    case 'task_completed':
      return `task ${e.phase}/${e.stepId} completed${e.note ? `: ${e.note}` : ''}`;
    case 'approval_timed_out':
    case 'task_timed_out':
      return `${e.type === 'task_timed_out' ? 'task' : 'approval'} ${e.phase}/${e.stepId} timed out (onTimeout: ${e.onTimeout})`;
    case 'compensation_started':
      return `undoing ${e.steps.length} step(s) after ${e.reason.replace('_', ' ')}: ${e.steps.join(', ')}`;
    case 'step_compensated':
      return `undone ${e.phase}/${e.stepId} (${e.action}) with ${e.undo}`;
    case 'compensation_failed':
      return `UNDO FAILED ${e.phase}/${e.stepId} (${e.undo}): ${e.error}`;
    case 'closed':
      return `closed (${e.status})`;
  }
}

export function formatTimeline(events: TimelineEvent[]): string {
  return events.map((e) => `${iso(e.at)}  ${describeEvent(e)}${e.by ? `  [${e.by}]` : ''}`).join('\n');
}
