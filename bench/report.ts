// Turns a bench run into bench/results/engine.json (the headline figures, each {value, concurrency, duration_s,
// note}), bench/results/engine-details.json (everything measured) and the generated block of docs/BENCHMARKS.md
// (between the bench:begin and bench:end markers; the prose around it is kept).
import { readFileSync, writeFileSync } from 'node:fs';
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

type Load = { loadavg: number[]; busy_processes: { pid: number; cpu_share: number; command: string }[] };

export interface BenchResults {
  started_at: string;
  finished_at?: string;
  duration_s?: number;
  command: string;
  settings: BenchSettings;
  machine: MachineInfo;
  load: {
    before: Load;
    after?: Load;
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
  alert_storm_to_action_p99_ms: { max: 3000, text: '<= 3 s' },
  update_rtt_p99_ms: { max: 200, text: '<= 200 ms' },
  timer_lateness_p99_ms: { max: 1000, text: '<= 1 s' },
  worker_rss_mb: { max: 512, text: '<= 512 MB' },
} as const;

/** A figure measured in a run of the given concurrency and duration. */
const figure = (
  run: { concurrency: number | string | null; duration_s: number | null },
  value: number | null,
  note: string,
): Figure => ({ value, concurrency: run.concurrency, duration_s: run.duration_s, note });
const notMeasured = (why: string): Figure =>
  figure({ concurrency: null, duration_s: null }, null, `not measured: ${why}`);
/** The same "not measured" figure under each key. */
const notMeasuredAll = (why: string, ...keys: string[]): Record<string, Figure> =>
  Object.fromEntries(keys.map((key) => [key, notMeasured(why)]));
const best = <T>(items: T[], by: (t: T) => number): T | undefined =>
  items.reduce<T | undefined>((b, t) => (b === undefined || by(t) > by(b) ? t : b), undefined);

/** State transitions per incident, including the registry's share per open (registry path). */
export function incidentStateTransitions(point: LifecyclePoint): number {
  return (
    point.cost.stateTransitions + (point.path === 'registry' ? (point.registry?.perOpen.stateTransitions ?? 0) : 0)
  );
}

export function figures(r: BenchResults): Record<string, Figure> {
  const ceiling = r.ceiling ?? [];
  const ceilingFig = (workflow: CeilingPoint['workflow']): Figure => {
    const points = ceiling.filter((p) => p.workflow === workflow);
    const top = best(points, (p) => p.wps);
    if (!top) return notMeasured('ceiling section did not run');
    return figure(
      top,
      top.wps,
      `best of concurrency ${points.map((p) => `${p.concurrency}: ${p.wps}/s`).join(', ')}; ` +
        `${top.state_transitions_per_wf} state transitions and ${top.events_per_wf} history events per workflow (describe().stateTransitionCount); ` +
        `${top.state_transitions_per_s} state transitions/s`,
    );
  };
  const out: Record<string, Figure> = {
    ceiling_noop_wps: ceilingFig('benchNoopWorkflow'),
    ceiling_activity_wps: ceilingFig('benchActivityWorkflow'),
  };

  const lifecycle = r.lifecycle ?? [];
  const fastest = (via: LifecyclePoint['path']) =>
    best(
      lifecycle.filter((p) => p.path === via),
      (p) => p.wps,
    );
  const [viaRegistry, direct] = [fastest('registry'), fastest('direct')];
  const ceilingSt = best(ceiling, (p) => p.state_transitions_per_s);
  if (viaRegistry) {
    const { cost, registry } = viaRegistry;
    out.incident_wps = figure(
      viaRegistry,
      viaRegistry.wps,
      `self-resolving bench runbook (5 phases, 6 drill steps) opened through the registry, closed loop; ` +
        `p50 ${viaRegistry.latency_ms.p50} ms open-to-close` +
        (direct ? `; started directly (no registry) at concurrency ${direct.concurrency}: ${direct.wps}/s` : ''),
    );
    const st = incidentStateTransitions(viaRegistry);
    const stPerS = viaRegistry.wps * st;
    const sameCSt = best(
      ceiling.filter((p) => p.concurrency === viaRegistry.concurrency),
      (p) => p.state_transitions_per_s,
    );
    out.efficiency = ceilingSt
      ? figure(
          viaRegistry,
          round(stPerS / ceilingSt.state_transitions_per_s, 2),
          `incident ${round(stPerS, 1)} state transitions/s (${viaRegistry.wps}/s x ${round(st, 1)} per incident: incident ` +
            `${cost.incidentOnly.stateTransitions}, phase children ${cost.childrenOnly.stateTransitions}, registry share ` +
            `${registry?.perOpen.stateTransitions ?? '?'}) / ceiling ${ceilingSt.state_transitions_per_s} (${ceilingSt.workflow}, concurrency ` +
            `${ceilingSt.concurrency}, the highest measured)` +
            (sameCSt
              ? `; against the ceiling at the same concurrency (${sameCSt.state_transitions_per_s}): ${round(stPerS / sameCSt.state_transitions_per_s, 2)}`
              : '') +
            (direct
              ? `; direct starts: ${round((direct.wps * direct.cost.stateTransitions) / ceilingSt.state_transitions_per_s, 2)}`
              : ''),
        )
      : notMeasured('needs the ceiling section');
    out.events_per_incident = figure(
      viaRegistry,
      cost.events,
      `history events of the incident (${cost.incidentOnly.events}) and its 5 phase children (${cost.childrenOnly.events}), ` +
        `mean of ${cost.sampled}; plus the registry's ${registry?.perOpen.events ?? '?'} per open; ` +
        `${cost.workflowTasks} workflow tasks (+${registry?.perOpen.workflowTasks ?? '?'} registry), ` +
        `${cost.stateTransitions} state transitions (+${registry?.perOpen.stateTransitions ?? '?'} registry) per incident`,
    );
  } else {
    Object.assign(
      out,
      notMeasuredAll('lifecycle section did not run', 'incident_wps', 'efficiency', 'events_per_incident'),
    );
  }

  // The issue's two keys: at 1 alert/s (the everyday path) and in a storm of 20 distinct alerts/s.
  const [burst, low] = r.latency ?? [];
  const from = (l: LatencyResult): string =>
    l.via === 'http-intake' ? 'the POST to /intake/alerts' : 'the IncidentClient.open call (HTTP intake not available)';
  const alertFigure = (l: LatencyResult, other?: LatencyResult): Figure =>
    figure(
      { concurrency: `${l.rate}/s offered (open loop)`, duration_s: l.duration_s },
      l.alert_to_action_ms.p99,
      `from ${from(l)} to the start of the contain child's first activity (a local activity's scheduling in its marker)` +
        (l.warmup_s ? `, after ${l.warmup_s} s of alerts not counted` : '') +
        `; p50 ${l.alert_to_action_ms.p50} ms, max ${l.alert_to_action_ms.max} ms, ` +
        `${l.measured} of ${l.offered} alerts measured, each opening its own incident` +
        (l.errors ? ` (${l.errors} refused: ${l.first_error ?? '?'})` : '') +
        `; opens kept up at ${l.achieved_open_rate}/s` +
        (other
          ? `; at ${other.rate}/s: p50 ${other.alert_to_action_ms.p50} ms, p99 ${other.alert_to_action_ms.p99} ms`
          : ''),
    );
  out.alert_to_action_p99_ms = low
    ? alertFigure(low, burst)
    : notMeasured(burst ? 'the 1/s run is off (BENCH_LATENCY_LOW_RATE=0)' : 'latency section did not run');
  out.alert_storm_to_action_p99_ms = burst ? alertFigure(burst) : notMeasured('latency section did not run');
  // The alert that opens an incident in the open request, against the path before it, in one run.
  const inOpen = r.latency?.find((l) => l.via === 'open with the alert');
  const viaStream = r.latency?.find((l) => l.via === 'open, then alert stream');
  out.opening_alert_storm_p99_ratio =
    inOpen && viaStream
      ? figure(
          { concurrency: `${inOpen.rate}/s offered (open loop)`, duration_s: inOpen.duration_s },
          round(viaStream.alert_to_action_ms.p99 / Math.max(1, inOpen.alert_to_action_ms.p99), 2),
          `alert to action p99 when the opening alert goes through a new alert stream, divided by the p99 when it ` +
            `rides in the open request (${viaStream.alert_to_action_ms.p99} ms / ${inOpen.alert_to_action_ms.p99} ms; p50 ` +
            `${viaStream.alert_to_action_ms.p50} / ${inOpen.alert_to_action_ms.p50} ms), side by side in one run ` +
            `through IncidentClient (no HTTP); opens kept up at ${viaStream.achieved_open_rate}/s and ` +
            `${inOpen.achieved_open_rate}/s; events of the incident and its stream once containment ran, per alert: ` +
            `${viaStream.incident_and_stream_events} and ${inOpen.incident_and_stream_events}`,
        )
      : notMeasured('the opening paths were not compared (BENCH_LATENCY_COMPARE_OPENING=0 or latency off)');

  const u = r.updates;
  out.update_rtt_p99_ms = u
    ? figure(
        { concurrency: `${u.rate}/s (open loop)`, duration_s: u.duration_s },
        u.rtt_ms.p99,
        `${u.sent} updates in pairs (acknowledge an incident, then assignOwner on it) over the incidents the latency and ID sections left open; p50 ${u.rtt_ms.p50} ms; acknowledge p99 ${u.acknowledge_ms.p99} ms, assignOwner p99 ${u.assign_owner_ms.p99} ms; ${u.errors} errors`,
      )
    : notMeasured('updates section did not run');

  const t = r.timers;
  if (t) {
    const run = { concurrency: t.incidents, duration_s: (t.cpu.wall_s ?? null) as number | null };
    out.timer_lateness_p99_ms = figure(
      run,
      t.lateness_ms.p99,
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
    );
    out.open_incidents = figure(
      run,
      t.open_incidents_peak,
      `running incident workflows at the peak of the timer run (visibility count: the ${t.incidents} timer incidents plus those earlier sections left open, which the fresh worker does not hold unless they get a task)`,
    );
    out.worker_rss_mb = figure(
      run,
      t.worker_peak_rss_mb ?? null,
      `peak process.memoryUsage().rss of the engine worker process (sampled every ${r.settings.sampleMs} ms) with ${t.incidents} incidents open; fresh worker ${t.worker_rss_mb_before ?? '?'} MB, at rest after the escalations ${t.worker_rss_mb_at_rest ?? '?'} MB`,
    );
  } else {
    Object.assign(
      out,
      notMeasuredAll('timers section did not run', 'timer_lateness_p99_ms', 'open_incidents', 'worker_rss_mb'),
    );
  }

  const s = r.storm;
  if (s) {
    const fresh = burst?.via === 'http-intake' ? burst : undefined;
    out.intake_rps = figure(
      s,
      s.rps,
      `duplicate-alert storm: ${s.alerts} generic alerts with one dedup key, POST /intake/alerts; ${s.distinct_incidents} incident(s), ` +
        `${s.incidents_created} created, ${s.alerts_on_timeline} alerts on its timeline, ${s.errors} errors` +
        (fresh
          ? `; alerts that each open a new incident: ${fresh.achieved_open_rate}/s at ${fresh.rate}/s offered`
          : ''),
    );
    out.intake_p99_ms = figure(
      s,
      s.latency_ms.p99,
      `HTTP round trip in the storm; p50 ${s.latency_ms.p50} ms` +
        (fresh
          ? `; alerts that each open a new incident, ${fresh.rate}/s offered: p50 ${fresh.open_call_ms.p50} ms, p99 ${fresh.open_call_ms.p99} ms`
          : ''),
    );
  } else {
    Object.assign(
      out,
      notMeasuredAll(r.intake_unavailable ?? 'intake section did not run', 'intake_rps', 'intake_p99_ms'),
    );
  }

  const ids = r.ids;
  out.id_allocations_per_s = ids
    ? figure(
        ids,
        ids.per_s,
        `opens through the registry, closed loop; open p50 ${ids.open_ms.p50} ms, p99 ${ids.open_ms.p99} ms; ${ids.errors} failed; ` +
          `ids distinct ${ids.ids_distinct}, gapless ${ids.ids_gapless}; server refused ${ids.grpc.ExecuteMultiOperation?.RESOURCE_EXHAUSTED ?? 0} ` +
          `update-with-start attempts (in-flight update limit) that the client retried; registry ${ids.registry.workflowTasksPerS} workflow tasks/s, ` +
          `${ids.registry.updatesPerAcceptingTask.p50} opens accepted per task (p50, max ${ids.registry.updatesPerAcceptingTask.max})`,
      )
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

// ---- markdown: the headline figures, then only the measurements the prose of docs/BENCHMARKS.md cites ----------
// (everything else a section measured stays in bench/results/engine-details.json).

/** A column: its header and how to get its cell from a row. */
type Column<T> = [string, (row: T) => unknown];
const cell = (v: unknown): string =>
  v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v))
    ? '-'
    : String(v).replace(/\|/g, '\\|');
const table = <T>(rows: T[], columns: Column<T>[]): string =>
  [columns.map(([h]) => h), columns.map(() => '---'), ...rows.map((r) => columns.map(([, get]) => get(r)))]
    .map((cells) => `| ${cells.map(cell).join(' | ')} |`)
    .join('\n');
/** A summary's p50 / p99 (and max) in one cell. */
const spread = (x: { p50: number; p99: number; max: number }, withMax = false): string =>
  [x.p50, x.p99, ...(withMax ? [x.max] : [])].join(' / ');
const section = (title: string, ...body: string[]): string[] => ['', `### ${title}`, '', ...body];

const LABELS: Record<string, string> = {
  ceiling_noop_wps: 'Ceiling, no-op workflow (completions/s)',
  ceiling_activity_wps: 'Ceiling, one no-op activity (completions/s)',
  incident_wps: 'Incident lifecycle (completions/s)',
  efficiency: 'Efficiency (incident ÷ ceiling state transitions/s)',
  events_per_incident: 'History events per incident',
  alert_to_action_p99_ms: 'Alert to first containment activity at 1/s, p99 (ms)',
  alert_storm_to_action_p99_ms: 'Alert to first containment activity in a storm of distinct alerts, p99 (ms)',
  opening_alert_storm_p99_ratio: 'Storm p99, opening alert through a new stream ÷ in the open request',
  update_rtt_p99_ms: 'Operator update round trip, p99 (ms)',
  timer_lateness_p99_ms: 'Escalation timer lateness, p99 (ms)',
  open_incidents: 'Open incidents at once',
  worker_rss_mb: 'Worker RSS at peak (MB)',
  intake_rps: 'HTTP intake throughput (requests/s)',
  intake_p99_ms: 'HTTP intake latency, p99 (ms)',
  id_allocations_per_s: 'Incident ID allocations/s',
};

const headline = (figs: Record<string, Figure>): string =>
  table(Object.entries(figs), [
    ['Figure', ([key]) => `${LABELS[key] ?? key} \`${key}\``],
    ['Value', ([, f]) => f.value],
    ['Concurrency', ([, f]) => f.concurrency],
    ['Duration (s)', ([, f]) => f.duration_s],
    ['Aim', ([key]) => (AIMS as Record<string, { text: string }>)[key]?.text ?? ''],
    ['Met', ([key, f]) => ({ true: 'yes', false: '**no**', undefined: '' })[String(aimMet(key, f))]],
    ['Note', ([, f]) => f.note ?? ''],
  ]);

/** One row per measured section: the CPU seconds of each process, and the server's time in persistence. */
function resources(r: BenchResults): string {
  const sections: [string, Resources][] = [
    ...(r.ceiling ?? []).map((p): [string, Resources] => [`ceiling ${p.workflow} c=${p.concurrency}`, p]),
    ...(r.lifecycle ?? []).map((p): [string, Resources] => [`lifecycle ${p.path} c=${p.concurrency}`, p]),
    ...(r.latency ?? []).map((p): [string, Resources] => [`alert to action ${p.rate}/s`, p]),
    ...(r.updates ? [['operator updates', r.updates] as [string, Resources]] : []),
    ...(r.timers ? [['timers', r.timers] as [string, Resources]] : []),
    ...(r.ids ? [[`ids c=${r.ids.concurrency}`, r.ids] as [string, Resources]] : []),
    ...(r.storm ? [['intake storm', r.storm] as [string, Resources]] : []),
  ];
  return table(sections, [
    ['Section', ([name]) => name],
    ['wall s', ([, x]) => x.cpu.wall_s],
    ['CPU s server', ([, x]) => x.cpu.server_s],
    ['worker', ([, x]) => x.cpu.worker_s],
    ['bench client', ([, x]) => x.cpu.client_s],
    ['others', ([, x]) => x.cpu.other_s],
    ['machine busy', ([, x]) => x.cpu.machine_busy],
    ['Server persistence s', ([, x]) => x.server?.persistence_s],
    [
      'Top persistence operation s',
      ([, x]) => Object.entries(x.server?.persistence_by_operation ?? {}).map(([op, v]) => `${op} ${v.s}`)[0],
    ],
  ]);
}

function lifecycle(points: LifecyclePoint[], sample: LifecyclePoint): string[] {
  const parts = (p: LifecyclePoint, k: 'events' | 'workflowTasks' | 'stateTransitions'): string =>
    `${p.cost[k]} (${p.cost.incidentOnly[k]} + ${p.cost.childrenOnly[k]})`;
  const byType = [sample.cost.incidentEventsByType, sample.cost.childEventsByType];
  const types = [...new Set(byType.flatMap((counts) => Object.keys(counts)))];
  return [
    table(points, [
      ['Path', (p) => (p.path === 'registry' ? 'through the registry' : 'started directly')],
      ['Concurrency', (p) => p.concurrency],
      ['Completions/s', (p) => p.wps],
      ['Open-to-close p50 / p99 ms', (p) => spread(p.latency_ms)],
      ['Events (incident + children)', (p) => parts(p, 'events')],
      ['Workflow tasks', (p) => parts(p, 'workflowTasks')],
      ['State transitions', (p) => parts(p, 'stateTransitions')],
      [
        'Registry share per open (events / WFTs / st)',
        ({ registry: g }) => g && `${g.perOpen.events} / ${g.perOpen.workflowTasks} / ${g.perOpen.stateTransitions}`,
      ],
    ]),
    '',
    `One incident's ${sample.cost.events} events by type (mean of ${sample.cost.sampled} incidents, ${sample.path} path):`,
    '',
    table(types, [
      ['Event type', (t) => t],
      ['Incident', (t) => byType[0]![t] ?? 0],
      ['Phase children', (t) => byType[1]![t] ?? 0],
    ]),
  ];
}

export function markdown(r: BenchResults, figs: Record<string, Figure>): string {
  const m = r.machine;
  const load = (l?: Load): string =>
    l
      ? `load average ${l.loadavg.join(' / ')}, other busy processes: ${
          l.busy_processes.map((p) => `${p.command.slice(0, 70)} (${p.cpu_share} cores)`).join('; ') || 'none'
        }`
      : 'not recorded';
  const sample = r.lifecycle?.find((p) => p.path === 'registry') ?? r.lifecycle?.[0];
  return [
    `Generated by \`npm run bench\` on ${r.started_at} (${r.duration_s ?? '?'} s). Do not edit between the markers; rerun instead.`,
    '',
    `- Command: \`${r.command}\``,
    `- Machine: ${m.cpu_model}, ${m.cores} cores, ${m.memory_gb} GB memory, ${m.os}`,
    `- Versions: Node ${m.node}, Temporal TypeScript SDK ${m.temporal_sdk}, ${m.temporal_cli} (dev server on SQLite, started by src/temporal/dev-server.ts as \`npm start\` does)`,
    `- Outside load (other engineers' tests share these cores): before the run ${load(r.load.before)}; after it ${load(r.load.after)}. ` +
      `The last table gives each section's CPU seconds, other processes' included ("others").`,
    ...section('Headline figures (bench/results/engine.json)', headline(figs)),
    ...(r.ceiling?.length
      ? section(
          'Ceiling',
          table(r.ceiling, [
            ['Workflow', (p) => p.workflow],
            ['Concurrency', (p) => p.concurrency],
            ['Completions/s', (p) => p.wps],
            ['State transitions/wf', (p) => p.state_transitions_per_wf],
            ['Events/wf', (p) => p.events_per_wf],
            ['State transitions/s', (p) => p.state_transitions_per_s],
            ['Latency p50 / p99 ms', (p) => spread(p.latency_ms)],
          ]),
        )
      : []),
    ...(sample ? section('Incident lifecycle', ...lifecycle(r.lifecycle!, sample)) : []),
    ...(r.latency?.length
      ? section(
          'Alert to first containment activity (ms)',
          table(r.latency, [
            ['Via', (l) => l.via],
            [
              'Offered',
              (l) => `${l.rate}/s for ${l.duration_s} s${l.warmup_s ? ` after ${l.warmup_s} s not counted` : ''}`,
            ],
            ['Opened', (l) => `${l.opened} of ${l.offered}`],
            ['Kept up at /s', (l) => l.achieved_open_rate],
            ['Alert to action p50 / p99 / max', (l) => spread(l.alert_to_action_ms, true)],
            ['Open call p50 / p99', (l) => spread(l.open_call_ms)],
            ['Alert to incident started p50 / p99', (l) => spread(l.alert_to_incident_started_ms)],
            ['Incident to contain child p50 / p99', (l) => spread(l.incident_started_to_contain_started_ms)],
            ['Contain child to activity p50 / p99', (l) => spread(l.contain_started_to_first_activity_ms)],
          ]),
        )
      : []),
    ...section('Resources per section', resources(r)),
  ].join('\n');
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
  const existing = readFileSync(docs, 'utf8');
  if (!existing.includes(BEGIN) || !existing.includes(END)) {
    throw new Error(`${docs} has lost its generated block: expected the markers ${BEGIN} and ${END}`);
  }
  const text = existing.slice(0, existing.indexOf(BEGIN)) + block + existing.slice(existing.indexOf(END) + END.length);
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
