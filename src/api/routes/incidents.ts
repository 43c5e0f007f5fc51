// Incident routes: open (operators), list with filters from Temporal visibility, and get with the timeline (viewers).
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { ApiContext } from '../context';
import { ApiError, errorResponses } from '../errors';
import { withSafeStepOutputs } from '../step-outputs';
import {
  IncidentIdParams,
  IncidentWithTimeline,
  KEY_AUTH,
  ListQuery,
  ListResult,
  OpenBody,
  OpenResult,
  TimelineQuery,
  TimelineResult,
} from '../schemas';

export function incidentRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post(
    '/incidents',
    {
      config: { permission: 'open' },
      schema: {
        tags: ['incidents'],
        summary: 'Open an incident with a runbook',
        description:
          'With a dedupKey, at most one incident per key is open: a second open returns the first (created: false).',
        security: KEY_AUTH,
        body: OpenBody,
        response: { 201: OpenResult, 200: OpenResult, ...errorResponses(400, 401, 403, 413, 415, 422, 429, 503) },
      },
    },
    async (request, reply) => {
      const { runbook, ...open } = request.body;
      const plan = ctx.runbooks().get(runbook);
      if (!plan) {
        throw new ApiError(
          422,
          'no_runbook',
          `no runbook "${runbook}"; known runbooks: ${[...ctx.runbooks().keys()].sort().join(', ')}`,
        );
      }
      const result = await ctx.incidents.open({ ...open, trigger: `api:${request.principal!.name}` }, plan);
      if (result.created) (open.drill ? ctx.metrics.drill : ctx.metrics).incidentsOpened.inc({ via: 'api' });
      return reply.code(result.created ? 201 : 200).send(result);
    },
  );

  r.get(
    '/incidents',
    {
      config: { permission: 'read' },
      schema: {
        tags: ['incidents'],
        summary: 'List incidents (newest first), filtered by search attributes',
        security: KEY_AUTH,
        querystring: ListQuery,
        response: { 200: ListResult, ...errorResponses(400, 401, 403, 429, 503) },
      },
    },
    async (request) => {
      const { limit, ...filter } = request.query;
      const incidents = await ctx.incidents.list({ ...filter, limit });
      return {
        incidents: incidents.map(({ startTime, closeTime, title: _title, ...rest }) => ({
          ...rest,
          startTime: startTime.toISOString(),
          ...(closeTime ? { closeTime: closeTime.toISOString() } : {}),
        })),
      };
    },
  );

  r.get(
    '/incidents/:id',
    {
      config: { permission: 'read' },
      schema: {
        tags: ['incidents'],
        summary: "An incident's status, metrics, waiting steps and timeline",
        security: KEY_AUTH,
        params: IncidentIdParams,
        response: { 200: IncidentWithTimeline, ...errorResponses(400, 401, 403, 404, 429, 503) },
      },
    },
    async (request) => {
      // One after the other: two concurrent queries can be answered at different points of the workflow's progress,
      // and a timeline older than the status it is shown with (a phase the status says has started, missing) misleads.
      const status = withSafeStepOutputs(await ctx.incidents.status(request.params.id));
      const timeline = await ctx.incidents.timeline(request.params.id);
      return { ...status, timeline };
    },
  );

  r.get(
    '/incidents/:id/timeline',
    {
      config: { permission: 'read' },
      schema: {
        tags: ['incidents'],
        summary: "An incident's timeline, oldest first: every event, or a page of it with from and limit",
        security: KEY_AUTH,
        params: IncidentIdParams,
        querystring: TimelineQuery,
        response: { 200: TimelineResult, ...errorResponses(400, 401, 403, 404, 429, 503) },
      },
    },
    async (request) => {
      const { id } = request.params;
      const { from, limit } = request.query;
      if (from === undefined && limit === undefined) {
        const timeline = await ctx.incidents.timeline(id);
        return { incidentId: id, timeline, next: timeline.length, total: timeline.length };
      }
      const page = await ctx.incidents.timelinePage(id, { from, limit });
      return { incidentId: id, timeline: page.events, next: page.next, total: page.total };
    },
  );
}
