// The drill report: what the runner observed, turned into simulated offsets from the opening, the expectations checked
// (each passed or failed with the difference), every action that would have run with its parameters, and renderings
// as text, JSON and Markdown. Pure: takes observations, returns data and text. Two runs of one scenario must give
// byte-identical JSON, so nothing here may use a wall clock, a random id, an absolute path, or an epoch timestamp:
// every time is whole seconds after the opening, and epoch times inside recorded text are rewritten the same way.
import { formatDuration } from '../../domain/duration';
import type { DrillScenario, ExpectedEscalation, ScriptEntry } from '../../domain/drill';
import { type Phase, PHASES, type StepResult, type TimelineEvent } from '../../domain/incident';
import type { RunbookPlan } from '../../domain/runbook';
import { describeEvent, table } from '../format';
import type { IncidentStatusView } from '../../workflows/definitions';

export const DRILL_REPORT_FORMAT = 'incident-engine/drill-report@1';

/** One call the incident made to an activity during the drill, from the drill record. */
export interface ObservedCall {
  activity: string;
  idempotencyKey: string;
  params: unknown;
  /** Carried out for real against staging (technical drills); otherwise only recorded. */
  performed: boolean;
}

/** How one scripted line went. */
export interface ScriptOutcome {
  entry: ScriptEntry;
  outcome: 'accepted' | 'refused';
  reason?: string;
}

/** What the runner hands over at the end. Times are epoch ms of the server's simulated clock. */
export interface DrillObservation {
  scenario: DrillScenario;
  plan: Pick<RunbookPlan, 'id' | 'version' | 'contentHash' | 'phases'>;
  execution: 'tabletop' | 'technical';
  incidentId: string;
  openedAt: number;
  /** Simulated time at which the drill stopped. */
  endedAt: number;
  status: IncidentStatusView;
  timeline: TimelineEvent[];
  calls: ObservedCall[];
  script: ScriptOutcome[];
  /** Maps a simulated epoch time to whole seconds after the opening (the runner snaps work done at one instant). */
  offsetOf: (epochMs: number) => number;
}

export interface ReportTimelineEntry {
  /** Seconds after the opening. */
  at: number;
  atLabel: string;
  type: TimelineEvent['type'];
  text: string;
  by?: string;
  /** The event's own fields, epoch times turned into offsets (seconds) and epoch numbers in text rewritten. */
  event: Record<string, unknown>;
}

export interface ReportExpectation {
  name: string;
  expected: string;
  actual: string;
  passed: boolean;
  /** How far off it was, when it failed on a time or a count ("+5m late", "missing: L3"). */
  difference?: string;
}

export interface ReportAction {
  at: number;
  atLabel: string;
  activity: string;
  /** The step it belongs to (`<phase>/<step>`), the escalation or status update, or the undo of a step. */
  for: string;
  idempotencyKey: string;
  params: unknown;
  performed: boolean;
}

export interface ReportScriptLine {
  at: number;
  atLabel: string;
  event: string;
  by: string;
  input: unknown;
  outcome: 'accepted' | 'refused';
  reason?: string;
  expected: 'accepted' | 'refused';
  ok: boolean;
}

export interface DrillReport {
  format: typeof DRILL_REPORT_FORMAT;
  scenario: {
    id: string;
    title: string;
    file: string;
    mode: DrillScenario['mode'];
    /** How this run carried out actions: recorded (tabletop) or against staging (technical). */
    executed: 'tabletop' | 'technical';
    runbook: { id: string; version: number; contentHash: string };
  };
  passed: boolean;
  summary: string;
  incident: {
    id: string;
    title: string;
    openedAs: { severity: string; eventType: string; category: string; systems: string[] };
    final: {
      status: string;
      severity: string;
      phase: Phase;
      escalationLevel: number;
      acknowledged: boolean;
      rootCause: boolean;
      dataBreachConfirmed: boolean;
      affectedSystems: string[];
    };
    /** When each phase started and ended, seconds after the opening. */
    phases: Partial<Record<Phase, { started?: number; ended?: number }>>;
    /** The procedure's metrics in seconds (the FailSafe-Qore procedures), from the offsets above. */
    metrics: { timeToDetect?: number; timeToContain?: number; timeToEradicate?: number; timeToResolve?: number };
  };
  clock: { end: number; endLabel: string };
  expectations: ReportExpectation[];
  script: ReportScriptLine[];
  timeline: ReportTimelineEntry[];
  actions: ReportAction[];
}

// ---- offsets and normalisation --------------------------------------------------------------------------------

/** `+1h30m`, `+0s`, `-5m`: seconds after the opening as people write durations. */
export function offsetLabel(seconds: number): string {
  return `${seconds < 0 ? '-' : '+'}${formatDuration(Math.abs(seconds) * 1000)}`;
}

const ISO_TIME = /\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z\b/g;
const EPOCH_MS = /\b1\d{12}\b/g;
/** A duration written by formatDuration with a millisecond tail (`1h3ms`): the tail is clock jitter. */
const DURATION_MS_TAIL = /\b((?:\d+[dhms])+?)\d+ms\b/g;
const YEAR_MS = 366 * 86_400_000;

/** Rewrites epoch times in text as offsets from the opening, and drops millisecond tails from durations. */
export function normaliseText(text: string, openedAt: number, offsetOf: (ms: number) => number): string {
  return text
    .replace(ISO_TIME, (iso) => {
      const ms = Date.parse(iso);
      return Number.isNaN(ms) ? iso : `opening${offsetLabel(offsetOf(ms))}`;
    })
    .replace(EPOCH_MS, (digits) => {
      const ms = Number(digits);
      return Math.abs(ms - openedAt) <= YEAR_MS ? `@${offsetLabel(offsetOf(ms))}` : digits;
    })
    .replace(DURATION_MS_TAIL, (_all, whole: string) => whole);
}

/** Every string in `value` normalised (keys too: idempotency keys can carry times). */
export function normaliseValue(value: unknown, openedAt: number, offsetOf: (ms: number) => number): unknown {
  if (typeof value === 'string') return normaliseText(value, openedAt, offsetOf);
  if (Array.isArray(value)) return value.map((item) => normaliseValue(item, openedAt, offsetOf));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [
        normaliseText(key, openedAt, offsetOf),
        normaliseValue(item, openedAt, offsetOf),
      ]),
    );
  }
  return value;
}

function normaliseEvent(event: TimelineEvent, obs: DrillObservation): ReportTimelineEntry {
  const { at, by, ...rest } = event;
  const seconds = obs.offsetOf(at);
  const fields: Record<string, unknown> = { ...rest };
  // An escalation's due time is a deadline the policy fixed in advance: where it falls, as any epoch time.
  if (typeof fields.dueAt === 'number') fields.dueAt = obs.offsetOf(fields.dueAt);
  // A waiting step's deadline is "now + its timeout" in the phase, taken at that stop a little before the incident
  // recorded the event: counted from the event and rounded up to the whole second a runbook timeout is, so however
  // long the engine took there (under a second), the report shows the timeout the runbook gave.
  if (typeof fields.timeoutAt === 'number') fields.timeoutAt = seconds + Math.ceil((fields.timeoutAt - at) / 1000);
  const normalised = normaliseValue(fields, obs.openedAt, obs.offsetOf) as Record<string, unknown>;
  let text = normaliseText(
    describeEvent({ ...(event as object), timeoutAt: undefined } as TimelineEvent),
    obs.openedAt,
    obs.offsetOf,
  );
  if (event.type === 'approval_requested' || event.type === 'task_requested') {
    if (typeof normalised.timeoutAt === 'number') text += ` until ${offsetLabel(normalised.timeoutAt)}`;
  }
  if (event.type === 'escalated') text += ` (due ${offsetLabel(normalised.dueAt as number)})`;
  return {
    at: seconds,
    atLabel: offsetLabel(seconds),
    type: event.type,
    text,
    ...(by !== undefined ? { by } : {}),
    event: normalised,
  };
}

/** The step an event is about, for events that concern one step. */
function stepOf(event: TimelineEvent): string | undefined {
  return 'stepId' in event && typeof event.stepId === 'string' ? event.stepId : undefined;
}

/**
 * The timeline in a canonical order. Steps of one parallel group run together, so their events within one second
 * may arrive in any order; they are listed in runbook order instead (each step's own events keep their order).
 */
export function canonicalTimeline(
  entries: ReportTimelineEntry[],
  events: TimelineEvent[],
  plan: DrillObservation['plan'],
): ReportTimelineEntry[] {
  const position = new Map<string, { index: number; group?: string }>();
  let index = 0;
  for (const phase of PHASES) {
    for (const step of plan.phases[phase].steps)
      position.set(step.id, { index: index++, ...(step.group ? { group: step.group } : {}) });
  }
  const out: ReportTimelineEntry[] = [];
  let i = 0;
  entries = entries.map((entry, k) => {
    const event = events[k]!;
    if (event.type !== 'compensation_started') return entry;
    // The order to undo in is newest first; steps that finished together (one parallel group) in reverse runbook order.
    const steps = [...event.steps].sort((a, b) => (position.get(b)?.index ?? 0) - (position.get(a)?.index ?? 0));
    return {
      ...entry,
      text: entry.text.replace(event.steps.join(', '), steps.join(', ')),
      event: { ...entry.event, steps },
    };
  });
  while (i < entries.length) {
    const first = events[i]!;
    const group = position.get(stepOf(first) ?? '')?.group;
    let j = i + 1;
    if (group !== undefined) {
      while (
        j < entries.length &&
        entries[j]!.at === entries[i]!.at &&
        position.get(stepOf(events[j]!) ?? '')?.group === group
      )
        j++;
    }
    // Undo runs newest first: steps of one group are undone in reverse runbook order.
    const rank = (event: TimelineEvent) =>
      (position.get(stepOf(event) ?? '')?.index ?? 0) *
      (event.type === 'step_compensated' || event.type === 'compensation_failed' ? -1 : 1);
    const run = entries.slice(i, j).map((entry, k) => ({ entry, k, rank: rank(events[i + k]!) }));
    run.sort((a, b) => a.rank - b.rank || a.k - b.k);
    out.push(...run.map((r) => r.entry));
    i = j;
  }
  return out;
}

// ---- actions ----------------------------------------------------------------------------------------------------

/** Where an idempotency key points: a step, its undo, an escalation, a status update. */
function keyTarget(
  key: string,
  incidentId: string,
): { kind: 'step' | 'undo' | 'escalation' | 'status'; ref: string } | undefined {
  if (!key.startsWith(`${incidentId}/`)) return undefined;
  const rest = key.slice(incidentId.length + 1);
  if (rest.startsWith('escalation/')) return { kind: 'escalation', ref: rest.slice('escalation/'.length) };
  if (rest.startsWith('status-update/')) return { kind: 'status', ref: rest.slice('status-update/'.length) };
  if (rest.endsWith('/undo')) return { kind: 'undo', ref: rest.slice(0, -'/undo'.length) };
  return { kind: 'step', ref: rest };
}

/**
 * Every recorded call, in timeline order: each is placed at the timeline event it belongs to (the step's result, the
 * undo, the escalation, the status update), so the order does not depend on which parallel activity wrote first.
 */
function orderActions(
  obs: DrillObservation,
  events: TimelineEvent[],
  rawEntries: ReportTimelineEntry[],
  entries: ReportTimelineEntry[],
): ReportAction[] {
  const anchor = (call: ObservedCall): { index: number; label: string } => {
    const target = keyTarget(call.idempotencyKey, obs.incidentId);
    const find = (test: (e: TimelineEvent) => boolean) => events.findIndex(test);
    let index = -1;
    let label = call.idempotencyKey;
    if (target?.kind === 'step') {
      index = find((e) => (e.type === 'step_completed' || e.type === 'step_failed') && e.stepId === target.ref);
      const event = events[index];
      label = event && 'phase' in event ? `${event.phase}/${target.ref}` : target.ref;
    } else if (target?.kind === 'undo') {
      index = find(
        (e) => (e.type === 'step_compensated' || e.type === 'compensation_failed') && e.stepId === target.ref,
      );
      const event = events[index];
      label = `undo ${event && 'phase' in event ? `${event.phase}/` : ''}${target.ref}`;
    } else if (target?.kind === 'escalation') {
      index = find((e) => e.type === 'escalated' && e.key === target.ref);
      label = `escalation ${target.ref}`;
    } else if (target?.kind === 'status') {
      index = find((e) => e.type === 'status_update' && String(e.n) === target.ref);
      label = `status update ${target.ref}`;
    }
    return { index: index < 0 ? Number.MAX_SAFE_INTEGER : index, label };
  };
  const lastAt = entries.at(-1)?.at ?? 0;
  // Timeline positions after canonical ordering, so actions follow the report's timeline.
  const canonicalIndex = new Map<ReportTimelineEntry, number>(entries.map((entry, i) => [entry, i]));
  return obs.calls
    .map((call) => {
      const { index, label } = anchor(call);
      const entry = index === Number.MAX_SAFE_INTEGER ? undefined : rawEntries[index];
      const at = entry?.at ?? lastAt;
      const order = entry ? (canonicalIndex.get(entry) ?? index) : Number.MAX_SAFE_INTEGER;
      const key = normaliseText(call.idempotencyKey, obs.openedAt, obs.offsetOf);
      return {
        order,
        action: {
          at,
          atLabel: offsetLabel(at),
          activity: call.activity,
          for: normaliseText(label, obs.openedAt, obs.offsetOf),
          idempotencyKey: key,
          params: normaliseValue(call.params, obs.openedAt, obs.offsetOf),
          performed: call.performed,
        } satisfies ReportAction,
      };
    })
    .sort(
      (a, b) =>
        a.order - b.order ||
        (a.action.idempotencyKey < b.action.idempotencyKey
          ? -1
          : a.action.idempotencyKey > b.action.idempotencyKey
            ? 1
            : 0),
    )
    .map((a) => a.action);
}

// ---- expectations -----------------------------------------------------------------------------------------------

function describeEscalation(e: { at: number; event: Record<string, unknown> }): string {
  return `L${String(e.event.fromLevel)}->L${String(e.event.toLevel)} ${String(e.event.trigger)} at ${offsetLabel(e.at)}`;
}

function lateness(actual: number, expected: number): string {
  const diff = actual - expected;
  return diff === 0
    ? 'on time'
    : `${offsetLabel(diff).replace(/^\+/, '')} ${diff > 0 ? 'late' : 'early'}`.replace(/^-/, '');
}

function expectEscalations(
  expected: ExpectedEscalation[] | 'none',
  escalations: ReportTimelineEntry[],
): ReportExpectation[] {
  if (expected === 'none') {
    return [
      {
        name: 'escalated: none',
        expected: 'no escalation',
        actual: escalations.length === 0 ? 'no escalation' : escalations.map(describeEscalation).join('; '),
        passed: escalations.length === 0,
        ...(escalations.length > 0 ? { difference: `${escalations.length} escalation(s)` } : {}),
      },
    ];
  }
  const used = new Set<ReportTimelineEntry>();
  return expected.map((want) => {
    const atSec = want.at !== undefined ? Math.floor(want.at / 1000) : undefined;
    const withinSec = want.within !== undefined ? Math.floor(want.within / 1000) : undefined;
    const parts = [
      `to L${want.toLevel}`,
      want.fromLevel !== undefined ? `from L${want.fromLevel}` : undefined,
      want.trigger ? `by ${want.trigger}` : undefined,
      atSec !== undefined ? `at ${offsetLabel(atSec)}` : undefined,
      withinSec !== undefined ? `within ${formatDuration(withinSec * 1000)}` : undefined,
    ].filter(Boolean);
    const name = `escalated ${parts.join(' ')}`;
    const candidates = escalations.filter(
      (e) =>
        !used.has(e) &&
        e.event.toLevel === want.toLevel &&
        (want.fromLevel === undefined || e.event.fromLevel === want.fromLevel) &&
        (want.trigger === undefined || e.event.trigger === want.trigger),
    );
    const fits = (e: ReportTimelineEntry) =>
      atSec !== undefined ? e.at === atSec : withinSec !== undefined ? e.at <= withinSec : true;
    const match = candidates.find(fits);
    if (match) {
      used.add(match);
      return { name, expected: parts.join(' '), actual: describeEscalation(match), passed: true };
    }
    const all = escalations.length ? escalations.map(describeEscalation).join('; ') : 'no escalation';
    if (candidates.length === 0) {
      return {
        name,
        expected: parts.join(' '),
        actual: all,
        passed: false,
        difference: `no escalation to L${want.toLevel}${want.trigger ? ` by ${want.trigger}` : ''}`,
      };
    }
    const target = atSec ?? withinSec ?? 0;
    const nearest = [...candidates].sort((a, b) => Math.abs(a.at - target) - Math.abs(b.at - target))[0]!;
    return {
      name,
      expected: parts.join(' '),
      actual: describeEscalation(nearest),
      passed: false,
      difference: lateness(nearest.at, target),
    };
  });
}

function stepStatus(steps: StepResult[], id: string): string {
  const step = steps.find((s) => s.stepId === id);
  if (!step) return 'did not run';
  if (step.status === 'completed') return 'completed';
  return `${step.status}${(step.error ?? step.reason) ? ` (${step.error ?? step.reason})` : ''}`;
}

function expectSteps(
  name: string,
  ids: string[],
  holds: (id: string) => boolean,
  actual: (id: string) => string,
): ReportExpectation {
  const missing = ids.filter((id) => !holds(id));
  return {
    name: `${name}: ${ids.join(', ')}`,
    expected: ids.join(', '),
    actual: missing.length === 0 ? 'all' : missing.map((id) => `${id}: ${actual(id)}`).join('; '),
    passed: missing.length === 0,
    ...(missing.length ? { difference: `not ${name.replace(/^steps/, '').toLowerCase()}: ${missing.join(', ')}` } : {}),
  };
}

/** The audience a recorded call notified, if it is a notification. */
export function audienceOf(call: { activity: string; params: unknown }): string | undefined {
  if (call.activity !== 'notify.send' && call.activity !== 'notifyEscalation' && call.activity !== 'notifyIncident')
    return undefined;
  const params = call.params as { audience?: unknown; channel?: unknown } | undefined;
  if (typeof params?.audience === 'string') return params.audience;
  return call.activity === 'notify.send' ? 'internal' : undefined;
}

/** Every wanted name was seen (in any order, any number of times). */
function expectAll(
  what: string,
  wanted: string[],
  seen: string[],
  words: { none: string; missing: string },
): ReportExpectation {
  const distinct = [...new Set(seen)].sort();
  const missing = wanted.filter((name) => !distinct.includes(name));
  return {
    name: `${what}: ${wanted.join(', ')}`,
    expected: wanted.join(', '),
    actual: distinct.join(', ') || words.none,
    passed: missing.length === 0,
    ...(missing.length ? { difference: `${words.missing}: ${missing.join(', ')}` } : {}),
  };
}

function evaluate(
  obs: DrillObservation,
  report: Omit<DrillReport, 'expectations' | 'passed' | 'summary'>,
): ReportExpectation[] {
  const want = obs.scenario.expect;
  const s = obs.status;
  const out: ReportExpectation[] = [];
  const simple = (name: string, expected: string, actual: string): void => {
    out.push({
      name,
      expected,
      actual,
      passed: expected === actual,
      ...(expected === actual ? {} : { difference: `${actual} instead of ${expected}` }),
    });
  };
  if (want.finalStatus !== undefined) simple('finalStatus', want.finalStatus, s.status);
  if (want.finalSeverity !== undefined) simple('finalSeverity', want.finalSeverity, s.severity);
  if (want.escalationLevel !== undefined)
    simple('escalationLevel', String(want.escalationLevel), String(s.escalation.level));
  const escalations = report.timeline.filter((e) => e.type === 'escalated');
  if (want.escalated !== undefined) out.push(...expectEscalations(want.escalated, escalations));
  for (const phase of want.phaseFinished ?? []) {
    const times = report.incident.phases[phase.phase];
    const limit = phase.at ?? phase.within;
    const limitSec = limit !== undefined ? Math.floor(limit / 1000) : undefined;
    const expected =
      phase.at !== undefined
        ? `at ${offsetLabel(limitSec!)}`
        : limitSec !== undefined
          ? `within ${formatDuration(limitSec * 1000)}`
          : 'finished';
    const name = `phase ${phase.phase} finished ${expected}`;
    if (times?.ended === undefined) {
      const actual = times?.started === undefined ? 'never started' : `still running at ${report.clock.endLabel}`;
      out.push({ name, expected, actual, passed: false, difference: actual });
      continue;
    }
    const ended = times.ended;
    const passed = phase.at !== undefined ? ended === limitSec : limitSec !== undefined ? ended <= limitSec : true;
    out.push({
      name,
      expected,
      actual: `finished at ${offsetLabel(ended)}`,
      passed,
      ...(passed || limitSec === undefined ? {} : { difference: lateness(ended, limitSec) }),
    });
  }
  const compensated = new Set(
    report.timeline.filter((e) => e.type === 'step_compensated').map((e) => String(e.event.stepId)),
  );
  const status = (id: string) => stepStatus(s.steps, id);
  const has = (st: StepResult['status']) => (id: string) => s.steps.some((x) => x.stepId === id && x.status === st);
  if (want.stepsRan) out.push(expectSteps('stepsRan', want.stepsRan, has('completed'), status));
  if (want.stepsSkipped) out.push(expectSteps('stepsSkipped', want.stepsSkipped, has('skipped'), status));
  if (want.stepsFailed) out.push(expectSteps('stepsFailed', want.stepsFailed, has('failed'), status));
  if (want.stepsCompensated) {
    out.push(
      expectSteps(
        'stepsCompensated',
        want.stepsCompensated,
        (id) => compensated.has(id),
        (id) => (has('completed')(id) ? 'completed, not undone' : status(id)),
      ),
    );
  }
  if (want.notified) {
    const audiences = report.actions.map((a) => audienceOf(a)).filter((a): a is string => a !== undefined);
    out.push(expectAll('notified', want.notified, audiences, { none: 'nobody', missing: 'never notified' }));
  }
  if (want.actions) {
    const called = report.actions.map((a) => a.activity);
    out.push(expectAll('actions', want.actions, called, { none: 'none', missing: 'never called' }));
  }
  const offScript = report.script.filter((line) => !line.ok);
  if (report.script.length > 0) {
    out.push({
      name: 'script ran as written',
      expected: 'every line accepted, or refused where marked refused',
      actual:
        offScript.length === 0
          ? `${report.script.length} line(s) as written`
          : offScript.map((l) => `${l.atLabel} ${l.event}: ${l.outcome}${l.reason ? ` (${l.reason})` : ''}`).join('; '),
      passed: offScript.length === 0,
      ...(offScript.length ? { difference: `${offScript.length} line(s) off script` } : {}),
    });
  }
  return out;
}

// ---- building the report ---------------------------------------------------------------------------------------

function scriptLine(outcome: ScriptOutcome, obs: DrillObservation): ReportScriptLine {
  const { entry } = outcome;
  const at = Math.floor(entry.atMs / 1000);
  const expected = entry.refused !== undefined ? 'refused' : 'accepted';
  const reason = outcome.reason !== undefined ? normaliseText(outcome.reason, obs.openedAt, obs.offsetOf) : undefined;
  const ok =
    outcome.outcome === expected && (typeof entry.refused !== 'string' || (reason ?? '').includes(entry.refused));
  return {
    at,
    atLabel: offsetLabel(at),
    event: entry.kind,
    by: entry.by,
    input: entry.payload,
    outcome: outcome.outcome,
    ...(reason !== undefined ? { reason } : {}),
    expected,
    ok,
  };
}

export function buildReport(obs: DrillObservation): DrillReport {
  const s = obs.status;
  const entries = obs.timeline.map((event) => normaliseEvent(event, obs));
  const timeline = canonicalTimeline(entries, obs.timeline, obs.plan);
  const actions = orderActions(obs, obs.timeline, entries, timeline);
  const phases: DrillReport['incident']['phases'] = {};
  for (const phase of PHASES) {
    const times = s.phases[phase];
    if (!times) continue;
    phases[phase] = {
      ...(times.startedAt !== undefined ? { started: obs.offsetOf(times.startedAt) } : {}),
      ...(times.endedAt !== undefined ? { ended: obs.offsetOf(times.endedAt) } : {}),
    };
  }
  const startedBefore =
    obs.scenario.incident.startedBefore !== undefined ? Math.floor(obs.scenario.incident.startedBefore / 1000) : 0;
  const resolved = s.resolvedAt !== undefined ? obs.offsetOf(s.resolvedAt) : undefined;
  const detected = phases.detect?.ended;
  const contained = phases.contain?.ended;
  const span = (from?: number, to?: number) => (from !== undefined && to !== undefined ? to - from : undefined);
  const metrics: DrillReport['incident']['metrics'] = {};
  const ttd = detected !== undefined ? detected + startedBefore : undefined;
  const ttc = span(detected, contained);
  const tte = span(contained, resolved);
  const ttr = resolved !== undefined ? resolved + startedBefore : undefined;
  if (ttd !== undefined) metrics.timeToDetect = ttd;
  if (ttc !== undefined) metrics.timeToContain = ttc;
  if (tte !== undefined) metrics.timeToEradicate = tte;
  if (ttr !== undefined) metrics.timeToResolve = ttr;
  const end = obs.offsetOf(obs.endedAt);
  const opened = obs.timeline.find((e): e is Extract<TimelineEvent, { type: 'opened' }> => e.type === 'opened');
  const partial: Omit<DrillReport, 'expectations' | 'passed' | 'summary'> = {
    format: DRILL_REPORT_FORMAT,
    scenario: {
      id: obs.scenario.id,
      title: obs.scenario.title,
      file: obs.scenario.file,
      mode: obs.scenario.mode,
      executed: obs.execution,
      runbook: { id: obs.plan.id, version: obs.plan.version, contentHash: obs.plan.contentHash },
    },
    incident: {
      id: obs.incidentId,
      title: s.title,
      openedAs: {
        severity: opened?.severity ?? s.severity,
        eventType: s.eventType,
        category: s.category,
        systems: obs.scenario.incident.systems,
      },
      final: {
        status: s.status,
        severity: s.severity,
        phase: s.phase,
        escalationLevel: s.escalation.level,
        acknowledged: s.acknowledgedAt !== undefined,
        rootCause: s.rootCause !== undefined,
        dataBreachConfirmed: s.dataBreachConfirmed,
        affectedSystems: s.affectedSystems,
      },
      phases,
      metrics,
    },
    clock: { end, endLabel: offsetLabel(end) },
    script: obs.script.map((outcome) => scriptLine(outcome, obs)),
    timeline,
    actions,
  };
  const expectations = evaluate(obs, partial);
  const failed = expectations.filter((e) => !e.passed).length;
  const passed = failed === 0;
  const summary = passed
    ? `PASS: ${expectations.length} expectation(s) met`
    : `FAIL: ${failed} of ${expectations.length} expectation(s) not met`;
  const { format, scenario, incident, clock, script, timeline: events, actions: calls } = partial;
  return { format, scenario, passed, summary, incident, clock, expectations, script, timeline: events, actions: calls };
}

// ---- renderings -------------------------------------------------------------------------------------------------

/** Stable JSON: key order is construction order, which buildReport fixes. */
export function reportJson(report: DrillReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

function metricsLine(m: DrillReport['incident']['metrics']): string {
  const d = (s?: number) => (s === undefined ? '-' : formatDuration(s * 1000));
  return `detect ${d(m.timeToDetect)}, contain ${d(m.timeToContain)}, eradicate ${d(m.timeToEradicate)}, resolve ${d(m.timeToResolve)}`;
}

/** Long texts (task instructions) cut for terminals and tables; the JSON report keeps them whole. */
export function clip(text: string, max = 140): string {
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

function compact(value: unknown, max = 160): string {
  const text = JSON.stringify(value) ?? '';
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

export function reportText(report: DrillReport): string {
  const r = report;
  const f = r.incident.final;
  const lines = [
    `Drill ${r.scenario.id}: ${r.scenario.title}`,
    `  runbook ${r.scenario.runbook.id} v${r.scenario.runbook.version} (${r.scenario.runbook.contentHash.slice(0, 12)}), ${r.scenario.mode} scenario, ${r.scenario.executed === 'technical' ? 'actions performed against staging' : 'actions recorded, nothing touched'}`,
    `  incident ${r.incident.id} opened ${r.incident.openedAs.severity} ${r.incident.openedAs.eventType}; at ${r.clock.endLabel}: ${f.status}, ${f.severity}, phase ${f.phase}, escalation level ${f.escalationLevel}`,
    `  metrics ${metricsLine(r.incident.metrics)}`,
    '',
    'Script',
    r.script.length
      ? table(
          r.script.map((l) => [
            `  ${l.atLabel}`,
            l.by,
            l.event,
            l.ok ? l.outcome : `${l.outcome.toUpperCase()} (expected ${l.expected})`,
            l.reason ?? '',
          ]),
        )
      : '  (none)',
    '',
    'Timeline',
    table(r.timeline.map((e) => [`  ${e.atLabel}`, clip(e.text), e.by ? `[${e.by}]` : ''])),
    '',
    'Expectations',
    r.expectations.length
      ? r.expectations
          .map(
            (e) =>
              `  ${e.passed ? 'PASS' : 'FAIL'}  ${e.name}${e.passed ? `: ${e.actual}` : `\n        expected ${e.expected}\n        actual   ${e.actual}${e.difference ? `\n        off by   ${e.difference}` : ''}`}`,
          )
          .join('\n')
      : '  (none)',
    '',
    `Actions ${r.scenario.executed === 'technical' ? 'called (performed ones marked *)' : 'that would have run'} (${r.actions.length})`,
    r.actions.length
      ? table(
          r.actions.map((a) => [`  ${a.atLabel}`, `${a.performed ? '*' : ''}${a.activity}`, a.for, compact(a.params)]),
        )
      : '  (none)',
    '',
    r.summary,
  ];
  return `${lines.join('\n')}\n`;
}

const md = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function reportMarkdown(report: DrillReport): string {
  const r = report;
  const f = r.incident.final;
  const lines = [
    `# Drill ${r.scenario.id}: ${r.scenario.title}`,
    '',
    `**${r.passed ? 'PASS' : 'FAIL'}**: ${r.summary.replace(/^(PASS|FAIL): /, '')}`,
    '',
    `- Scenario: \`${r.scenario.file}\` (${r.scenario.mode}; ${r.scenario.executed === 'technical' ? 'actions performed against staging' : 'actions recorded, nothing touched'})`,
    `- Runbook: \`${r.scenario.runbook.id}\` v${r.scenario.runbook.version} (\`${r.scenario.runbook.contentHash.slice(0, 12)}\`)`,
    `- Incident: ${r.incident.id}, opened ${r.incident.openedAs.severity} \`${r.incident.openedAs.eventType}\``,
    `- At ${r.clock.endLabel}: ${f.status}, ${f.severity}, phase ${f.phase}, escalation level ${f.escalationLevel}`,
    `- Metrics: ${metricsLine(r.incident.metrics)}`,
    '',
    '## Expectations',
    '',
    '| | Expectation | Actual | Off by |',
    '|---|---|---|---|',
    ...r.expectations.map(
      (e) => `| ${e.passed ? 'PASS' : '**FAIL**'} | ${md(e.name)} | ${md(e.actual)} | ${md(e.difference ?? '')} |`,
    ),
    '',
    '## Script',
    '',
    '| At | By | Event | Outcome |',
    '|---|---|---|---|',
    ...r.script.map(
      (l) =>
        `| ${l.atLabel} | ${md(l.by)} | ${l.event} | ${l.ok ? l.outcome : `**${l.outcome}** (expected ${l.expected})`}${l.reason ? `: ${md(l.reason)}` : ''} |`,
    ),
    '',
    '## Timeline',
    '',
    '| At | Event | By |',
    '|---|---|---|',
    ...r.timeline.map((e) => `| ${e.atLabel} | ${md(clip(e.text, 240))} | ${md(e.by ?? '')} |`),
    '',
    `## Actions ${r.scenario.executed === 'technical' ? 'called' : 'that would have run'}`,
    '',
    '| At | Action | For | Parameters | Performed |',
    '|---|---|---|---|---|',
    ...r.actions.map(
      (a) =>
        `| ${a.atLabel} | \`${a.activity}\` | ${md(a.for)} | \`${md(compact(a.params, 200))}\` | ${a.performed ? 'yes' : 'no (recorded)'} |`,
    ),
    '',
  ];
  return lines.join('\n');
}
