// Runbook documents (YAML in runbooks/) and the compiled plan pinned into each incident. Sandbox-safe: imports zod.
import { z } from 'zod';
import { ACTION_NAMES, ACTION_PARAMS, isActionName } from './actions/index';
import { type OnTimeout, Role, isWorkflowAction, personWait } from './actions/task';
import { Condition } from './condition';
import { Duration } from './duration';
import { type EscalationPolicy, EscalationPolicyOverride } from './escalation-policy';
import { Category, EventType, type Phase, PHASES, classify } from './incident';
import { ENHANCED_MONITORING_MS } from './recurrence';
import type { Severity } from './severity';

const StepId = z
  .string({ error: 'expected a step id of lowercase letters, digits and dashes, like "notify-oncall"' })
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'expected a step id of lowercase letters, digits and dashes, like "notify-oncall"');

/** Retry policy of a step's activity; each field defaults to the engine's policy (5 attempts, 1s, x2, 1m). */
export const StepRetry = z
  .object({
    maxAttempts: z.number().int().min(1, 'expected maxAttempts of at least 1').optional(),
    initialInterval: Duration.optional(),
    backoff: z.number().min(1, 'expected a backoff coefficient of at least 1, like 2').optional(),
    maxInterval: Duration.optional(),
  })
  .strict()
  .refine((r) => r.initialInterval === undefined || r.maxInterval === undefined || r.maxInterval >= r.initialInterval, {
    message: 'expected maxInterval to be at least initialInterval',
    path: ['maxInterval'],
  });
export type StepRetry = z.infer<typeof StepRetry>;

/** An approval gate: the step waits for `approveStep` from one of `roles` before its action runs. */
export const StepApproval = personWait(
  {
    roles: z
      .array(Role, { error: 'expected roles: a list of the roles that may approve, like [incident-commander]' })
      .min(
        1,
        'an approval with no approver role can never be granted; expected at least one role, like [incident-commander]',
      ),
  },
  '30m',
);
export type StepApproval = z.infer<typeof StepApproval>;

/**
 * What a step waits for besides the runbook's order. People's tasks hold no automated step by themselves (they run
 * beside it); a step that needs a person's work done first says so here, with the reason.
 */
export const StepAfter = z
  .object({
    steps: z
      .array(StepId, { error: 'expected steps: the ids of the steps this one waits for, like [confirm-incident]' })
      .min(1, 'expected at least one step id, like [confirm-incident]'),
    reason: z
      .string({ error: 'expected reason: why this step must wait for them (a runbook states every such dependency)' })
      .trim()
      .min(1, 'expected reason: why this step must wait for them (a runbook states every such dependency)'),
  })
  .strict();
export type StepAfter = z.infer<typeof StepAfter>;

const stepFields = {
  id: StepId,
  action: z.string({ error: 'expected an action name, like notify.send' }),
  description: z.string().optional(),
  with: z.record(z.string(), z.unknown()).default({}),
  /** Runs the step only when the condition holds; otherwise it is skipped with the reason. */
  when: Condition.optional(),
  /** Start-to-close timeout of each attempt of the step's activity. */
  timeout: Duration.optional(),
  retry: StepRetry.optional(),
  approval: StepApproval.optional(),
  /** `false`: never undo this step, even when its action has a compensation. */
  compensate: z
    .literal(false, { error: 'expected compensate: false (leave it out to undo the step when needed)' })
    .optional(),
  /** A critical step that fails fails its phase: the incident undoes what it did and ends as failed. */
  critical: z.boolean().optional(),
  /** Steps (earlier in this phase, or a detect-phase task) this one waits for, and why. */
  after: StepAfter.optional(),
};

type StepShape = {
  action?: string;
  with: Record<string, unknown>;
  timeout?: number;
  retry?: StepRetry;
};

/** The value at `path` inside `value`, or undefined. */
function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object' || !Object.prototype.hasOwnProperty.call(current, key))
      return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/** A string holding an `${alert.…}` placeholder: a value the detector supplies when the step runs. */
function filledFromAlert(value: unknown): boolean {
  return typeof value === 'string' && /\$\{\s*alert\b/.test(value);
}

function checkAction(step: StepShape, ctx: z.RefinementCtx): void {
  if (step.action === undefined) return;
  if (!isActionName(step.action)) {
    ctx.addIssue({
      code: 'custom',
      path: ['action'],
      message: `unknown action "${step.action}"; expected one of: ${ACTION_NAMES.join(', ')}`,
    });
    return;
  }
  const parsed = ACTION_PARAMS[step.action].safeParse(step.with);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      // A parameter filled from the alert (`${alert.labels.source_ip}`) is known only when the step runs: its content
      // is checked then, by the activity, which fails the step naming the field. That it is text is checked here.
      const fromAlert = filledFromAlert(valueAt(step.with, issue.path));
      if (fromAlert && issue.code !== 'invalid_type') continue;
      const message = fromAlert
        ? `${issue.message} (an alert label is text, so it cannot fill this field)`
        : issue.message;
      ctx.addIssue({ code: 'custom', path: ['with', ...issue.path.map(String)], message });
    }
  }
  if (isWorkflowAction(step.action)) {
    for (const field of ['timeout', 'retry'] as const) {
      if (step[field] !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [field],
          message: `a ${step.action} step waits for a person and runs no activity; put its timeout under with (with.timeout, with.onTimeout)`,
        });
      }
    }
  }
}

export const Step = z.object(stepFields).strict().superRefine(checkAction);
export type Step = z.infer<typeof Step>;

/** Steps that run together; the group is done when every one of them is. */
export const ParallelGroup = z.object({ id: StepId.optional(), parallel: z.array(Step).min(1) }).strict();
export type ParallelGroup = z.infer<typeof ParallelGroup>;

/**
 * An entry of a phase's `steps`: a step, or `{ parallel: [steps...], id? }`. One object schema rather than a union,
 * so an error names the exact field (a zod union that fails reports only "Invalid input").
 */
export const StepEntry = z
  .object({
    ...stepFields,
    id: StepId.optional(),
    action: stepFields.action.optional(),
    with: z.record(z.string(), z.unknown()).optional(),
    parallel: z.array(Step).min(1, 'expected at least one step in a parallel group').optional(),
  })
  .strict()
  .superRefine((entry, ctx) => {
    if (entry.parallel !== undefined) {
      for (const key of Object.keys(entry)) {
        if (key !== 'parallel' && key !== 'id' && entry[key as keyof typeof entry] !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message:
              'a parallel group has only `parallel` (its steps) and an optional `id`; put step fields on its steps',
          });
        }
      }
      return;
    }
    if (entry.id === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['id'],
        message: 'required field is missing: expected a step id, like "notify-oncall"',
      });
    if (entry.action === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['action'],
        message: 'required field is missing: expected an action name, like notify.send',
      });
    checkAction({ ...entry, with: entry.with ?? {} }, ctx);
  })
  .transform((entry): Step | ParallelGroup => {
    if (entry.parallel !== undefined)
      return entry.id === undefined ? { parallel: entry.parallel } : { id: entry.id, parallel: entry.parallel };
    const { parallel: _parallel, ...step } = entry;
    return { ...step, id: step.id!, action: step.action!, with: step.with ?? {} };
  });
export type StepEntry = z.output<typeof StepEntry>;

export function isParallelGroup<S extends object, G extends { parallel: unknown[] }>(entry: S | G): entry is G {
  return 'parallel' in entry && Array.isArray((entry as G).parallel);
}

export const PhaseSpec = z
  .object({
    /** `manual`: once its steps are done the phase waits for an operator's advancePhase (or resolve). */
    advance: z.enum(['auto', 'manual']).default('auto'),
    steps: z.array(StepEntry).default([]),
  })
  .strict();

/** A label value to match: one exact value, or a list of accepted values. */
const LabelMatch = z.union([z.string(), z.array(z.string()).min(1, 'expected at least one accepted value')], {
  error: 'expected a value or a list of accepted values, like "critical" or [critical, high]',
});

/** The alert intake formats (src/api/intake/). */
export const INTAKE_FORMATS = ['alertmanager', 'pagerduty', 'generic'] as const;
export type IntakeFormat = (typeof INTAKE_FORMATS)[number];

/**
 * One matching rule for alerts: every field given must match (alertname is the `alertname` label). Fields left out
 * match anything; a rule with no field matches every alert.
 */
export const MatchRule = z
  .object({
    alertname: LabelMatch.optional(),
    /** The alert's source: `alertmanager`, the PagerDuty event's `payload.source`, or the generic alert's `source`. */
    source: LabelMatch.optional(),
    /** Which intake received it. */
    format: z
      .union([z.enum(INTAKE_FORMATS), z.array(z.enum(INTAKE_FORMATS)).min(1)], {
        error: `expected an intake format or a list of them: ${INTAKE_FORMATS.join(', ')}`,
      })
      .optional(),
    labels: z.record(z.string(), LabelMatch).optional(),
  })
  .strict();
export type MatchRule = z.infer<typeof MatchRule>;

/**
 * Which detector alerts open an incident with this runbook. The most specific matching rule (most fields) over all
 * runbooks wins; `default: true` takes the alerts no rule matches.
 */
export const RunbookMatch = z
  .object({
    rules: z.array(MatchRule).default([]),
    default: z.boolean().default(false),
  })
  .strict();
export type RunbookMatch = z.infer<typeof RunbookMatch>;

/** Longest quiet period an automatic resolve may wait for: the enhanced-monitoring window's far end. */
export const AUTO_RESOLVE_MAX_MS = ENHANCED_MONITORING_MS;

/**
 * `autoResolve: { quietFor: 30m }`: once every alert of the incident has resolved and none fired again for
 * `quietFor`, the incident resolves itself (as `auto-resolve`), where a person's resolve would be allowed.
 */
export const AutoResolve = z
  .object({
    quietFor: Duration.pipe(
      z
        .number()
        .min(60_000, 'expected autoResolve.quietFor of at least 1m')
        .max(AUTO_RESOLVE_MAX_MS, 'expected autoResolve.quietFor of at most 48h'),
    ),
  })
  .strict();
export type AutoResolve = z.infer<typeof AutoResolve>;

const RunbookShape = z
  .object({
    $schema: z.string().optional(),
    id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'expected a runbook id of lowercase letters, digits and dashes'),
    version: z.number().int().min(1),
    title: z.string().min(1),
    description: z.string().optional(),
    category: Category,
    eventTypes: z.array(EventType).min(1),
    escalation: EscalationPolicyOverride.optional(),
    /** Which detector alerts select this runbook (optional). */
    match: RunbookMatch.optional(),
    /** Resolve by itself after a quiet period once every alert has resolved (optional). */
    autoResolve: AutoResolve.optional(),
    phases: z
      .object({
        detect: PhaseSpec,
        contain: PhaseSpec,
        eradicate: PhaseSpec,
        recover: PhaseSpec,
        'post-incident': PhaseSpec,
      })
      .strict(),
  })
  .strict();

export const Runbook = RunbookShape.superRefine((runbook, ctx) => {
  const seen = new Map<string, Phase>();
  const claim = (id: string | undefined, phase: Phase, path: PropertyKey[]): void => {
    if (id === undefined) return;
    const previous = seen.get(id);
    if (previous) {
      ctx.addIssue({
        code: 'custom',
        path,
        message: `duplicate step id "${id}" (already used in phase ${previous})`,
      });
    }
    seen.set(id, phase);
  };
  for (const phase of PHASES) {
    runbook.phases[phase].steps.forEach((entry, index) => {
      const at = ['phases', phase, 'steps', index];
      claim(entry.id, phase, [...at, 'id']);
      if (isParallelGroup(entry))
        entry.parallel.forEach((step, i) => claim(step.id, phase, [...at, 'parallel', i, 'id']));
    });
  }
  for (const issue of afterIssues(runbook)) ctx.addIssue({ code: 'custom', ...issue });
});

/**
 * What is wrong with the runbook's `after:` lists: a step may wait for a step before it in its own phase (an earlier
 * entry, not its own parallel group) or, from containment, for a detect-phase task (which then holds containment at
 * every severity). Anything else could never be done first, or would wait forever.
 */
function afterIssues(runbook: z.infer<typeof RunbookShape>): { path: PropertyKey[]; message: string }[] {
  const where = new Map<string, { phase: Phase; entry: number; action: string }>();
  for (const phase of PHASES) {
    stepsWithPaths(runbook.phases[phase].steps).forEach(({ step, path }) => {
      if (!where.has(step.id)) where.set(step.id, { phase, entry: path[0] as number, action: step.action });
    });
  }
  const issues: { path: PropertyKey[]; message: string }[] = [];
  for (const phase of PHASES) {
    for (const { step, path } of stepsWithPaths(runbook.phases[phase].steps)) {
      (step.after?.steps ?? []).forEach((id, k) => {
        const at = ['phases', phase, 'steps', ...path, 'after', 'steps', k];
        const target = where.get(id);
        const fail = (message: string) => issues.push({ path: at, message });
        if (!target) return fail(`no step "${id}" in this runbook; expected one of: ${[...where.keys()].join(', ')}`);
        if (id === step.id) return fail(`step "${id}" cannot wait for itself`);
        if (target.phase === phase) {
          if (target.entry >= (path[0] as number))
            fail(
              `step "${id}" comes ${target.entry === path[0] ? 'in the same parallel group' : 'later'} in phase ${phase}; a step can only wait for steps before it`,
            );
          return;
        }
        if (phase === 'contain' && target.phase === 'detect') {
          if (target.action !== 'task')
            fail(`step "${id}" is an automated detect step; it is always done before containment starts`);
          return;
        }
        fail(
          `step "${id}" is in phase ${target.phase}; only a contain step may wait for a detect-phase task (steps of earlier phases are otherwise always done first)`,
        );
      });
    }
  }
  return issues;
}
export type Runbook = z.infer<typeof Runbook>;

/** A compiled retry policy, in Temporal's terms. */
export interface PlanRetry {
  maximumAttempts: number;
  initialIntervalMs: number;
  backoffCoefficient: number;
  maximumIntervalMs: number;
}

export const DEFAULT_STEP_RETRY: PlanRetry = {
  maximumAttempts: 5,
  initialIntervalMs: 1_000,
  backoffCoefficient: 2,
  maximumIntervalMs: 60_000,
};

export interface PlanApproval {
  roles: string[];
  timeoutMs?: number;
  onTimeout: OnTimeout;
}

export interface PlanStep {
  id: string;
  action: string;
  description?: string;
  with: Record<string, unknown>;
  timeoutMs?: number;
  when?: Condition;
  retry?: PlanRetry;
  approval?: PlanApproval;
  compensate?: false;
  critical?: true;
  /** Step ids this one waits for besides the runbook's order (`after.steps`); the reason stays in the runbook. */
  after?: string[];
  /**
   * The parallel group the step belongs to (the group's `id`, or `parallel-<n>` for the n-th entry of the phase when
   * it has none). Consecutive steps with the same group run together; a step without one runs on its own.
   */
  group?: string;
}

export interface PhasePlan {
  advance: 'auto' | 'manual';
  /** In runbook order; parallel groups are flattened and their steps carry `group`. */
  steps: PlanStep[];
}

/** A phase plan's steps as the runner takes them: single steps, and groups of steps that run together. */
export function planEntries(steps: PlanStep[]): { group?: string; steps: PlanStep[] }[] {
  const entries: { group?: string; steps: PlanStep[] }[] = [];
  for (const step of steps) {
    const last = entries.at(-1);
    if (step.group !== undefined && last?.group === step.group) last.steps.push(step);
    else entries.push(step.group !== undefined ? { group: step.group, steps: [step] } : { steps: [step] });
  }
  return entries;
}

/** Every step of a validated phase with where it sits in the document (parallel groups included). */
export function stepsWithPaths(entries: StepEntry[]): { step: Step; path: (string | number)[] }[] {
  return entries.flatMap((entry, index) =>
    isParallelGroup(entry)
      ? entry.parallel.map((step, i) => ({ step, path: [index, 'parallel', i] }))
      : [{ step: entry, path: [index] }],
  );
}

function compileStep(step: Step): PlanStep {
  return {
    id: step.id,
    action: step.action,
    ...(step.description ? { description: step.description } : {}),
    with: step.with,
    ...(step.timeout !== undefined ? { timeoutMs: step.timeout } : {}),
    ...(step.when ? { when: step.when } : {}),
    ...(step.retry
      ? {
          retry: {
            maximumAttempts: step.retry.maxAttempts ?? DEFAULT_STEP_RETRY.maximumAttempts,
            initialIntervalMs: step.retry.initialInterval ?? DEFAULT_STEP_RETRY.initialIntervalMs,
            backoffCoefficient: step.retry.backoff ?? DEFAULT_STEP_RETRY.backoffCoefficient,
            maximumIntervalMs: Math.max(
              step.retry.maxInterval ?? DEFAULT_STEP_RETRY.maximumIntervalMs,
              step.retry.initialInterval ?? DEFAULT_STEP_RETRY.initialIntervalMs,
            ),
          },
        }
      : {}),
    ...(step.approval
      ? {
          approval: {
            roles: step.approval.roles,
            ...(step.approval.timeout !== undefined ? { timeoutMs: step.approval.timeout } : {}),
            onTimeout: step.approval.onTimeout ?? 'escalate',
          },
        }
      : {}),
    ...(step.compensate === false ? { compensate: false as const } : {}),
    ...(step.critical ? { critical: true as const } : {}),
    ...(step.after ? { after: step.after.steps } : {}),
  };
}

/** A phase's validated `steps` as the plan an incident pins: defaults applied, durations in ms, groups flattened. */
export function compileSteps(entries: StepEntry[]): PlanStep[] {
  return entries.flatMap((entry, index) =>
    isParallelGroup(entry)
      ? entry.parallel.map((step) => ({ ...compileStep(step), group: entry.id ?? `parallel-${index + 1}` }))
      : [compileStep(entry)],
  );
}

/** Every phase of a validated runbook, compiled. */
export function compilePhases(runbook: Runbook): Record<Phase, PhasePlan> {
  return Object.fromEntries(
    PHASES.map((phase) => [
      phase,
      { advance: runbook.phases[phase].advance, steps: compileSteps(runbook.phases[phase].steps) },
    ]),
  ) as Record<Phase, PhasePlan>;
}

/** What an incident runs: a validated runbook with defaults applied, pinned by content hash. */
export interface RunbookPlan {
  id: string;
  version: number;
  title: string;
  category: z.infer<typeof Category>;
  eventTypes: z.infer<typeof EventType>[];
  /** SHA-256 of the runbook file's bytes. */
  contentHash: string;
  source: string;
  escalation: EscalationPolicy;
  phases: Record<Phase, PhasePlan>;
  /** The runbook's alert matching rules, when it has any. */
  match?: RunbookMatch;
  /** Resolve by itself this long after every alert resolved, when the runbook asks. */
  autoResolve?: { quietForMs: number };
}

/** Severities whose containment no person's detect-phase check holds (the FailSafe-Qore procedures' P0 and P1). */
export const CONTAIN_AT_ONCE: readonly Severity[] = ['P0', 'P1'];

/** The group the detect-phase checks form at the head of containment when they run beside it. */
export const DETECT_CHECKS_GROUP = 'detect-checks';

/**
 * The plan an incident of `severity` pins. For a P0 or P1, the detect phase's tasks (people's checks: confirm,
 * classify, record) move to the head of containment, where they run beside its automated steps instead of before
 * them; a task a contain step names in `after:` stays in detect and holds containment as the runbook says. Step ids
 * are unchanged, so a check is completed the same way wherever it runs. Other severities get the plan as it is.
 */
export function planForSeverity(plan: RunbookPlan, severity: Severity): RunbookPlan {
  if (!CONTAIN_AT_ONCE.includes(severity)) return plan;
  const held = new Set(plan.phases.contain.steps.flatMap((step) => step.after ?? []));
  const moves = (step: PlanStep): boolean => step.action === 'task' && !held.has(step.id);
  const moved = plan.phases.detect.steps.filter(moves);
  if (moved.length === 0) return plan;
  // A group whose other steps stay keeps its id; a step of it that moves joins the checks' group.
  const checks = moved.map(({ group: _group, after: _after, ...step }) => ({ ...step, group: DETECT_CHECKS_GROUP }));
  return {
    ...plan,
    phases: {
      ...plan.phases,
      detect: { ...plan.phases.detect, steps: plan.phases.detect.steps.filter((step) => !moves(step)) },
      contain: { ...plan.phases.contain, steps: [...checks, ...plan.phases.contain.steps] },
    },
  };
}

/**
 * The plan an incident opened with `opening` pins, however it is opened (intake, API, CLI, drill): planForSeverity
 * at the severity the incident will classify itself with (the opener's, the event type's and the alert's labels').
 */
export function planForOpening(
  plan: RunbookPlan,
  opening: { eventType?: EventType; severity?: Severity; labels?: Record<string, string> },
): RunbookPlan {
  // Without labels or a severity, both documents' criteria count, as a new incident classifies itself
  // (severity-without-labels).
  const labels = opening.labels ?? (opening.severity === undefined ? {} : undefined);
  return planForSeverity(plan, classify(opening.eventType ?? 'other', opening.severity, labels).severity);
}
