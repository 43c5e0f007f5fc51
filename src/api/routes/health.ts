// Liveness (/healthz: the process answers), readiness (/readyz: Temporal answers within 2 s) and Prometheus metrics
// (/metrics, which needs a viewer, operator or commander key). Health needs no key: it reveals no incident data. Readiness never hangs longer than its deadline.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ApiContext } from '../context';
import { ApiError } from '../errors';
import { declareRoutes } from './declare';

const READY_DEADLINE_MS = 2_000;

export function healthRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const route = declareRoutes(app, 'health');

  route.get(
    '/healthz',
    {
      permission: 'public',
      summary: 'Liveness: the API process answers',
      answers: { 200: z.object({ status: z.literal('ok') }) },
    },
    async () => ({ status: 'ok' as const }),
  );

  route.get(
    '/readyz',
    {
      permission: 'public',
      summary: 'Readiness: Temporal is reachable',
      answers: { 200: z.object({ status: z.literal('ready'), temporal: z.string() }) },
      errors: [503],
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

  route.get(
    '/metrics',
    {
      // Request counts and incident totals tell an outsider when an incident is under way: a key is needed.
      permission: 'read',
      summary: 'Prometheus metrics (text exposition format); a viewer, operator or commander key',
      // The summary names the keys; the document has never listed them as a security scheme here.
      security: false,
      produces: ['text/plain'],
    },
    async (_request, reply) => {
      const text = await ctx.metrics.registry.metrics();
      return reply.type(ctx.metrics.registry.contentType).send(text);
    },
  );
}
