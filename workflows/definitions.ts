// Signals, queries and updates of the incident and registry workflows: shared by workflows and clients.
// Wire names are the bare verbs; constants end in their kind.
import type { UpdateDefinition } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { AlertBook, AlertCounts } from '../domain/alert-book';
import type { StepFacts } from '../domain/condition';
import type {
  IncidentMetrics,
  IncidentState,
  OnTimeoutBehaviour,
  Phase,
  StepResult,
  TimelineEvent,
} from '../domain/incident';
import type { TimelinePage, TimelinePageRequest } from '../domain/timeline-page';
import type { AlertSignalInput, OpenRequest } from '../domain/messages';
import type { ApiRole } from '../domain/roles';
import type { RunbookPlan } from '../domain/runbook';
import { UPDATE_NAMES, type UpdateName, type UpdateRequest } from '../domain/updates';
import type { RunbookRef } from '../domain/runbook-ref';
import type { RecentlyClosed, RecurrenceOf } from '../domain/recurrence';
import type { CarriedIncident, PhaseEnd } from './incident/carried';
import type { FinalRecord } from './incident/final-record';

/** A step that waits for a person: an approval (approveStep / rejectStep) or a task (completeTask). */
export interface WaitingStep {
  phase: Phase;
  stepId: string;
  action: string;
  kind: 'approval' | 'task';
  /** Who may decide; for a task without roles, anyone. */
  roles?: string[];
  instructions?: string;
  since: number;
  /** When the current wait runs out (epoch ms); none when it waits without a limit. */
  timeoutAt?: number;
  onTimeout?: OnTimeoutBehaviour;
}

/** What `status` and every accepted update return. */
export interface IncidentStatusView extends IncidentState {
  metrics: IncidentMetrics;
  /** When the next timer-driven escalation is due, if any (epoch ms). */
  nextEscalationAt?: number;
  /** Steps of the running phase that wait for an approval or a task to be completed. */
  waitingSteps: WaitingStep[];
  /** The incident continued as new (a long incident): its runs so far, and timeline events not carried over. */
  runs?: number;
  timelineOmitted?: number;
}

export const alertSignal = defineSignal<[AlertSignalInput]>('alert');
/** Most alerts in one alertBatch signal. */
export const ALERT_BATCH_MAX = 100;
/** Alert stream -> incident: the alerts that change something, in arrival order, at most ALERT_BATCH_MAX. */
export const alertBatchSignal = defineSignal<[AlertSignalInput[]]>('alertBatch');
/** Alert stream -> incident: the exact alert counts, sent when they change (throttled). */
export const alertCountsSignal = defineSignal<[AlertCounts]>('alertCounts');
/** Incident -> its alert stream: the incident closed; forward what is queued and end. */
export const alertStreamStopSignal = defineSignal<[]>('alertStreamStop');
/** The alert stream's book: counts and every tracked fingerprint. */
export const alertBookQuery = defineQuery<AlertBook>('alertBook');

/** The workflow id of an incident's alert stream. */
export function alertStreamId(incidentId: string): string {
  return `${incidentId}.alerts`;
}

/** The alerts an incident opened with (its input's `alerts`; none for one opened otherwise). */
export const openingAlertsQuery = defineQuery<AlertSignalInput[]>('openingAlerts');

export interface AlertStreamInput {
  incidentId: string;
  /**
   * Set by openers that record a delivery's first alerts at the incident's opening: the stream's first run puts the
   * incident's opening alerts in its book before any alert it is sent, so its counts and repeats include them.
   */
  seedOpening?: boolean;
  /** The book carried over from the previous run (continue-as-new). */
  book?: AlertBook;
  /** Alerts the previous run queued and had not forwarded yet (at most ALERT_BATCH_MAX). */
  pending?: AlertSignalInput[];
  /** The total the previous run last sent the incident, when it had not sent the latest. */
  countsSent?: number;
  /** How many count deliveries the incident has had from earlier runs: they set the cadence (alert-stream.ts). */
  countsDelivered?: number;
  /** When the incident last got counts (workflow time): the cadence counts from it. */
  countsSentAt?: number;
}

/** The operator updates, one per entry of the update table (domain/updates.ts), by wire name. */
export type IncidentUpdates = {
  [N in UpdateName]: UpdateDefinition<IncidentStatusView, [UpdateRequest<N>], N>;
};
export const incidentUpdates = Object.fromEntries(
  UPDATE_NAMES.map((name) => [name, defineUpdate(name)]),
) as unknown as IncidentUpdates;

export const statusQuery = defineQuery<IncidentStatusView>('status');
/** The whole timeline; kept for older readers: a long timeline can pass the gRPC message limit (use timelinePage). */
export const timelineQuery = defineQuery<TimelineEvent[]>('timeline');
/** One page of the timeline ({from, limit}): events, where the next page starts, and the total. */
export const timelinePageQuery = defineQuery<TimelinePage, [TimelinePageRequest]>('timelinePage');

/** An incident's request, allocated id and pinned plan. */
export interface IncidentInput extends OpenRequest {
  incidentId: string;
  plan: RunbookPlan;
  /** Set by the registry: the incident of the same dedup key resolved within its enhanced-monitoring window. */
  recurrenceOf?: RecurrenceOf;
  /** The incident's state from its previous run, when it continued as new (workflows/incident/carried.ts). */
  carried?: CarriedIncident;
  /**
   * History events after which a run continues as new (workflows/incident/continuation.ts); only lower than the
   * default, for tests and drills that exercise it. Not part of an open request: set by whoever starts the workflow.
   */
  continueAsNewAfterEvents?: number;
}

/**
 * What the incident workflow is started with: the plan itself (started directly, drills, every recorded history) or,
 * through the registry, a reference the incident loads and pins first (workflows/runbook-plan.ts).
 */
export type IncidentStartInput = Omit<IncidentInput, 'plan'> & { plan?: RunbookPlan; runbook?: RunbookRef };

export interface IncidentOutcome {
  incidentId: string;
  status: IncidentState['status'];
  metrics: IncidentMetrics;
  /** Its last view and timeline, when they fit one payload (workflows/incident/final-record.ts). */
  final?: FinalRecord;
}

// Between the incident and its phase children. Clients never send these: they address only the incident, which
// validates and forwards.

/** An operator's decision on a waiting step, forwarded by the incident to the phase child. */
export interface StepDecision {
  stepId: string;
  kind: 'approve' | 'reject' | 'complete';
  by: string;
  role?: string;
  note?: string;
  reason?: string;
  /** The sender's API role (HTTP API), or break-glass when it came straight to Temporal. */
  apiRole?: ApiRole;
  breakGlass?: true;
}

/** What a phase child tells the incident while it runs, so the timeline and the validators see steps live. */
export type StepEvent =
  | ({ type: 'waiting' } & Omit<WaitingStep, 'since'>)
  | { type: 'decided'; phase: Phase; decision: StepDecision }
  | {
      type: 'timed_out';
      phase: Phase;
      stepId: string;
      kind: 'approval' | 'task';
      onTimeout: OnTimeoutBehaviour;
      /** With `escalate` the step keeps waiting; the next deadline, if any. */
      stillWaiting: boolean;
      timeoutAt?: number;
    }
  | { type: 'result'; result: StepResult }
  /** The child's last word, when the incident asked for it (reportPhaseEnd): a later run of the incident awaits it. */
  | ({ type: 'phase_ended' } & PhaseEnd);

/** Child -> incident. */
export const stepEventSignal = defineSignal<[StepEvent]>('stepEvent');
/** Incident -> child: an accepted approveStep / rejectStep / completeTask. */
export const stepDecisionSignal = defineSignal<[StepDecision]>('stepDecision');
/** Incident -> child: the facts `when` conditions look at, sent again when they change during the phase. */
export const phaseFactsSignal = defineSignal<[StepFacts]>('phaseFacts');
/** Incident -> child: start no more steps, end every wait, return what ran (the incident then compensates). */
export const stopPhaseSignal = defineSignal<[{ reason: string }]>('stopPhase');
/**
 * Incident -> child, before the incident continues as new: report your end (phase_ended) when you get there, to the
 * incident's workflow id, since the run that started you will be gone.
 */
export const reportPhaseEndSignal = defineSignal('reportPhaseEnd');

// Registry: allocates INC-YYYY-NNN and starts the incident, so an id is used exactly when an incident exists.
export const REGISTRY_WORKFLOW_ID = 'incident-registry';

export interface OpenIncidentResult {
  incidentId: string;
  /** false when the dedup key matched an incident that is still open. */
  created: boolean;
  /** A new incident whose dedup key's last incident was resolved within its enhanced-monitoring window. */
  recurrenceOf?: RecurrenceOf;
}

/** An open: the request and its runbook by reference (`plan` only from openers older than references). */
export type OpenIncidentInput = OpenRequest & { runbook?: RunbookRef; plan?: RunbookPlan };

export const openIncidentUpdate = defineUpdate<OpenIncidentResult, [OpenIncidentInput]>('openIncident');
/**
 * Incident -> registry: it closed; its dedup key is free again. An incident that was resolved says when
 * (`resolvedAt`), and the registry remembers it for the enhanced-monitoring window. Older senders, false positives and
 * the intake freeing the key of an incident that ended outside the engine leave it out: the key is only freed.
 */
export interface IncidentClosed {
  incidentId: string;
  dedupKey?: string;
  resolvedAt?: number;
}
export const incidentClosedSignal = defineSignal<[IncidentClosed]>('incidentClosed');
export const registryStateQuery = defineQuery<RegistryState>('registryState');

export interface RegistryState {
  /** Last number handed out, per year. */
  counters: Record<string, number>;
  /** Open incidents by dedup key. */
  openByDedupKey: Record<string, string>;
  /** Opens answered whose incident the main loop has not started yet (carried across continue-as-new). */
  pending?: PendingStart[];
  /** Ids answered whose number turned out taken outside the registry: answered id -> the incident's id. */
  moved?: Record<string, string>;
  /**
   * Resolved incidents that closed, by dedup key, while their enhanced-monitoring window lasts (domain/recurrence.ts),
   * oldest resolution first: an open for one of these keys is a recurrence.
   */
  recentlyClosed?: RecentlyClosed[];
}

/** An open the registry has answered and must start. */
export interface PendingStart {
  incidentId: string;
  request: OpenRequest;
  runbook?: RunbookRef;
  plan?: RunbookPlan;
  recurrenceOf?: RecurrenceOf;
}
