// notify.send: a message to the channel serving an audience (or a named channel), idempotent per key.
import type { ActionContext, Performers } from '../context';
import { InvalidActionInputError } from '../errors';
import { type Notification, deliver } from '../notify/channels';

/** Picks the channel for an audience: an explicit name, the audience's mapping, or `default`. */
export function channelFor(ctx: ActionContext, audience: string, explicit?: string) {
  const name = explicit ?? ctx.config.audiences[audience] ?? 'default';
  const channel = ctx.config.channels[name];
  if (!channel) {
    throw new InvalidActionInputError(
      `no notification channel "${name}"; configured: ${Object.keys(ctx.config.channels).join(', ')}`,
    );
  }
  return { name, channel };
}

export async function sendNotification(
  ctx: ActionContext,
  notification: Notification,
  idempotencyKey: string,
  explicitChannel?: string,
) {
  const { name, channel } = channelFor(ctx, notification.audience, explicitChannel);
  return deliver(name, channel, notification, idempotencyKey, ctx.now(), {
    ...(ctx.config.templates ? { templates: ctx.config.templates } : {}),
  });
}

export function notifyPerformers(ctx: ActionContext): Performers<'notify.send'> {
  return {
    'notify.send': (p, input) =>
      sendNotification(
        ctx,
        {
          incidentId: input.incidentId,
          audience: p.audience,
          subject: `[${input.incidentId}] ${input.phase}`,
          text: p.message,
          phase: input.phase,
          ...(p.severity ? { severity: p.severity } : {}),
          ...(p.title ? { title: p.title } : {}),
        },
        input.idempotencyKey,
        p.channel,
      ),
  };
}
