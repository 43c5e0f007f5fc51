// Detector intake: Alertmanager webhooks, PagerDuty Events API v2 events and our generic JSON alert. Detector (and
// commander) keys only; keys with a signing secret must sign (HMAC). Every alert lands on its incident's timeline.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiContext } from '../context';
import { errorResponses } from '../errors';
import { KEY_AUTH } from '../schemas';
import { AlertmanagerWebhook, alertmanagerEvent } from '../intake/alertmanager';
import { GenericAlert, GenericReply, genericEvent } from '../intake/generic';
import {
  PAGERDUTY_DEDUP_PREFIX,
  PagerDutyEvent,
  PagerDutyReply,
  pagerDutyDedupKey,
  pagerDutyEvent,
} from '../intake/pagerduty';

const signing =
  'Keys created with --hmac must sign: headers X-Incident-Timestamp (unix seconds), X-Incident-Nonce and ' +
  'X-Incident-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<nonce>.<raw body>">.';

const AlertmanagerReply = z
  .object({
    status: z.literal('ok'),
    incidentId: z.string().optional().describe('Absent when a resolved group had no open incident'),
    created: z.boolean(),
    recorded: z.number().int().describe('Alerts put on the timeline'),
    ignored: z.number().int().describe('Repeats of a recorded state, or resolves with nothing open'),
  })
  .meta({ id: 'AlertmanagerReply' });

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
      const result = await ctx.intake.deliver(alertmanagerEvent(request.body, ctx.now()), request.principal!.name);
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
          '{status, message, dedup_key} as PagerDuty does. ' +
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
        const ack = await ctx.intake.acknowledge(`${PAGERDUTY_DEDUP_PREFIX}${dedupKey}`, by);
        message = ack.acknowledged
          ? `Event processed: ${ack.incidentId} acknowledged`
          : `Event processed: ${ack.reason}`;
      } else {
        const result = await ctx.intake.deliver(pagerDutyEvent(event, dedupKey, ctx.now()), by);
        message =
          result.incidentId === undefined
            ? 'Event processed: no open incident has this dedup_key'
            : `Event processed: ${result.incidentId}${result.created ? ' opened' : ''}`;
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
          'labels) share one open incident; every alert lands on its timeline. ' +
          signing,
        security: KEY_AUTH,
        body: GenericAlert,
        response: { 202: GenericReply, ...errorResponses(400, 401, 403, 413, 415, 422, 429, 503) },
      },
    },
    async (request, reply) => {
      const event = genericEvent(request.body, ctx.now());
      const result = await ctx.intake.deliver(event, request.principal!.name);
      return reply.code(202).send({
        ...(result.incidentId !== undefined ? { incidentId: result.incidentId } : {}),
        created: result.created,
        dedupKey: event.dedupKey,
      });
    },
  );
}
