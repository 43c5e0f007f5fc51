// `incident export`: an incident's whole history and the histories of the phase children it started, in the proto JSON
// that `temporal workflow show --output json` prints (historyToJSON). As one bundle file, or one file per workflow
// named the way the replay gate expects (`<prefix>.incident.json`, `<prefix>.<phase>.json`), so an operator can drop a
// production incident into test/replay/histories. Payloads are written decrypted (the files are 0600). Read-only: it never signals, updates or changes a workflow.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { type History, historyToJSON } from '@temporalio/common/lib/proto-utils';
import { decryptHistory } from '../codec/history';

export const HISTORY_BUNDLE_FORMAT = 'incident-engine/history-bundle@1';

export interface ExportedWorkflow {
  workflowId: string;
  /** `incident`, or the phase the child runs (`detect`, `contain`, ...). */
  role: string;
  /** Proto JSON, as `temporal workflow show --output json` prints it. */
  history: { events: unknown[] };
}

export interface HistoryBundle {
  format: typeof HISTORY_BUNDLE_FORMAT;
  incidentId: string;
  workflows: ExportedWorkflow[];
}

/** The children an incident started, from its own history, in start order. */
export function phaseChildren(history: History): { workflowId: string; role: string }[] {
  const out: { workflowId: string; role: string }[] = [];
  for (const event of history.events ?? []) {
    const workflowId = event.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId;
    if (workflowId && !out.some((c) => c.workflowId === workflowId)) {
      out.push({ workflowId, role: workflowId.slice(workflowId.lastIndexOf('.') + 1) });
    }
  }
  return out;
}

/** Proto JSON of the history with its payloads decrypted by the client's codecs (replay needs the plaintext). */
async function asJson(client: Client, history: History): Promise<{ events: unknown[] }> {
  await decryptHistory(history, client.options.loadedDataConverter.payloadCodecs);
  return JSON.parse(historyToJSON(history)) as { events: unknown[] };
}

/** Fetches the incident's history and every phase child's; an unknown incident is an error naming it. */
export async function exportIncident(client: Client, incidentId: string): Promise<HistoryBundle> {
  let history: History;
  try {
    history = await client.workflow.getHandle(incidentId).fetchHistory();
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) throw new Error(`no incident ${incidentId}`, { cause: error });
    throw error;
  }
  const workflows: ExportedWorkflow[] = [
    { workflowId: incidentId, role: 'incident', history: await asJson(client, history) },
  ];
  for (const child of phaseChildren(history)) {
    try {
      const childHistory = await client.workflow.getHandle(child.workflowId).fetchHistory();
      workflows.push({ ...child, history: await asJson(client, childHistory) });
    } catch (error) {
      // Initiated but never started (the incident failed to start it): nothing to export.
      if (!(error instanceof WorkflowNotFoundError)) throw error;
    }
  }
  return { format: HISTORY_BUNDLE_FORMAT, incidentId, workflows };
}

export function bundleJson(bundle: HistoryBundle): string {
  return `${JSON.stringify(bundle, null, 2)}\n`;
}

/** Writes one file per workflow into `dir` (`<prefix>.<role>.json`); returns the paths written. */
export function writeSplit(bundle: HistoryBundle, dir: string, prefix = bundle.incidentId): string[] {
  mkdirSync(dir, { recursive: true });
  return bundle.workflows.map((workflow) => {
    const file = path.join(dir, `${prefix}.${workflow.role}.json`);
    writeFileSync(file, `${JSON.stringify(workflow.history, null, 2)}\n`, { mode: 0o600 });
    return file;
  });
}
