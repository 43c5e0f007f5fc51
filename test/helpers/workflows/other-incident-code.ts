// A release whose incident workflow is other code: it issues no command where the real one did, so a worker running
// it cannot replay an incident's history (test/workflows/closed-incident-record.test.ts).
import { condition } from '@temporalio/workflow';

export async function incidentWorkflow(): Promise<void> {
  await condition(() => false);
}
