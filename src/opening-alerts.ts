// The alerts an incident opened with, for its alert stream's first run (workflows/alert-stream.ts): read with the
// incident's `openingAlerts` query, so whichever process started the stream, its book counts them before any later
// alert. A local activity: its answer is kept in the stream's history as one marker.
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { AlertSignalInput } from '../domain/messages';
import { openingAlertsQuery } from '../workflows/definitions';

export function createOpeningAlertActivities() {
  return {
    async loadOpeningAlerts(incidentId: string): Promise<AlertSignalInput[]> {
      try {
        return await Context.current().client.workflow.getHandle(incidentId).query(openingAlertsQuery);
      } catch (error) {
        // No incident: the stream's first forward finds it gone. A query not registered (yet: an incident sets its
        // handlers once its plan is loaded; or at all, on a worker of a release before it) is retried, and the
        // stream counts from its own first alert if it never answers.
        if (error instanceof WorkflowNotFoundError) return [];
        throw error;
      }
    },
  };
}
