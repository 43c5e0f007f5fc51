// IncidentClient: the one place that talks to Temporal as a client. Opens incidents through the registry (so ids
// are gapless), sends updates and signals, runs queries and lists by search attributes. Errors name the incident
// and carry the workflow's reason for a refusal.
import {
  type Client,
  WithStartWorkflowOperation,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type WorkflowHandle,
} from '@temporalio/client';
import pLimit from 'p-limit';
import type { IncidentState, TimelineEvent } from '../domain/incident';
import { type AlertSignalInput, OpenRequest } from '../domain/messages';
import type { RunbookPlan } from '../domain/runbook';
import {
  type IncidentStatusView,
  type OpenIncidentResult,
  REGISTRY_WORKFLOW_ID,
  acknowledgeUpdate,
  advancePhaseUpdate,
  alertSignal,
  approveStepUpdate,
  assignOwnerUpdate,
  completeTaskUpdate,
  declareFalsePositiveUpdate,
  escalateUpdate,
  openIncidentUpdate,
  recordRootCauseUpdate,
  rejectStepUpdate,
  resolveUpdate,
  setSeverityUpdate,
  statusQuery,
  timelineQuery,
  updateImpactUpdate,
} from '../workflows/definitions';
import type { incidentRegistryWorkflow } from '../workflows/registry';

export class IncidentNotFoundError extends Error {
  constructor(readonly incidentId: string) {
    super(`no incident ${incidentId}`);
    this.name = 'IncidentNotFoundError';
  }
}

export class UpdateRefusedError extends Error {
  constructor(
    readonly incidentId: string,
    readonly update: string,
    reason: string,
  ) {
    super(`${update} refused for ${incidentId}: ${reason}`);
    this.name = 'UpdateRefusedError';
  }
}

export class InvalidRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidRequestError';
  }
}

export interface IncidentSummary {
  incidentId: string;
  title?: string;
  severity?: string;
  category?: string;
  phase?: string;
  status?: string;
  runbookId?: string;
  drill?: boolean;
  startTime: Date;
  closeTime?: Date;
}

export interface ListFilter {
  status?: string;
  severity?: string;
  category?: string;
  runbook?: string;
  phase?: string;
  drill?: boolean;
  limit?: number;
}

const INCIDENT_ID = /^[A-Z]+-\d{4}-\d{3,}$/;

function quote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export function listQuery(filter: ListFilter): string {
  const clauses = [`WorkflowType = 'incidentWorkflow'`];
  if (filter.status) clauses.push(`IncidentStatus = ${quote(filter.status)}`);
  if (filter.severity) clauses.push(`IncidentSeverity = ${quote(filter.severity)}`);
  if (filter.category) clauses.push(`IncidentCategory = ${quote(filter.category)}`);
  if (filter.runbook) clauses.push(`RunbookId = ${quote(filter.runbook)}`);
  if (filter.phase) clauses.push(`IncidentPhase = ${quote(filter.phase)}`);
  if (filter.drill !== undefined) clauses.push(`IsDrill = ${filter.drill}`);
  return clauses.join(' AND ');
}

/**
 * Opens one process keeps in flight at once. Each open is an update on the one registry workflow, and the server
 * refuses an update past 10 in flight on a workflow (RESOURCE_EXHAUSTED, `history.maxInFlightUpdates`); the client
 * then retries after 1 to 5 s. Queueing here keeps a burst of opens inside the limit, with room for other processes.
 */
export const OPENS_IN_FLIGHT = 8;

export class IncidentClient {
  private readonly openSlots = pLimit(OPENS_IN_FLIGHT);

  constructor(
    readonly client: Client,
    readonly taskQueue: string,
  ) {}

  /** Opens an incident with a compiled runbook; returns its id (an existing one when the dedup key matches). */
  async open(request: OpenRequest | Record<string, unknown>, plan: RunbookPlan): Promise<OpenIncidentResult> {
    const parsed = OpenRequest.safeParse(request);
    if (!parsed.success) {
      throw new InvalidRequestError(
        'invalid incident: ' +
          parsed.error.issues.map((i) => `${i.path.join('.') || 'request'}: ${i.message}`).join('; '),
      );
    }
    const startRegistry = new WithStartWorkflowOperation<typeof incidentRegistryWorkflow>('incidentRegistryWorkflow', {
      workflowId: REGISTRY_WORKFLOW_ID,
      taskQueue: this.taskQueue,
      workflowIdConflictPolicy: 'USE_EXISTING',
      args: [undefined],
    });
    return this.openSlots(() =>
      this.client.workflow.executeUpdateWithStart(openIncidentUpdate, {
        args: [{ ...parsed.data, plan }],
        startWorkflowOperation: startRegistry,
      }),
    );
  }

  handle(incidentId: string): WorkflowHandle {
    if (!INCIDENT_ID.test(incidentId)) {
      throw new InvalidRequestError(`expected an incident id like INC-2026-001, got "${incidentId}"`);
    }
    return this.client.workflow.getHandle(incidentId);
  }

  async status(incidentId: string): Promise<IncidentStatusView> {
    return this.call(incidentId, 'status', () => this.handle(incidentId).query(statusQuery));
  }

  async timeline(incidentId: string): Promise<TimelineEvent[]> {
    return this.call(incidentId, 'timeline', () => this.handle(incidentId).query(timelineQuery));
  }

  async signalAlert(incidentId: string, alert: AlertSignalInput): Promise<void> {
    await this.call(incidentId, 'alert', () => this.handle(incidentId).signal(alertSignal, alert));
  }

  acknowledge(id: string, input: { by: string; note?: string }) {
    return this.update(id, 'acknowledge', (h) => h.executeUpdate(acknowledgeUpdate, { args: [input] }));
  }
  setSeverity(id: string, input: { by: string; severity: string; reason?: string }) {
    return this.update(id, 'setSeverity', (h) => h.executeUpdate(setSeverityUpdate, { args: [input as never] }));
  }
  recordRootCause(id: string, input: { by: string; summary: string }) {
    return this.update(id, 'recordRootCause', (h) => h.executeUpdate(recordRootCauseUpdate, { args: [input] }));
  }
  assignOwner(id: string, input: { by: string; owner: string }) {
    return this.update(id, 'assignOwner', (h) => h.executeUpdate(assignOwnerUpdate, { args: [input] }));
  }
  escalate(id: string, input: { by: string; reason: string; level?: 1 | 2 | 3 }) {
    return this.update(id, 'escalate', (h) => h.executeUpdate(escalateUpdate, { args: [input] }));
  }
  updateImpact(id: string, input: { by: string; affectedSystems?: string[]; dataBreachConfirmed?: boolean }) {
    return this.update(id, 'updateImpact', (h) => h.executeUpdate(updateImpactUpdate, { args: [input] }));
  }
  advancePhase(id: string, input: { by: string; note?: string }) {
    return this.update(id, 'advancePhase', (h) => h.executeUpdate(advancePhaseUpdate, { args: [input] }));
  }
  resolve(id: string, input: { by: string; summary?: string }) {
    return this.update(id, 'resolve', (h) => h.executeUpdate(resolveUpdate, { args: [input] }));
  }
  declareFalsePositive(id: string, input: { by: string; reason: string }) {
    return this.update(id, 'declareFalsePositive', (h) =>
      h.executeUpdate(declareFalsePositiveUpdate, { args: [input] }),
    );
  }
  /** Grants a waiting step's approval; answers once the phase has applied it. */
  approveStep(id: string, input: { by: string; role: string; stepId: string; note?: string }) {
    return this.update(id, 'approveStep', (h) => h.executeUpdate(approveStepUpdate, { args: [input] }));
  }
  /** Refuses a waiting step's approval: the step is skipped with the reason. */
  rejectStep(id: string, input: { by: string; role: string; stepId: string; reason: string }) {
    return this.update(id, 'rejectStep', (h) => h.executeUpdate(rejectStepUpdate, { args: [input] }));
  }
  /** Marks a waiting `task` step done. */
  completeTask(id: string, input: { by: string; stepId: string; role?: string; note?: string }) {
    return this.update(id, 'completeTask', (h) => h.executeUpdate(completeTaskUpdate, { args: [input] }));
  }

  async list(filter: ListFilter = {}): Promise<IncidentSummary[]> {
    const out: IncidentSummary[] = [];
    const limit = filter.limit ?? 50;
    for await (const wf of this.client.workflow.list({ query: listQuery(filter) })) {
      const sa = wf.searchAttributes as Record<string, unknown[] | undefined>;
      const first = (key: string) => sa[key]?.[0];
      out.push({
        incidentId: wf.workflowId,
        severity: first('IncidentSeverity') as string | undefined,
        category: first('IncidentCategory') as string | undefined,
        phase: first('IncidentPhase') as string | undefined,
        status: (first('IncidentStatus') as string | undefined) ?? wf.status.name.toLowerCase(),
        runbookId: first('RunbookId') as string | undefined,
        drill: first('IsDrill') as boolean | undefined,
        startTime: wf.startTime,
        ...(wf.closeTime ? { closeTime: wf.closeTime } : {}),
      });
      if (out.length >= limit) break;
    }
    return out;
  }

  private async update(
    incidentId: string,
    name: string,
    run: (handle: WorkflowHandle) => Promise<IncidentStatusView>,
  ): Promise<IncidentStatusView> {
    return this.call(incidentId, name, () => run(this.handle(incidentId)));
  }

  /** The final status of a finished incident, or undefined when there is no such incident. */
  private async closedStatus(incidentId: string): Promise<string | undefined> {
    try {
      const handle = this.handle(incidentId);
      const description = await handle.describe();
      if (description.status.name === 'RUNNING') return undefined;
      const status = await handle.query(statusQuery).catch(() => undefined);
      return status ? `${status.status.replace('_', ' ')}` : description.status.name.toLowerCase();
    } catch {
      return undefined;
    }
  }

  private async call<T>(incidentId: string, name: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) {
        // The server answers "not found" to an update on a finished run; tell a closed incident from a missing one.
        const closed = await this.closedStatus(incidentId);
        if (closed) throw new UpdateRefusedError(incidentId, name, `the incident is ${closed}`);
        throw new IncidentNotFoundError(incidentId);
      }
      if (error instanceof WorkflowUpdateFailedError) {
        throw new UpdateRefusedError(incidentId, name, error.cause?.message ?? error.message);
      }
      // A closed incident cannot take updates; say so rather than echo the RPC error.
      if (error instanceof Error && /workflow execution already completed/i.test(error.message)) {
        throw new UpdateRefusedError(incidentId, name, 'the incident is closed');
      }
      throw error;
    }
  }
}

export type { IncidentState };
