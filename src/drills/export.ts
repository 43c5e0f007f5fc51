// `incident export`: an incident's whole history (every run, when a long incident continued as new) and the histories
// of the phase children it started, in the proto JSON
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
  /** `incident` (its first run; `incident-run-2`... for the runs it continued as new into), or the phase the child runs (`detect`, `contain`, ...). */
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
export async function asJson(client: Client, history: History): Promise<{ events: unknown[] }> {
  await decryptHistory(history, client.options.loadedDataConverter.payloadCodecs);
  return JSON.parse(historyToJSON(history)) as { events: unknown[] };
}

/** The run a history continued from, if it is not the incident's first. */
function previousRunId(history: History): string | undefined {
  return history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined;
}

/**
 * The histories of every run of a workflow, first to last: each run names the one it continued from (an incident or
 * an alert stream continues as new). WorkflowNotFoundError when the workflow does not exist.
 */
export async function workflowRuns(client: Client, workflowId: string): Promise<History[]> {
  const runs: History[] = [];
  let runId: string | undefined;
  do {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    runs.unshift(history);
    runId = previousRunId(history);
  } while (runId !== undefined);
  return runs;
}

/** Fetches the incident's history and every phase child's; an unknown incident is an error naming it. */
export async function exportIncident(client: Client, incidentId: string): Promise<HistoryBundle> {
  let runs: History[];
  try {
    runs = await workflowRuns(client, incidentId);
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) throw new Error(`no incident ${incidentId}`, { cause: error });
    throw error;
  }
  const workflows: ExportedWorkflow[] = [];
  for (const [i, history] of runs.entries()) {
    const role = i === 0 ? 'incident' : `incident-run-${i + 1}`;
    workflows.push({ workflowId: incidentId, role, history: await asJson(client, history) });
  }
  // Children from every run, each once (a later run awaits the child an earlier one started).
  const children = phaseChildren({ events: runs.flatMap((history) => history.events ?? []) });
  for (const child of children) {
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
