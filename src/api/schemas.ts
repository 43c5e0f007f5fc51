// Request and response schemas of the HTTP API, built from the message schemas in domain/ (the single source of
// truth): an update's body is its workflow input without `by`, which the server takes from the caller's API key.
// Only zod here; the OpenAPI document is generated from these.
import { z } from 'zod';
import { ON_TIMEOUT } from '../../domain/actions/task';
import { CATEGORIES, Category, EVENT_TYPES, PHASES, Phase, STATUSES } from '../../domain/incident';
import { OpenRequest } from '../../domain/messages';
import { SEVERITIES, Severity } from '../../domain/severity';
import { MAX_TIMELINE_PAGE_EVENTS } from '../../domain/timeline-page';
import { UPDATE_NAMES, type UpdateName, updateBody } from '../../domain/updates';

export const IncidentIdParams = z
  .object({
    id: z
      .string()
      .regex(/^[A-Z]+-\d{4}-\d{3,}$/, 'expected an incident id like INC-2026-001')
      .describe('Incident id, like INC-2026-001'),
  })
  .strict();

/** Bodies of the operator updates, by wire name: each update's input without `by` (domain/updates.ts). */
export const UpdateBodies = Object.fromEntries(
  UPDATE_NAMES.map((name) => [name, updateBody(name).meta({ id: `${name[0]!.toUpperCase()}${name.slice(1)}Body` })]),
) as Record<UpdateName, z.ZodType>;
export type { UpdateName };

const BEGAN =
  'expected when the incident began: epoch milliseconds, or an ISO 8601 time with its offset like 2026-12-04T09:30:00Z';

/**
 * POST /incidents: an OpenRequest without `trigger` (the server records `api:<key name>`) or opening alerts (a
 * detector's, through the intake), plus the runbook.
 */
export const OpenBody = OpenRequest.omit({ trigger: true, alerts: true })
  .extend({
    runbook: z.string().min(1, 'expected a runbook id, like "security-incident"').describe('Runbook id'),
    startedAt: z
      .union([z.number().int().nonnegative(), z.iso.datetime({ offset: true, error: BEGAN })], { error: BEGAN })
      .optional()
      .describe('When the incident began, if before now (epoch ms or ISO 8601); time to detect runs from here'),
  })
  .meta({ id: 'OpenIncidentBody' });

export const OpenResult = z
  .object({
    incidentId: z.string(),
    created: z.boolean().describe('false when the dedupKey matched an incident that is still open'),
  })
  .meta({ id: 'OpenIncidentResult' });

/** A query parameter holding a whole number in decimal digits (not `0x10`, `1e3` or an empty value), then `range`. */
const wholeNumber = (range: z.ZodNumber) =>
  z
    .string()
    .regex(/^\d{1,15}$/, 'expected a whole number in digits, like 50')
    .transform(Number)
    .pipe(range);

const BoolParam = z.enum(['true', 'false'], { error: 'expected true or false' }).transform((v) => v === 'true');

export const ListQuery = z
  .object({
    status: z.enum(STATUSES, { error: `expected a status: ${STATUSES.join(', ')}` }).optional(),
    severity: Severity.optional().describe(`${SEVERITIES.join(', ')} or Critical, High, Medium, Low`),
    category: Category.optional().describe(CATEGORIES.join(', ')),
    runbook: z.string().min(1).optional(),
    phase: Phase.optional().describe(PHASES.join(', ')),
    drill: BoolParam.optional(),
    limit: wholeNumber(
      z.number().min(1, 'expected a limit of at least 1').max(1_000, 'expected a limit of at most 1000'),
    )
      .optional()
      .transform((limit) => limit ?? 50)
      .describe('Most incidents to return, 1 to 1000 (default 50)'),
  })
  .strict();

export const IncidentSummaryView = z
  .object({
    incidentId: z.string(),
    severity: z.string().optional(),
    category: z.string().optional(),
    phase: z.string().optional(),
    status: z.string().optional(),
    runbookId: z.string().optional(),
    drill: z.boolean().optional(),
    startTime: z.string().describe('ISO 8601'),
    closeTime: z.string().optional(),
  })
  .meta({ id: 'IncidentSummary' });

export const ListResult = z.object({ incidents: z.array(IncidentSummaryView) }).meta({ id: 'IncidentList' });

export const TimelineEventView = z
  .looseObject({
    at: z.number().describe('epoch ms'),
    type: z.string().describe('opened, alert, acknowledged, escalated, step_completed, ...'),
    by: z.string().optional(),
  })
  .meta({ id: 'TimelineEvent' });

export const WaitingStepView = z
  .object({
    phase: z.enum(PHASES),
    stepId: z.string(),
    action: z.string(),
    kind: z.enum(['approval', 'task']),
    roles: z.array(z.string()).optional(),
    instructions: z.string().optional(),
    since: z.number(),
    timeoutAt: z.number().optional(),
    onTimeout: z.enum(ON_TIMEOUT).optional(),
  })
  .meta({ id: 'WaitingStep', description: 'A step that waits for a person: approveStep/rejectStep or completeTask' });

/** The incident a new one recurs (the registry's link, shown on the incident and in the intake's reply). */
export const RecurrenceView = z
  .object({
    incidentId: z.string(),
    resolvedAt: z.number().describe('epoch ms'),
  })
  .describe(
    'The last incident of the same dedup key, resolved within its enhanced-monitoring window (48 h) before this ' +
      'one opened: this one is a recurrence of it',
  )
  .meta({ id: 'Recurrence' });

/** The incident's status as the workflow reports it; the main fields are listed, the rest pass through. */
export const IncidentView = z
  .looseObject({
    incidentId: z.string(),
    title: z.string(),
    runbookId: z.string(),
    severity: z.enum(SEVERITIES),
    category: z.enum(CATEGORIES),
    eventType: z.enum(EVENT_TYPES),
    status: z.enum(STATUSES),
    phase: z.enum(PHASES),
    awaitingAdvance: z.boolean(),
    drill: z.boolean(),
    owner: z.string().optional(),
    openedAt: z.number(),
    waitingSteps: z.array(WaitingStepView),
    alertLabels: z
      .record(z.string(), z.string())
      .optional()
      .describe("The alerts' labels (the opener's, then what later firing alerts added; a label's first value wins)"),
    alertSource: z.string().optional().describe("What detected it: the opener's source, else the first firing alert's"),
    recurrenceOf: RecurrenceView.optional(),
    runs: z
      .number()
      .int()
      .optional()
      .describe('A long incident continued as new: its runs so far (absent while it has one)'),
    timelineOmitted: z
      .number()
      .int()
      .optional()
      .describe("Timeline events left in earlier runs' histories (the export has them); absent when none"),
  })
  .meta({ id: 'Incident' });

export const IncidentWithTimeline = IncidentView.extend({ timeline: z.array(TimelineEventView) }).meta({
  id: 'IncidentWithTimeline',
});

/** A page of the timeline: without `from` and `limit`, the whole of it. */
export const TimelineQuery = z
  .object({
    from: wholeNumber(z.number().min(0, 'expected from of at least 0'))
      .optional()
      .describe('Index of the first event (0: the oldest)'),
    limit: wholeNumber(
      z
        .number()
        .min(1, 'expected a limit of at least 1')
        .max(MAX_TIMELINE_PAGE_EVENTS, `expected a limit of at most ${MAX_TIMELINE_PAGE_EVENTS}`),
    )
      .optional()
      .describe('Most events to return; a page also stops at about 1 MB'),
  })
  .strict();

export const TimelineResult = z
  .object({
    incidentId: z.string(),
    timeline: z.array(TimelineEventView),
    next: z.number().int().describe('Where the next page starts; equal to total on the last page'),
    total: z.number().int().describe('Events on the whole timeline'),
  })
  .meta({ id: 'Timeline' });

/** OpenAPI security requirement of routes that take a key: a bearer token or the X-API-Key header. */
export const KEY_AUTH: Record<string, string[]>[] = [{ bearerAuth: [] }, { apiKeyHeader: [] }];
