// Scheduled reporting: the weekly, monthly and quarterly reports and the drill programme, each started by a Temporal
// Schedule (src/reports/schedules.ts). The work is in activities; the workflow only names the moment it ran for, so a
// retried or late run still reports the same period.
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { ReportKind } from '../domain/report';
import type { createReportActivities } from '../src/reports/activities';

const { sendPeriodicReport } = proxyActivities<ReturnType<typeof createReportActivities>>({
  startToCloseTimeout: '5m',
  retry: { initialInterval: '10s', backoffCoefficient: 2, maximumInterval: '10m', maximumAttempts: 10 },
});

const { runScheduledDrill } = proxyActivities<ReturnType<typeof createReportActivities>>({
  startToCloseTimeout: '30m',
  heartbeatTimeout: '1m',
  retry: { initialInterval: '30s', backoffCoefficient: 2, maximumInterval: '10m', maximumAttempts: 3 },
});

/** The moment the schedule meant this run for (its nominal time), else now. */
function scheduledAt(): number {
  const nominal = workflowInfo().searchAttributes?.TemporalScheduledStartTime?.[0];
  return nominal instanceof Date ? nominal.getTime() : Date.now();
}

export async function periodicReportWorkflow(input: { kind: ReportKind }) {
  return sendPeriodicReport({ kind: input.kind, at: scheduledAt() });
}

export async function scheduledDrillWorkflow(input: { scenario: string }) {
  return runScheduledDrill({ scenario: input.scenario, at: scheduledAt() });
}
