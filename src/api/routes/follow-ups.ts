// One door to complete a follow-up action, whether its incident still runs or has closed. While it runs, the
// completeFollowUp update (the incident's own rules and timeline); once closed, the record it left at close (its
// review and summary in the data directory), so follow-ups that outlive the incident leave the reports when done, and
// its follow-up reminders are told so the owner is not reminded of it.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { MAX_TEXT_CHARS } from '../../../domain/limits';
import { FollowUpRef } from '../../../domain/messages';
import { FollowUpRefused, completeRecordedFollowUp, tellFollowUpReminders } from '../../reports/follow-ups';
import type { ApiContext } from '../context';
import { ApiError } from '../errors';
import { IncidentIdParams } from '../schemas';
import { declareRoutes } from './declare';

const Params = IncidentIdParams.extend({ fid: FollowUpRef.describe('Follow-up id, like F1') });
const Body = z
  .object({
    note: z
      .string()
      .trim()
      .min(1)
      .max(MAX_TEXT_CHARS, `expected a note of at most ${MAX_TEXT_CHARS} characters`)
      .optional(),
  })
  .strict()
  .default({});
const Completed = z
  .object({
    incidentId: z.string(),
    followUpId: z.string(),
    doneAt: z.number(),
    doneBy: z.string(),
    recordedIn: z.enum(['incident', 'review']).describe('The running incident, or the record of a closed one'),
  })
  .meta({ id: 'FollowUpCompleted' });

export function followUpRoutes(app: FastifyInstance, ctx: ApiContext): void {
  declareRoutes(app, 'updates').post(
    '/incidents/:id/follow-ups/:fid/complete',
    {
      permission: 'steer',
      summary: 'Mark a follow-up action done, while the incident runs or after it closed',
      params: Params,
      body: Body,
      answers: { 200: Completed },
      errors: [400, 401, 403, 404, 409, 413, 415, 429, 503],
    },
    async (request) => {
      const { id, fid } = request.params;
      const p = request.principal!;
      const note = request.body.note;
      if (ctx.dataDir) {
        try {
          const done = { by: p.name, at: ctx.now(), ...(note ? { note } : {}) };
          const review = await completeRecordedFollowUp(ctx.dataDir, id, fid, done);
          if (review) {
            // Recorded already (a retry would be refused as done): a reminders workflow that cannot be told is logged.
            await tellFollowUpReminders(ctx.incidents.client, id, fid).catch((error: unknown) =>
              request.log.warn({ incidentId: id, followUpId: fid, error: String(error) }, 'reminders not told'),
            );
            return { incidentId: id, followUpId: fid, doneAt: done.at, doneBy: p.name, recordedIn: 'review' as const };
          }
        } catch (error) {
          if (error instanceof FollowUpRefused) {
            throw new ApiError(
              error.reason === 'not_found' ? 404 : 409,
              error.reason === 'not_found' ? 'not_found' : 'refused',
              error.message,
            );
          }
          throw error;
        }
      }
      const sender = { by: p.name, apiRole: p.role, ...(p.runbookRoles ? { runbookRoles: p.runbookRoles } : {}) };
      const view = await ctx.incidents.send(id, 'completeFollowUp', {
        ...sender,
        followUpId: fid,
        ...(note ? { note } : {}),
      });
      const followUp = view.followUps?.find((f) => f.id === fid);
      return {
        incidentId: id,
        followUpId: fid,
        doneAt: followUp?.doneAt ?? ctx.now(),
        doneBy: followUp?.doneBy ?? p.name,
        recordedIn: 'incident' as const,
      };
    },
  );
}
