// Writes an incident's history and its phase children's into test/replay/histories the way the replay gate reads them
// (`<scenario>.incident.json`, `<scenario>.<phase>.json`), payloads decrypted with the client's own codecs. Shared by
// record-histories.ts (scenarios on the time-skipping server) and the crash-recovery test (a worker killed mid-step,
// a dev server restarted mid-timer), so every recorded file is exported the same way `incident export` does it.
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { exportIncident, writeSplit } from '../../src/drills/export';

export const HISTORIES_DIR = path.resolve(import.meta.dirname, 'histories');

export interface RecordOptions {
  /** The incident is still running (waiting on a timer or an operator): its history and its open phase's are partial. */
  running?: boolean;
}

/**
 * Replaces the scenario's files with the incident's history and every phase child's; returns each file written with
 * its event count. A finished scenario must end every history with WorkflowExecutionCompleted.
 */
export async function recordIncidentHistories(
  client: Client,
  incidentId: string,
  scenario: string,
  { running = false }: RecordOptions = {},
): Promise<{ file: string; events: number }[]> {
  const bundle = await exportIncident(client, incidentId);
  const counts = bundle.workflows.map(({ role, history }) => {
    const events = historyFromJSON(history).events ?? [];
    if (!running && !events.at(-1)?.workflowExecutionCompletedEventAttributes)
      throw new Error(`${scenario}.${role}.json: expected the history to end with WorkflowExecutionCompleted`);
    return events.length;
  });
  for (const file of readdirSync(HISTORIES_DIR)) {
    if (file.startsWith(`${scenario}.`) && file.endsWith('.json')) rmSync(path.join(HISTORIES_DIR, file));
  }
  return writeSplit(bundle, HISTORIES_DIR, scenario).map((file, i) => ({ file, events: counts[i]! }));
}
