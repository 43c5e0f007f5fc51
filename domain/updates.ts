// The table of operator updates: for each, its wire name, input schema, the API roles that may send it, the timeline
// events it records, and how the HTTP API and the CLI present it. Everything that sends or takes an update is derived
// from this table: the workflow's handlers and validators (workflows/incident/workflow.ts), the IncidentClient
// methods (src/client.ts), the HTTP routes and their OpenAPI bodies (src/api/routes/updates.ts, src/api/schemas.ts)
// and the CLI commands (src/cli/main.ts). What an update may do in each state (its refusal rule) and what it changes
// (its apply function) live in the Incident class (workflows/incident/incident.ts), keyed by the same names.
// To add an update: one entry here, its input schema in domain/messages.ts, its rule and apply function in the
// Incident class, and their tests. Sandbox-safe: imports only zod.
import type { z } from 'zod';
import type { TimelineEventType } from './incident';
import {
  AcknowledgeInput,
  AddFollowUpInput,
  AddNoteInput,
  CompleteFollowUpInput,
  RecordLessonsBody,
  RecordLessonsInput,
  AdvancePhaseInput,
  ApproveStepInput,
  AssignOwnerInput,
  RecordedAssignOwnerInput,
  CompleteTaskInput,
  DeclareFalsePositiveInput,
  EscalateInput,
  RecordRootCauseInput,
  RejectStepInput,
  ResolveInput,
  SENDER_KEYS,
  SetSeverityInput,
  UpdateImpactBody,
  UpdateImpactInput,
} from './messages';
import type { ApiRole } from './roles';

/** A CLI option that fills one field of the update's input. */
export interface CliOption {
  /** Commander flags, like "-m, --note <text>"; a flag without a value sets the field to true. */
  flags: string;
  field: string;
  description?: string;
  required?: boolean;
  choices?: readonly string[];
  /** The value is a number (the option's text is converted). */
  number?: boolean;
}

/** How the CLI offers an update: `<command> <incident> [args...] [options]`; `by` comes from --by. */
export interface CliCommand {
  /** The command and its positional arguments after the incident, like "approve <incident> <step>". */
  usage: string;
  description: string;
  /** The fields the positional arguments after `<incident>` fill, in order. */
  args?: readonly string[];
  options?: readonly CliOption[];
}

export interface UpdateSpec<I extends z.ZodType = z.ZodType> {
  /** The workflow's input: what the validator parses (the sender's name is `by`). */
  input: I;
  /**
   * What a recorded update may hold, when `input`'s bounds were tightened since: a replay runs no validator, and its
   * handler parses what was valid when it was accepted. Same output type as `input`.
   */
  recorded?: z.ZodType<z.infer<I>>;
  /** The HTTP body: the input without `by` (the server takes it from the caller's key). Default: input.omit(SENDER_KEYS). */
  body?: z.ZodObject;
  /** The API roles that may send it at all; the Incident's rule may still ask more (a commander on a P0). */
  roles: readonly ApiRole[];
  /** The timeline events an accepted update records. */
  events: readonly TimelineEventType[];
  /**
   * It takes the incident toward its end (or stops its paging), so it is still taken once the incident's history is
   * past MAX_UPDATE_HISTORY_EVENTS (domain/limits.ts), when every other update is refused.
   */
  finishes?: true;
  /** One line, for the OpenAPI document and the docs. */
  summary: string;
  cli: CliCommand;
}

/** Operators and commanders steer incidents. */
const STEER: readonly ApiRole[] = ['operator', 'commander'];

const note: CliOption = { flags: '-m, --note <text>', field: 'note' };

/** Typed entry: keeps each entry's own input schema type. */
function update<I extends z.ZodType>(spec: UpdateSpec<I>): UpdateSpec<I> {
  return spec;
}

export const UPDATES = {
  acknowledge: update({
    input: AcknowledgeInput,
    roles: STEER,
    finishes: true,
    events: ['acknowledged'],
    summary: 'Acknowledge the incident at its current escalation level',
    cli: {
      usage: 'ack <incident>',
      description: 'acknowledge the incident (at its current escalation level)',
      options: [note],
    },
  }),
  setSeverity: update({
    input: SetSeverityInput,
    roles: STEER,
    events: ['severity_changed'],
    summary: 'Change the severity (P0-P3 or Critical/High/Medium/Low)',
    cli: {
      usage: 'severity <incident> <severity>',
      description: 'set severity (P0-P3 or Critical/High/Medium/Low)',
      args: ['severity'],
      options: [{ flags: '-m, --reason <text>', field: 'reason' }],
    },
  }),
  recordRootCause: update({
    input: RecordRootCauseInput,
    roles: STEER,
    events: ['root_cause_recorded'],
    summary: 'Record the root cause',
    cli: { usage: 'root-cause <incident> <summary>', description: 'record the root cause', args: ['summary'] },
  }),
  assignOwner: update({
    input: AssignOwnerInput,
    recorded: RecordedAssignOwnerInput,
    roles: STEER,
    events: ['owner_assigned'],
    summary: 'Assign the incident owner',
    cli: { usage: 'assign <incident> <owner>', description: 'assign the incident owner', args: ['owner'] },
  }),
  escalate: update({
    input: EscalateInput,
    roles: STEER,
    events: ['escalated'],
    summary: 'Escalate by hand (level 3: executive attention)',
    cli: {
      usage: 'escalate <incident>',
      description: 'escalate by hand; level 3 requests executive attention',
      options: [
        { flags: '-m, --reason <text>', field: 'reason', required: true },
        {
          flags: '-l, --level <n>',
          field: 'level',
          description: 'target level',
          choices: ['1', '2', '3'],
          number: true,
        },
      ],
    },
  }),
  updateImpact: update({
    input: UpdateImpactInput,
    body: UpdateImpactBody,
    roles: STEER,
    events: ['impact_updated'],
    summary: 'Update affected systems or confirm a data breach',
    cli: {
      usage: 'impact <incident>',
      description: 'record affected systems or a confirmed data breach',
      options: [
        { flags: '--system <name...>', field: 'affectedSystems', description: 'affected systems to add' },
        { flags: '--data-breach', field: 'dataBreachConfirmed', description: 'a data breach is confirmed' },
      ],
    },
  }),
  advancePhase: update({
    input: AdvancePhaseInput,
    roles: STEER,
    finishes: true,
    events: ['phase_advanced'],
    summary:
      'Leave a phase that waits for an operator (a P0 whose advance reaches the end of recovery: a commander key)',
    cli: {
      usage: 'advance <incident>',
      description: 'move on from a phase that waits for an operator',
      options: [note],
    },
  }),
  resolve: update({
    input: ResolveInput,
    roles: STEER,
    finishes: true,
    events: ['resolved'],
    summary: 'Resolve the incident (after containment; a P0 needs a commander key)',
    cli: {
      usage: 'resolve <incident>',
      description: 'declare service restored (after containment)',
      options: [{ flags: '-m, --summary <text>', field: 'summary' }],
    },
  }),
  declareFalsePositive: update({
    input: DeclareFalsePositiveInput,
    roles: STEER,
    finishes: true,
    events: ['false_positive'],
    summary: 'Declare a false positive: undo containment, then close',
    cli: {
      usage: 'false-positive <incident>',
      description: 'declare the incident a false positive and close it',
      options: [{ flags: '-m, --reason <text>', field: 'reason', required: true }],
    },
  }),
  approveStep: update({
    input: ApproveStepInput,
    // The runbook role is optional over HTTP: without it the server acts in the step's first approver role.
    body: ApproveStepInput.omit(SENDER_KEYS).partial({ role: true }),
    roles: STEER,
    finishes: true,
    events: ['approval_granted'],
    summary: 'Approve a step waiting at its approval gate (a destructive action needs a commander key)',
    cli: {
      usage: 'approve <incident> <step>',
      description: 'approve a step waiting at its approval gate',
      args: ['stepId'],
      options: [
        {
          flags: '--role <role>',
          field: 'role',
          required: true,
          description: 'the role you approve as (the runbook names the allowed roles)',
        },
        note,
      ],
    },
  }),
  rejectStep: update({
    input: RejectStepInput,
    body: RejectStepInput.omit(SENDER_KEYS).partial({ role: true }),
    roles: STEER,
    finishes: true,
    events: ['approval_rejected'],
    summary: 'Reject a step waiting at its approval gate: it is skipped with the reason',
    cli: {
      usage: 'reject <incident> <step>',
      description: 'refuse a step waiting at its approval gate; it is skipped with the reason',
      args: ['stepId'],
      options: [
        { flags: '--role <role>', field: 'role', required: true, description: 'the role you refuse as' },
        { flags: '-m, --reason <text>', field: 'reason', required: true },
      ],
    },
  }),
  completeTask: update({
    input: CompleteTaskInput,
    roles: STEER,
    finishes: true,
    events: ['task_completed'],
    summary: "Mark a waiting task step (a person's work) done",
    cli: {
      usage: 'done <incident> <step>',
      description: "mark a person's task step done (for example: external forensics engaged)",
      args: ['stepId'],
      options: [
        { flags: '--role <role>', field: 'role', description: 'the role you act as, when the task names roles' },
        note,
      ],
    },
  }),
  addNote: update({
    input: AddNoteInput,
    roles: STEER,
    events: ['note_added'],
    summary: 'Add a note or a finding (until the incident closes)',
    cli: {
      usage: 'note <incident> <text>',
      description: 'add a note to the incident; --finding marks it a finding',
      args: ['text'],
      options: [{ flags: '--finding', field: 'finding', description: 'the note is a finding' }],
    },
  }),
  recordLessons: update({
    input: RecordLessonsInput,
    body: RecordLessonsBody,
    roles: STEER,
    events: ['lessons_recorded'],
    summary: 'Record lessons learned, response effectiveness, improvement opportunities and procedure updates',
    cli: {
      usage: 'lessons <incident>',
      description: 'record the review: lessons learned, response effectiveness, improvements, procedure updates',
      options: [
        { flags: '--lesson <text...>', field: 'lessonsLearned', description: 'lessons learned' },
        { flags: '--effectiveness <text...>', field: 'responseEffectiveness', description: 'how the response went' },
        { flags: '--improvement <text...>', field: 'improvementOpportunities', description: 'what to improve' },
        { flags: '--procedure-update <text...>', field: 'procedureUpdates', description: 'procedure changes' },
      ],
    },
  }),
  addFollowUp: update({
    input: AddFollowUpInput,
    roles: STEER,
    events: ['follow_up_added'],
    summary: 'Add a follow-up action (title, owner, due date); its owner is reminded when it falls due',
    cli: {
      usage: 'follow-up <incident> <title>',
      description: 'add a follow-up action; its owner is reminded when it falls due',
      args: ['title'],
      options: [
        { flags: '--owner <name>', field: 'owner', required: true },
        { flags: '--due <date>', field: 'due', required: true, description: 'like 2026-12-10 or 2026-12-10T17:00Z' },
      ],
    },
  }),
  completeFollowUp: update({
    input: CompleteFollowUpInput,
    roles: STEER,
    events: ['follow_up_completed'],
    summary: 'Mark a follow-up action done (after close: POST /incidents/{id}/follow-ups/{fid}/complete)',
    cli: {
      usage: 'follow-up-done <incident> <followUp>',
      description: 'mark a follow-up action done',
      args: ['followUpId'],
      options: [note],
    },
  }),
} as const;

export type Updates = typeof UPDATES;
export type UpdateName = keyof Updates;
export const UPDATE_NAMES = Object.keys(UPDATES) as UpdateName[];
/** The updates still taken past the history budget (`finishes`). */
export const FINISHING_UPDATES = UPDATE_NAMES.filter((name) => (UPDATES[name] as UpdateSpec).finishes === true);

/** What a sender passes (before parsing: defaults optional, severity names accepted). */
export type UpdateRequest<N extends UpdateName> = z.input<Updates[N]['input']>;
/** What the validator hands the Incident (parsed). */
export type UpdateInput<N extends UpdateName> = z.output<Updates[N]['input']>;

/** The HTTP body schema of an update: its input without the sender's fields (`by`, API role, runbook roles). */
export function updateBody(name: UpdateName): z.ZodType {
  const spec: UpdateSpec = UPDATES[name];
  if (spec.body) return spec.body;
  return (spec.input as unknown as z.ZodObject).omit(SENDER_KEYS);
}

/** The HTTP path segment of an update: its name in kebab case (setSeverity -> set-severity). */
export function updatePath(name: UpdateName): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
