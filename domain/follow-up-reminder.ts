// The reminder an owner gets when a follow-up falls due, in one place: the incident sends it while it runs, the
// follow-up reminders workflow after it closed. The idempotency key is the same from both, so an owner is reminded
// once per follow-up whichever sends it.
import type { IncidentNotice } from './actions';
import type { Severity } from './severity';

/** The incident a reminder speaks of. */
export interface ReminderIncident {
  incidentId: string;
  title: string;
  severity: Severity;
  drill: boolean;
}

/** The follow-up a reminder is about. */
export interface DueFollowUp {
  id: string;
  title: string;
  owner: string;
  dueAt: number;
}

export function followUpDueNotice(incident: ReminderIncident, followUp: DueFollowUp): IncidentNotice {
  const { incidentId } = incident;
  const { id, title, owner, dueAt } = followUp;
  return {
    incidentId,
    // Owners are people, not configured audiences: the internal channel carries it, addressed to the owner.
    audience: 'internal',
    severity: incident.severity,
    subject: `Follow-up ${id} of ${incidentId} is due (owner: ${owner}): ${title}`,
    text: `${owner}, the follow-up "${title}" of incident ${incidentId} (${incident.title}) fell due at ${new Date(dueAt).toISOString()}.`,
    kind: 'follow_up_due',
    drill: incident.drill,
    idempotencyKey: `${incidentId}/follow-up-due/${id}`,
  };
}
