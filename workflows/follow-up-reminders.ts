// A closed incident's follow-up reminders (`INC-2026-001.follow-ups`): follow-ups outlive the incident, so the
// incident starts this workflow at close (an abandoned child: it runs on after its parent ends) with its open
// follow-ups whose owners are still to be reminded. It sleeps to each due date in turn (durable timers), sends the
// reminder the incident would have sent (same text, same idempotency key: never twice), skips follow-ups completed
// meanwhile (the followUpCompleted signal) and ends when none is left.
import { allHandlersFinished, condition, defineSignal, log, proxyActivities, setHandler } from '@temporalio/workflow';
import type { createActivities } from '../activities';
import { type DueFollowUp, type ReminderIncident, followUpDueNotice } from '../domain/follow-up-reminder';
import { MAX_LIST_ITEMS } from '../domain/limits';
import { NOTIFY_OPTIONS } from './notify-options';

export interface FollowUpRemindersInput {
  incident: ReminderIncident;
  /** Open follow-ups whose owners have not been reminded, at most MAX_LIST_ITEMS (the incident keeps no more). */
  followUps: DueFollowUp[];
}

/** API -> reminders: a follow-up of the closed incident was completed; its owner is not to be reminded. */
export const followUpCompletedSignal = defineSignal<[{ followUpId: string }]>('followUpCompleted');

/** The workflow id of a closed incident's follow-up reminders. */
export function followUpRemindersId(incidentId: string): string {
  return `${incidentId}.follow-ups`;
}

const { notifyIncident } = proxyActivities<ReturnType<typeof createActivities>>(NOTIFY_OPTIONS);

export async function followUpRemindersWorkflow(input: FollowUpRemindersInput): Promise<void> {
  const { incident } = input;
  if (input.followUps.length > MAX_LIST_ITEMS) {
    throw new Error(`expected at most ${MAX_LIST_ITEMS} follow-ups to remind, got ${input.followUps.length}`);
  }
  const completed = new Set<string>();
  setHandler(followUpCompletedSignal, ({ followUpId }) => void completed.add(followUpId));

  // Earliest first; the id breaks ties so the order never depends on how the list came.
  const byDueDate = [...input.followUps].sort((a, b) => a.dueAt - b.dueAt || a.id.localeCompare(b.id));
  for (const followUp of byDueDate) {
    const wait = followUp.dueAt - Date.now();
    if (wait > 0) await condition(() => completed.has(followUp.id), wait);
    if (completed.has(followUp.id)) continue;
    try {
      await notifyIncident(followUpDueNotice(incident, followUp));
    } catch (error) {
      log.warn('could not remind the owner of a follow-up', {
        incidentId: incident.incidentId,
        followUpId: followUp.id,
        error: String(error),
      });
    }
  }
  await condition(allHandlersFinished);
}
