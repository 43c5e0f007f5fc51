// IncidentClient: the one place that talks to Temporal as a client. Opens incidents through the registry (so ids
// are gapless), sends updates and signals, runs queries and lists by search attributes. Errors name the incident
// and carry the workflow's reason for a refusal.
import {
  ApplicationFailure,
  type Client,
  QueryNotRegisteredError,
  type SignalDefinition,
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type WorkflowHandle,
} from '@temporalio/client';
import pLimit from 'p-limit';
import type { AlertBook } from '../domain/alert-book';
import { alertChars, takeBatch } from '../domain/alert-batch';
import type { IncidentState, TimelineEvent } from '../domain/incident';
import type { IncidentSummary } from '../domain/incident-summary';
import { type TimelinePage, type TimelinePageRequest, timelinePage } from '../domain/timeline-page';
import { formatIssues } from '../domain/issues';
import { type AlertSignalInput, OpenRequest } from '../domain/messages';
import { type RunbookPlan, planForOpening } from '../domain/runbook';
import { UPDATE_NAMES, type UpdateName, type UpdateRequest } from '../domain/updates';
import { storePlan } from './runbooks/plan-store';
import { untilStarted } from './temporal/until-started';
import { readFinalRecord } from './temporal/final-record';
import type { FinalRecord } from '../workflows/incident/final-record';
import {
  ALERT_BATCH_MAX,
  type IncidentStatusView,
  type OpenIncidentResult,
  REGISTRY_WORKFLOW_ID,
  alertBatchSignal,
  alertBookQuery,
  alertSignal,
  alertStreamId,
  incidentUpdates,
  openIncidentUpdate,
  statusQuery,
  timelinePageQuery,
} from '../workflows/definitions';
import type { alertStreamWorkflow } from '../workflows/alert-stream';
import type { incidentRegistryWorkflow } from '../workflows/registry';
import { isSignalLimitError } from './temporal/signal-limit';

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

/** Refused because of who sent it: the sender's API role or runbook roles may not do this. */
export class UpdateForbiddenError extends UpdateRefusedError {
  constructor(incidentId: string, update: string, reason: string) {
    super(incidentId, update, reason);
    this.name = 'UpdateForbiddenError';
  }
}

export class InvalidRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidRequestError';
  }
}

/** An incident as `list` returns it (times as Dates). */
export type { IncidentSummary };

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

/** One method per operator update, named like it: `client.approveStep(id, { by, role, stepId })`. */
export type IncidentUpdateMethods = {
  [N in UpdateName]: (incidentId: string, input: UpdateRequest<N>) => Promise<IncidentStatusView>;
};

// The update methods are added to the prototype below, from the update table.
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging, @typescript-eslint/no-empty-object-type
export interface IncidentClient extends IncidentUpdateMethods {}

/**
 * Runs `attempt` again, with backoff up to a second, while it fails with an error `passing` says will pass soon, for at
 * most `forMs`; any other error, or the same one after that, stands.
 */
async function retryWhile<T>(passing: (error: unknown) => boolean, forMs: number, attempt: () => Promise<T>) {
  const deadline = Date.now() + forMs;
  for (let wait = 20; ; wait = Math.min(wait * 2, 1_000)) {
    try {
      return await attempt();
    } catch (error) {
      if (!passing(error) || Date.now() + wait > deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

/**
 * A query to an incident that exists but has no query handlers yet: one opened by reference sets them once its first
 * task has loaded the plan, a few milliseconds after the registry answered the open. Waits up to 15 s.
 */
const whenQueryable = <T>(query: () => Promise<T>): Promise<T> =>
  retryWhile((error) => error instanceof QueryNotRegisteredError, 15_000, query);

/**
 * A signal to an alert stream whose run is at Temporal's signal limit: the stream continues as new within moments and
 * the alert goes to the new run. After 10 s the refusal stands (the API answers 503 with Retry-After); nothing was
 * recorded, so the sender's retry loses nothing.
 */
const whileStreamRollsOver = <T>(send: () => Promise<T>): Promise<T> => retryWhile(isSignalLimitError, 10_000, send);

/** An alert waiting to be signalled to its incident's stream, and its caller. */
interface WaitingAlert {
  alert: AlertSignalInput;
  resolve(): void;
  reject(error: unknown): void;
}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class IncidentClient {
  private readonly openSlots = pLimit(OPENS_IN_FLIGHT);
  /** Alerts waiting for the signal in flight to their incident's stream, by incident (see deliverAlert). */
  private readonly waitingAlerts = new Map<string, WaitingAlert[] & { sending?: boolean }>();

  constructor(
    readonly client: Client,
    readonly taskQueue: string,
  ) {}

  /** Opens an incident with a compiled runbook; returns its id (an existing one when the dedup key matches). */
  async open(request: OpenRequest | Record<string, unknown>, plan: RunbookPlan): Promise<OpenIncidentResult> {
    const parsed = OpenRequest.safeParse(request);
    if (!parsed.success) {
      throw new InvalidRequestError(`invalid incident: ${formatIssues(parsed.error.issues, 'request')}`);
    }
    // The registry gets the plan by reference (stored once per plan and process): a few hundred bytes per open.
    // A P0 or P1 pins a plan whose containment no person's detect-phase check holds.
    const runbook = await storePlan(this.client, this.taskQueue, planForOpening(plan, parsed.data));
    const startRegistry = new WithStartWorkflowOperation<typeof incidentRegistryWorkflow>('incidentRegistryWorkflow', {
      workflowId: REGISTRY_WORKFLOW_ID,
      taskQueue: this.taskQueue,
      workflowIdConflictPolicy: 'USE_EXISTING',
      args: [undefined],
    });
    const result = await this.openSlots(() =>
      this.client.workflow.executeUpdateWithStart(openIncidentUpdate, {
        args: [{ ...parsed.data, runbook }],
        startWorkflowOperation: startRegistry,
      }),
    );
    // The registry answers before the incident's start lands; callers use the id at once (status, alert signals).
    await untilStarted(this.client, result.incidentId, this.client.options.namespace);
    return result;
  }

  handle(incidentId: string): WorkflowHandle {
    if (!INCIDENT_ID.test(incidentId)) {
      throw new InvalidRequestError(`expected an incident id like INC-2026-001, got "${incidentId}"`);
    }
    return this.client.workflow.getHandle(incidentId);
  }

  async status(incidentId: string): Promise<IncidentStatusView> {
    return this.call(incidentId, 'status', () =>
      this.fromRecordOrQuery(
        incidentId,
        () => this.handle(incidentId).query(statusQuery),
        (record) => record.view,
      ),
    );
  }

  /**
   * The whole timeline: a closed incident's from its record, read once; a running one's by query, page by page so no
   * single read can pass the gRPC message limit (and from the record if it closes between pages).
   */
  async timeline(incidentId: string): Promise<TimelineEvent[]> {
    const events: TimelineEvent[] = [];
    for (;;) {
      const page = await this.call(incidentId, 'timeline', () =>
        this.fromRecordOrQuery(
          incidentId,
          () => this.handle(incidentId).query(timelinePageQuery, { from: events.length }),
          (record) => record.timeline,
        ),
      );
      // Closed (now, or since the last page): its record holds the whole timeline.
      if (Array.isArray(page)) return page;
      events.push(...page.events);
      if (page.events.length === 0 || events.length >= page.total) return events;
    }
  }

  /** One page of the timeline: events from `from` (at most `limit`), where the next page starts, and the total. */
  async timelinePage(incidentId: string, request: TimelinePageRequest = {}): Promise<TimelinePage> {
    return this.call(incidentId, 'timeline', () =>
      this.fromRecordOrQuery(
        incidentId,
        () => this.handle(incidentId).query(timelinePageQuery, request),
        (record) => timelinePage(record.timeline, request),
      ),
    );
  }

  /**
   * A closed incident is read from the record it left in its result, without a worker or a replay of its history
   * (src/temporal/final-record.ts); a running one, or one closed without a record, by query. A query refused while
   * the incident sets its handlers, or failed because a worker had to replay the history of an incident that closed
   * meanwhile (the SDK reports both as QueryNotRegisteredError), is tried again for up to 15 s, the record first.
   */
  private fromRecordOrQuery<T, R>(
    incidentId: string,
    query: () => Promise<T>,
    answer: (record: FinalRecord) => R,
  ): Promise<T | R> {
    return whenQueryable(async () => {
      const record = await readFinalRecord(this.client, incidentId);
      return record ? answer(record) : query();
    });
  }

  /** Signals an alert straight to the incident (drills, tests, a person steering by hand). */
  async signalAlert(incidentId: string, alert: AlertSignalInput): Promise<void> {
    await this.call(incidentId, 'alert', () => this.handle(incidentId).signal(alertSignal, alert));
  }

  /**
   * Delivers a detector's alert through the incident's alert stream (workflows/alert-stream.ts), which coalesces a
   * storm so the incident never outgrows Temporal's limits. A stream that has ended means the incident closed.
   */
  async deliverAlert(incidentId: string, alert: AlertSignalInput): Promise<void> {
    // One signal in flight per incident from this process: alerts that arrive meanwhile go together in the next, so a
    // flood reaches the stream as batches (fewer history events, and pauses it can continue as new in) not one each.
    const delivered = new Promise<void>((resolve, reject) => {
      const waiting = this.waitingAlerts.get(incidentId);
      if (waiting) waiting.push({ alert, resolve, reject });
      else this.waitingAlerts.set(incidentId, [{ alert, resolve, reject }]);
    });
    if (!this.waitingAlerts.get(incidentId)!.sending) void this.sendWaitingAlerts(incidentId);
    await delivered;
  }

  private async sendWaitingAlerts(incidentId: string): Promise<void> {
    const waiting = this.waitingAlerts.get(incidentId)!;
    waiting.sending = true;
    while (waiting.length > 0) {
      const batch = takeBatch(waiting, ALERT_BATCH_MAX, (w) => alertChars(w.alert));
      try {
        if (batch.length === 1) await this.toAlertStream(incidentId, alertSignal, batch[0]!.alert);
        else
          await this.toAlertStream(
            incidentId,
            alertBatchSignal,
            batch.map((w) => w.alert),
          );
        batch.forEach((w) => w.resolve());
      } catch (error) {
        batch.forEach((w) => w.reject(error));
      }
    }
    this.waitingAlerts.delete(incidentId);
  }

  private async toAlertStream<T>(incidentId: string, signal: SignalDefinition<[T]>, payload: T): Promise<void> {
    this.handle(incidentId);
    try {
      await whileStreamRollsOver(() =>
        this.client.workflow.signalWithStart<typeof alertStreamWorkflow, [T]>('alertStreamWorkflow', {
          workflowId: alertStreamId(incidentId),
          taskQueue: this.taskQueue,
          args: [{ incidentId, seedOpening: true }],
          signal,
          signalArgs: [payload],
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
        }),
      );
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) {
        throw new UpdateRefusedError(incidentId, 'alert', 'the incident is closed');
      }
      throw error;
    }
  }

  /** The exact alert counts and tracked fingerprints of an incident's alert stream; undefined when it has none. */
  async alertBook(incidentId: string): Promise<AlertBook | undefined> {
    try {
      return await this.client.workflow
        .getHandle(alertStreamId(this.handle(incidentId).workflowId))
        .query(alertBookQuery);
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return undefined;
      throw error;
    }
  }

  /** Sends an operator update (see domain/updates.ts); answers the incident's status once it is applied. */
  async send<N extends UpdateName>(incidentId: string, name: N, input: UpdateRequest<N>): Promise<IncidentStatusView> {
    const update = incidentUpdates[name];
    return this.call(incidentId, name, () => this.handle(incidentId).executeUpdate(update, { args: [input] }));
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

  /** The final status of a finished incident, or undefined when there is no such incident. */
  private async closedStatus(incidentId: string): Promise<string | undefined> {
    try {
      const handle = this.handle(incidentId);
      const description = await handle.describe();
      if (description.status.name === 'RUNNING') return undefined;
      const record = await readFinalRecord(this.client, incidentId, description).catch(() => undefined);
      const status = record?.view ?? (await handle.query(statusQuery).catch(() => undefined));
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
        const reason = error.cause?.message ?? error.message;
        if (error.cause instanceof ApplicationFailure && error.cause.type === 'UpdateForbidden') {
          throw new UpdateForbiddenError(incidentId, name, reason);
        }
        throw new UpdateRefusedError(incidentId, name, reason);
      }
      // A closed incident cannot take updates; say so rather than echo the RPC error.
      if (error instanceof Error && /workflow execution already completed/i.test(error.message)) {
        throw new UpdateRefusedError(incidentId, name, 'the incident is closed');
      }
      throw error;
    }
  }
}

for (const name of UPDATE_NAMES) {
  Object.defineProperty(IncidentClient.prototype, name, {
    value: function (this: IncidentClient, incidentId: string, input: UpdateRequest<typeof name>) {
      return this.send(incidentId, name, input);
    },
  });
}

export type { IncidentState };
