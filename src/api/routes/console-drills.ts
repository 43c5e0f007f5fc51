// Drills from the console (and any API client): the scenarios in runbooks/drills, a tabletop run of one on its own
// time-skipping test server (operators and commanders; it touches nothing, but it is heavy, so one at a time), its
// progress while it runs and its report when done. Viewers may watch and read.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { DrillNotFoundError } from '../../drills/load';
import { DrillBusyError, type DrillRun, DrillRuns } from '../../console/drill-runs';
import { ApiError } from '../errors';
import { declareRoutes } from './declare';

const ScenarioView = z
  .object({
    id: z.string(),
    title: z.string(),
    description: z.string().optional(),
    runbook: z.string(),
    mode: z.string().describe('tabletop or technical (the console runs both as tabletops)'),
    events: z.number().int().describe('Scripted events'),
  })
  .meta({ id: 'DrillScenario' });

const RunView = z
  .object({
    runId: z.string(),
    scenario: z.object({ id: z.string(), title: z.string() }),
    by: z.string(),
    state: z.enum(['running', 'passed', 'failed', 'error']),
    startedAt: z.number(),
    endedAt: z.number().optional(),
    progress: z.array(z.looseObject({ at: z.number(), atLabel: z.string(), text: z.string() })),
    report: z.looseObject({}).optional().describe('The drill report (incident-engine/drill-report@1) once done'),
    error: z.string().optional(),
  })
  .meta({ id: 'DrillRun' });

const RunIdParams = z
  .object({ runId: z.string().regex(/^[0-9a-f]{12}$/, 'expected a drill run id of 12 hex digits') })
  .strict();
const ScenarioParams = z
  .object({ id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'expected a drill scenario id like "dos"') })
  .strict();

const view = (run: DrillRun) => ({ ...run, progress: [...run.progress] }) as unknown as z.infer<typeof RunView>;

export function consoleDrillRoutes(app: FastifyInstance, runs = new DrillRuns()): void {
  const route = declareRoutes(app, 'drills');

  route.get(
    '/drills',
    {
      permission: 'read',
      summary: 'Drill scenarios (runbooks/drills)',
      answers: { 200: z.object({ scenarios: z.array(ScenarioView) }) },
      errors: [401, 403, 429],
    },
    async () => ({ scenarios: runs.scenarios() }),
  );

  route.post(
    '/drills/:id/runs',
    {
      permission: 'open',
      summary: 'Run a drill scenario as a tabletop on its own test server (one at a time)',
      description: 'Every action is recorded, nothing is touched. 409 while another drill runs.',
      params: ScenarioParams,
      answers: { 202: RunView },
      errors: [400, 401, 403, 404, 409, 429],
    },
    async (request, reply) => {
      try {
        return reply.code(202).send(view(runs.start(request.params.id, request.principal!.name)));
      } catch (error) {
        if (error instanceof DrillNotFoundError) throw new ApiError(404, 'not_found', error.message);
        if (error instanceof DrillBusyError) throw new ApiError(409, 'busy', error.message);
        throw error;
      }
    },
  );

  route.get(
    '/drills/runs',
    {
      permission: 'read',
      summary: 'Recent drill runs of this API process, newest first (without progress and report)',
      answers: { 200: z.object({ runs: z.array(RunView) }) },
      errors: [401, 403, 429],
    },
    async () => ({
      runs: runs.list().map(({ report: _report, ...run }) => view({ ...run, progress: [] })),
    }),
  );

  route.get(
    '/drills/runs/:runId',
    {
      permission: 'read',
      summary: 'A drill run: its progress so far and, once done, its report',
      params: RunIdParams,
      answers: { 200: RunView },
      errors: [400, 401, 403, 404, 429],
    },
    async (request) => {
      const run = runs.get(request.params.runId);
      if (!run) throw new ApiError(404, 'not_found', `no drill run ${request.params.runId} in this API process`);
      return view(run);
    },
  );
}
