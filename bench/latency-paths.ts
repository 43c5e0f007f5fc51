// Where one alert's time went on its way to containment: the workflow tasks of its incident, detect child and
// contain child on one clock. The latency section writes one file per measured alert when BENCH_DUMP_DIR is set;
//   npx tsx bench/latency-paths.ts <dir> [rate]
// prints them slowest last, each task as start+duration in ms after the alert, and the median of each stage.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type HistoryBreakdown, eventTimeMs, eventTypeName } from './lib/counts';
import { summarize } from './lib/stats';

type Workflow = 'incident' | 'detect' | 'contain';
/** A history as [event id, event type, time in ms]. */
type EventTimes = [number, string, number][];

export interface AlertPath extends Record<Workflow, EventTimes> {
  alertAt: number;
  openedAt: number;
}

export function eventTimes(histories: Record<Workflow, HistoryBreakdown>): Record<Workflow, EventTimes> {
  const times = (h: HistoryBreakdown): EventTimes =>
    h.raw.map((e) => [Number(e.eventId), eventTypeName(e), eventTimeMs(e)]);
  return { incident: times(histories.incident), detect: times(histories.detect), contain: times(histories.contain) };
}

/** Each workflow task's start and duration, ms after `from`. */
function tasks(events: EventTimes, from: number): { at: number; ms: number }[] {
  const out: { at: number; ms: number }[] = [];
  let started: number | undefined;
  for (const [, type, at] of events) {
    if (type === 'WorkflowTaskStarted') started = at;
    if (type === 'WorkflowTaskCompleted' && started !== undefined) {
      out.push({ at: Math.round(started - from), ms: Math.round(at - started) });
      started = undefined;
    }
  }
  return out;
}

export function describePath(path: AlertPath) {
  const from = path.alertAt;
  const containStart = (path.contain[0]?.[2] ?? Infinity) - from;
  const action = path.contain.find(([, type]) => type === 'MarkerRecorded' || type === 'ActivityTaskStarted');
  return {
    total: action ? Math.round(action[2] - from) : undefined,
    incidentStarted: Math.round((path.incident[0]?.[2] ?? NaN) - from),
    incidentTasks: tasks(path.incident, from).filter((t) => t.at < containStart),
    detectTasks: tasks(path.detect, from),
    containFirstTask: tasks(path.contain, from)[0],
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [dir, rate] = process.argv.slice(2);
  if (!dir) throw new Error('usage: npx tsx bench/latency-paths.ts <BENCH_DUMP_DIR> [rate]');
  const paths = readdirSync(dir)
    .filter((f) => f.endsWith('.json') && (rate === undefined || f.startsWith(`${rate}-`)))
    .map((f) => ({ file: f, ...describePath(JSON.parse(readFileSync(join(dir, f), 'utf8')) as AlertPath) }))
    .sort((a, b) => (a.total ?? Infinity) - (b.total ?? Infinity));
  const show = (ts: { at: number; ms: number }[]) => ts.map((t) => `${t.at}+${t.ms}`).join(' ');
  for (const p of paths) {
    console.log(
      `${p.file}: ${p.total ?? '-'} ms; incident started ${p.incidentStarted}; incident tasks ${show(p.incidentTasks)}; ` +
        `detect ${show(p.detectTasks)}; contain ${p.containFirstTask ? show([p.containFirstTask]) : '-'}`,
    );
  }
  const median = (xs: number[]) => summarize(xs).p50;
  console.log(
    `median of ${paths.length}: total ${median(paths.flatMap((p) => p.total ?? []))} ms, ` +
      `incident tasks before contain ${median(paths.map((p) => p.incidentTasks.length))} ` +
      `(${median(paths.flatMap((p) => p.incidentTasks.map((t) => t.ms)))} ms each), ` +
      `detect task ${median(paths.flatMap((p) => p.detectTasks.map((t) => t.ms)))} ms, ` +
      `contain's first task ${median(paths.flatMap((p) => (p.containFirstTask ? [p.containFirstTask.ms] : [])))} ms`,
  );
}
