// `drill replay --reenact`: turns a recorded incident history into a drill scenario (the same opening, the same alerts
// and operator actions at their original offsets, the plan the incident pinned), runs it as a drill on the current
// code, and compares the decisions: escalations, steps run / skipped / failed / undone, phase start times, final
// status. Replay proves the code still reads the old history; reenactment shows what the code would decide today.
// Read-only towards the history's server: it never contacts it; the drill runs on its own time-skipping server.
import type { WorkflowBundle } from '@temporalio/worker';
import { stringify } from 'yaml';
import { formatDuration } from '../../domain/duration';
import type { DrillEvent, DrillScenario, ScriptEntry } from '../../domain/drill';
import { PHASES, type Phase } from '../../domain/incident';
import type { RunbookPlan } from '../../domain/runbook';
import type { IncidentInput } from '../../workflows/definitions';
import type { DrillReport } from './report';
import { offsetLabel } from './report';
import type { ReplayInput } from './replay';
import { runDrill } from './runner';

type Json = Record<string, unknown>;

/** A proto JSON payload's value (json/plain), or undefined for other encodings. */
export function decodePayload(payload: unknown): unknown {
  const p = payload as { metadata?: Record<string, string>; data?: string } | undefined;
  const encoding = p?.metadata?.encoding ? Buffer.from(p.metadata.encoding, 'base64').toString('utf8') : undefined;
  if (encoding !== 'json/plain' || p?.data === undefined) return undefined;
  return JSON.parse(Buffer.from(p.data, 'base64').toString('utf8'));
}

function payloads(value: unknown): unknown[] {
  return ((value as { payloads?: unknown[] } | undefined)?.payloads ?? []).map(decodePayload);
}

function attributes(event: Json, name: string): Json | undefined {
  return event[`${name}EventAttributes`] as Json | undefined;
}

function timeOf(event: Json): number {
  return Date.parse(String(event.eventTime));
}

/** The decisions compared between the original incident and its reenactment; times in seconds after opening. */
export interface Decisions {
  escalations: { key: string; toLevel: number; at: number }[];
  steps: Record<string, 'completed' | 'failed' | 'skipped'>;
  compensated: string[];
  phaseStarts: Partial<Record<Phase, number>>;
  finalStatus?: string;
}

/** What an incident history holds: its input, the scripted events (as a scenario), and the decisions it recorded. */
export interface ParsedIncident {
  input: IncidentInput;
  openedAt: number;
  script: ScriptEntry[];
  endMs: number;
  decisions: Decisions;
}

/** Updates (by wire name) as script events. */
const UPDATE_EVENTS: Record<string, (arg: Json) => DrillEvent | undefined> = {
  acknowledge: (a) => ({ kind: 'acknowledge', payload: a.note ? { note: String(a.note) } : {} }),
  setSeverity: (a) => ({
    kind: 'setSeverity',
    payload: { severity: a.severity as never, ...(a.reason ? { reason: String(a.reason) } : {}) },
  }),
  recordRootCause: (a) => ({ kind: 'rootCause', payload: { summary: String(a.summary) } }),
  assignOwner: (a) => ({ kind: 'assign', payload: { owner: String(a.owner) } }),
  escalate: (a) => ({
    kind: 'escalate',
    payload: { reason: String(a.reason), ...(a.level ? { level: a.level as 1 | 2 | 3 } : {}) },
  }),
  updateImpact: (a) => ({
    kind: 'impact',
    payload: {
      ...(Array.isArray(a.affectedSystems) ? { systems: a.affectedSystems as string[] } : {}),
      ...(a.dataBreachConfirmed === true ? { dataBreach: true as const } : {}),
    },
  }),
  advancePhase: (a) => ({ kind: 'advance', payload: a.note ? { note: String(a.note) } : {} }),
  resolve: (a) => ({ kind: 'resolve', payload: a.summary ? { summary: String(a.summary) } : {} }),
  declareFalsePositive: (a) => ({ kind: 'falsePositive', payload: { reason: String(a.reason) } }),
  approveStep: (a) => ({
    kind: 'approve',
    payload: { step: String(a.stepId), role: String(a.role), ...(a.note ? { note: String(a.note) } : {}) },
  }),
  rejectStep: (a) => ({
    kind: 'reject',
    payload: { step: String(a.stepId), role: String(a.role), reason: String(a.reason) },
  }),
  completeTask: (a) => ({
    kind: 'completeTask',
    payload: {
      step: String(a.stepId),
      ...(a.role ? { role: String(a.role) } : {}),
      ...(a.note ? { note: String(a.note) } : {}),
    },
  }),
};

/**
 * The plan an incident opened by reference loaded and pinned: the result in its first local activity marker (the
 * marker's details hold the activity's data and its result; the result is the payload shaped like a plan).
 */
function loadedPlan(events: Json[]): RunbookPlan | undefined {
  for (const event of events) {
    const marker = attributes(event, 'markerRecorded');
    if (!marker) continue;
    for (const detail of Object.values((marker.details as Record<string, unknown> | undefined) ?? {})) {
      for (const value of payloads(detail)) {
        const v = value as Partial<RunbookPlan> | undefined;
        if (v && typeof v === 'object' && typeof v.id === 'string' && v.phases && v.escalation) return v as RunbookPlan;
      }
    }
  }
  return undefined;
}

/** Reads an incident workflow's history (proto JSON); undefined when it is not an incident. */
export function parseIncidentHistory(history: ReplayInput['history']): ParsedIncident | undefined {
  const events = history.events as Json[];
  const started = events[0] && attributes(events[0], 'workflowExecutionStarted');
  if ((started?.workflowType as { name?: string } | undefined)?.name !== 'incidentWorkflow') return undefined;
  const given = payloads(started!.input)[0] as IncidentInput;
  const plan = given.plan ?? loadedPlan(events);
  const input: IncidentInput = plan ? { ...given, plan } : given;
  const openedAt = timeOf(events[0]!);
  // Whole seconds: the original's milliseconds are its own processing, not the operators' timing.
  const offset = (event: Json) => Math.floor(Math.max(0, timeOf(event) - openedAt) / 1000) * 1000;
  const seconds = (event: Json) => Math.floor(offset(event) / 1000);
  const script: ScriptEntry[] = [];
  const decisions: Decisions = { escalations: [], steps: {}, compensated: [], phaseStarts: {} };
  const childPhase = new Map<string, Phase>();
  for (const event of events) {
    const signal = attributes(event, 'workflowExecutionSignaled');
    if (signal?.signalName === 'alert') {
      const alert = payloads(signal.input)[0] as Json;
      script.push({
        kind: 'alert',
        payload: {
          status: alert.status === 'resolved' ? 'resolved' : 'firing',
          source: String(alert.source ?? 'drill'),
          summary: String(alert.summary ?? ''),
          ...(alert.fingerprint ? { fingerprint: String(alert.fingerprint) } : {}),
          labels: (alert.labels as Record<string, string> | undefined) ?? {},
        },
        atMs: offset(event),
        by: 'detector',
      });
    }
    if (signal?.signalName === 'stepEvent') {
      const step = payloads(signal.input)[0] as {
        type?: string;
        result?: { stepId: string; status: 'completed' | 'failed' | 'skipped' };
      };
      if (step.type === 'result' && step.result) decisions.steps[step.result.stepId] = step.result.status;
    }
    const accepted = attributes(event, 'workflowExecutionUpdateAccepted');
    if (accepted) {
      const request = accepted.acceptedRequest as
        { input?: { name?: string; args?: unknown }; meta?: { identity?: string } } | undefined;
      const name = request?.input?.name ?? '';
      const arg = (payloads(request?.input?.args)[0] ?? {}) as Json;
      const scripted = UPDATE_EVENTS[name]?.(arg);
      if (scripted) script.push({ ...scripted, atMs: offset(event), by: String(arg.by ?? 'operator') } as ScriptEntry);
    }
    const scheduled = attributes(event, 'activityTaskScheduled');
    if (scheduled) {
      const type = (scheduled.activityType as { name?: string } | undefined)?.name;
      const arg = (payloads(scheduled.input)[0] ?? {}) as Json;
      const key = String(arg.idempotencyKey ?? '');
      if (type === 'notifyEscalation') {
        decisions.escalations.push({
          key: key.slice(key.indexOf('/escalation/') + '/escalation/'.length),
          toLevel: Number(arg.toLevel),
          at: seconds(event),
        });
      } else if (key.endsWith('/undo')) {
        decisions.compensated.push(String(arg.stepId));
      }
    }
    const child = attributes(event, 'startChildWorkflowExecutionInitiated');
    if (child) {
      const id = String(child.workflowId);
      const phase = id.slice(id.lastIndexOf('.') + 1) as Phase;
      if ((PHASES as readonly string[]).includes(phase)) {
        childPhase.set(id, phase);
        decisions.phaseStarts[phase] ??= seconds(event);
      }
    }
    const done = attributes(event, 'childWorkflowExecutionCompleted');
    if (done) {
      // Children from before live step events report their steps only in their result.
      const result = payloads(done.result)[0] as
        { steps?: { stepId: string; status: 'completed' | 'failed' | 'skipped' }[] } | undefined;
      for (const step of result?.steps ?? []) decisions.steps[step.stepId] ??= step.status;
    }
    const completed = attributes(event, 'workflowExecutionCompleted');
    if (completed)
      decisions.finalStatus = String((payloads(completed.result)[0] as { status?: string } | undefined)?.status ?? '');
  }
  const last = events.at(-1);
  const endMs = Math.max(last ? offset(last) : 0, ...script.map((s) => s.atMs));
  return { input, openedAt, script, endMs, decisions };
}

/** The scenario that replays an incident's inputs as a drill. */
export function scenarioFor(name: string, parsed: ParsedIncident): DrillScenario {
  const { input } = parsed;
  const startedBefore = input.startedAt !== undefined ? Math.max(0, parsed.openedAt - input.startedAt) : undefined;
  return {
    id: `reenact-${input.incidentId.toLowerCase()}`,
    title: `Reenactment of ${input.incidentId}: ${input.title}`,
    description: `Generated from ${name}: the incident's alerts and operator actions at their original offsets.`,
    runbook: input.plan.id,
    mode: 'tabletop',
    incident: {
      title: input.title,
      ...(input.severity ? { severity: input.severity } : {}),
      eventType: input.eventType,
      ...(input.category ? { category: input.category } : {}),
      systems: input.affectedSystems ?? [],
      ...(startedBefore ? { startedBefore } : {}),
      ...(input.labels && Object.keys(input.labels).length ? { labels: input.labels } : {}),
      ...(input.source ? { source: input.source } : {}),
    },
    script: parsed.script,
    endMs: parsed.endMs,
    expect: {},
    file: name,
  };
}

/** The same scenario as YAML, to keep as a drill in runbooks/drills (it then runs the runbook as it is on disk). */
export function scenarioYaml(scenario: DrillScenario): string {
  const dur = (ms: number) => formatDuration(ms);
  const doc = {
    id: scenario.id,
    title: scenario.title,
    description: scenario.description,
    runbook: scenario.runbook,
    mode: scenario.mode,
    incident: {
      ...scenario.incident,
      ...(scenario.incident.startedBefore !== undefined ? { startedBefore: dur(scenario.incident.startedBefore) } : {}),
    },
    script: scenario.script.map((entry) => ({ at: dur(entry.atMs), by: entry.by, [entry.kind]: entry.payload })),
    end: dur(scenario.endMs),
  };
  return stringify(doc, { lineWidth: 120 });
}

function decisionsOf(report: DrillReport): Decisions {
  const steps: Decisions['steps'] = {};
  const phaseStarts: Decisions['phaseStarts'] = {};
  for (const e of report.timeline) {
    const ev = e.event;
    if (e.type === 'step_completed' || e.type === 'step_failed' || e.type === 'step_skipped') {
      steps[String(ev.stepId)] =
        e.type === 'step_completed' ? 'completed' : e.type === 'step_failed' ? 'failed' : 'skipped';
    }
    if (e.type === 'phase_started') phaseStarts[ev.phase as Phase] ??= e.at;
  }
  return {
    escalations: report.timeline
      .filter((e) => e.type === 'escalated')
      .map((e) => ({ key: String(e.event.key), toLevel: Number(e.event.toLevel), at: e.at })),
    steps,
    compensated: report.timeline.filter((e) => e.type === 'step_compensated').map((e) => String(e.event.stepId)),
    phaseStarts,
    finalStatus: report.incident.final.status,
  };
}

/**
 * Times within a minute of each other count as the same. The original's times carry its own processing (a phase that
 * ran its activities for real starts seconds later than in a drill); a decision that moved is minutes or hours off.
 */
const SAME_TIME_S = 60;

/** Differences between the original decisions and the reenactment's, as sentences. */
export function diffDecisions(original: Decisions, reenacted: Decisions): string[] {
  const out: string[] = [];
  const manual = (key: string) => key.startsWith('manual:');
  // Manual escalations carry their epoch time in the key: compare them by level and time instead.
  const name = (e: { key: string; toLevel: number }) => (manual(e.key) ? `manual to L${e.toLevel}` : e.key);
  const left = original.escalations.map((e) => ({ ...e, name: name(e) }));
  const right = reenacted.escalations.map((e) => ({ ...e, name: name(e) }));
  for (const e of left) {
    const i = right.findIndex((r) => r.name === e.name && r.toLevel === e.toLevel);
    if (i < 0)
      out.push(
        `escalation ${e.name} (to L${e.toLevel}) at ${offsetLabel(e.at)} happened originally, not in the reenactment`,
      );
    else {
      const r = right.splice(i, 1)[0]!;
      if (Math.abs(r.at - e.at) > SAME_TIME_S)
        out.push(`escalation ${e.name}: originally at ${offsetLabel(e.at)}, now at ${offsetLabel(r.at)}`);
    }
  }
  for (const r of right)
    out.push(`escalation ${r.name} (to L${r.toLevel}) at ${offsetLabel(r.at)} happens now, not originally`);
  for (const step of new Set([...Object.keys(original.steps), ...Object.keys(reenacted.steps)])) {
    const a = original.steps[step] ?? 'not reached';
    const b = reenacted.steps[step] ?? 'not reached';
    if (a !== b) out.push(`step ${step}: originally ${a}, now ${b}`);
  }
  const undoneA = [...original.compensated].sort().join(', ');
  const undoneB = [...reenacted.compensated].sort().join(', ');
  if (undoneA !== undoneB) out.push(`steps undone: originally [${undoneA}], now [${undoneB}]`);
  for (const phase of PHASES) {
    const a = original.phaseStarts[phase];
    const b = reenacted.phaseStarts[phase];
    if (a === undefined && b === undefined) continue;
    if (a === undefined || b === undefined)
      out.push(`phase ${phase}: ${a === undefined ? 'starts now, not originally' : 'started originally, not now'}`);
    else if (Math.abs(a - b) > SAME_TIME_S)
      out.push(`phase ${phase}: originally started at ${offsetLabel(a)}, now at ${offsetLabel(b)}`);
  }
  if (original.finalStatus !== undefined && original.finalStatus !== reenacted.finalStatus) {
    out.push(`final status: originally ${original.finalStatus}, now ${reenacted.finalStatus}`);
  }
  return out;
}

export interface Reenactment {
  name: string;
  incidentId: string;
  same: boolean;
  differences: string[];
  /** Script lines the current code refused. */
  refused: string[];
  original: Decisions;
  reenacted: Decisions;
  scenario: string;
}

/** Reenacts every incident history among the inputs (phase children are skipped: the incident drives them). */
export async function reenactHistories(
  inputs: ReplayInput[],
  options: { workflowBundle?: WorkflowBundle } = {},
): Promise<Reenactment[]> {
  const out: Reenactment[] = [];
  for (const input of inputs) {
    const parsed = parseIncidentHistory(input.history);
    if (!parsed) continue;
    const scenario = scenarioFor(input.name, parsed);
    const report = await runDrill(scenario, {
      plan: parsed.input.plan as RunbookPlan,
      ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : {}),
    });
    const reenacted = decisionsOf(report);
    const refused = report.script
      .filter((l) => l.outcome === 'refused')
      .map((l) => `${l.atLabel} ${l.event} by ${l.by}: ${l.reason ?? ''}`);
    const differences = [...diffDecisions(parsed.decisions, reenacted), ...refused.map((r) => `refused now: ${r}`)];
    out.push({
      name: input.name,
      incidentId: parsed.input.incidentId,
      same: differences.length === 0,
      differences,
      refused,
      original: parsed.decisions,
      reenacted,
      scenario: scenarioYaml(scenario),
    });
  }
  return out;
}

export function formatReenactment(results: Reenactment[]): string {
  if (results.length === 0)
    return 'no incident histories to reenact (phase children are reenacted through their incident)\n';
  return `${results
    .map((r) =>
      r.same
        ? `same      ${r.name} (${r.incidentId}): the current code makes the same decisions`
        : `DIFFERS   ${r.name} (${r.incidentId}):\n${r.differences.map((d) => `          ${d}`).join('\n')}`,
    )
    .join('\n')}\n`;
}
