// Turns a bench run into bench/results/engine.json (the headline figures, each {value, concurrency, duration_s,
// note}), bench/results/engine-details.json (everything measured) and the generated block of docs/BENCHMARKS.md
// (between the bench:begin and bench:end markers; the prose around it is kept).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { CeilingPoint } from './ceiling';
import type { IdAllocationResult } from './id-allocation';
import type { StormResult } from './intake';
import type { LatencyResult } from './latency';
import type { LifecyclePoint } from './lifecycle';
import type { Resources } from './lib/context';
import type { MachineInfo } from './lib/machine';
import type { BenchSettings } from './lib/settings';
import { round } from './lib/stats';
import type { TimerResult } from './timers';
import type { UpdateResult } from './updates';

/** A table cell with a summary's p50 and p99 (and max). */
const p50p99 = (x: { p50: number; p99: number }): string => `${x.p50} / ${x.p99}`;
const p50p99max = (x: { p50: number; p99: number; max: number }): string => `${x.p50} / ${x.p99} / ${x.max}`;

type BusyProcess = { pid: number; cpu_share: number; command: string };

export interface BenchResults {
  started_at: string;
  finished_at?: string;
  duration_s?: number;
  command: string;
  settings: BenchSettings;
  machine: MachineInfo;
  load: {
    before: { loadavg: number[]; busy_processes: BusyProcess[] };
    after?: { loadavg: number[]; busy_processes: BusyProcess[] };
  };
  ceiling?: CeilingPoint[];
  lifecycle?: LifecyclePoint[];
  latency?: LatencyResult[];
  ids?: IdAllocationResult;
  storm?: StormResult;
  intake_unavailable?: string;
  timers?: TimerResult;
  updates?: UpdateResult;
  worker_rss_samples_mb?: number;
  profiles?: Record<string, unknown>;
}

export interface Figure {
  value: number | null;
  concurrency: number | string | null;
  duration_s: number | null;
  note?: string;
}

export const AIMS = {
  efficiency: { min: 0.8, text: '>= 0.8' },
  alert_to_action_p99_ms: { max: 200, text: '<= 200 ms' },
  update_rtt_p99_ms: { max: 200, text: '<= 200 ms' },
  timer_lateness_p99_ms: { max: 1000, text: '<= 1 s' },
  worker_rss_mb: { max: 512, text: '<= 512 MB' },
} as const;

const notMeasured = (why: string): Figure => ({
  value: null,
  concurrency: null,
  duration_s: null,
  note: `not measured: ${why}`,
});
const best = <T>(items: T[], by: (t: T) => number): T | undefined =>
  items.reduce<T | undefined>((b, t) => (b === undefined || by(t) > by(b) ? t : b), undefined);

/** State transitions per incident, including the registry's share per open (registry path). */
export function incidentStateTransitions(point: LifecyclePoint): number {
  return (
    point.cost.stateTransitions + (point.path === 'registry' ? (point.registry?.perOpen.stateTransitions ?? 0) : 0)
  );
}

export function figures(r: BenchResults): Record<string, Figure> {
  const out: Record<string, Figure> = {};
  const ceiling = r.ceiling ?? [];
  const ceilingFig = (workflow: CeilingPoint['workflow']): Figure => {
    const points = ceiling.filter((p) => p.workflow === workflow);
    const top = best(points, (p) => p.wps);
    if (!top) return notMeasured('ceiling section did not run');
    return {
      value: top.wps,
      concurrency: top.concurrency,
      duration_s: top.duration_s,
      note:
        `best of concurrency ${points.map((p) => `${p.concurrency}: ${p.wps}/s`).join(', ')}; ` +
        `${top.state_transitions_per_wf} state transitions and ${top.events_per_wf} history events per workflow (describe().stateTransitionCount); ` +
        `${top.state_transitions_per_s} state transitions/s`,
    };
  };
  out.ceiling_noop_wps = ceilingFig('benchNoopWorkflow');
  out.ceiling_activity_wps = ceilingFig('benchActivityWorkflow');

  const lifecycle = r.lifecycle ?? [];
  const viaRegistry = best(
    lifecycle.filter((p) => p.path === 'registry'),
    (p) => p.wps,
  );
  const direct = best(
    lifecycle.filter((p) => p.path === 'direct'),
    (p) => p.wps,
  );
  const ceilingSt = best(ceiling, (p) => p.state_transitions_per_s);
  if (viaRegistry) {
    out.incident_wps = {
      value: viaRegistry.wps,
      concurrency: viaRegistry.concurrency,
      duration_s: viaRegistry.duration_s,
      note:
        `self-resolving bench runbook (5 phases, 6 drill steps) opened through the registry, closed loop; ` +
        `p50 ${viaRegistry.latency_ms.p50} ms open-to-close` +
        (direct ? `; started directly (no registry) at concurrency ${direct.concurrency}: ${direct.wps}/s` : ''),
    };
    const st = incidentStateTransitions(viaRegistry);
    const stPerS = viaRegistry.wps * st;
    const sameC = ceiling.filter((p) => p.concurrency === viaRegistry.concurrency);
    const sameCSt = best(sameC, (p) => p.state_transitions_per_s);
    out.efficiency = ceilingSt
      ? {
          value: round(stPerS / ceilingSt.state_transitions_per_s, 2),
          concurrency: viaRegistry.concurrency,
          duration_s: viaRegistry.duration_s,
          note:
            `incident ${round(stPerS, 1)} state transitions/s (${viaRegistry.wps}/s x ${round(st, 1)} per incident: incident ` +
            `${viaRegistry.cost.incidentOnly.stateTransitions}, phase children ${viaRegistry.cost.childrenOnly.stateTransitions}, registry share ` +
            `${viaRegistry.registry?.perOpen.stateTransitions ?? '?'}) / ceiling ${ceilingSt.state_transitions_per_s} (${ceilingSt.workflow}, concurrency ` +
            `${ceilingSt.concurrency}, the highest measured)` +
            (sameCSt
              ? `; against the ceiling at the same concurrency (${sameCSt.state_transitions_per_s}): ${round(stPerS / sameCSt.state_transitions_per_s, 2)}`
              : '') +
            (direct
              ? `; direct starts: ${round((direct.wps * direct.cost.stateTransitions) / ceilingSt.state_transitions_per_s, 2)}`
              : ''),
        }
      : notMeasured('needs the ceiling section');
    out.events_per_incident = {
      value: viaRegistry.cost.events,
      concurrency: viaRegistry.concurrency,
      duration_s: viaRegistry.duration_s,
      note:
        `history events of the incident (${viaRegistry.cost.incidentOnly.events}) and its 5 phase children (${viaRegistry.cost.childrenOnly.events}), ` +
        `mean of ${viaRegistry.cost.sampled}; plus the registry's ${viaRegistry.registry?.perOpen.events ?? '?'} per open; ` +
        `${viaRegistry.cost.workflowTasks} workflow tasks (+${viaRegistry.registry?.perOpen.workflowTasks ?? '?'} registry), ` +
        `${viaRegistry.cost.stateTransitions} state transitions (+${viaRegistry.registry?.perOpen.stateTransitions ?? '?'} registry) per incident`,
    };
  } else {
    out.incident_wps = notMeasured('lifecycle section did not run');
    out.efficiency = notMeasured('lifecycle section did not run');
    out.events_per_incident = notMeasured('lifecycle section did not run');
  }

  const [steady, low] = r.latency ?? [];
  out.alert_to_action_p99_ms = steady
    ? {
        value: steady.alert_to_action_ms.p99,
        concurrency: `${steady.rate}/s offered (open loop)`,
        duration_s: steady.duration_s,
        note:
          `from ${steady.via === 'http-intake' ? 'the POST to /intake/alerts' : 'the IncidentClient.open call (HTTP intake not available)'} ` +
          `to the contain child's first ActivityTaskStarted; p50 ${steady.alert_to_action_ms.p50} ms, max ${steady.alert_to_action_ms.max} ms, ` +
          `${steady.measured} of ${steady.offered} alerts measured` +
          (steady.errors ? ` (${steady.errors} refused: ${steady.first_error ?? '?'})` : '') +
          `; opens kept up at ${steady.achieved_open_rate}/s` +
          (low ? `; at ${low.rate}/s: p50 ${low.alert_to_action_ms.p50} ms, p99 ${low.alert_to_action_ms.p99} ms` : ''),
      }
    : notMeasured('latency section did not run');

  const u = r.updates;
  out.update_rtt_p99_ms = u
    ? {
        value: u.rtt_ms.p99,
        concurrency: `${u.rate}/s (open loop)`,
        duration_s: u.duration_s,
        note: `${u.sent} updates in pairs (acknowledge an incident, then assignOwner on it) over the incidents the latency and ID sections left open; p50 ${u.rtt_ms.p50} ms; acknowledge p99 ${u.acknowledge_ms.p99} ms, assignOwner p99 ${u.assign_owner_ms.p99} ms; ${u.errors} errors`,
      }
    : notMeasured('updates section did not run');

  const t = r.timers;
  if (t) {
    const timerSection = (t.cpu.wall_s ?? null) as number | null;
    out.timer_lateness_p99_ms = {
      value: t.lateness_ms.p99,
      concurrency: t.incidents,
      duration_s: timerSection,
      note:
        `${t.fired} of ${t.incidents} P1 incidents escalated` +
        (t.missing
          ? ` (the other ${t.missing} not within ${r.settings.timers.graceS} s after the last one that did: lateness unbounded, the p99 is of those that fired)`
          : '') +
        ` (${t.response_s} s response time), escalated.at - dueAt: p50 ${t.lateness_ms.p50} ms, ` +
        `max ${t.lateness_ms.max} ms; started in ${t.open_s} s, fired over ${t.fire_span_s} s` +
        (t.start_to_opened_ms
          ? `; start request to the incident's first workflow task (its clock's zero) p50 ${t.start_to_opened_ms.p50}/p99 ${t.start_to_opened_ms.p99} ms`
          : '') +
        (t.sample_timer_fired_late_ms
          ? `; sample: server TimerFired - dueAt p50 ${t.sample_timer_fired_late_ms.p50}/p99 ${t.sample_timer_fired_late_ms.p99} ms, ` +
            `then WorkflowTaskStarted p50 ${t.sample_task_started_after_fire_ms?.p50}/p99 ${t.sample_task_started_after_fire_ms?.p99} ms`
          : ''),
    };
    out.open_incidents = {
      value: t.open_incidents_peak,
      concurrency: t.incidents,
      duration_s: timerSection,
      note: `running incident workflows at the peak of the timer run (visibility count: the ${t.incidents} timer incidents plus those earlier sections left open, which the fresh worker does not hold unless they get a task)`,
    };
    out.worker_rss_mb = {
      value: t.worker_peak_rss_mb ?? null,
      concurrency: t.incidents,
      duration_s: timerSection,
      note: `peak process.memoryUsage().rss of the engine worker process (sampled every ${r.settings.sampleMs} ms) with ${t.incidents} incidents open; fresh worker ${t.worker_rss_mb_before ?? '?'} MB, at rest after the escalations ${t.worker_rss_mb_at_rest ?? '?'} MB`,
    };
  } else {
    out.timer_lateness_p99_ms = notMeasured('timers section did not run');
    out.open_incidents = notMeasured('timers section did not run');
    out.worker_rss_mb = notMeasured('timers section did not run');
  }

  const s = r.storm;
  if (s) {
    const fresh = steady?.via === 'http-intake' ? steady : undefined;
    out.intake_rps = {
      value: s.rps,
      concurrency: s.concurrency,
      duration_s: s.duration_s,
      note:
        `duplicate-alert storm: ${s.alerts} generic alerts with one dedup key, POST /intake/alerts; ${s.distinct_incidents} incident(s), ` +
        `${s.incidents_created} created, ${s.alerts_on_timeline} alerts on its timeline, ${s.errors} errors` +
        (fresh
          ? `; alerts that each open a new incident: ${fresh.achieved_open_rate}/s at ${fresh.rate}/s offered`
          : ''),
    };
    out.intake_p99_ms = {
      value: s.latency_ms.p99,
      concurrency: s.concurrency,
      duration_s: s.duration_s,
      note:
        `HTTP round trip in the storm; p50 ${s.latency_ms.p50} ms` +
        (fresh
          ? `; alerts that each open a new incident, ${fresh.rate}/s offered: p50 ${fresh.open_call_ms.p50} ms, p99 ${fresh.open_call_ms.p99} ms`
          : ''),
    };
  } else {
    const why = r.intake_unavailable ?? 'intake section did not run';
    out.intake_rps = notMeasured(why);
    out.intake_p99_ms = notMeasured(why);
  }

  const ids = r.ids;
  out.id_allocations_per_s = ids
    ? {
        value: ids.per_s,
        concurrency: ids.concurrency,
        duration_s: ids.duration_s,
        note:
          `opens through the registry, closed loop; open p50 ${ids.open_ms.p50} ms, p99 ${ids.open_ms.p99} ms; ${ids.errors} failed; ` +
          `ids distinct ${ids.ids_distinct}, gapless ${ids.ids_gapless}; server refused ${ids.grpc.ExecuteMultiOperation?.RESOURCE_EXHAUSTED ?? 0} ` +
          `update-with-start attempts (in-flight update limit) that the client retried; registry ${ids.registry.workflowTasksPerS} workflow tasks/s, ` +
          `${ids.registry.updatesPerAcceptingTask.p50} opens accepted per task (p50, max ${ids.registry.updatesPerAcceptingTask.max})`,
      }
    : notMeasured('ids section did not run');

  return out;
}

export function aimMet(key: string, figure: Figure | undefined): boolean | undefined {
  const aim = (AIMS as Record<string, { min?: number; max?: number }>)[key];
  if (!aim || !figure || figure.value === null || !Number.isFinite(figure.value)) return undefined;
  if (aim.min !== undefined) return figure.value >= aim.min;
  if (aim.max !== undefined) return figure.value <= aim.max;
  return undefined;
}

// ---- markdown ----------------------------------------------------------------------------------------------

const fmt = (v: unknown): string =>
  v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v)) ? '-' : String(v);
const row = (cells: unknown[]): string => `| ${cells.map((c) => fmt(c).replace(/\|/g, '\\|')).join(' | ')} |`;
const table = (header: string[], rows: unknown[][]): string =>
  [row(header), row(header.map(() => '---')), ...rows.map(row)].join('\n');

const cpuCells = (x: Resources): unknown[] => [
  x.cpu.wall_s,
  x.cpu.server_s,
  x.cpu.worker_s,
  x.cpu.client_s,
  x.cpu.other_s,
  x.cpu.machine_busy,
];
const CPU_HEAD = ['wall s', 'CPU s server', 'worker', 'bench client', 'others', 'machine busy'];

const LABELS: Record<string, string> = {
  ceiling_noop_wps: 'Ceiling, no-op workflow (completions/s)',
  ceiling_activity_wps: 'Ceiling, one no-op activity (completions/s)',
  incident_wps: 'Incident lifecycle (completions/s)',
  efficiency: 'Efficiency (incident ÷ ceiling state transitions/s)',
  events_per_incident: 'History events per incident',
  alert_to_action_p99_ms: 'Alert to first containment activity, p99 (ms)',
  update_rtt_p99_ms: 'Operator update round trip, p99 (ms)',
  timer_lateness_p99_ms: 'Escalation timer lateness, p99 (ms)',
  open_incidents: 'Open incidents at once',
  worker_rss_mb: 'Worker RSS at peak (MB)',
  intake_rps: 'HTTP intake throughput (requests/s)',
  intake_p99_ms: 'HTTP intake latency, p99 (ms)',
  id_allocations_per_s: 'Incident ID allocations/s',
};

export function markdown(r: BenchResults, figs: Record<string, Figure>): string {
  const m = r.machine;
  const lines: string[] = [];
  lines.push(
    `Generated by \`npm run bench\` on ${r.started_at} (${r.duration_s ?? '?'} s). Do not edit between the markers; rerun instead.`,
  );
  lines.push('');
  lines.push(`- Command: \`${r.command}\``);
  lines.push(`- Machine: ${m.cpu_model}, ${m.cores} cores, ${m.memory_gb} GB memory, ${m.os}`);
  lines.push(
    `- Versions: Node ${m.node}, Temporal TypeScript SDK ${m.temporal_sdk}, ${m.temporal_cli} (dev server on SQLite, started by src/temporal/dev-server.ts as \`npm start\` does)`,
  );
  lines.push(
    `- Worker: one process, \`createWorker\` from src/worker.ts (SDK defaults: 40 workflow task slots, one workflow thread, cache sized from the heap); the bench client is this process`,
  );
  const busy = (when: string, l?: { loadavg: number[]; busy_processes: BusyProcess[] }): string =>
    l
      ? `${when}: load average ${l.loadavg.join(' / ')}; other busy processes: ${
          l.busy_processes.length
            ? l.busy_processes.map((p) => `${p.command.slice(0, 70)} (${p.cpu_share} cores)`).join('; ')
            : 'none'
        }`
      : `${when}: not recorded`;
  lines.push(
    `- Outside load (other engineers' tests share these cores), sampled for 2 s ${busy('before the run', r.load.before)}. ` +
      `${busy('After it', r.load.after)}. What matters more: each section's table lists the CPU seconds other processes ` +
      `used during that section ("others") and how busy the whole machine was.`,
  );
  lines.push('');
  lines.push('### Headline figures (bench/results/engine.json)');
  lines.push('');
  lines.push(
    table(
      ['Figure', 'Value', 'Concurrency', 'Duration (s)', 'Aim', 'Met', 'Note'],
      Object.entries(figs).map(([key, f]) => {
        const aim = (AIMS as Record<string, { text: string }>)[key];
        const met = aimMet(key, f);
        return [
          `${LABELS[key] ?? key} \`${key}\``,
          f.value,
          f.concurrency,
          f.duration_s,
          aim?.text ?? '',
          met === undefined ? '' : met ? 'yes' : '**no**',
          f.note ?? '',
        ];
      }),
    ),
  );

  if (r.ceiling?.length) {
    lines.push('', '### Ceiling', '');
    lines.push(
      table(
        [
          'Workflow',
          'Concurrency',
          'Window s',
          'Completions/s',
          'State transitions/wf',
          'Events/wf',
          'State transitions/s',
          'Latency p50/p99 ms',
          ...CPU_HEAD,
        ],
        r.ceiling.map((p) => [
          p.workflow,
          p.concurrency,
          p.duration_s,
          p.wps,
          p.state_transitions_per_wf,
          p.events_per_wf,
          p.state_transitions_per_s,
          p50p99(p.latency_ms),
          ...cpuCells(p),
        ]),
      ),
    );
  }

  if (r.lifecycle?.length) {
    lines.push('', '### Incident lifecycle', '');
    lines.push(
      table(
        [
          'Path',
          'Concurrency',
          'Window s',
          'Completions/s',
          'Open-to-close p50/p99 ms',
          'Events (incident + children)',
          'Workflow tasks',
          'State transitions',
          'Registry share per open (events / WFTs / st)',
          ...CPU_HEAD,
        ],
        r.lifecycle.map((p) => [
          p.path === 'registry' ? 'through the registry' : 'started directly',
          p.concurrency,
          p.duration_s,
          p.wps,
          p50p99(p.latency_ms),
          `${p.cost.events} (${p.cost.incidentOnly.events} + ${p.cost.childrenOnly.events})`,
          `${p.cost.workflowTasks} (${p.cost.incidentOnly.workflowTasks} + ${p.cost.childrenOnly.workflowTasks})`,
          `${p.cost.stateTransitions} (${p.cost.incidentOnly.stateTransitions} + ${p.cost.childrenOnly.stateTransitions})`,
          p.registry
            ? `${p.registry.perOpen.events} / ${p.registry.perOpen.workflowTasks} / ${p.registry.perOpen.stateTransitions}`
            : '-',
          ...cpuCells(p),
        ]),
      ),
    );
    const splits = r.lifecycle.filter((p) => p.time_split);
    if (splits.length) {
      lines.push(
        '',
        "Where an incident's open-to-close time went (mean ms per incident, summed over the incident and its children, from history timestamps; the parts overlap where phases and loops run concurrently, so they need not add up):",
        '',
      );
      const keys = Object.keys(splits[0]!.time_split!) as (keyof NonNullable<LifecyclePoint['time_split']>)[];
      lines.push(
        table(
          ['Part', ...splits.map((p) => `${p.path} c=${p.concurrency}`)],
          keys.map((k) => [k.replace(/_ms$/, '').replace(/_/g, ' '), ...splits.map((p) => p.time_split![k])]),
        ),
      );
    }
    const sample = r.lifecycle.find((p) => p.path === 'registry') ?? r.lifecycle[0]!;
    lines.push(
      '',
      `Where one incident's ${sample.cost.events} events go (mean of ${sample.cost.sampled} incidents, ${sample.path} path):`,
      '',
    );
    lines.push(
      table(
        ['Category', 'Events per incident'],
        Object.entries(sample.cost.eventsByCategory).map(([k, v]) => [k, v]),
      ),
    );
    lines.push('', 'By event type, in the incident workflow and in its five phase children together:', '');
    const types = [
      ...new Set([...Object.keys(sample.cost.incidentEventsByType), ...Object.keys(sample.cost.childEventsByType)]),
    ];
    lines.push(
      table(
        ['Event type', 'Incident', 'Phase children'],
        types.map((t) => [t, sample.cost.incidentEventsByType[t] ?? 0, sample.cost.childEventsByType[t] ?? 0]),
      ),
    );
  }

  if (r.latency?.length) {
    lines.push('', '### Alert to first containment activity', '');
    lines.push(
      table(
        [
          'Via',
          'Offered',
          'For s',
          'Opened',
          'Kept up at /s',
          'Alert to action p50 / p99 / max ms',
          'Open call p50 / p99',
          'Alert to incident started p50 / p99',
          'Incident to contain child p50 / p99',
          'Contain child to activity p50 / p99',
          ...CPU_HEAD,
        ],
        r.latency.map((l) => [
          l.via,
          `${l.rate}/s`,
          l.duration_s,
          `${l.opened} of ${l.offered}`,
          l.achieved_open_rate,
          p50p99max(l.alert_to_action_ms),
          p50p99(l.open_call_ms),
          p50p99(l.alert_to_incident_started_ms),
          p50p99(l.incident_started_to_contain_started_ms),
          p50p99(l.contain_started_to_first_activity_ms),
          ...cpuCells(l),
        ]),
      ),
    );
  }

  if (r.updates) {
    const u = r.updates;
    lines.push('', '### Operator updates', '');
    lines.push(
      table(
        [
          'Rate',
          'For s',
          'Sent',
          'Errors',
          'RTT p50 / p99 / max ms',
          'acknowledge p50 / p99',
          'assignOwner p50 / p99',
          ...CPU_HEAD,
        ],
        [
          [
            `${u.rate}/s`,
            u.duration_s,
            u.sent,
            u.errors,
            p50p99max(u.rtt_ms),
            p50p99(u.acknowledge_ms),
            p50p99(u.assign_owner_ms),
            ...cpuCells(u),
          ],
        ],
      ),
    );
  }

  if (r.timers) {
    const t = r.timers;
    lines.push('', '### Escalation timers', '');
    lines.push(
      table(
        [
          'Incidents',
          'Response time s',
          'Started in s',
          'Open at peak',
          'Fired',
          'Fired over s',
          'Lateness p50 / p99 / max ms',
          'Sample: TimerFired - dueAt p50 / p99',
          'Sample: task started after fire p50 / p99',
          'Worker RSS fresh / peak / at rest MB',
          ...CPU_HEAD,
        ],
        [
          [
            t.incidents,
            t.response_s,
            t.open_s,
            t.open_incidents_peak,
            t.fired,
            t.fire_span_s,
            p50p99max(t.lateness_ms),
            t.sample_timer_fired_late_ms ? p50p99(t.sample_timer_fired_late_ms) : '-',
            t.sample_task_started_after_fire_ms ? p50p99(t.sample_task_started_after_fire_ms) : '-',
            `${t.worker_rss_mb_before ?? '-'} / ${t.worker_peak_rss_mb ?? '-'} / ${t.worker_rss_mb_at_rest ?? '-'}`,
            ...cpuCells(t),
          ],
        ],
      ),
    );
  }

  if (r.ids) {
    const i = r.ids;
    lines.push('', '### Incident ID allocation (registry)', '');
    lines.push(
      table(
        [
          'Concurrency',
          'Window s',
          'Opens/s',
          'Failed',
          'Open p50 / p99 / max ms',
          'Update-with-start attempts by status',
          'Registry WFT/s',
          'Opens accepted per WFT p50 / max',
          'Registry WFT scheduled-to-started p50 / p99 ms',
          'Registry WFT started-to-completed p50 / p99 ms',
          ...CPU_HEAD,
        ],
        [
          [
            i.concurrency,
            i.duration_s,
            i.per_s,
            i.errors,
            p50p99max(i.open_ms),
            Object.entries(i.grpc.ExecuteMultiOperation ?? {})
              .map(([k, v]) => `${k} ${v}`)
              .join(', '),
            i.registry.workflowTasksPerS,
            `${i.registry.updatesPerAcceptingTask.p50} / ${i.registry.updatesPerAcceptingTask.max}`,
            p50p99(i.registry.wftScheduleToStartMs),
            p50p99(i.registry.wftStartToCompleteMs),
            ...cpuCells(i),
          ],
        ],
      ),
    );
  }

  if (r.storm) {
    const s = r.storm;
    lines.push('', '### HTTP intake: duplicate-alert storm', '');
    lines.push(
      table(
        [
          'Alerts',
          'Concurrency',
          'Took s',
          'Requests/s',
          'Latency p50 / p99 / max ms',
          'Errors',
          'Incidents (created)',
          'Alerts on the timeline',
          ...CPU_HEAD,
        ],
        [
          [
            s.alerts,
            s.concurrency,
            s.duration_s,
            s.rps,
            p50p99max(s.latency_ms),
            s.errors,
            `${s.distinct_incidents} (${s.incidents_created})`,
            s.alerts_on_timeline,
            ...cpuCells(s),
          ],
        ],
      ),
    );
  } else {
    lines.push(
      '',
      '### HTTP intake',
      '',
      `Not measured yet: ${r.intake_unavailable ?? 'the intake section did not run'}.`,
    );
  }

  // Where the time went, per section: worker threads and the server's own accounting.
  const sections: [string, Resources][] = [
    ...(r.ceiling ?? []).map((p) => [`ceiling ${p.workflow} c=${p.concurrency}`, p] as [string, Resources]),
    ...(r.lifecycle ?? []).map((p) => [`lifecycle ${p.path} c=${p.concurrency}`, p] as [string, Resources]),
    ...(r.latency ?? []).map((p) => [`latency ${p.rate}/s`, p] as [string, Resources]),
    ...(r.ids ? [[`ids c=${r.ids.concurrency}`, r.ids] as [string, Resources]] : []),
    ...(r.storm ? [['intake storm', r.storm] as [string, Resources]] : []),
    ...(r.timers ? [['timers', r.timers] as [string, Resources]] : []),
    ...(r.updates ? [['updates', r.updates] as [string, Resources]] : []),
  ];
  lines.push('', '### Where the CPU went', '');
  lines.push(
    "Worker CPU seconds by thread (from /proc) and the dev server's own metrics (persistence = time inside SQLite persistence calls, summed over concurrent calls; history tasks = transfer/timer/visibility task queue wait and processing).",
    '',
  );
  lines.push(
    table(
      [
        'Section',
        'Worker: workflow thread',
        'main JS thread',
        'Rust core',
        'V8 GC/compiler',
        'Server persistence s (calls)',
        'Top persistence operations',
        'History tasks queue / processing s',
      ],
      sections.map(([name, x]) => {
        const w = x.worker_threads_cpu_s ?? {};
        const sv = x.server;
        return [
          name,
          w['JS worker thread (workflow sandbox)'],
          w['main JS thread (SDK worker loop, activities)'],
          w['Rust core SDK threads'],
          w['V8 platform threads (GC, compiler)'],
          sv ? `${sv.persistence_s} (${sv.persistence_calls})` : '-',
          sv
            ? Object.entries(sv.persistence_by_operation)
                .slice(0, 3)
                .map(([k, v]) => `${k} ${v.s}`)
                .join(', ')
            : '-',
          sv && sv.task_queue_wait_s !== undefined ? `${sv.task_queue_wait_s} / ${sv.task_processing_s}` : '-',
        ];
      }),
    ),
  );
  return lines.join('\n');
}

const BEGIN = '<!-- bench:begin (generated by npm run bench) -->';
const END = '<!-- bench:end -->';

export function writeReport(repo: string, r: BenchResults): string[] {
  const figs = figures(r);
  const engineJson = path.join(repo, 'bench/results/engine.json');
  const details = path.join(repo, 'bench/results/engine-details.json');
  const docs = path.join(repo, 'docs/BENCHMARKS.md');
  writeFileSync(engineJson, `${JSON.stringify(figs, null, 2)}\n`);
  const strip = (x: unknown): unknown =>
    JSON.parse(JSON.stringify(x, (k, v: unknown) => (k === 'incidentIds' ? undefined : v)));
  writeFileSync(details, `${JSON.stringify(strip(r), null, 2)}\n`);
  const block = `${BEGIN}\n${markdown(r, figs)}\n${END}`;
  const existing = existsSync(docs) ? readFileSync(docs, 'utf8') : '';
  let text: string;
  if (existing.includes(BEGIN) && existing.includes(END)) {
    text = existing.slice(0, existing.indexOf(BEGIN)) + block + existing.slice(existing.indexOf(END) + END.length);
  } else {
    text = `# Benchmarks\n\nRun with \`npm run bench\` (about 12 minutes on 2 cores; not part of \`npm test\`).\n\n## Latest run\n\n${block}\n`;
  }
  writeFileSync(docs, text);
  return [engineJson, details, docs];
}

// `npx tsx bench/report.ts [bench/results/engine-details.json]` rewrites engine.json and the docs block from a stored
// run (the same measurements; for changes to the report's wording or layout).
if (import.meta.url === `file://${process.argv[1]}`) {
  const repo = path.resolve(import.meta.dirname, '..');
  const file = process.argv[2] ?? path.join(repo, 'bench/results/engine-details.json');
  const stored = JSON.parse(readFileSync(file, 'utf8')) as BenchResults;
  const written = writeReport(repo, stored);
  console.log(`rewrote ${written.map((f) => path.relative(repo, f)).join(', ')} from ${path.relative(repo, file)}`);
}
