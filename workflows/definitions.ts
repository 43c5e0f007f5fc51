// Signals, queries and updates of the incident and registry workflows: shared by workflows and clients.
// Wire names are the bare verbs; constants end in their kind.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { IncidentMetrics, IncidentState, TimelineEvent } from '../src/schemas/incident';
import type {
  AcknowledgeInput,
  AdvancePhaseInput,
  AlertSignalInput,
  AssignOwnerInput,
  DeclareFalsePositiveInput,
  EscalateInput,
  OpenRequest,
  RecordRootCauseInput,
  ResolveInput,
  SetSeverityInput,
  UpdateImpactInput,
} from '../src/schemas/messages';
import type { RunbookPlan } from '../src/schemas/runbook';

/** What `status` and every accepted update return. */
export interface IncidentStatusView extends IncidentState {
  metrics: IncidentMetrics;
  /** When the next timer-driven escalation is due, if any (epoch ms). */
  nextEscalationAt?: number;
}

export const alertSignal = defineSignal<[AlertSignalInput]>('alert');

export const acknowledgeUpdate = defineUpdate<IncidentStatusView, [AcknowledgeInput]>('acknowledge');
export const setSeverityUpdate = defineUpdate<IncidentStatusView, [SetSeverityInput]>('setSeverity');
export const recordRootCauseUpdate = defineUpdate<IncidentStatusView, [RecordRootCauseInput]>('recordRootCause');
export const assignOwnerUpdate = defineUpdate<IncidentStatusView, [AssignOwnerInput]>('assignOwner');
export const escalateUpdate = defineUpdate<IncidentStatusView, [EscalateInput]>('escalate');
export const updateImpactUpdate = defineUpdate<IncidentStatusView, [UpdateImpactInput]>('updateImpact');
export const advancePhaseUpdate = defineUpdate<IncidentStatusView, [AdvancePhaseInput]>('advancePhase');
export const resolveUpdate = defineUpdate<IncidentStatusView, [ResolveInput]>('resolve');
export const declareFalsePositiveUpdate = defineUpdate<IncidentStatusView, [DeclareFalsePositiveInput]>(
  'declareFalsePositive',
);

export const statusQuery = defineQuery<IncidentStatusView>('status');
export const timelineQuery = defineQuery<TimelineEvent[]>('timeline');

/** Input of the incident workflow: the opener's request, the pinned plan, and the allocated id. */
export interface IncidentInput extends OpenRequest {
  incidentId: string;
  plan: RunbookPlan;
}

export interface IncidentOutcome {
  incidentId: string;
  status: IncidentState['status'];
  metrics: IncidentMetrics;
}

// Registry: allocates INC-YYYY-NNN and starts the incident, so an id is used exactly when an incident exists.
export const REGISTRY_WORKFLOW_ID = 'incident-registry';

export interface OpenIncidentResult {
  incidentId: string;
  /** false when the dedup key matched an incident that is still open. */
  created: boolean;
}

export const openIncidentUpdate = defineUpdate<OpenIncidentResult, [OpenRequest & { plan: RunbookPlan }]>(
  'openIncident',
);
export const incidentClosedSignal = defineSignal<[{ incidentId: string; dedupKey?: string }]>('incidentClosed');
export const registryStateQuery = defineQuery<RegistryState>('registryState');

export interface RegistryState {
  /** Last number handed out, per year. */
  counters: Record<string, number>;
  /** Open incidents by dedup key. */
  openByDedupKey: Record<string, string>;
}
