// Builds every activity the workflows call: one per runbook action (by action name) plus the escalation notifier.
// Each parses its parameters at the boundary; errors a retry cannot fix become non-retryable failures.
import path from 'node:path';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { EngineConfig } from '../src/config';
import { ACTION_PARAMS, type ActionInput, type EscalationNotice } from '../src/schemas/actions';
import { recordDrillCall } from './drill-recorder';
import { InvalidActionInputError, NonRetryableActionError } from './errors';
import { snapshotEvidence } from './actions/evidence';
import { type Notification, deliver } from './notify/channels';

export interface ActivityDeps {
  config: EngineConfig;
  /** Clock for file timestamps; tests pin it. */
  now?: () => Date;
}

/** Rethrows non-retryable errors as non-retryable ApplicationFailures carrying the class name as type. */
async function classify<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof NonRetryableActionError) {
      throw ApplicationFailure.create({ type: error.name, message: error.message, nonRetryable: true, cause: error });
    }
    throw error;
  }
}

function params<A extends keyof typeof ACTION_PARAMS>(action: A, input: ActionInput) {
  const parsed = ACTION_PARAMS[action].safeParse(input.params);
  if (!parsed.success) {
    throw new InvalidActionInputError(
      `${action} (step ${input.stepId}): ${parsed.error.issues.map((i) => `${i.path.join('.') || 'with'}: ${i.message}`).join('; ')}`,
    );
  }
  return parsed.data as ReturnType<(typeof ACTION_PARAMS)[A]['parse']>;
}

export function createActivities(deps: ActivityDeps) {
  const { config } = deps;
  const now = deps.now ?? (() => new Date());

  function channelFor(audience: string, explicit?: string) {
    const name = explicit ?? config.audiences[audience] ?? 'default';
    const channel = config.channels[name];
    if (!channel) {
      throw new InvalidActionInputError(`no notification channel "${name}"; configured: ${Object.keys(config.channels).join(', ')}`);
    }
    return { name, channel };
  }

  async function send(notification: Notification, idempotencyKey: string, drill: boolean, explicitChannel?: string) {
    const { name, channel } = channelFor(notification.audience, explicitChannel);
    if (drill) {
      await recordDrillCall(config.dataDir, notification.incidentId, { activity: 'notify', idempotencyKey, params: { channel: name, ...notification } });
      return { channel: name, delivered: 'recorded' as const };
    }
    return deliver(name, channel, notification, idempotencyKey, now());
  }

  return {
    async 'notify.send'(input: ActionInput) {
      return classify(async () => {
        const p = params('notify.send', input);
        return send(
          { incidentId: input.incidentId, audience: p.audience, subject: `[${input.incidentId}] ${input.phase}`, text: p.message },
          input.idempotencyKey,
          input.drill,
          p.channel,
        );
      });
    },

    async 'evidence.snapshot'(input: ActionInput) {
      return classify(async () => {
        const p = params('evidence.snapshot', input);
        const paths = p.paths.map((entry) => path.resolve(config.evidenceBase, entry));
        if (input.drill) {
          await recordDrillCall(config.dataDir, input.incidentId, { activity: input.action, idempotencyKey: input.idempotencyKey, params: { ...p, paths } });
          return { recorded: true };
        }
        return snapshotEvidence({
          incidentId: input.incidentId,
          stepId: input.stepId,
          ...(p.label ? { label: p.label } : {}),
          paths,
          evidenceDir: config.evidenceDir,
          baseDir: config.evidenceBase,
          now: now(),
        });
      });
    },

    async notifyEscalation(notice: EscalationNotice) {
      return classify(async () => {
        const attempt = Context.current().info.attempt;
        return {
          attempt,
          ...(await send(
            {
              incidentId: notice.incidentId,
              audience: notice.audience,
              severity: notice.severity,
              subject: `[${notice.incidentId}] escalated to level ${notice.toLevel} (${notice.levelName})`,
              text: `${notice.title}: ${notice.reason}`,
              details: { trigger: notice.trigger, fromLevel: notice.fromLevel, toLevel: notice.toLevel },
            },
            notice.idempotencyKey,
            notice.drill,
          )),
        };
      });
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
