// Payloads of the incident's signals and updates, and of opening an incident. Validators parse these before a
// handler runs, so bad input is refused at the boundary. Every string, label and list is capped by domain/limits.ts,
// the same numbers the HTTP API enforces, so an update or signal sent straight to Temporal cannot bypass them.
// Sandbox-safe: imports only zod.
import { z } from 'zod';
import { Category, EventType } from './incident';
import {
  MAX_LABEL_KEY_CHARS,
  MAX_LABEL_VALUE_CHARS,
  MAX_LABELS,
  MAX_LIST_ITEMS,
  MAX_TEXT_CHARS,
  MAX_TITLE_CHARS,
  MAX_FINGERPRINT_CHARS,
  MAX_OPENING_ALERTS,
  MAX_OPENING_ALERTS_CHARS,
} from './limits';
import { ApiRole } from './roles';
import { Severity } from './severity';

/** Text of at most `max` characters (MAX_TEXT_CHARS unless given). */
export const boundedText = (max: number = MAX_TEXT_CHARS) => z.string().max(max, `expected at most ${max} characters`);
/** A list of at most MAX_LIST_ITEMS items. */
const boundedList = <T extends z.ZodType>(item: T) =>
  z.array(item).max(MAX_LIST_ITEMS, `expected at most ${MAX_LIST_ITEMS} items`);

const Actor = boundedText().trim().min(1, 'expected who is acting, e.g. "alice"');

/** Most runbook roles one sender may act in. */
export const MAX_RUNBOOK_ROLES = 32;

/**
 * Who sent an update, as the HTTP API vouches for it: the caller's API role and, when its key is bound to runbook
 * roles, the roles it may act in. The incident's validators enforce the commander-only rules and the bindings from
 * these. Absent: the update came straight to Temporal (`temporal workflow update`, the CLI without the API), the
 * break-glass path, which the timeline records as such.
 */
export const SENDER_FIELDS = {
  apiRole: ApiRole.optional(),
  runbookRoles: z
    .array(boundedText().trim().min(1, 'expected a runbook role'))
    .max(MAX_RUNBOOK_ROLES, `expected at most ${MAX_RUNBOOK_ROLES} runbook roles`)
    .optional(),
};

/** An update's input: who sends it (`by` and the sender's fields) and the update's own fields, and nothing else. */
const updateInput = <T extends z.ZodRawShape>(fields: T) =>
  z.object({ by: Actor, ...SENDER_FIELDS, ...fields }).strict();

/** The sender fields' names, left out of the HTTP bodies (the server fills them from the caller's key). */
export const SENDER_KEYS = { by: true, apiRole: true, runbookRoles: true } as const;

export const AcknowledgeInput = updateInput({ note: boundedText().optional() });
export type AcknowledgeInput = z.infer<typeof AcknowledgeInput>;

export const SetSeverityInput = updateInput({ severity: Severity, reason: boundedText().optional() });
export type SetSeverityInput = z.infer<typeof SetSeverityInput>;

export const RecordRootCauseInput = updateInput({
  summary: boundedText().trim().min(1, 'expected a root-cause summary'),
});
export type RecordRootCauseInput = z.infer<typeof RecordRootCauseInput>;

/** An owner is a name, bounded like a follow-up's owner. */
export const AssignOwnerInput = updateInput({
  owner: boundedText(MAX_TITLE_CHARS).trim().min(1, 'expected an owner'),
});
export type AssignOwnerInput = z.infer<typeof AssignOwnerInput>;
/** What a recorded assignOwner may hold: owners were bounded at MAX_TEXT_CHARS before. */
export const RecordedAssignOwnerInput = updateInput({ owner: boundedText().trim().min(1, 'expected an owner') });

/** Manual escalation; level 3 is "executive attention requested". Without a level: the next level up. */
export const EscalateInput = updateInput({
  reason: boundedText().trim().min(1, 'expected a reason for escalating'),
  level: z
    .union([z.literal(1), z.literal(2), z.literal(3)], {
      error: 'expected an escalation level: 1, 2 or 3 (3 asks for executive attention)',
    })
    .optional(),
});
export type EscalateInput = z.infer<typeof EscalateInput>;

/** UpdateImpactInput's fields without its "at least one" rule, for schemas built from it (e.g. the HTTP API's). */
export const UpdateImpactFields = updateInput({
  affectedSystems: boundedList(boundedText().trim().min(1)).optional(),
  dataBreachConfirmed: z.boolean().optional(),
});

const impactGiven = (v: { affectedSystems?: unknown; dataBreachConfirmed?: unknown }) =>
  v.affectedSystems !== undefined || v.dataBreachConfirmed !== undefined;
const IMPACT_GIVEN = { message: 'expected affectedSystems or dataBreachConfirmed' };

export const UpdateImpactInput = UpdateImpactFields.refine(impactGiven, IMPACT_GIVEN);
export type UpdateImpactInput = z.infer<typeof UpdateImpactInput>;
export const UpdateImpactBody = UpdateImpactFields.omit(SENDER_KEYS).refine(impactGiven, IMPACT_GIVEN);

export const AdvancePhaseInput = updateInput({ note: boundedText().optional() });
export type AdvancePhaseInput = z.infer<typeof AdvancePhaseInput>;

export const ResolveInput = updateInput({ summary: boundedText().optional() });
export type ResolveInput = z.infer<typeof ResolveInput>;

export const DeclareFalsePositiveInput = updateInput({
  reason: boundedText().trim().min(1, 'expected why this is a false positive'),
});
export type DeclareFalsePositiveInput = z.infer<typeof DeclareFalsePositiveInput>;

const StepRef = z
  .string({ error: 'expected the id of the step, like "block-attacker"' })
  .max(MAX_TEXT_CHARS, `expected at most ${MAX_TEXT_CHARS} characters`)
  .trim()
  .min(1, 'expected the id of the step, like "block-attacker"');
const ActingRole = z
  .string({ error: 'expected the role you act in, like "incident-commander"' })
  .max(MAX_TEXT_CHARS, `expected at most ${MAX_TEXT_CHARS} characters`)
  .trim()
  .min(1, 'expected the role you act in, like "incident-commander"');

/** Grants a step's approval gate; `role` must be one of the step's approver roles. */
export const ApproveStepInput = updateInput({ role: ActingRole, stepId: StepRef, note: boundedText().optional() });
export type ApproveStepInput = z.infer<typeof ApproveStepInput>;

/** Refuses a step's approval: the step is skipped with the reason. */
export const RejectStepInput = updateInput({
  role: ActingRole,
  stepId: StepRef,
  reason: boundedText().trim().min(1, 'expected why the step must not run'),
});
export type RejectStepInput = z.infer<typeof RejectStepInput>;

/** Marks a `task` step done; `role` is needed when the task names the roles that may complete it. */
export const CompleteTaskInput = updateInput({
  stepId: StepRef,
  role: ActingRole.optional(),
  note: boundedText().optional(),
});
export type CompleteTaskInput = z.infer<typeof CompleteTaskInput>;

/**
 * A detector's labels: name to value, both text (Alertmanager labels, PagerDuty custom_details, a generic alert's
 * labels). Runbook steps read them as `${alert.labels.<name>}` and test them with `when: { labels: ... }`.
 */
export const AlertLabels = z
  .record(
    z
      .string()
      .min(1, 'expected a label name')
      .max(MAX_LABEL_KEY_CHARS, `expected a label name of at most ${MAX_LABEL_KEY_CHARS} characters`),
    z
      .string({ error: 'expected a label value as text' })
      .max(MAX_LABEL_VALUE_CHARS, `expected a label value of at most ${MAX_LABEL_VALUE_CHARS} characters`),
    { error: 'expected labels: an object of label names to text values, like {"source_ip": "203.0.113.7"}' },
  )
  .refine((labels) => Object.keys(labels).length <= MAX_LABELS, { message: `expected at most ${MAX_LABELS} labels` });
export type AlertLabels = z.infer<typeof AlertLabels>;

export const AlertSignalInput = z
  .object({
    source: boundedText().min(1),
    status: z.enum(['firing', 'resolved']),
    summary: boundedText().default(''),
    fingerprint: boundedText(MAX_FINGERPRINT_CHARS).optional(),
    labels: AlertLabels.default({}),
    /** The detector's own severity for this alert: a higher one than the incident's raises it. */
    severity: Severity.optional(),
  })
  .strict();
export type AlertSignalInput = z.infer<typeof AlertSignalInput>;

/** The alert stream's forwards to its incident: the alerts that change something, in arrival order. */
export const AlertBatch = z.array(AlertSignalInput).max(100, 'expected at most 100 alerts in one batch');

/**
 * The alerts a detector's delivery opens an incident with: recorded at its opening, so they need no alert stream (the
 * stream started by a later alert counts them first). At most MAX_OPENING_ALERTS, MAX_OPENING_ALERTS_CHARS as JSON.
 */
export const OpeningAlerts = z
  .array(AlertSignalInput)
  .max(MAX_OPENING_ALERTS, `expected at most ${MAX_OPENING_ALERTS} opening alerts`)
  .refine((alerts) => JSON.stringify(alerts).length <= MAX_OPENING_ALERTS_CHARS, {
    message: `expected opening alerts of at most ${MAX_OPENING_ALERTS_CHARS} characters as JSON`,
  });

/** What an operator or detector supplies to open an incident (the runbook is compiled by the client). */
export const OpenRequest = z
  .object({
    title: boundedText(MAX_TITLE_CHARS).trim().min(1, 'expected a title'),
    eventType: EventType.default('other'),
    severity: Severity.optional(),
    category: Category.optional(),
    /** Who or what opened it: "operator:alice", "alertmanager", ... */
    trigger: boundedText().min(1),
    /** When the incident itself began, if earlier than now (epoch ms); time to detect runs from here. */
    startedAt: z.number().int().nonnegative().optional(),
    affectedSystems: boundedList(boundedText().min(1)).default([]),
    drill: z.boolean().default(false),
    /** Opening twice with the same key yields the same open incident. */
    dedupKey: boundedText().min(1).optional(),
    /**
     * The opening alert's labels (the targets a detector names: source_ip, user, path...). Kept as the incident's
     * `alertLabels`; later firing alerts add labels it does not have yet, never change one it has.
     */
    labels: AlertLabels.optional().describe(
      'Labels of the alert behind the incident (source_ip, user, path, endpoint, breaker, key_id...); runbook steps use them as ${alert.labels.<name>}',
    ),
    /** What detected it ("alertmanager", a PagerDuty payload.source, a generic alert's source): `${alert.source}`. */
    source: boundedText()
      .trim()
      .min(1, 'expected the detector that raised the alert, like "waf"')
      .optional()
      .describe('What detected it, like "waf"; runbook steps use it as ${alert.source}'),
    /** The detector's alerts that opened it (the intake's; operators open without). */
    alerts: OpeningAlerts.optional(),
  })
  .strict();
export type OpenRequest = z.infer<typeof OpenRequest>;

// ---- the post-incident record: notes, lessons, follow-ups ----

const Text = (what: string) =>
  z
    .string({ error: `expected ${what} as text` })
    .trim()
    .min(1, `expected ${what}`)
    .max(MAX_TEXT_CHARS, `expected ${what} of at most ${MAX_TEXT_CHARS} characters`);

/** A note on the incident; a finding is something learned about the incident rather than a running note. */
export const AddNoteInput = updateInput({ text: Text('the note'), finding: z.boolean().optional() });
export type AddNoteInput = z.infer<typeof AddNoteInput>;

/** The four lists of the FailSafe-Qore procedures' review, each a kind of lesson. */
export const LESSON_KINDS = {
  lessonsLearned: 'lesson_learned',
  responseEffectiveness: 'response_effectiveness',
  improvementOpportunities: 'improvement_opportunity',
  procedureUpdates: 'procedure_update',
} as const;
export type LessonKind = (typeof LESSON_KINDS)[keyof typeof LESSON_KINDS];

const Lessons = (what: string) =>
  z.array(Text(what)).max(MAX_LIST_ITEMS, `expected at most ${MAX_LIST_ITEMS} ${what}s`).optional();

/** RecordLessonsInput's fields without its "at least one" rule, for schemas built from it (the HTTP body). */
export const RecordLessonsFields = updateInput({
  lessonsLearned: Lessons('lesson learned'),
  responseEffectiveness: Lessons('remark on response effectiveness'),
  improvementOpportunities: Lessons('improvement opportunity'),
  procedureUpdates: Lessons('procedure update'),
});

const atLeastOneLesson = (v: Partial<Record<keyof typeof LESSON_KINDS, string[]>>) =>
  Object.keys(LESSON_KINDS).some((k) => (v[k as keyof typeof LESSON_KINDS]?.length ?? 0) > 0);
const ONE_LESSON = {
  message: `expected at least one of ${Object.keys(LESSON_KINDS).join(', ')}`,
};

export const RecordLessonsInput = RecordLessonsFields.refine(atLeastOneLesson, ONE_LESSON);
export type RecordLessonsInput = z.infer<typeof RecordLessonsInput>;
export const RecordLessonsBody = RecordLessonsFields.omit(SENDER_KEYS).refine(atLeastOneLesson, ONE_LESSON);

/** A due date: a day (2026-12-10, the end of that day UTC) or an ISO time with its offset. */
export const DueDate = z.union([z.iso.date(), z.iso.datetime({ offset: true })], {
  error: 'expected a due date like 2026-12-10 or 2026-12-10T17:00:00Z',
});

/** When a due date falls due (epoch ms): a bare day is due at its end, UTC. */
export function dueAtOf(due: string): number {
  return /^\d{4}-\d{2}-\d{2}$/.test(due) ? Date.parse(`${due}T23:59:59.999Z`) : Date.parse(due);
}

/** A follow-up action that outlives the incident: its owner is reminded when it falls due. */
export const AddFollowUpInput = updateInput({
  title: Text('the follow-up action').max(MAX_TITLE_CHARS, `expected a title of at most ${MAX_TITLE_CHARS} characters`),
  owner: Text('who owns the follow-up, like "alice"').max(
    MAX_TITLE_CHARS,
    `expected an owner of at most ${MAX_TITLE_CHARS} characters`,
  ),
  due: DueDate,
});
export type AddFollowUpInput = z.infer<typeof AddFollowUpInput>;

export const FollowUpRef = z
  .string({ error: 'expected the id of the follow-up, like "F1"' })
  .trim()
  .regex(/^F\d{1,6}$/, 'expected the id of the follow-up, like "F1"');

export const CompleteFollowUpInput = updateInput({ followUpId: FollowUpRef, note: Text('the note').optional() });
export type CompleteFollowUpInput = z.infer<typeof CompleteFollowUpInput>;
