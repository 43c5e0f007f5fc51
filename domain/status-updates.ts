// Periodic internal status updates (the Fiovana procedures' communication plan: daily for Medium, weekly for Low; hourly for P0
// and P1 by our choice), with the content the FailSafe-Qore procedures ask of internal communication. Pure and deterministic: the
// incident workflow decides when to send (durable timers) and an activity delivers.
import { formatDuration } from './duration';
import { DEFAULT_STATUS_UPDATE_EVERY_MS, type EscalationPolicy } from './escalation-policy';
import type { IncidentState } from './incident';
import { describeSeverity } from './severity';

/** How long after the last update (or the opening) the next one is due, at the incident's current severity. */
export function statusUpdateInterval(policy: EscalationPolicy, severity: IncidentState['severity']): number {
  return (policy.statusUpdateEveryMs ?? DEFAULT_STATUS_UPDATE_EVERY_MS)[severity];
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * The FailSafe-Qore procedures, "Internal Communication": incident ID and severity, summary of the issue, current impact, actions
 * being taken, expected resolution time (here: the resolution SLA's deadline).
 */
export function statusUpdateMessage(
  state: IncidentState,
  policy: EscalationPolicy,
  n: number,
  now: number,
  /** Step ids in runbook order: actions are listed in it (else in the order they finished). */
  order?: string[],
): { subject: string; text: string; summary: string } {
  const rank = (id: string): number => (order ? order.indexOf(id) : 0);
  const inOrder = (ids: string[]): string[] => (order ? [...ids].sort((a, b) => rank(a) - rank(b)) : ids);
  const completed = inOrder(state.steps.filter((s) => s.status === 'completed').map((s) => s.stepId));
  const failed = inOrder(state.steps.filter((s) => s.status === 'failed').map((s) => s.stepId));
  const slaDue = state.openedAt + policy.resolutionSlaMs[state.severity];
  const summary = `${state.phase} phase, escalation level ${state.escalation.level}, ${completed.length} steps done`;
  const impact = [
    state.affectedSystems.length
      ? `systems affected: ${state.affectedSystems.join(', ')}`
      : 'no affected systems reported',
    state.dataBreachConfirmed ? 'data breach confirmed' : undefined,
  ].filter(Boolean);
  const text = [
    `Incident ${state.incidentId}, ${describeSeverity(state.severity)}: ${state.title}`,
    `Open for ${formatDuration(now - state.openedAt)}; ${summary}.`,
    `Acknowledged: ${state.acknowledgedAt ? `yes, by ${state.acknowledgedBy}` : 'no'}. Owner: ${state.owner ?? 'none'}.`,
    `Root cause: ${state.rootCause?.summary ?? 'not identified yet'}.`,
    `Impact: ${impact.join('; ')}.`,
    `Actions taken: ${completed.join(', ') || 'none yet'}${failed.length ? `; failed: ${failed.join(', ')}` : ''}.`,
    `Expected resolution: by ${iso(slaDue)} (${state.severity} resolution SLA).`,
  ].join('\n');
  return {
    subject: `[${state.incidentId}] status update ${n}: ${describeSeverity(state.severity)}, ${state.phase}`,
    text,
    summary,
  };
}
