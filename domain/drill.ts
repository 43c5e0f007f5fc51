// Drill scenarios (YAML in runbooks/drills/): the runbook to exercise, how the incident opens, a script of detector
// and operator events at simulated offsets from the opening, and what must have happened by the end. The drill runner
// (src/drills/runner.ts) plays the script on the time-skipping test server and checks the expectations.
// Sandbox-safe: imports only zod and other domain modules. Never reads files or clocks.
import { z } from 'zod';
import { Duration, formatDuration } from './duration';
import { MAX_DRILL_DURATION_MS, MAX_DRILL_SCRIPT_ENTRIES } from './limits';
import { Category, EventType, Phase, STATUSES } from './incident';
import { Severity } from './severity';

const Id = z
  .string({ error: 'expected an id of lowercase letters, digits and dashes, like "security-breach-tabletop"' })
  .regex(
    /^[a-z0-9][a-z0-9-]*$/,
    'expected an id of lowercase letters, digits and dashes, like "security-breach-tabletop"',
  );
const Text = (what: string) =>
  z
    .string({ error: `expected ${what}` })
    .trim()
    .min(1, `expected ${what}`);
const StepRef = Text('a step id from the runbook, like "kill-switch"');
const RoleName = Text('a role, like "incident-commander"');
const Actor = Text('who acts, like "alice"');
const Level = z.union([z.literal(1), z.literal(2), z.literal(3)], { error: 'expected an escalation level: 1, 2 or 3' });
const AnyLevel = z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3)], {
  error: 'expected an escalation level: 0, 1, 2 or 3',
});

/** `field: value` shorthand for a one-field event (`rootCause: "leaked key"`), and `acknowledge:` with no value. */
function shorthand<T extends z.ZodType>(field: string | undefined, schema: T) {
  return z.preprocess((value) => {
    if (value === null || value === undefined) return {};
    if (field !== undefined && (typeof value === 'string' || typeof value === 'number')) return { [field]: value };
    return value;
  }, schema);
}

/** Every event a script can hold, by its key in the YAML. */
export const DRILL_EVENTS = {
  /** A detector's alert on the incident (the `alert` signal). */
  alert: shorthand(
    'summary',
    z
      .object({
        status: z.enum(['firing', 'resolved'], { error: 'expected status: firing or resolved' }).default('firing'),
        source: Text('the alert source, like "alertmanager"').default('drill'),
        summary: z.string().default(''),
        fingerprint: z.string().min(1).optional(),
        labels: z.record(z.string(), z.string()).default({}),
      })
      .strict(),
  ),
  acknowledge: shorthand('note', z.object({ note: z.string().optional() }).strict()),
  setSeverity: shorthand('severity', z.object({ severity: Severity, reason: z.string().optional() }).strict()),
  rootCause: shorthand('summary', z.object({ summary: Text('a root-cause summary') }).strict()),
  assign: shorthand('owner', z.object({ owner: Text('an owner, like "alice"') }).strict()),
  approve: z.object({ step: StepRef, role: RoleName, note: z.string().optional() }).strict(),
  reject: z.object({ step: StepRef, role: RoleName, reason: Text('why the step must not run') }).strict(),
  completeTask: shorthand(
    'step',
    z.object({ step: StepRef, role: RoleName.optional(), note: z.string().optional() }).strict(),
  ),
  advance: shorthand('note', z.object({ note: z.string().optional() }).strict()),
  resolve: shorthand('summary', z.object({ summary: z.string().optional() }).strict()),
  falsePositive: shorthand('reason', z.object({ reason: Text('why this is a false positive') }).strict()),
  impact: z
    .object({
      dataBreach: z
        .literal(true, { error: 'expected dataBreach: true (a confirmed breach cannot be withdrawn)' })
        .optional(),
      systems: z.array(Text('a system name')).min(1, 'expected at least one system').optional(),
    })
    .strict()
    .refine((v) => v.dataBreach !== undefined || v.systems !== undefined, {
      message: 'expected dataBreach: true or systems: [...]',
    }),
  escalate: shorthand('reason', z.object({ reason: Text('why you escalate'), level: Level.optional() }).strict()),
} as const;

export type DrillEventKind = keyof typeof DRILL_EVENTS;
export const DRILL_EVENT_KINDS = Object.keys(DRILL_EVENTS) as DrillEventKind[];

export type DrillEventPayload<K extends DrillEventKind> = z.output<(typeof DRILL_EVENTS)[K]>;
export type DrillEvent = { [K in DrillEventKind]: { kind: K; payload: DrillEventPayload<K> } }[DrillEventKind];

/** A scripted event after parsing: when, who, what, and whether the workflow is expected to refuse it. */
export type ScriptEntry = DrillEvent & {
  /** Simulated milliseconds after the incident opened. */
  atMs: number;
  by: string;
  /** The workflow is expected to refuse this event; a string is a fragment the refusal must contain. */
  refused?: true | string;
};

const ENTRY_FIELDS = new Set(['at', 'by', 'refused']);

/** One script line: `at`, optional `by` and `refused`, and exactly one event key. */
const RawScriptEntry = z
  .object({
    at: Duration,
    by: Actor.optional(),
    refused: z.union([z.literal(true), Text('a fragment of the expected refusal')]).optional(),
  })
  .catchall(z.unknown())
  .transform((entry, ctx) => {
    const keys = Object.keys(entry).filter((key) => !ENTRY_FIELDS.has(key));
    const known = `expected one event: ${DRILL_EVENT_KINDS.join(', ')}`;
    if (keys.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: keys.length > 1 ? [keys[1]!] : [],
        message: keys.length === 0 ? `${known}; found none` : `${known}; found ${keys.length} (${keys.join(', ')})`,
      });
      return z.NEVER;
    }
    const kind = keys[0]!;
    if (!(DRILL_EVENT_KINDS as string[]).includes(kind)) {
      ctx.addIssue({ code: 'custom', path: [kind], message: `unknown event "${kind}"; ${known}` });
      return z.NEVER;
    }
    const parsed = DRILL_EVENTS[kind as DrillEventKind].safeParse(entry[kind]);
    if (!parsed.success) {
      for (const issue of parsed.error.issues)
        ctx.addIssue({ code: 'custom', path: [kind, ...issue.path], message: issue.message });
      return z.NEVER;
    }
    return {
      kind,
      payload: parsed.data,
      atMs: entry.at,
      ...(entry.by !== undefined ? { by: entry.by } : {}),
      ...(entry.refused !== undefined ? { refused: entry.refused } : {}),
    } as Omit<ScriptEntry, 'by'> & { by?: string };
  });

/** How the incident opens. Without a severity, the event type sets it (the Fiovana procedures' assessment table). */
export const DrillIncident = z
  .object({
    title: Text('the incident title'),
    severity: Severity.optional(),
    eventType: EventType.optional(),
    category: Category.optional(),
    systems: z.array(Text('a system name')).default([]),
    /** The opening alert's labels (source_ip, user, path...): runbook steps read them as `${alert.labels.<name>}`. */
    labels: z
      .record(z.string().min(1, 'expected a label name'), z.string({ error: 'expected a label value as text' }))
      .optional(),
    /** What detected it, like "waf": `${alert.source}`. */
    source: Text('the detector that raised the alert, like "waf"').optional(),
    /** The incident began this long before it was opened (an alert's start): time to detect counts from there. */
    startedBefore: Duration.optional(),
  })
  .strict()
  .refine((i) => i.severity !== undefined || i.eventType !== undefined, {
    message: 'expected severity or eventType (the event type sets the severity when none is given)',
  });
export type DrillIncident = z.output<typeof DrillIncident>;

/** One item or a list of them, always a list once parsed; issues keep the item's own path (no union noise). */
function oneOrMany<T extends z.ZodType>(schema: T, alternative?: { literal: string }) {
  return z.unknown().transform((value, ctx): z.output<T>[] | string => {
    if (alternative && value === alternative.literal) return alternative.literal;
    const list: unknown[] = Array.isArray(value) ? value : [value];
    const out: z.output<T>[] = [];
    list.forEach((item, index) => {
      const parsed = schema.safeParse(item);
      if (parsed.success) out.push(parsed.data);
      else {
        for (const issue of parsed.error.issues) {
          ctx.addIssue({
            code: 'custom',
            path: Array.isArray(value) ? [index, ...issue.path] : issue.path,
            message: issue.message,
          });
        }
      }
    });
    return out;
  });
}
const list = <T extends z.ZodType>(schema: T) => oneOrMany(schema) as unknown as z.ZodType<z.output<T>[]>;

/** An escalation that must have happened: to a level, optionally by a trigger, at an exact offset or within one. */
/** An expectation is timed `at` an offset or `within` one, never both. */
const notBothAtAndWithin = (e: { at?: number; within?: number }) => e.at === undefined || e.within === undefined;
const AT_OR_WITHIN = { message: 'expected at or within, not both', path: ['within'] };

export const ExpectedEscalation = z
  .object({
    toLevel: AnyLevel,
    fromLevel: AnyLevel.optional(),
    trigger: Text('an escalation trigger, like "unacknowledged" or "manual"').optional(),
    /** Exact to the second. */
    at: Duration.optional(),
    within: Duration.optional(),
  })
  .strict()
  .refine(notBothAtAndWithin, AT_OR_WITHIN);
export type ExpectedEscalation = z.output<typeof ExpectedEscalation>;

export const ExpectedPhase = z
  .object({
    phase: Phase,
    /** The phase ended no later than this after opening. */
    within: Duration.optional(),
    /** The phase ended at this offset, exact to the second. */
    at: Duration.optional(),
  })
  .strict()
  .refine(notBothAtAndWithin, AT_OR_WITHIN);
export type ExpectedPhase = z.output<typeof ExpectedPhase>;

const StepIds = z.array(StepRef).min(1, 'expected at least one step id (leave the field out to check nothing)');

export const DrillExpectations = z
  .object({
    finalStatus: z.enum(STATUSES, { error: `expected a status: ${STATUSES.join(', ')}` }).optional(),
    finalSeverity: Severity.optional(),
    /** The escalation level at the end. */
    escalationLevel: AnyLevel.optional(),
    /** `none`: nothing escalated. A list: each must have happened (each matches a different escalation). */
    escalated: (
      oneOrMany(ExpectedEscalation, { literal: 'none' }) as unknown as z.ZodType<'none' | ExpectedEscalation[]>
    ).optional(),
    phaseFinished: list(ExpectedPhase).optional(),
    stepsRan: StepIds.optional(),
    stepsSkipped: StepIds.optional(),
    stepsFailed: StepIds.optional(),
    stepsCompensated: StepIds.optional(),
    /** Audiences that received at least one notification (runbook messages, escalations, status updates). */
    notified: z.array(Text('an audience, like "internal" or "L3"')).min(1).optional(),
    /** Actions (activity names) that would have been called at least once, like app.killSwitch. */
    actions: z.array(Text('an action name, like "app.killSwitch"')).min(1).optional(),
  })
  .strict();
export type DrillExpectations = z.output<typeof DrillExpectations>;

export const DRILL_MODES = ['tabletop', 'technical'] as const;
export type DrillMode = (typeof DRILL_MODES)[number];

export const DrillScenarioFile = z
  .object({
    id: Id,
    title: Text('a title for the drill'),
    description: z.string().optional(),
    runbook: Id,
    /** tabletop: every action is recorded, nothing is touched. technical: actions run against staging targets. */
    mode: z.enum(DRILL_MODES, { error: 'expected mode: tabletop or technical' }).default('tabletop'),
    incident: DrillIncident,
    /** Who acts when a script line names nobody. */
    operator: Actor.default('drill'),
    script: z
      .array(RawScriptEntry)
      .max(
        MAX_DRILL_SCRIPT_ENTRIES,
        `expected at most ${MAX_DRILL_SCRIPT_ENTRIES} scripted events (a drill's incident must stay short enough never to continue as new); split the scenario`,
      )
      .default([]),
    /** How long the drill runs in simulated time; default: until the last scripted event. */
    end: Duration.optional(),
    expect: DrillExpectations.default({}),
  })
  .strict()
  .superRefine((scenario, ctx) => {
    let previous = 0;
    scenario.script.forEach((entry, index) => {
      if (entry.atMs < previous) {
        ctx.addIssue({
          code: 'custom',
          path: ['script', index, 'at'],
          message: `events must be in time order: ${formatDuration(entry.atMs)} is before the previous event's ${formatDuration(previous)}`,
        });
      }
      previous = Math.max(previous, entry.atMs);
    });
    const last = scenario.end ?? previous;
    if (last > MAX_DRILL_DURATION_MS) {
      ctx.addIssue({
        code: 'custom',
        path: scenario.end !== undefined ? ['end'] : ['script', scenario.script.length - 1, 'at'],
        message: `expected a drill of at most ${formatDuration(MAX_DRILL_DURATION_MS)} of simulated time, found ${formatDuration(last)} (a drill's incident must stay short enough never to continue as new)`,
      });
    }
    if (scenario.end !== undefined && scenario.end < previous) {
      ctx.addIssue({
        code: 'custom',
        path: ['end'],
        message: `end (${formatDuration(scenario.end)}) is before the last scripted event (${formatDuration(previous)})`,
      });
    }
  });

/** A validated scenario, defaults applied; `file` is where it came from (for messages, relative when possible). */
export interface DrillScenario {
  id: string;
  title: string;
  description?: string;
  runbook: string;
  mode: DrillMode;
  incident: DrillIncident;
  script: ScriptEntry[];
  /** Simulated milliseconds after opening at which the drill stops. */
  endMs: number;
  expect: DrillExpectations;
  file: string;
}

/** A scenario as lists show it (the console's drills page, GET /drills): what it exercises, and its size. */
export interface DrillScenarioSummary extends Pick<DrillScenario, 'id' | 'title' | 'description' | 'runbook' | 'mode'> {
  /** Scripted events. */
  events: number;
}

/** Applies the scenario-level defaults (operator, end) to a parsed file. */
export function toScenario(parsed: z.output<typeof DrillScenarioFile>, file: string): DrillScenario {
  const script = parsed.script.map((entry) => ({ ...entry, by: entry.by ?? parsed.operator }) as ScriptEntry);
  const last = script.reduce((max, entry) => Math.max(max, entry.atMs), 0);
  return {
    id: parsed.id,
    title: parsed.title,
    ...(parsed.description !== undefined ? { description: parsed.description } : {}),
    runbook: parsed.runbook,
    mode: parsed.mode,
    incident: parsed.incident,
    script,
    endMs: parsed.end ?? last,
    expect: parsed.expect,
    file,
  };
}
