// Report routes (viewers): an incident's post-incident review, and the weekly, monthly and quarterly reports, each as
// JSON (default), Markdown or a printable HTML page. The review of a closed incident is the one written at close;
// before that it is a draft built from the live incident. Reports read only the closed-incident summary store.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { REPORT_KINDS } from '../../../domain/report';
import type { Review } from '../../../domain/review';
import { ReportInputError, generateReport, parseReportDate, planFor, reviewOf } from '../../reports/generate';
import { REPORT_FORMATS, renderReport } from '../../reports/report-render';
import { renderReview } from '../../reports/review-render';
import { reviewDir } from '../../reports/store';
import type { ApiContext } from '../context';
import { ApiError } from '../errors';
import { IncidentIdParams } from '../schemas';
import { safeOutputs } from '../step-outputs';
import { declareRoutes } from './declare';

const Format = z.object({
  format: z.enum(REPORT_FORMATS, { error: 'expected format md, json or html' }).default('json'),
});
const ReportQuery = Format.extend({
  from: z
    .string()
    .max(40)
    .optional()
    .describe('Start of the period (2026-11-30 or an ISO time); default: the period ending now'),
});
const KindParams = z.object({ kind: z.enum(REPORT_KINDS, { error: `expected ${REPORT_KINDS.join(', ')}` }) });
const Document = z
  .record(z.string(), z.unknown())
  .describe('The document as JSON (format=json), else Markdown or HTML text');

const CONTENT_TYPES = {
  json: 'application/json; charset=utf-8',
  md: 'text/markdown; charset=utf-8',
  html: 'text/html; charset=utf-8',
} as const;

function send(reply: FastifyReply, format: keyof typeof CONTENT_TYPES, text: string) {
  // Pages are self-contained: no script, no outside resource may load even if something slipped through escaping.
  if (format === 'html') void reply.header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'");
  return reply.type(CONTENT_TYPES[format]).send(text);
}

function dataDir(ctx: ApiContext): string {
  if (!ctx.dataDir)
    throw new ApiError(503, 'reports_unavailable', 'reports need the data directory, which this server was not given');
  return ctx.dataDir;
}

async function storedReview(dir: string, incidentId: string): Promise<Review | undefined> {
  try {
    return JSON.parse(await readFile(path.join(reviewDir(dir), `${incidentId}.json`), 'utf8')) as Review;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

export function reportRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const route = declareRoutes(app, 'reports');

  route.get(
    '/incidents/:id/review',
    {
      permission: 'read',
      summary: "An incident's post-incident review (final once closed, a draft before)",
      params: IncidentIdParams,
      querystring: Format,
      answers: { 200: Document },
      errors: [400, 401, 403, 404, 429, 503],
    },
    async (request, reply) => {
      const { id } = request.params;
      let review = ctx.dataDir ? await storedReview(ctx.dataDir, id) : undefined;
      if (!review) {
        const status = await ctx.incidents.status(id);
        const timeline = await ctx.incidents.timeline(id);
        review = reviewOf(status, timeline, planFor(ctx.runbooks(), status), ctx.now());
      }
      // A viewer reads it: step outputs only where the action declares them safe, as in the incident's view.
      const shown = { ...review, actions: safeOutputs(review.actions) };
      return send(reply, request.query.format, renderReview(shown, request.query.format));
    },
  );

  route.get(
    '/reports/:kind',
    {
      permission: 'read',
      summary: 'The weekly, monthly or quarterly report over incidents closed in the period',
      params: KindParams,
      querystring: ReportQuery,
      answers: { 200: Document },
      errors: [400, 401, 403, 429, 503],
    },
    async (request, reply) => {
      let from: number | undefined;
      try {
        from = request.query.from !== undefined ? parseReportDate(request.query.from, 'from') : undefined;
      } catch (error) {
        if (error instanceof ReportInputError) throw new ApiError(400, 'invalid_request', error.message);
        throw error;
      }
      const report = await generateReport(dataDir(ctx), request.params.kind, {
        ...(from !== undefined ? { from } : {}),
        now: ctx.now(),
      });
      return send(reply, request.query.format, renderReport(report, request.query.format));
    },
  );
}
