// Builds every activity the workflows call: one per runbook action (by action name) plus the escalation notifier.
// Each action parses its parameters at the boundary, is recorded instead of performed in a drill, and turns errors a
// retry cannot fix into non-retryable failures. The families' performers live in activities/actions/.
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { EngineConfig } from '../domain/config';
import {
  ACTION_NAMES,
  ACTION_PARAMS,
  type ActionInput,
  type ActionName,
  type EscalationNotice,
  type IncidentNotice,
} from '../domain/actions';
import { type WorkflowActionName, isWorkflowAction } from '../domain/actions/task';
import { connectorPerformers } from './actions/connectors';
import { emergencyApiPerformers } from './actions/emergency-api';
import { evidencePerformers } from './actions/evidence';
import { httpRequestPerformers } from './actions/http-request';
import { notifyPerformers, sendNotification } from './actions/notify';
import type { Notification } from './notify/channels';
import { quarantinePerformers } from './actions/quarantine';
import type { ActionContext, Performer, Performers } from './context';
import { recordDrillCall } from './drill-recorder';
import { InvalidActionInputError } from './errors';
import { isNonRetryable } from '../domain/errors';
import { formatIssues } from '../domain/issues';

export interface ActivityDeps {
  config: EngineConfig;
  /** Clock for file timestamps; tests pin it. */
  now?: () => Date;
}

/** Rethrows errors of a non-retryable type (domain/errors.ts) as non-retryable ApplicationFailures of that type. */
async function classify<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof Error && isNonRetryable(error.name)) {
      throw ApplicationFailure.create({ type: error.name, message: error.message, nonRetryable: true, cause: error });
    }
    throw error;
  }
}

function parseParams(action: ActionName, input: ActionInput): unknown {
  const parsed = ACTION_PARAMS[action].safeParse(input.params);
  if (!parsed.success) {
    throw new InvalidActionInputError(`${action} (step ${input.stepId}): ${formatIssues(parsed.error.issues, 'with')}`);
  }
  return parsed.data;
}

export type ActionActivity = (input: ActionInput) => Promise<unknown>;
/** Actions that run as activities: every action except those the step runner carries out in the workflow (`task`). */
export type ActivityActionName = Exclude<ActionName, WorkflowActionName>;

export function createActivities(deps: ActivityDeps) {
  const ctx: ActionContext = { config: deps.config, now: deps.now ?? (() => new Date()) };
  // `task` and other in-workflow actions have no activity: the step runner carries them out itself.
  const performers: Performers<ActivityActionName> = {
    ...notifyPerformers(ctx),
    ...evidencePerformers(ctx),
    ...quarantinePerformers(ctx),
    ...emergencyApiPerformers(ctx),
    ...connectorPerformers(ctx),
    ...httpRequestPerformers(ctx),
  };

  const actions = Object.fromEntries(
    ACTION_NAMES.filter((name): name is ActivityActionName => !isWorkflowAction(name)).map((name) => {
      const perform = performers[name] as Performer<ActivityActionName>;
      const activity: ActionActivity = (input) =>
        classify(async () => {
          const params = parseParams(name, input) as Parameters<typeof perform>[0];
          if (input.drill) {
            // The recording double: nothing is touched; the call that would have been made is kept once per key.
            return recordDrillCall(ctx.config.dataDir, input.incidentId, {
              activity: name,
              idempotencyKey: input.idempotencyKey,
              params,
            });
          }
          return perform(params, input);
        });
      return [name, activity];
    }),
  ) as Record<ActivityActionName, ActionActivity>;

  /** Sends a notification the incident asked for, or in a drill records the call that would have been made. */
  const notifyOrRecord = (
    activity: 'notifyEscalation' | 'notifyIncident',
    notice: { incidentId: string; idempotencyKey: string; drill?: boolean },
    notification: Notification,
    withAttempt: boolean,
  ) =>
    classify(async () => {
      if (notice.drill) {
        return recordDrillCall(ctx.config.dataDir, notice.incidentId, {
          activity,
          idempotencyKey: notice.idempotencyKey,
          params: notification,
        });
      }
      const delivery = await sendNotification(ctx, notification, notice.idempotencyKey);
      return withAttempt ? { attempt: Context.current().info.attempt, ...delivery } : delivery;
    });

  return {
    ...actions,

    /** Tells the audience of an escalation level; the result carries the attempt, for the escalation record. */
    async notifyEscalation(notice: EscalationNotice) {
      const notification: Notification = {
        incidentId: notice.incidentId,
        audience: notice.audience,
        severity: notice.severity,
        subject: `[${notice.incidentId}] escalated to level ${notice.toLevel} (${notice.levelName})`,
        text: `${notice.title}: ${notice.reason}`,
        details: { trigger: notice.trigger, fromLevel: notice.fromLevel, toLevel: notice.toLevel },
      };
      return notifyOrRecord('notifyEscalation', notice, notification, true);
    },

    /** Status updates and other messages the incident sends by itself. */
    async notifyIncident(notice: IncidentNotice) {
      const notification: Notification = {
        incidentId: notice.incidentId,
        audience: notice.audience,
        severity: notice.severity,
        subject: notice.subject,
        text: notice.text,
        details: { kind: notice.kind },
      };
      return notifyOrRecord('notifyIncident', notice, notification, false);
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
