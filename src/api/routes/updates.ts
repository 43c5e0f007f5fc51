// Operator updates, one route each, derived from the update table (domain/updates.ts): its path is the update's name in
// kebab case, its body the update's input without `by` (the caller's key name is `by`), and the table's roles may
// send it. Only commanders approve a step whose action is destructive (ACTIONS[...].destructive) or resolve a P0
// incident. The workflow's validators still decide whether an update is accepted (409 with its
// reason when refused); nothing here changes an incident before they have.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { IncidentClient } from '../../client';
import { ACTIONS, isActionName } from '../../../domain/actions/index';
import type { IncidentStatusView } from '../../../workflows/definitions';
import { requirePermission } from '../auth';
import type { ApiContext } from '../context';
import { ApiError, errorResponses } from '../errors';
import type { ApiPrincipal } from '../../api-keys';
import { UPDATES, UPDATE_NAMES, type UpdateName, type UpdateRequest, updatePath } from '../../../domain/updates';
import { IncidentIdParams, IncidentView, KEY_AUTH, UpdateBodies } from '../schemas';

/** An update's HTTP body: its input without `by` (approveStep and rejectStep may leave out the runbook role). */
type Body<N extends UpdateName> = Omit<UpdateRequest<N>, 'by'>;

/** What the server adds to a body before sending it: `by` from the key, and what the API decides for the caller. */
type Prepare<N extends UpdateName> = (
  incidents: IncidentClient,
  id: string,
  body: Body<N>,
  principal: ApiPrincipal,
) => Promise<UpdateRequest<N>>;

/** The waiting approval of a step, to tell whether its action is destructive and which role to act in. */
async function waitingApproval(incidents: IncidentClient, id: string, stepId: string) {
  const status = await incidents.status(id);
  return status.waitingSteps.find((w) => w.stepId === stepId && w.kind === 'approval');
}

function isDestructive(action: string): boolean {
  return isActionName(action) && ACTIONS[action].destructive === true;
}

/** When the body names no runbook role, act in the step's first approver role; `(none)` lets the workflow refuse. */
const NO_ROLE = '(none)';

/** The updates whose route does more than add `by`; every other update's route is derived from the table alone. */
const PREPARE: { [N in UpdateName]?: Prepare<N> } = {
  resolve: async (c, id, body, p) => {
    const status = await c.status(id);
    if (status.severity === 'P0') requirePermission(p, 'command', `resolve ${id}, a P0 incident`);
    return { ...body, by: p.name };
  },
  approveStep: async (c, id, body, p) => {
    const waiting = await waitingApproval(c, id, body.stepId);
    if (waiting && isDestructive(waiting.action)) {
      const what = `approve step "${body.stepId}" of ${id}, whose action ${waiting.action} is destructive`;
      requirePermission(p, 'command', what);
    }
    return { ...body, role: body.role ?? waiting?.roles?.[0] ?? NO_ROLE, by: p.name };
  },
  rejectStep: async (c, id, body, p) => {
    const role = body.role ?? (await waitingApproval(c, id, body.stepId))?.roles?.[0] ?? NO_ROLE;
    return { ...body, role, by: p.name };
  },
};

/** Sends update `name` for the caller. */
async function send<N extends UpdateName>(
  incidents: IncidentClient,
  name: N,
  id: string,
  body: Body<N>,
  principal: ApiPrincipal,
): Promise<IncidentStatusView> {
  const prepare = PREPARE[name] as Prepare<N> | undefined;
  const input = prepare
    ? await prepare(incidents, id, body, principal)
    : ({ ...body, by: principal.name } as UpdateRequest<N>);
  return incidents.send(id, name, input);
}

/** 403 unless the update table lets the caller's API role send this update. */
function requireRole(principal: ApiPrincipal, name: UpdateName): void {
  const roles = UPDATES[name].roles;
  if (!roles.includes(principal.role)) {
    throw new ApiError(
      403,
      'forbidden',
      `key "${principal.name}" has role ${principal.role}, which may not steer incidents (${name}); that needs a ${roles.join(' or ')} key`,
    );
  }
}

export function updateRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  for (const name of UPDATE_NAMES) {
    r.post(
      `/incidents/:id/${updatePath(name)}`,
      {
        // A key of any role gets this far; the table decides which roles may send the update (before the body is read).
        preParsing: async (request) => requireRole(request.principal!, name),
        schema: {
          tags: ['updates'],
          summary: UPDATES[name].summary,
          description: `Sends the \`${name}\` update (API roles: ${UPDATES[name].roles.join(', ')}); \`by\` is the name of the caller's API key. 409 when the incident refuses it, with its reason.`,
          security: KEY_AUTH,
          params: IncidentIdParams,
          body: UpdateBodies[name],
          response: { 200: IncidentView, ...errorResponses(400, 401, 403, 404, 409, 413, 415, 429, 503) },
        },
      },
      async (request) => ({
        ...(await send(ctx.incidents, name, request.params.id, request.body as Body<typeof name>, request.principal!)),
      }),
    );
  }
}
