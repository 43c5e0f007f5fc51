// A step's `when`: a small structured condition over incident facts, written as a YAML object and evaluated by plain
// comparisons in the workflow (deterministic, no parser, never eval). Sandbox-safe: imports only zod.
//
//   when: { severity: [P0, P1] }               severity in [P0, P1]
//   when: { severity: { atLeast: P1 } }        P1 or more severe
//   when: { eventType: data_breach }           eventType == data_breach
//   when: { dataBreachConfirmed: true }        dataBreachConfirmed
//   when: { affectedSystems: { atLeast: 2 } }  affectedSystems >= 2
//   when: { labels: { source_ip: present } }   the alerts named a source_ip (`absent`: they did not)
//   when: { labels: { severity: [critical, high] } }  the alerts' severity label is one of those
//   when: { any: [{ severity: P0 }, { dataBreachConfirmed: true }], not: { drill: true } }
//
// Every test written in one object must hold (and); `any`, `all` and `not` combine objects.
import { z } from 'zod';
import { CATEGORIES, type Category, EVENT_TYPES, type EventType } from './incident';
import { SEVERITIES, Severity, severityRank } from './severity';

/** What a condition can look at: the incident's facts when the step is reached. */
export interface StepFacts {
  severity: Severity;
  eventType: EventType;
  category: Category;
  dataBreachConfirmed: boolean;
  executiveAttentionRequested: boolean;
  /** How many systems are known to be affected. */
  affectedSystems: number;
  /** 0 = first responders, 1-3 = the escalation levels. */
  escalationLevel: number;
  drill: boolean;
  /**
   * The incident's alert labels (`alertLabels`: the opener's, then what later firing alerts added; a label's first
   * value wins). Absent in facts sent before labels existed, which is read as no labels. The step runner also renders
   * `${alert.labels.<name>}` from these, so a step sees the labels its `when` saw.
   */
  labels?: Record<string, string>;
  /** What detected it (`alertSource`), for `${alert.source}`; no condition tests it. */
  alertSource?: string;
}

/** `present`, `absent`, one value or a list of accepted values. The list form `[present]` means the text "present". */
export type LabelTest = string | string[];

export interface Count {
  atLeast?: number;
  atMost?: number;
}

export interface Condition {
  severity?: Severity | Severity[] | { atLeast: Severity };
  eventType?: EventType | EventType[];
  category?: Category | Category[];
  dataBreachConfirmed?: boolean;
  executiveAttentionRequested?: boolean;
  drill?: boolean;
  affectedSystems?: Count;
  escalationLevel?: Count;
  /** Per label name: `present`, `absent`, one value, or a list of accepted values (exact, case-sensitive text). */
  labels?: Record<string, LabelTest>;
  all?: Condition[];
  any?: Condition[];
  not?: Condition;
}

const TESTS = [
  'severity',
  'eventType',
  'category',
  'dataBreachConfirmed',
  'executiveAttentionRequested',
  'drill',
  'affectedSystems',
  'escalationLevel',
  'labels',
  'all',
  'any',
  'not',
] as const;

const oneOrMany = <T extends z.ZodType>(item: T, what: string) =>
  z.union([item, z.array(item).min(1, `expected at least one ${what}`)]);

const EventTypeValue = z.enum(EVENT_TYPES, { error: `expected an event type: ${EVENT_TYPES.join(', ')}` });
const CategoryValue = z.enum(CATEGORIES, { error: `expected a category: ${CATEGORIES.join(', ')}` });

const CountTest = z
  .object({
    atLeast: z.number().int().nonnegative().optional(),
    atMost: z.number().int().nonnegative().optional(),
  })
  .strict()
  .refine((c) => c.atLeast !== undefined || c.atMost !== undefined, {
    message: 'expected { atLeast: n } and/or { atMost: n }',
  });

const LABEL_TEST_HINT = 'expected present, absent, a value, or a list of accepted values, like [critical, high]';

/** Label values are text: a YAML number or boolean is refused with a hint to quote it rather than silently converted. */
const LabelValue = z.string({
  error: (issue) =>
    typeof issue.input === 'number' || typeof issue.input === 'boolean'
      ? `expected the label value as text: quote it, like "${String(issue.input)}"`
      : LABEL_TEST_HINT,
});

const LabelScalarTest = LabelValue.min(1, LABEL_TEST_HINT);
const LabelListTest = z.array(LabelValue).min(1, 'expected at least one accepted value, like [critical, high]');

const LabelTestSchema = z.union([LabelScalarTest, LabelListTest], {
  // Say what is wrong with the value rather than zod's generic "Invalid input" for unions.
  error: (issue) =>
    (Array.isArray(issue.input) ? LabelListTest : LabelScalarTest).safeParse(issue.input).error?.issues[0]?.message ??
    LABEL_TEST_HINT,
});

const LabelsTest = z
  .record(z.string().min(1, 'expected a label name, like source_ip'), LabelTestSchema, {
    error: 'expected labels: label names with present, absent or accepted values, like { source_ip: present }',
  })
  .refine((labels) => Object.keys(labels).length > 0, {
    message: 'expected at least one label test, like { source_ip: present }',
  });

export const Condition: z.ZodType<Condition> = z
  .object({
    severity: z
      .union([
        Severity,
        z.array(Severity).min(1, 'expected at least one severity'),
        z.object({ atLeast: Severity }).strict(),
      ])
      .optional(),
    eventType: oneOrMany(EventTypeValue, 'event type').optional(),
    category: oneOrMany(CategoryValue, 'category').optional(),
    dataBreachConfirmed: z.boolean().optional(),
    executiveAttentionRequested: z.boolean().optional(),
    drill: z.boolean().optional(),
    affectedSystems: CountTest.optional(),
    escalationLevel: CountTest.optional(),
    labels: LabelsTest.optional(),
    get all() {
      return z.array(Condition).min(1, 'expected at least one condition').optional();
    },
    get any() {
      return z.array(Condition).min(1, 'expected at least one condition').optional();
    },
    get not() {
      return Condition.optional();
    },
  })
  .strict()
  .refine((c) => TESTS.some((key) => c[key] !== undefined), {
    message: `expected at least one test: ${TESTS.join(', ')}`,
  }) as z.ZodType<Condition>;

export interface ConditionResult {
  ok: boolean;
  /** Why it does not hold (or what held), in words for the timeline: "severity is P3, expected P0 or P1". */
  reason: string;
}

const list = (values: readonly string[]): string =>
  values.length <= 1 ? (values[0] ?? '') : `${values.slice(0, -1).join(', ')} or ${values.at(-1)}`;

function countTest(name: string, value: number, test: Count): ConditionResult {
  if (test.atLeast !== undefined && value < test.atLeast) {
    return { ok: false, reason: `${name} is ${value}, expected at least ${test.atLeast}` };
  }
  if (test.atMost !== undefined && value > test.atMost) {
    return { ok: false, reason: `${name} is ${value}, expected at most ${test.atMost}` };
  }
  return { ok: true, reason: `${name} is ${value}` };
}

function oneOf(name: string, value: string, expected: string | string[]): ConditionResult {
  const allowed = Array.isArray(expected) ? expected : [expected];
  return allowed.includes(value)
    ? { ok: true, reason: `${name} is ${value}` }
    : { ok: false, reason: `${name} is ${value}, expected ${list(allowed)}` };
}

function flag(name: string, value: boolean, expected: boolean): ConditionResult {
  return value === expected
    ? { ok: true, reason: `${name} is ${value}` }
    : { ok: false, reason: `${name} is ${value}, expected ${expected}` };
}

/** A label value as the timeline shows it: quoted when it is not plain, cut when long (values come from detectors). */
function shown(value: string): string {
  const cut = value.length > 80 ? `${value.slice(0, 77)}...` : value;
  return /^[\w.:/@-]+$/.test(cut) ? cut : JSON.stringify(cut);
}

function labelTest(name: string, labels: Record<string, string>, test: LabelTest): ConditionResult {
  const value = Object.prototype.hasOwnProperty.call(labels, name) ? labels[name] : undefined;
  if (test === 'present') {
    return value !== undefined
      ? { ok: true, reason: `label ${name} is present` }
      : { ok: false, reason: `label ${name} is absent, expected present` };
  }
  if (test === 'absent') {
    return value === undefined
      ? { ok: true, reason: `label ${name} is absent` }
      : { ok: false, reason: `label ${name} is ${shown(value)}, expected absent` };
  }
  const allowed = Array.isArray(test) ? test : [test];
  if (value === undefined)
    return { ok: false, reason: `label ${name} is absent, expected ${list(allowed.map(shown))}` };
  return allowed.includes(value)
    ? { ok: true, reason: `label ${name} is ${shown(value)}` }
    : { ok: false, reason: `label ${name} is ${shown(value)}, expected ${list(allowed.map(shown))}` };
}

/** Evaluates a condition against facts: plain comparisons only. The reason names the first test that failed. */
export function evaluateCondition(condition: Condition, facts: StepFacts): ConditionResult {
  const held: string[] = [];
  const check = (result: ConditionResult): ConditionResult | undefined => {
    if (!result.ok) return result;
    held.push(result.reason);
    return undefined;
  };
  const tests: (() => ConditionResult)[] = [];
  const { severity } = condition;
  if (severity !== undefined) {
    tests.push(() => {
      if (typeof severity === 'object' && !Array.isArray(severity)) {
        const allowed = SEVERITIES.filter((s) => severityRank(s) <= severityRank(severity.atLeast));
        return oneOf('severity', facts.severity, allowed);
      }
      return oneOf('severity', facts.severity, severity);
    });
  }
  if (condition.eventType !== undefined) tests.push(() => oneOf('eventType', facts.eventType, condition.eventType!));
  if (condition.category !== undefined) tests.push(() => oneOf('category', facts.category, condition.category!));
  for (const name of ['dataBreachConfirmed', 'executiveAttentionRequested', 'drill'] as const) {
    const expected = condition[name];
    if (expected !== undefined) tests.push(() => flag(name, facts[name], expected));
  }
  if (condition.affectedSystems)
    tests.push(() => countTest('affectedSystems', facts.affectedSystems, condition.affectedSystems!));
  if (condition.escalationLevel)
    tests.push(() => countTest('escalationLevel', facts.escalationLevel, condition.escalationLevel!));
  if (condition.labels) {
    // In the order written (YAML key order), so the reason names the same first failing label every time.
    for (const [name, test] of Object.entries(condition.labels))
      tests.push(() => labelTest(name, facts.labels ?? {}, test));
  }
  if (condition.all) {
    tests.push(() => {
      for (const inner of condition.all!) {
        const result = evaluateCondition(inner, facts);
        if (!result.ok) return result;
      }
      return { ok: true, reason: 'all held' };
    });
  }
  if (condition.any) {
    tests.push(() => {
      const results = condition.any!.map((inner) => evaluateCondition(inner, facts));
      const first = results.find((r) => r.ok);
      return first ?? { ok: false, reason: `none of: ${results.map((r) => r.reason).join('; ')}` };
    });
  }
  if (condition.not) {
    tests.push(() => {
      const result = evaluateCondition(condition.not!, facts);
      return result.ok ? { ok: false, reason: `not expected: ${result.reason}` } : { ok: true, reason: result.reason };
    });
  }
  for (const test of tests) {
    const failed = check(test());
    if (failed) return failed;
  }
  return { ok: true, reason: held.join(', ') };
}
