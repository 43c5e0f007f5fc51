// The registry's side of opening incidents, from its own histories (every run, since it continues as new): events,
// state transitions and workflow tasks per open, how many updates each workflow task accepted, and how long its
// workflow tasks waited for the worker (scheduled -> started) and took in the worker (started -> completed).
import type { Client } from '@temporalio/client';
import { REGISTRY_WORKFLOW_ID } from '../../workflows/definitions';
import { describeCounts, eventTimeMs, historyBreakdown } from './counts';
import { round, summarize, type Summary } from './stats';

export interface RegistryAnalysis {
  runs: number;
  opens: number;
  events: number;
  stateTransitions: number;
  workflowTasks: number;
  perOpen: { events: number; stateTransitions: number; workflowTasks: number };
  /** Within the window (or everything): updates accepted per workflow task that accepted any. */
  updatesPerAcceptingTask: Summary;
  wftScheduleToStartMs: Summary;
  wftStartToCompleteMs: Summary;
  /** Workflow tasks completed per second within the window. */
  workflowTasksPerS?: number;
  eventsByType: Record<string, number>;
}

export async function analyzeRegistry(
  client: Client,
  window?: { from: number; to: number },
): Promise<RegistryAnalysis> {
  const runIds: string[] = [];
  for await (const wf of client.workflow.list({ query: `WorkflowId = '${REGISTRY_WORKFLOW_ID}'` }))
    runIds.push(wf.runId);
  if (runIds.length === 0) runIds.push(''); // visibility may lag; the latest run at least
  let events = 0;
  let stateTransitions = 0;
  let workflowTasks = 0;
  let opens = 0;
  const perTask: number[] = [];
  const s2s: number[] = [];
  const s2c: number[] = [];
  let tasksInWindow = 0;
  const eventsByType: Record<string, number> = {};
  for (const runId of runIds) {
    const counts = await describeCounts(client, REGISTRY_WORKFLOW_ID, runId || undefined);
    const history = await historyBreakdown(client, REGISTRY_WORKFLOW_ID, runId || undefined);
    events += history.events;
    stateTransitions += counts.stateTransitions;
    workflowTasks += history.workflowTasks;
    opens += history.byType.WorkflowExecutionUpdateAccepted ?? 0;
    for (const [k, v] of Object.entries(history.byType)) eventsByType[k] = (eventsByType[k] ?? 0) + v;
    // Walk tasks: count updates accepted after each WorkflowTaskCompleted (they are written right after it).
    let accepted = -1;
    const scheduled = new Map<string, number>();
    const started = new Map<string, number>();
    for (const event of history.raw) {
      const at = eventTimeMs(event);
      const inWindow = !window || (at >= window.from && at <= window.to);
      if (event.workflowTaskScheduledEventAttributes) scheduled.set(String(event.eventId), at);
      if (event.workflowTaskStartedEventAttributes) {
        started.set(String(event.eventId), at);
        const sched = scheduled.get(String(event.workflowTaskStartedEventAttributes.scheduledEventId));
        if (inWindow && sched !== undefined) s2s.push(at - sched);
      }
      if (event.workflowTaskCompletedEventAttributes) {
        if (accepted > 0) perTask.push(accepted);
        accepted = inWindow ? 0 : -1;
        const st = started.get(String(event.workflowTaskCompletedEventAttributes.startedEventId));
        if (inWindow && st !== undefined) s2c.push(at - st);
        if (inWindow) tasksInWindow++;
      }
      if (event.workflowExecutionUpdateAcceptedEventAttributes && accepted >= 0) accepted++;
    }
    if (accepted > 0) perTask.push(accepted);
  }
  return {
    runs: runIds.length,
    opens,
    events,
    stateTransitions,
    workflowTasks,
    perOpen: {
      events: round(events / Math.max(1, opens), 2),
      stateTransitions: round(stateTransitions / Math.max(1, opens), 2),
      workflowTasks: round(workflowTasks / Math.max(1, opens), 2),
    },
    updatesPerAcceptingTask: summarize(perTask),
    wftScheduleToStartMs: summarize(s2s),
    wftStartToCompleteMs: summarize(s2c),
    ...(window ? { workflowTasksPerS: round(tasksInWindow / ((window.to - window.from) / 1000), 2) } : {}),
    eventsByType,
  };
}
