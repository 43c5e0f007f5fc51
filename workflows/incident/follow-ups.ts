// The follow-up reminders: one durable timer at the earliest due date of an open follow-up whose owner has not been
// reminded, re-armed on every change of the Incident, until it closes. When it fires the Incident reminds each owner
// whose follow-up fell due, once (after close the reports list what is still open). No follow-up, no timer: incidents
// without follow-ups (every one recorded before they existed) issue no command here.
import { onDeadline } from '../deadline-timer';
import type { Incident } from './incident';

export async function runFollowUpReminders(incident: Incident): Promise<void> {
  await onDeadline(incident, {
    done: () => incident.closed,
    deadline: () => incident.nextFollowUpDueAt,
    due: () => incident.remindDueFollowUps(),
  });
}
