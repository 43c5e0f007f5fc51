// What a closing incident tells the workflows that track it: the registry (its dedup key is free again) and its alert
// stream (forward what is queued and end). Neither failing stops the close: each is logged.
import { getExternalWorkflowHandle, log, workflowInfo } from '@temporalio/workflow';
import type { IncidentState } from '../../domain/incident';
import {
  type IncidentInput,
  REGISTRY_WORKFLOW_ID,
  alertStreamId,
  alertStreamStopSignal,
  incidentClosedSignal,
} from '../definitions';

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
