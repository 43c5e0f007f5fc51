// Operator updates, one route each, derived from the update table (domain/updates.ts): its path is the update's name in
// kebab case, its body the update's input without the sender's fields, and the table's roles may send it. The sender
// (`by`, the API role and the runbook roles of the caller's key) goes with the update, and the incident's validators
// enforce who may do what (commander only on a P0 or for a destructive step; runbook roles bound to keys): a 403
// when they refuse the sender, a 409 with the reason when the incident refuses the update.
// Nothing here changes an incident before the validators have accepted.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { IncidentClient } from '../../client';
import type { IncidentStatusView } from '../../../workflows/definitions';
import type { ApiContext } from '../context';
import { ApiError, errorResponses } from '../errors';
import { withSafeStepOutputs } from '../step-outputs';
import type { ApiPrincipal } from '../../api-keys';
import { UPDATES, UPDATE_NAMES, type UpdateName, type UpdateRequest, updatePath } from '../../../domain/updates';
import { IncidentIdParams, IncidentView, KEY_AUTH, UpdateBodies } from '../schemas';

/** An update's HTTP body: its input without the sender's fields (approve and reject may leave out the runbook role). */
type Body<N extends UpdateName> = Omit<UpdateRequest<N>, 'by' | 'apiRole' | 'runbookRoles'>;

/**
 * The runbook role to act in when the body names none: the first role of the waiting approval or task the caller's
 * key may act in (`(none)` lets the workflow refuse with the roles expected); nothing for a task that names no roles.
 */
async function defaultRole(
  c: IncidentClient,
  id: string,
  stepId: string,
  kind: 'approval' | 'task',
  p: ApiPrincipal,
): Promise<{ role?: string }> {
  const waiting = (await c.status(id)).waitingSteps.find((w) => w.stepId === stepId && w.kind === kind);
  const roles = waiting?.roles ?? [];
  if (kind === 'task' && roles.length === 0) return {};
  return { role: roles.find((role) => p.runbookRoles === undefined || p.runbookRoles.includes(role)) ?? '(none)' };
}

/** Sends update `name` for the caller: `by`, its API role and its runbook roles come from its key. */
async function send<N extends UpdateName>(
  incidents: IncidentClient,
  name: N,
  id: string,
  body: Body<N>,
  p: ApiPrincipal,
): Promise<IncidentStatusView> {
  const sender = { by: p.name, apiRole: p.role, ...(p.runbookRoles ? { runbookRoles: p.runbookRoles } : {}) };
  const decision = body as { stepId?: string; role?: string };
  const kind =
    name === 'completeTask' ? 'task' : name === 'approveStep' || name === 'rejectStep' ? 'approval' : undefined;
  const role =
    kind && decision.role === undefined ? await defaultRole(incidents, id, decision.stepId ?? '', kind, p) : {};
  return incidents.send(id, name, { ...body, ...role, ...sender } as UpdateRequest<N>);
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
        ...withSafeStepOutputs(
          await send(ctx.incidents, name, request.params.id, request.body as Body<typeof name>, request.principal!),
        ),
      }),
    );
  }
}
