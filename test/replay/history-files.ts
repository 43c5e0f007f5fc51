// Writes an incident's history and its children's into test/replay/histories the way the replay gate reads them
// (`<scenario>.incident.json`, `<scenario>.<phase>.json`, `<scenario>.follow-ups.json`), and each run of its alert
// stream when it had one (`<scenario>.alerts.json`, `<scenario>.alerts-run-2.json`, ...), payloads decrypted with the
// client's own codecs. Shared by record-histories.ts (scenarios on the time-skipping server) and the crash-recovery
// test (a worker killed mid-step, a dev server restarted mid-timer), so every recorded file is exported the same way
// `incident export` does it.
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { type History, historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { type ExportedWorkflow, asJson, exportIncident, workflowRuns, writeSplit } from '../../src/drills/export';
import { alertStreamId } from '../../workflows/definitions';

export const HISTORIES_DIR = path.resolve(import.meta.dirname, 'histories');

export interface RecordOptions {
  /** The incident is still running (waiting on a timer or an operator): its history and its open phase's are partial. */
  running?: boolean;
}

/**
 * Every run of the incident's alert stream, first to last (roles `alerts`, `alerts-run-2`, ...: a stream continues as
 * new past its history bound), named like the incident's runs; none when its alerts never came through a stream.
 */
async function alertStreamRuns(client: Client, incidentId: string): Promise<ExportedWorkflow[]> {
  const workflowId = alertStreamId(incidentId);
  let histories: History[];
  try {
    histories = await workflowRuns(client, workflowId);
  } catch (error) {
    // The time-skipping server answers a plain gRPC NOT_FOUND where the dev server's is a WorkflowNotFoundError.
    const notFound = error instanceof WorkflowNotFoundError || (error as { code?: number }).code === status.NOT_FOUND;
    if (notFound) return [];
    throw error;
  }
  return Promise.all(
    histories.map(async (history, i) => ({
      workflowId,
      role: i === 0 ? 'alerts' : `alerts-run-${i + 1}`,
      history: await asJson(client, history),
    })),
  );
}

/**
 * Replaces the scenario's files with the incident's history and every phase child's; returns each file written with
 * its event count. A finished scenario must end every history with WorkflowExecutionCompleted (a workflow's earlier
 * runs with WorkflowExecutionContinuedAsNew).
 */
export async function recordIncidentHistories(
  client: Client,
  incidentId: string,
  scenario: string,
  { running = false }: RecordOptions = {},
): Promise<{ file: string; events: number }[]> {
  const bundle = await exportIncident(client, incidentId);
  bundle.workflows.push(...(await alertStreamRuns(client, incidentId)));
  const counts = bundle.workflows.map(({ workflowId, role, history }, i) => {
    const events = historyFromJSON(history).events ?? [];
    const last = events.at(-1);
    // A run followed by another of the same workflow continued as new into it.
    const continued = bundle.workflows.slice(i + 1).some((later) => later.workflowId === workflowId);
    if (continued && !last?.workflowExecutionContinuedAsNewEventAttributes)
      throw new Error(`${scenario}.${role}.json: expected the history to end with WorkflowExecutionContinuedAsNew`);
    if (!continued && !running && !last?.workflowExecutionCompletedEventAttributes)
      throw new Error(`${scenario}.${role}.json: expected the history to end with WorkflowExecutionCompleted`);
    return events.length;
  });
  for (const file of readdirSync(HISTORIES_DIR)) {
    if (file.startsWith(`${scenario}.`) && file.endsWith('.json')) rmSync(path.join(HISTORIES_DIR, file));
  }
  return writeSplit(bundle, HISTORIES_DIR, scenario).map((file, i) => ({ file, events: counts[i]! }));
}
