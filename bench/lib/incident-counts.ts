// What one incident costs Temporal: the incident workflow and its five phase children (`<id>.<phase>`), their state
// transitions (describe), events and workflow tasks (histories), and where the events go, by category.
import type { Client } from '@temporalio/client';
import { PHASES } from '../../domain/incident';
import { describeCounts, eventTimeMs, historyBreakdown, mapLimit } from './counts';
import { mean, round } from './stats';

export interface IncidentCost {
  stateTransitions: number;
  events: number;
  workflowTasks: number;
  incidentOnly: { stateTransitions: number; events: number; workflowTasks: number };
  childrenOnly: { stateTransitions: number; events: number; workflowTasks: number };
}

export const workflowIdsOf = (incidentId: string): string[] => [incidentId, ...PHASES.map((p) => `${incidentId}.${p}`)];

/** Event types grouped by what caused them. */
export function categoryOf(type: string): string {
  if (type.startsWith('WorkflowTask')) return 'workflow tasks (scheduled/started/completed)';
  if (type.startsWith('ActivityTask')) return 'activities (scheduled/started/completed)';
  if (type.startsWith('Timer')) return 'timers (started/fired/canceled)';
  if (type === 'UpsertWorkflowSearchAttributes') return 'search attribute upserts';
  if (type.startsWith('StartChildWorkflow') || type.startsWith('ChildWorkflow'))
    return 'phase children, seen from the incident';
  if (type === 'WorkflowExecutionSignaled') return 'signals received (step events from children)';
  if (type.startsWith('SignalExternal') || type === 'ExternalWorkflowExecutionSignaled')
    return 'signals sent (step events to the incident)';
  if (type === 'MarkerRecorded') return 'markers (patched() versioning)';
  if (type.startsWith('WorkflowExecutionUpdate')) return 'updates';
  if (type === 'WorkflowExecutionStarted' || type === 'WorkflowExecutionCompleted') return 'start and completion';
  return `other (${type})`;
}

export async function incidentCost(client: Client, incidentId: string): Promise<IncidentCost> {
  const ids = workflowIdsOf(incidentId);
  const [counts, histories] = await Promise.all([
    Promise.all(ids.map((id) => describeCounts(client, id))),
    Promise.all(ids.map((id) => historyBreakdown(client, id, undefined, { closed: true }))),
  ]);
  const part = (from: number, to: number) => ({
    stateTransitions: counts.slice(from, to).reduce((s, c) => s + c.stateTransitions, 0),
    events: counts.slice(from, to).reduce((s, c) => s + c.events, 0),
    workflowTasks: histories.slice(from, to).reduce((s, h) => s + h.workflowTasks, 0),
  });
  const incidentOnly = part(0, 1);
  const childrenOnly = part(1, ids.length);
  return {
    stateTransitions: incidentOnly.stateTransitions + childrenOnly.stateTransitions,
    events: incidentOnly.events + childrenOnly.events,
    workflowTasks: incidentOnly.workflowTasks + childrenOnly.workflowTasks,
    incidentOnly,
    childrenOnly,
  };
}

export interface IncidentCostSummary {
  sampled: number;
  stateTransitions: number;
  events: number;
  workflowTasks: number;
  incidentOnly: { stateTransitions: number; events: number; workflowTasks: number };
  childrenOnly: { stateTransitions: number; events: number; workflowTasks: number };
  /** Mean events per incident by category, and by type within the incident workflow and within the children. */
  eventsByCategory: Record<string, number>;
  incidentEventsByType: Record<string, number>;
  childEventsByType: Record<string, number>;
}

export async function summarizeIncidentCosts(client: Client, incidentIds: string[]): Promise<IncidentCostSummary> {
  const costs = await mapLimit(incidentIds, 4, (id) => incidentCost(client, id));
  const avg = (pick: (c: IncidentCost) => number): number => round(mean(costs.map(pick)), 2);
  const byCategory: Record<string, number> = {};
  const incidentByType: Record<string, number> = {};
  const childByType: Record<string, number> = {};
  await mapLimit(incidentIds, 4, async (id) => {
    const ids = workflowIdsOf(id);
    const histories = await Promise.all(ids.map((w) => historyBreakdown(client, w, undefined, { closed: true })));
    histories.forEach((h, i) => {
      for (const [type, n] of Object.entries(h.byType)) {
        const target = i === 0 ? incidentByType : childByType;
        target[type] = (target[type] ?? 0) + n;
        const cat = categoryOf(type);
        byCategory[cat] = (byCategory[cat] ?? 0) + n;
      }
    });
  });
  const per = (record: Record<string, number>): Record<string, number> =>
    Object.fromEntries(
      Object.entries(record)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => [k, round(v / Math.max(1, incidentIds.length), 2)]),
    );
  return {
    sampled: costs.length,
    stateTransitions: avg((c) => c.stateTransitions),
    events: avg((c) => c.events),
    workflowTasks: avg((c) => c.workflowTasks),
    incidentOnly: {
      stateTransitions: avg((c) => c.incidentOnly.stateTransitions),
      events: avg((c) => c.incidentOnly.events),
      workflowTasks: avg((c) => c.incidentOnly.workflowTasks),
    },
    childrenOnly: {
      stateTransitions: avg((c) => c.childrenOnly.stateTransitions),
      events: avg((c) => c.childrenOnly.events),
      workflowTasks: avg((c) => c.childrenOnly.workflowTasks),
    },
    eventsByCategory: per(byCategory),
    incidentEventsByType: per(incidentByType),
    childEventsByType: per(childByType),
  };
}

/**
 * Where an incident's open-to-close time went, from the histories' timestamps (server clock), summed over the
 * incident and its phase children, in ms. Parent side: starting each child (StartChildWorkflowExecutionInitiated ->
 * ChildWorkflowExecutionStarted) and hearing it finished (child's WorkflowExecutionCompleted ->
 * ChildWorkflowExecutionCompleted). Everywhere: workflow tasks waiting to be picked up (scheduled -> started) and in
 * the worker (started -> completed, which holds the run of the phases' steps: local activities), scheduled
 * activities waiting and running, signals to the incident in flight.
 */
export interface TimeSplit {
  open_to_close_ms: number;
  child_start_ms: number;
  child_completion_notice_ms: number;
  wft_queue_ms: number;
  wft_worker_ms: number;
  activity_queue_ms: number;
  activity_run_ms: number;
  signal_delivery_ms: number;
}

export async function timeSplit(client: Client, incidentId: string): Promise<TimeSplit> {
  const ids = workflowIdsOf(incidentId);
  const histories = await Promise.all(ids.map((id) => historyBreakdown(client, id, undefined, { closed: true })));
  const [incident, ...children] = histories;
  const split: TimeSplit = {
    open_to_close_ms: incident!.lastEventMs - incident!.firstEventMs,
    child_start_ms: 0,
    child_completion_notice_ms: 0,
    wft_queue_ms: 0,
    wft_worker_ms: 0,
    activity_queue_ms: 0,
    activity_run_ms: 0,
    signal_delivery_ms: 0,
  };
  const initiated = new Map<string, number>();
  const childEnd = new Map<string, number>(children.map((h, i) => [ids[i + 1]!, h.lastEventMs] as const));
  for (const e of incident!.raw) {
    const at = eventTimeMs(e);
    if (e.startChildWorkflowExecutionInitiatedEventAttributes) initiated.set(String(e.eventId), at);
    const started = e.childWorkflowExecutionStartedEventAttributes;
    if (started) split.child_start_ms += at - (initiated.get(String(started.initiatedEventId)) ?? at);
    const completed = e.childWorkflowExecutionCompletedEventAttributes;
    if (completed) {
      const end = childEnd.get(completed.workflowExecution?.workflowId ?? '');
      if (end !== undefined) split.child_completion_notice_ms += at - end;
    }
  }
  for (const h of histories) {
    split.wft_queue_ms += h.wftScheduleToStartMs.reduce((s, v) => s + v, 0);
    split.wft_worker_ms += h.wftStartToCompleteMs.reduce((s, v) => s + v, 0);
    const scheduled = new Map<string, number>();
    const startedAt = new Map<string, number>();
    const signalInit = new Map<string, number>();
    for (const e of h.raw) {
      const at = eventTimeMs(e);
      if (e.activityTaskScheduledEventAttributes) scheduled.set(String(e.eventId), at);
      const st = e.activityTaskStartedEventAttributes;
      if (st) {
        startedAt.set(String(st.scheduledEventId), at);
        split.activity_queue_ms += at - (scheduled.get(String(st.scheduledEventId)) ?? at);
      }
      const done = e.activityTaskCompletedEventAttributes;
      if (done) split.activity_run_ms += at - (startedAt.get(String(done.scheduledEventId)) ?? at);
      if (e.signalExternalWorkflowExecutionInitiatedEventAttributes) signalInit.set(String(e.eventId), at);
      const sig = e.externalWorkflowExecutionSignaledEventAttributes;
      if (sig) split.signal_delivery_ms += at - (signalInit.get(String(sig.initiatedEventId)) ?? at);
    }
  }
  return split;
}

export async function meanTimeSplit(client: Client, incidentIds: string[]): Promise<TimeSplit | undefined> {
  if (incidentIds.length === 0) return undefined;
  const splits = await mapLimit(incidentIds, 4, (id) => timeSplit(client, id));
  const keys = Object.keys(splits[0]!) as (keyof TimeSplit)[];
  return Object.fromEntries(keys.map((k) => [k, Math.round(mean(splits.map((s) => s[k])))])) as unknown as TimeSplit;
}
