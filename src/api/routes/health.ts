// Liveness (/healthz: the process answers), readiness (/readyz: Temporal answers within 2 s) and Prometheus metrics
// (/metrics, which needs a viewer, operator or commander key). Health needs no key: it reveals no incident data. Readiness never hangs longer than its deadline.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiContext } from '../context';
import { ApiError, errorResponses } from '../errors';

const READY_DEADLINE_MS = 2_000;

export function healthRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    '/healthz',
    {
      config: { permission: 'public' },
      schema: {
        tags: ['health'],
        summary: 'Liveness: the API process answers',
        response: { 200: z.object({ status: z.literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  r.get(
    '/readyz',
    {
      config: { permission: 'public' },
      schema: {
        tags: ['health'],
        summary: 'Readiness: Temporal is reachable',
        response: { 200: z.object({ status: z.literal('ready'), temporal: z.string() }), ...errorResponses(503) },
      },
    },
    async () => {
      const connection = ctx.incidents.client.connection;
      try {
        await connection.withDeadline(Date.now() + READY_DEADLINE_MS, () =>
          connection.workflowService.getSystemInfo({}),
        );
      } catch (error) {
        throw new ApiError(
          503,
          'not_ready',
          `cannot reach Temporal at ${ctx.temporalAddress} within ${READY_DEADLINE_MS / 1000} s: ${(error as Error).message.split('\n')[0]}`,
        );
      }
      return { status: 'ready' as const, temporal: ctx.temporalAddress };
    },
  );

  r.get(
    '/metrics',
    {
      // Request counts and incident totals tell an outsider when an incident is under way: a key is needed.
      config: { permission: 'read' },
      schema: {
        tags: ['health'],
        summary: 'Prometheus metrics (text exposition format); a viewer, operator or commander key',
        produces: ['text/plain'],
      },
    },
    async (_request, reply) => {
      const text = await ctx.metrics.registry.metrics();
      return reply.type(ctx.metrics.registry.contentType).send(text);
    },
  );
}
