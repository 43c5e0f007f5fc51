// An incident workflow that answers no query and closes after a moment, leaving the final record it was given in its
// result as the real one does: a read that starts while it runs ends after it closed
// (test/workflows/closed-incident-record.test.ts).
import { sleep } from '@temporalio/workflow';
import type { IncidentOutcome } from '../../../workflows/definitions';

export async function incidentWorkflow(outcome: IncidentOutcome): Promise<IncidentOutcome> {
  await sleep(2_000);
  return outcome;
}
