// The dev server's own Prometheus metrics (it serves /metrics on a random port: the launcher passes no
// --metrics-port, so we find it among the process's listening sockets). Deltas over a measurement say where the
// server's time went: persistence (SQLite) calls by operation, history task queue wait and processing, workflow lock
// waits. Best effort: absent when the port cannot be found.
import { execFileSync } from 'node:child_process';

export type MetricSample = Map<string, number>;

export async function findMetricsUrl(serverPid: number): Promise<string | undefined> {
  let out: string;
  try {
    out = execFileSync('ss', ['-ltnpH'], { encoding: 'utf8' });
  } catch {
    return undefined;
  }
  const ports = out
    .split('\n')
    .filter((line) => line.includes(`pid=${serverPid},`))
    .map((line) => /127\.0\.0\.1:(\d+)|\[::1?\]:(\d+)|\*:(\d+)|0\.0\.0\.0:(\d+)/.exec(line))
    .flatMap((m) => (m ? [Number(m[1] ?? m[2] ?? m[3] ?? m[4])] : []));
  for (const port of ports) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(1_000) });
      if (!response.ok) continue;
      const text = await response.text();
      if (text.includes('persistence_latency')) return `http://127.0.0.1:${port}/metrics`;
    } catch {
      // not an HTTP port
    }
  }
  return undefined;
}

/** `_sum` and `_count` series and counters (not buckets), keyed by name and labels. */
export async function scrape(url: string | undefined): Promise<MetricSample | undefined> {
  if (!url) return undefined;
  try {
    const text = await (await fetch(url, { signal: AbortSignal.timeout(5_000) })).text();
    const sample: MetricSample = new Map();
    for (const line of text.split('\n')) {
      if (!line || line.startsWith('#') || line.includes('_bucket{')) continue;
      const space = line.lastIndexOf(' ');
      const value = Number(line.slice(space + 1));
      if (Number.isFinite(value)) sample.set(line.slice(0, space), value);
    }
    return sample;
  } catch {
    return undefined;
  }
}

function labelsOf(key: string): Record<string, string> {
  const inner = /\{(.*)\}/.exec(key)?.[1] ?? '';
  return Object.fromEntries([...inner.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
}

function nameOf(key: string): string {
  return key.split('{')[0]!;
}

export interface ServerTime {
  /** Seconds spent in persistence calls (SQLite), total and by operation (top ones). */
  persistence_s: number;
  persistence_calls: number;
  persistence_by_operation: Record<string, { calls: number; s: number }>;
  /** History tasks (transfer, timer, visibility): seconds waiting in queue and processing, by task type (top ones). */
  task_queue_wait_s?: number;
  task_processing_s?: number;
  tasks_by_type?: Record<string, { tasks: number; queue_s: number; processing_s: number }>;
  /** Waits for workflow (mutable state) locks. */
  lock_wait_s?: number;
}

const SUM_DIFF = (a: MetricSample, b: MetricSample, name: string, groupBy: string) => {
  const out: Record<string, { count: number; sum: number }> = {};
  for (const [key, value] of b) {
    const base = nameOf(key);
    if (base !== `${name}_sum` && base !== `${name}_count`) continue;
    const group = labelsOf(key)[groupBy] ?? '?';
    const delta = value - (a.get(key) ?? 0);
    const entry = (out[group] ??= { count: 0, sum: 0 });
    if (base.endsWith('_sum')) entry.sum += delta;
    else entry.count += delta;
  }
  return out;
};

const r = (v: number): number => Math.round(v * 100) / 100;

export function serverTime(a: MetricSample | undefined, b: MetricSample | undefined, top = 8): ServerTime | undefined {
  if (!a || !b) return undefined;
  const persistence = SUM_DIFF(a, b, 'persistence_latency', 'operation');
  const sorted = Object.entries(persistence).sort((x, y) => y[1].sum - x[1].sum);
  const queue = SUM_DIFF(a, b, 'task_latency_queue', 'task_type');
  const processing = SUM_DIFF(a, b, 'task_latency_processing', 'task_type');
  const locks = SUM_DIFF(a, b, 'lock_latency', 'operation');
  const types = [...new Set([...Object.keys(queue), ...Object.keys(processing)])]
    .map(
      (t) =>
        [
          t,
          {
            tasks: processing[t]?.count ?? queue[t]?.count ?? 0,
            queue_s: r(queue[t]?.sum ?? 0),
            processing_s: r(processing[t]?.sum ?? 0),
          },
        ] as const,
    )
    .sort((x, y) => y[1].queue_s + y[1].processing_s - (x[1].queue_s + x[1].processing_s))
    .slice(0, top);
  return {
    persistence_s: r(sorted.reduce((s, [, v]) => s + v.sum, 0)),
    persistence_calls: sorted.reduce((s, [, v]) => s + v.count, 0),
    persistence_by_operation: Object.fromEntries(
      sorted.slice(0, top).map(([k, v]) => [k, { calls: v.count, s: r(v.sum) }]),
    ),
    ...(types.length
      ? {
          task_queue_wait_s: r(Object.values(queue).reduce((s, v) => s + v.sum, 0)),
          task_processing_s: r(Object.values(processing).reduce((s, v) => s + v.sum, 0)),
          tasks_by_type: Object.fromEntries(types),
        }
      : {}),
    ...(Object.keys(locks).length ? { lock_wait_s: r(Object.values(locks).reduce((s, v) => s + v.sum, 0)) } : {}),
  };
}
