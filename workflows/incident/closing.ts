// What a closing incident leaves behind: its review and summary in the data directory, and word to the workflows that
// track it: the registry (its dedup key is free again) and its alert stream (forward what is queued and end). None of
// them failing stops the close: each is logged.
import { getExternalWorkflowHandle, log, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { ReportActivities } from '../../src/reports/activities';
import type { IncidentState } from '../../domain/incident';
import {
  type IncidentInput,
  REGISTRY_WORKFLOW_ID,
  alertStreamId,
  alertStreamStopSignal,
  incidentClosedSignal,
} from '../definitions';
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
      const closed = { incidentId, dedupKey: input.dedupKey };
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
