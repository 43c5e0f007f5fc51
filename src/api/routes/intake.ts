// Detector intake: Alertmanager webhooks, PagerDuty Events API v2 events and our generic JSON alert. Detector (and
// commander) keys only; keys with a signing secret must sign (HMAC). Every alert lands on its incident's timeline.
// Only malformed, oversized or unauthorized requests are refused (4xx: do not retry); an alert that could not be
// recorded for any other reason is answered 5xx or 429, which every sender retries.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiContext } from '../context';
import { ApiError, errorResponses } from '../errors';
import { KEY_AUTH, RecurrenceView } from '../schemas';
import { AlertmanagerWebhook, alertmanagerEvent } from '../intake/alertmanager';
import { GenericAlert, GenericReply, genericEvent } from '../intake/generic';
import { IncidentNotFoundError, UpdateRefusedError } from '../../client';
import type { DeliveryResult } from '../intake/dispatch';
import type { IntakeEvent } from '../intake/event';
import { PagerDutyEvent, PagerDutyReply, pagerDutyDedupKey, pagerDutyEvent } from '../intake/pagerduty';

const signing =
  'Keys created with --hmac must sign: headers X-Incident-Timestamp (unix seconds), X-Incident-Nonce and ' +
  'X-Incident-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<nonce>.<raw body>">.';

const RunbookTaken = z
  .object({
    id: z.string(),
    reason: z.string().describe('A match rule, the default runbook, or the triage runbook for alerts nothing matched'),
  })
  .describe('The runbook that took the alert, when this request opened the incident')
  .meta({ id: 'RunbookTaken' });

const AlertmanagerReply = z
  .object({
    status: z.literal('ok'),
    incidentId: z.string().optional().describe('Absent when a resolved group had no open incident'),
    created: z.boolean(),
    runbook: RunbookTaken.optional(),
    recurrenceOf: RecurrenceView.optional(),
    recorded: z.number().int().describe('Alerts put on the timeline'),
    ignored: z.number().int().describe('Repeats of a recorded state, or resolves with nothing open'),
  })
  .meta({ id: 'AlertmanagerReply' });

/**
 * Delivers an event. The incident closing under it twice in a row is a race a retry settles, so it is answered 503:
 * a 409 would tell the sender to drop the alert.
 */
async function deliver(ctx: ApiContext, event: IntakeEvent, by: string): Promise<DeliveryResult> {
  try {
    return await ctx.intake.deliver(event, by);
  } catch (error) {
    if (error instanceof UpdateRefusedError || error instanceof IncidentNotFoundError) {
      throw new ApiError(
        503,
        'incident_changing',
        `the alert was not recorded: the incident for its dedup key closed while it arrived (${error.message}); retry and it opens a new one`,
      );
    }
    throw error;
  }
}

export function intakeRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post(
    '/intake/alertmanager',
    {
      config: { permission: 'alert', signed: true },
      schema: {
        tags: ['intake'],
        summary: 'Prometheus Alertmanager webhook (version 4)',
        description:
          'Point a webhook_config at this URL with `http_config.authorization.credentials: <detector key>`. One incident per ' +
          'groupKey; each alert is tracked by fingerprint, so repeats change nothing; resolved alerts are signalled. ' +
          signing,
        security: KEY_AUTH,
        body: AlertmanagerWebhook,
        response: { 200: AlertmanagerReply, ...errorResponses(400, 401, 403, 413, 415, 422, 429, 503) },
      },
    },
    async (request) => {
      const result = await deliver(ctx, alertmanagerEvent(request.body, ctx.now()), request.principal!.name);
      return { status: 'ok' as const, ...result };
    },
  );

  r.post(
    '/intake/pagerduty',
    {
      config: { permission: 'alert', signed: true, routingKeyAuth: true },
      schema: {
        tags: ['intake'],
        summary: 'PagerDuty Events API v2 event (trigger, acknowledge, resolve)',
        description:
          "The body of PagerDuty's POST /v2/enqueue. The key goes in the Authorization header or, for senders that " +
          'cannot set one, in routing_key. Severity critical/error/warning/info is P0-P3. Replies 202 ' +
          "{status, message, dedup_key} as PagerDuty does. A dedup_key is this key's own: another key's events never " +
          'reach its incidents. acknowledge needs a key created with --acknowledges (403 otherwise). ' +
          signing,
        security: [...KEY_AUTH, {}],
        body: PagerDutyEvent,
        response: { 202: PagerDutyReply, ...errorResponses(400, 401, 403, 413, 415, 422, 429, 503) },
      },
    },
    async (request, reply) => {
      const event = request.body;
      const dedupKey = pagerDutyDedupKey(event);
      const by = request.principal!.name;
      let message: string;
      if (event.event_action === 'acknowledge') {
        if (!request.principal!.acknowledges) {
          throw new ApiError(
            403,
            'forbidden',
            `key "${by}" may not acknowledge incidents; acknowledge events need a detector key created with apikey create --acknowledges`,
          );
        }
        const ack = await ctx.intake.acknowledge('pagerduty', dedupKey, by);
        message = ack.acknowledged
          ? `Event processed: ${ack.incidentId} acknowledged`
          : `Event processed: ${ack.reason}`;
      } else {
        const result = await deliver(ctx, pagerDutyEvent(event, dedupKey, ctx.now()), by);
        message =
          result.incidentId === undefined
            ? 'Event processed: no open incident has this dedup_key'
            : `Event processed: ${result.incidentId}${result.runbook ? ` opened with runbook ${result.runbook.id} (${result.runbook.reason})` : ''}${result.recurrenceOf ? `, a recurrence of ${result.recurrenceOf.incidentId}` : ''}`;
      }
      return reply.code(202).send({ status: 'success', message, dedup_key: dedupKey });
    },
  );

  r.post(
    '/intake/alerts',
    {
      config: { permission: 'alert', signed: true },
      schema: {
        tags: ['intake'],
        summary: 'Generic JSON alert',
        description:
          'One alert. Alerts with the same dedupKey (default: source and fingerprint, or source and a hash of title and ' +
          "labels) from the same key share one open incident; every alert lands on its timeline. A dedupKey is this key's " +
          "own: naming another sender's key opens a new incident of this key. " +
          signing,
        security: KEY_AUTH,
        body: GenericAlert,
        response: { 202: GenericReply, ...errorResponses(400, 401, 403, 413, 415, 422, 429, 503) },
      },
    },
    async (request, reply) => {
      const event = genericEvent(request.body, ctx.now());
      const result = await deliver(ctx, event, request.principal!.name);
      return reply.code(202).send({
        ...(result.incidentId !== undefined ? { incidentId: result.incidentId } : {}),
        created: result.created,
        dedupKey: event.dedupKey,
        ...(result.runbook ? { runbook: result.runbook } : {}),
        ...(result.recurrenceOf ? { recurrenceOf: result.recurrenceOf } : {}),
      });
    },
  );
}
