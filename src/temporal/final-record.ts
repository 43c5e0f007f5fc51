// Reads the record a closed incident left in its result (workflows/incident/final-record.ts) from the close event
// alone: no worker and no replay. Undefined while the incident runs, when its workflow failed or was terminated, or
// when it closed before incidents left one; a describe that fails (no such incident) throws.
import type { Client, WorkflowExecutionDescription } from '@temporalio/client';
import proto from '@temporalio/proto';
import type { FinalRecord } from '../../workflows/incident/final-record';
import type { IncidentOutcome } from '../../workflows/definitions';

export async function readFinalRecord(
  client: Client,
  incidentId: string,
  // Asked first (unless the caller has it): the time-skipping test server waits for a close event not there yet.
  description?: WorkflowExecutionDescription,
): Promise<FinalRecord | undefined> {
  description ??= await client.workflow.getHandle(incidentId).describe();
  if (description.status.name !== 'COMPLETED') return undefined;
  const { history } = await client.workflowService.getWorkflowExecutionHistory({
    namespace: client.options.namespace,
    execution: { workflowId: incidentId, runId: description.runId },
    historyEventFilterType: proto.temporal.api.enums.v1.HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT,
  });
  const result = history?.events?.[0]?.workflowExecutionCompletedEventAttributes?.result;
  if (!result?.payloads?.length) return undefined;
  // Through the client's codecs (decoded in reverse of the order they encode), then its payload converter.
  const { payloadCodecs, payloadConverter } = client.options.loadedDataConverter;
  let payloads = result.payloads;
  for (const codec of [...payloadCodecs].reverse()) payloads = await codec.decode(payloads);
  return payloadConverter.fromPayload<IncidentOutcome | null>(payloads[0]!)?.final;
}
