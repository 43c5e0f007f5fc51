// Alerts for a long incident on the time-skipping test server, one at a time. That server does not continue a run as
// new atomically (temporalio/sdk-java#1538): a signal arriving while the run's continuing task completes can start
// the next run while the first run's history never gets its continue-as-new event, and every signal from then on is
// recorded in the first run and lost (captured here: 63 of 120 alerts, the test then waiting for them until its
// timeout). The dev server, like a real cluster, continues atomically, and the dev-server tests send their alerts all
// at once. So here each alert is sent only once the incident's current run has settled (the drill runner's test:
// nothing in flight), so it cannot be in the middle of continuing.
import type { AlertSignalInput } from '../../domain/messages';
import { historyFacts } from '../../src/drills/runner';
import { type TimeSkippingEngine, until } from './time-skipping-engine';

/** Signals each alert once the incident's current run has settled after the one before. */
export async function signalAlertsSettled(
  engine: TimeSkippingEngine,
  incidentId: string,
  alerts: AlertSignalInput[],
): Promise<void> {
  const currentRun = () => engine.env.client.workflow.getHandle(incidentId).fetchHistory();
  // A run that has ended (continued as new) is no longer the current one: read again.
  const settled = (history: Awaited<ReturnType<typeof currentRun>>) =>
    !history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes &&
    historyFacts(incidentId, history).inFlight.length === 0;
  for (const [i, alert] of alerts.entries()) {
    await until(currentRun, settled, `${incidentId} settled before alert ${i + 1} of ${alerts.length}`);
    await engine.incidents.signalAlert(incidentId, alert);
  }
  await until(currentRun, settled, `${incidentId} settled after its last alert`);
}
