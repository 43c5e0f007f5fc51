// What Temporal recorded for a workflow: state transitions (describe's `stateTransitionCount`, the server's own count
// of mutable-state updates), history length, workflow tasks and events by type (from the history).
import type { Client, WorkflowHandle } from '@temporalio/client';

type History = Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;
export type HistoryEvent = NonNullable<History['events']>[number];

export interface WorkflowCounts {
  workflowId: string;
  stateTransitions: number;
  events: number;
}

/** describe(): state transitions and history length of the latest run of `workflowId`. */
export async function describeCounts(client: Client, workflowId: string, runId?: string): Promise<WorkflowCounts> {
  const description = await client.workflow.getHandle(workflowId, runId).describe();
  const info = description.raw.workflowExecutionInfo;
  const st = info?.stateTransitionCount;
  return {
    workflowId,
    stateTransitions: st === undefined || st === null ? Number.NaN : Number(st),
    events: description.historyLength,
  };
}

/** An event's type, from the one `...EventAttributes` field it carries: WorkflowTaskCompleted, TimerStarted, ... */
export function eventTypeName(event: HistoryEvent): string {
  for (const [key, value] of Object.entries(event)) {
    if (key.endsWith('EventAttributes') && value)
      return key[0]!.toUpperCase() + key.slice(1, -'EventAttributes'.length);
  }
  return `Unknown${String(event.eventType)}`;
}

export interface HistoryBreakdown {
  events: number;
  workflowTasks: number;
  byType: Record<string, number>;
  /** Per workflow task: ms from scheduled to started (waiting for a worker) and from started to completed (the worker). */
  wftScheduleToStartMs: number[];
  wftStartToCompleteMs: number[];
  firstEventMs: number;
  lastEventMs: number;
  raw: HistoryEvent[];
}

const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined): number =>
  t ? Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6) : Number.NaN;

export function eventTimeMs(event: HistoryEvent): number {
  return ms(event.eventTime as { seconds?: unknown; nanos?: number | null } | null | undefined);
}

/**
 * When the worker scheduled the local activity a `core_local_activity` marker records (its `data` detail, JSON:
 * `original_schedule_time` is the worker's clock; its `complete_time` is the workflow's, so no run time can be read
 * from it: a local activity's run is inside its workflow task's start-to-complete). Undefined for other events.
 */
export function localActivityScheduledMs(event: HistoryEvent): number | undefined {
  const marker = event.markerRecordedEventAttributes;
  const payload = marker?.markerName === 'core_local_activity' ? marker.details?.data?.payloads?.[0] : undefined;
  if (!payload?.data) return undefined;
  const data = JSON.parse(Buffer.from(payload.data).toString('utf8')) as {
    original_schedule_time: { seconds: number; nanos: number };
  };
  return ms(data.original_schedule_time);
}

/**
 * When the first activity of a history started: a scheduled activity's ActivityTaskStarted (the server's clock), or
 * a local activity's scheduling in the worker (its marker; the worker runs it at once, on the same machine's clock).
 */
export function firstActivityStartMs(events: HistoryEvent[]): number | undefined {
  for (const event of events) {
    if (event.activityTaskStartedEventAttributes) return eventTimeMs(event);
    const local = localActivityScheduledMs(event);
    if (local !== undefined) return local;
  }
  return undefined;
}

/** Histories of closed workflows do not change: analyses that read one several times ask for the cached copy. */
const closedHistories = new Map<string, Promise<History>>();

export function clearHistoryCache(): void {
  closedHistories.clear();
}

export async function historyBreakdown(
  client: Client,
  workflowId: string,
  runId?: string,
  options: { closed?: boolean } = {},
): Promise<HistoryBreakdown> {
  const key = `${workflowId}/${runId ?? ''}`;
  let fetching = options.closed ? closedHistories.get(key) : undefined;
  if (!fetching) {
    fetching = client.workflow.getHandle(workflowId, runId).fetchHistory();
    if (options.closed) {
      closedHistories.set(key, fetching);
      fetching.catch(() => closedHistories.delete(key));
    }
  }
  const history = await fetching;
  const events = history.events ?? [];
  const byType: Record<string, number> = {};
  const scheduledAt = new Map<string, number>();
  const startedAt = new Map<string, number>();
  const s2s: number[] = [];
  const s2c: number[] = [];
  for (const event of events) {
    const name = eventTypeName(event);
    byType[name] = (byType[name] ?? 0) + 1;
    const at = eventTimeMs(event);
    if (event.workflowTaskScheduledEventAttributes) scheduledAt.set(String(event.eventId), at);
    const started = event.workflowTaskStartedEventAttributes;
    if (started) {
      startedAt.set(String(event.eventId), at);
      const sched = scheduledAt.get(String(started.scheduledEventId));
      if (sched !== undefined) s2s.push(at - sched);
    }
    const completed = event.workflowTaskCompletedEventAttributes;
    if (completed) {
      const st = startedAt.get(String(completed.startedEventId));
      if (st !== undefined) s2c.push(at - st);
    }
  }
  return {
    events: events.length,
    workflowTasks: byType.WorkflowTaskCompleted ?? 0,
    byType,
    wftScheduleToStartMs: s2s,
    wftStartToCompleteMs: s2c,
    firstEventMs: events[0] ? eventTimeMs(events[0]) : Number.NaN,
    lastEventMs: events.length ? eventTimeMs(events[events.length - 1]!) : Number.NaN,
    raw: events,
  };
}

/** Runs `work` over `items` with at most `concurrency` at once; results in order. */
export async function mapLimit<T, R>(
  items: T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      for (;;) {
        const i = next++;
        if (i >= items.length) return;
        results[i] = await work(items[i]!, i);
      }
    }),
  );
  return results;
}
