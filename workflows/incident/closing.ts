// What a closing incident leaves behind: the reminders of its open follow-ups, its review and summary in the data
// directory, and word to the workflows that track it: the registry (its dedup key is free again, and a resolved one
// is remembered for its enhanced-monitoring window) and its alert stream (forward what is queued and end). None of
// them failing stops the close: each is logged.
import {
  ParentClosePolicy,
  getExternalWorkflowHandle,
  log,
  proxyActivities,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { ReportActivities } from '../../src/reports/activities';
import type { IncidentState } from '../../domain/incident';
import {
  type IncidentInput,
  REGISTRY_WORKFLOW_ID,
  alertStreamId,
  alertStreamStopSignal,
  incidentClosedSignal,
} from '../definitions';
import { followUpRemindersId, followUpRemindersWorkflow } from '../follow-up-reminders';
import { isPatched } from '../patches';
import type { Incident } from './incident';

export async function announceClosed(input: IncidentInput, state: IncidentState): Promise<void> {
  const { incidentId } = input;
  // Only incidents whose alerts came through a stream have one (histories from before streams never do).
  if (state.alertCounts) {
    try {
      await getExternalWorkflowHandle(alertStreamId(incidentId)).signal(alertStreamStopSignal);
    } catch (error) {
      log.warn('could not stop the alert stream', { incidentId, error: String(error) });
    }
  }
  if (input.dedupKey && workflowInfo().parent?.workflowId === REGISTRY_WORKFLOW_ID) {
    try {
      // A resolved incident says when, so the registry knows its enhanced-monitoring window.
      const resolved = state.resolvedAt !== undefined ? { resolvedAt: state.resolvedAt } : {};
      const closed = { incidentId, dedupKey: input.dedupKey, ...resolved };
      await getExternalWorkflowHandle(REGISTRY_WORKFLOW_ID).signal(incidentClosedSignal, closed);
    } catch (error) {
      log.warn('could not tell the registry the incident closed', { incidentId, error: String(error) });
    }
  }
}

const { recordClosedIncident } = proxyActivities<ReportActivities>({
  startToCloseTimeout: '1m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 10 },
});

/**
 * Leaves the closed incident's final review (Markdown, JSON, HTML) and its summary in the data directory, for the
 * review route and the reports. Incidents closed before the record-at-close patch never wrote one.
 */
export async function recordAtClose(incident: Incident): Promise<void> {
  if (!isPatched('record-at-close')) return;
  const { state, timeline, input } = incident;
  const { escalation, phases, contentHash } = input.plan;
  try {
    await recordClosedIncident({
      status: incident.view(),
      timeline,
      plan: { escalation, phases, contentHash },
      notes: state.notes ?? [],
      lessons: state.lessons ?? [],
      followUps: state.followUps ?? [],
    });
  } catch (error) {
    log.warn('could not record the closed incident', { incidentId: state.incidentId, error: String(error) });
  }
}

/**
 * Follow-ups outlive the incident: the owners of open follow-ups not reminded yet are reminded by a workflow of their
 * own (follow-up-reminders.ts), started before the record is written so a completion recorded after close always finds
 * it to tell. Abandoned, so it runs on after the incident ends. Incidents closed before the follow-ups-outlive patch
 * never start one.
 */
export async function startFollowUpReminders(incident: Incident): Promise<void> {
  const pending = incident.pendingReminders();
  if (pending.length === 0 || !isPatched('follow-ups-outlive')) return;
  const followUps = pending.map(({ id, title, owner, dueAt }) => ({ id, title, owner, dueAt }));
  try {
    await startChild(followUpRemindersWorkflow, {
      workflowId: followUpRemindersId(incident.incidentId),
      parentClosePolicy: ParentClosePolicy.ABANDON,
      args: [{ incident: incident.reminderIncident, followUps }],
    });
  } catch (error) {
    log.warn('could not start the follow-up reminders', { incidentId: incident.incidentId, error: String(error) });
  }
}
