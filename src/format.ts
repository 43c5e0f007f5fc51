// Human-readable rendering of incidents for the terminal (the CLI and drill reports). Pure: takes data, returns text.
import type { IncidentSummary } from './client';
import type { IncidentMetrics, TimelineEvent } from '../domain/incident';
import { formatDuration } from '../domain/duration';
import { describeSeverity } from '../domain/severity';
import { describeEvent } from '../domain/timeline-text';

export { describeEvent };
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

/**
 * One output line from text that may hold line breaks (a title, a note, an alert summary): shown as ⏎, so what a
 * detector or operator typed cannot pass for another line of the output (a forged `status closed` under the title).
 */
export function oneLine(text: string): string {
  return text.replace(/\r\n|[\r\n\u2028\u2029\u0085]/g, '⏎');
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
  if (s.recurrenceOf) {
    lines.push(`  recurrence  of ${s.recurrenceOf.incidentId} (resolved ${iso(s.recurrenceOf.resolvedAt)})`);
  }
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
  return lines.map(oneLine).join('\n');
}

export function formatTimeline(events: TimelineEvent[]): string {
  return events.map((e) => oneLine(`${iso(e.at)}  ${describeEvent(e)}${e.by ? `  [${e.by}]` : ''}`)).join('\n');
}

// C0 controls but newline and tab, DEL, C1 controls, and the Unicode marks that reorder or hide text (bidi
// embeddings, overrides and isolates, LRM/RLM/ALM).
// eslint-disable-next-line no-control-regex
const UNSAFE_FOR_TERMINAL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text as it may reach a terminal: alert and runbook text could otherwise carry escape sequences that move the
 * cursor, rewrite earlier lines or reorder what an operator reads. Every CLI print goes through this.
 */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE_FOR_TERMINAL, '');
}
