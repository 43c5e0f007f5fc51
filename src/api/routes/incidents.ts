// Incident routes: open (operators), list with filters from Temporal visibility, and get with the timeline (viewers).
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context';
import { ApiError } from '../errors';
import { statusAndTimeline } from '../step-outputs';
import {
  IncidentIdParams,
  IncidentWithTimeline,
  ListQuery,
  ListResult,
  OpenBody,
  OpenResult,
  TimelineQuery,
  TimelineResult,
} from '../schemas';
import { declareRoutes } from './declare';
import { INTAKE_FORMATS } from '../../../domain/runbook';
import { intakeNamespace } from '../intake/dispatch';

/** Clock skew allowed between an opener and the server for `startedAt`. */
const STARTED_AT_SKEW_MS = 5 * 60_000;

export function incidentRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const route = declareRoutes(app, 'incidents');

  route.post(
    '/incidents',
    {
      permission: 'open',
      summary: 'Open an incident with a runbook',
      description:
        'With a dedupKey, at most one incident per key is open: a second open returns the first (created: false).',
      body: OpenBody,
      answers: { 201: OpenResult, 200: OpenResult },
      errors: [400, 401, 403, 413, 415, 422, 429, 503],
    },
    async (request, reply) => {
      const { runbook, startedAt: began, ...rest } = request.body;
      const startedAt = typeof began === 'string' ? Date.parse(began) : began;
      const open = { ...rest, ...(startedAt !== undefined ? { startedAt } : {}) };
      // Detectors' dedup keys are `<format>:<key name>:<their key>`: an operator's open must not take one over, or a
      // detector's later P0 alert would join the operator's incident instead of opening its own.
      const intake = open.dedupKey !== undefined ? intakeNamespace(open.dedupKey) : undefined;
      if (intake) {
        throw new ApiError(
          400,
          'invalid_request',
          `body.dedupKey: "${intake}:..." is the ${intake} intake's namespace (its detectors' alerts); ` +
            `expected a key that does not start with ${INTAKE_FORMATS.map((f) => `"${f}:"`).join(', ')}`,
        );
      }
      // When the incident began: a time ahead of the server's clock (beyond a few minutes of skew) is a mistake, and
      // the incident would silently take its opening time instead.
      if (open.startedAt !== undefined && open.startedAt > ctx.now() + STARTED_AT_SKEW_MS) {
        throw new ApiError(
          400,
          'invalid_request',
          `body.startedAt: ${new Date(open.startedAt).toISOString()} is in the future; expected when the incident ` +
            'began (epoch milliseconds or ISO 8601), at or before now',
        );
      }
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

  route.get(
    '/incidents',
    {
      permission: 'read',
      summary: 'List incidents (newest first), filtered by search attributes',
      querystring: ListQuery,
      answers: { 200: ListResult },
      errors: [400, 401, 403, 429, 503],
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

  route.get(
    '/incidents/:id',
    {
      permission: 'read',
      summary: "An incident's status, metrics, waiting steps and timeline",
      params: IncidentIdParams,
      answers: { 200: IncidentWithTimeline },
      errors: [400, 401, 403, 404, 429, 503],
    },
    async (request) => {
      const { status, timeline } = await statusAndTimeline(ctx.incidents, request.params.id);
      return { ...status, timeline };
    },
  );

  route.get(
    '/incidents/:id/timeline',
    {
      permission: 'read',
      summary: "An incident's timeline, oldest first: every event, or a page of it with from and limit",
      params: IncidentIdParams,
      querystring: TimelineQuery,
      answers: { 200: TimelineResult },
      errors: [400, 401, 403, 404, 429, 503],
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
