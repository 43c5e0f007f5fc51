// Operator updates, one route each: the body is the update's input without `by` (the caller's key name is `by`).
// Operators and commanders steer; only commanders approve a step whose action is destructive (ACTIONS[...].destructive)
// or resolve a P0 incident. The workflow's validators still decide whether an update is accepted (409 with its
// reason when refused); nothing here changes an incident before they have.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import type { IncidentClient } from '../../client';
import { ACTIONS, isActionName } from '../../../domain/actions/index';
import type { IncidentStatusView } from '../../../workflows/definitions';
import { requirePermission } from '../auth';
import type { ApiContext } from '../context';
import { errorResponses } from '../errors';
import type { ApiPrincipal } from '../keys';
import { IncidentIdParams, IncidentView, KEY_AUTH, UpdateBodies, type UpdateName } from '../schemas';

type Body<N extends UpdateName> = z.output<(typeof UpdateBodies)[N]>;

interface UpdateRoute<N extends UpdateName> {
  name: N;
  path: string;
  summary: string;
  run: (incidents: IncidentClient, id: string, body: Body<N>, principal: ApiPrincipal) => Promise<IncidentStatusView>;
}

function route<N extends UpdateName>(r: UpdateRoute<N>): UpdateRoute<N> {
  return r;
}

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

export const UPDATE_ROUTES = [
  route({
    name: 'acknowledge',
    path: 'acknowledge',
    summary: 'Acknowledge the incident at its current escalation level',
    run: (c, id, body, p) => c.acknowledge(id, { ...body, by: p.name }),
  }),
  route({
    name: 'setSeverity',
    path: 'set-severity',
    summary: 'Change the severity (P0-P3 or Critical/High/Medium/Low)',
    run: (c, id, body, p) => c.setSeverity(id, { ...body, by: p.name }),
  }),
  route({
    name: 'recordRootCause',
    path: 'record-root-cause',
    summary: 'Record the root cause',
    run: (c, id, body, p) => c.recordRootCause(id, { ...body, by: p.name }),
  }),
  route({
    name: 'assignOwner',
    path: 'assign-owner',
    summary: 'Assign the incident owner',
    run: (c, id, body, p) => c.assignOwner(id, { ...body, by: p.name }),
  }),
  route({
    name: 'escalate',
    path: 'escalate',
    summary: 'Escalate by hand (level 3: executive attention)',
    run: (c, id, body, p) => c.escalate(id, { ...body, by: p.name }),
  }),
  route({
    name: 'updateImpact',
    path: 'update-impact',
    summary: 'Update affected systems or confirm a data breach',
    run: (c, id, body, p) => c.updateImpact(id, { ...body, by: p.name }),
  }),
  route({
    name: 'advancePhase',
    path: 'advance-phase',
    summary: 'Leave a phase that waits for an operator',
    run: (c, id, body, p) => c.advancePhase(id, { ...body, by: p.name }),
  }),
  route({
    name: 'resolve',
    path: 'resolve',
    summary: 'Resolve the incident (after containment; a P0 needs a commander key)',
    run: async (c, id, body, p) => {
      const status = await c.status(id);
      if (status.severity === 'P0') requirePermission(p, 'command', `resolve ${id}, a P0 incident`);
      return c.resolve(id, { ...body, by: p.name });
    },
  }),
  route({
    name: 'declareFalsePositive',
    path: 'declare-false-positive',
    summary: 'Declare a false positive: undo containment, then close',
    run: (c, id, body, p) => c.declareFalsePositive(id, { ...body, by: p.name }),
  }),
  route({
    name: 'approveStep',
    path: 'approve-step',
    summary: 'Approve a step waiting at its approval gate (a destructive action needs a commander key)',
    run: async (c, id, body, p) => {
      const waiting = await waitingApproval(c, id, body.stepId);
      if (waiting && isDestructive(waiting.action)) {
        requirePermission(
          p,
          'command',
          `approve step "${body.stepId}" of ${id}, whose action ${waiting.action} is destructive`,
        );
      }
      return c.approveStep(id, { ...body, role: body.role ?? waiting?.roles?.[0] ?? NO_ROLE, by: p.name });
    },
  }),
  route({
    name: 'rejectStep',
    path: 'reject-step',
    summary: 'Reject a step waiting at its approval gate: it is skipped with the reason',
    run: async (c, id, body, p) => {
      const role = body.role ?? (await waitingApproval(c, id, body.stepId))?.roles?.[0] ?? NO_ROLE;
      return c.rejectStep(id, { ...body, role, by: p.name });
    },
  }),
  route({
    name: 'completeTask',
    path: 'complete-task',
    summary: "Mark a waiting task step (a person's work) done",
    run: (c, id, body, p) => c.completeTask(id, { ...body, by: p.name }),
  }),
];

export function updateRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  for (const update of UPDATE_ROUTES) {
    r.post(
      `/incidents/:id/${update.path}`,
      {
        config: { permission: 'steer' },
        schema: {
          tags: ['updates'],
          summary: update.summary,
          description: `Sends the \`${update.name}\` update; \`by\` is the name of the caller's API key. 409 when the incident refuses it, with its reason.`,
          security: KEY_AUTH,
          params: IncidentIdParams,
          body: UpdateBodies[update.name],
          response: { 200: IncidentView, ...errorResponses(400, 401, 403, 404, 409, 413, 415, 429, 503) },
        },
      },
      async (request) => {
        const run = update.run as UpdateRoute<UpdateName>['run'];
        return { ...(await run(ctx.incidents, request.params.id, request.body as never, request.principal!)) };
      },
    );
  }
}
