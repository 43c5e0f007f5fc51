// One line of text for each timeline event, as the CLI, the console, drill reports and post-incident reviews word it.
// Pure and sandbox-safe.
import type { TimelineEvent } from './incident';
import { describeRecurrence } from './recurrence';
import { describeSeverity } from './severity';

const iso = (ms: number | undefined): string =>
  ms === undefined ? '-' : new Date(ms).toISOString().replace('.000Z', 'Z');

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
    case 'alert_recurrence':
      return `recurrence after resolution: alert from ${e.source}: ${e.summary}`;
    case 'recurrence_of':
      return describeRecurrence(e.previousIncidentId, e.resolvedAt, e.at);
    case 'alerts_resolved':
      return `all ${e.fingerprints} alerts resolved (${e.alerts} received)`;
    case 'note_added':
      return `${e.finding ? 'finding' : 'note'}: ${e.text}`;
    case 'lessons_recorded':
      return `review: ${Object.entries(e.counts)
        .map(([kind, n]) => `${n} ${kind.replace(/_/g, ' ')}`)
        .join(', ')} recorded`;
    case 'follow_up_added':
      return `follow-up ${e.followUpId} for ${e.owner}, due ${iso(e.dueAt)}: ${e.title}`;
    case 'follow_up_completed':
      return `follow-up ${e.followUpId} done: ${e.title}${e.note ? ` (${e.note})` : ''}`;
    case 'follow_up_due':
      return `follow-up ${e.followUpId} due, ${e.owner} reminded: ${e.title}`;
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
