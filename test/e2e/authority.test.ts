// Who may do what, over real HTTP and straight to Temporal, against a real dev server and worker: a route x API-role
// matrix generated from the update table (every update route, every API role, the status the table implies), and the
// attacks on authority: an operator lowering, resolving or declaring a false positive on a P0; the same sent straight
// to Temporal with an operator's role (refused by the incident) or without a role (the break-glass path, accepted and
// recorded as such); approving a destructive step without a commander key, whatever runbook role the body names; and
// a key bound to runbook roles acting in another; step outputs left out of views unless the action declares them safe. (Detector scoping: intake.test.ts; input limits: input-limits.test.ts;
// encrypted history: encrypted-history.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_ROLES } from '../../domain/roles';
import { UPDATES, UPDATE_NAMES, type UpdateName, updatePath } from '../../domain/updates';
import { UpdateForbiddenError } from '../../src/client';
import { type ApiEnv, http, isCleanError, plainRunbook, startApiEnv, waitFor } from '../helpers/api-env';

const GATES_RUNBOOK = `id: gates
version: 1
title: Gates
category: security
eventTypes: [other]
phases:
  detect: {}
  contain:
    steps:
      - id: kill-switch
        action: app.killSwitch
        with: { enabled: true }
        approval: { roles: [incident-commander, security-lead] }
      - id: brief-legal
        action: task
        with: { instructions: brief the legal team, roles: [legal-counsel] }
  eradicate: { advance: manual }
  recover: {}
  post-incident: { advance: manual }
`;

/** A valid body for every update route (typed by the table: a new update without one does not compile). */
const VALID_BODY: Record<UpdateName, Record<string, unknown>> = {
  acknowledge: {},
  setSeverity: { severity: 'P2' },
  recordRootCause: { summary: 'a leaked key' },
  assignOwner: { owner: 'alice' },
  escalate: { reason: 'press enquiry' },
  updateImpact: { affectedSystems: ['api'] },
  advancePhase: {},
  resolve: {},
  declareFalsePositive: { reason: 'test traffic' },
  approveStep: { stepId: 'kill-switch', role: 'incident-commander' },
  rejectStep: { stepId: 'kill-switch', role: 'incident-commander', reason: 'no' },
  completeTask: { stepId: 'brief-legal', role: 'legal-counsel' },
  addNote: { text: 'the first alert came from a test host' },
  recordLessons: { lessonsLearned: ['page the database team earlier'] },
  addFollowUp: { title: 'rotate the deploy keys', owner: 'alice', due: '2026-12-10' },
  completeFollowUp: { followUpId: 'F1' },
};

type View = {
  status: string;
  phase: string;
  severity: string;
  awaitingAdvance: boolean;
  waitingSteps: { stepId: string }[];
  steps: { stepId: string; action: string; status: string; output?: unknown }[];
  timeline: { type: string; by?: string; [k: string]: unknown }[];
};

let env: ApiEnv;
/** A well-formed id of an incident that does not exist. */
const MISSING = 'INC-2099-999';

beforeAll(async () => {
  env = await startApiEnv({
    taskQueue: 'authority',
    runbooks: { gates: GATES_RUNBOOK, plain: plainRunbook('plain', { match: 'default: true' }) },
  });
}, 180_000);

afterAll(async () => {
  await env?.close();
});

async function open(runbook: string, severity: string): Promise<string> {
  const res = await http<{ incidentId: string }>(`${env.url}/incidents`, {
    key: env.keys.commander.key,
    body: { title: `authority ${runbook} ${severity}`, runbook, severity, drill: true },
  });
  expect(res.status, res.text).toBeLessThan(300);
  return res.body.incidentId;
}

async function get(id: string): Promise<View> {
  const res = await http<View>(`${env.url}/incidents/${id}`, { key: env.keys.viewer.key });
  expect(res.status, res.text).toBe(200);
  return res.body;
}

const post = (id: string, name: UpdateName, body: unknown, key: string) =>
  http<{ error?: string; message?: string; status?: string }>(`${env.url}/incidents/${id}/${updatePath(name)}`, {
    key,
    body,
  });

async function p0WaitingInEradicate(): Promise<string> {
  const id = await open('plain', 'P0');
  await waitFor(async () => {
    const s = await get(id);
    return s.phase === 'eradicate' && s.awaitingAdvance ? s : undefined;
  }, `${id} waiting in eradicate`);
  return id;
}

describe('route x API role, from the update table', () => {
  it('serves a POST route for every update', async () => {
    const doc = await http<{ paths: Record<string, Record<string, unknown>> }>(`${env.url}/openapi.json`);
    for (const name of UPDATE_NAMES)
      expect(doc.body.paths[`/incidents/{id}/${updatePath(name)}`]).toHaveProperty('post');
  });

  // A role the table lists gets past authorization to the incident (404: there is none); any other gets 403 first.
  for (const name of UPDATE_NAMES) {
    for (const role of API_ROLES) {
      const allowed = UPDATES[name].roles.includes(role);
      it(`${updatePath(name)} as ${role}: ${allowed ? 404 : 403}`, async () => {
        const res = await post(MISSING, name, VALID_BODY[name], env.keys[role].key);
        expect(res.status, res.text).toBe(allowed ? 404 : 403);
        expect(res.body.error).toBe(allowed ? 'not_found' : 'forbidden');
        expect(isCleanError(res.body)).toBe(true);
      });
    }
  }

  it('refuses a request without a key or with an unknown key on every update route (401)', async () => {
    for (const name of UPDATE_NAMES) {
      for (const key of [undefined, 'ie_not-a-key']) {
        const res = await post(MISSING, name, VALID_BODY[name], key as string);
        expect(res.status, `${name} ${key}`).toBe(401);
      }
    }
  });
});

describe('commander only on a P0', () => {
  it('an operator may not lower, resolve (or advance to the resolving end of recovery) or declare a false positive on a P0 (403); nothing changes', async () => {
    const id = await p0WaitingInEradicate();
    const op = env.keys.operator.key;
    const attempts: [UpdateName, Record<string, unknown>, string][] = [
      ['setSeverity', { severity: 'P1' }, `lower ${id} from P0`],
      ['setSeverity', { severity: 'Low' }, `lower ${id} from P0`],
      ['resolve', { summary: 'done' }, `resolve ${id}, a P0 incident`],
      ['declareFalsePositive', { reason: 'nothing here' }, `declare ${id}, a P0 incident, a false positive`],
      // Recovery then runs by itself and its end resolves the incident: a resolve by another route.
      ['advancePhase', {}, `advance ${id}, a P0 incident, past eradicate: the end of recovery resolves it`],
    ];
    for (const [name, body, what] of attempts) {
      const res = await post(id, name, body, op);
      expect(res.status, res.text).toBe(403);
      expect(res.body.message).toContain(`operator-1 has API role operator, which may not ${what}`);
      expect(isCleanError(res.body)).toBe(true);
    }
    const after = await get(id);
    expect(after).toMatchObject({ status: 'active', severity: 'P0', phase: 'eradicate', awaitingAdvance: true });
    expect(after.timeline.some((e) => ['severity_changed', 'resolved', 'false_positive'].includes(e.type))).toBe(false);

    const lowered = await post(id, 'setSeverity', { severity: 'P1' }, env.keys.commander.key);
    expect(lowered.status, lowered.text).toBe(200);
    expect(lowered.body).toMatchObject({ severity: 'P1' });
  });

  it('straight to Temporal: an operator role is refused by the incident; no role is the break-glass path, recorded', async () => {
    const id = await p0WaitingInEradicate();
    for (const [name, input] of [
      ['setSeverity', { by: 'olga', apiRole: 'operator', severity: 'P1' }],
      ['declareFalsePositive', { by: 'olga', apiRole: 'operator', reason: 'x' }],
      ['resolve', { by: 'olga', apiRole: 'operator' }],
    ] as const) {
      await expect(env.incidents.send(id, name, input)).rejects.toBeInstanceOf(UpdateForbiddenError);
    }
    expect(await get(id)).toMatchObject({ status: 'active', severity: 'P0' });

    const resolved = await env.incidents.send(id, 'resolve', { by: 'root', summary: 'break glass' });
    expect(resolved.status).toBe('resolved');
    const event = (await get(id)).timeline.find((e) => e.type === 'resolved');
    expect(event).toMatchObject({ by: 'root', breakGlass: true });
    expect(event).not.toHaveProperty('apiRole');
  });
});

describe('approvals and runbook roles', () => {
  it('a destructive step needs a commander key whatever runbook role is named, over HTTP and straight to Temporal', async () => {
    const id = await open('gates', 'P1');
    // Sent as early as possible: before the step waits the incident refuses it (409), once it waits, 403; never 200.
    const early = await post(id, 'approveStep', VALID_BODY.approveStep, env.keys.operator.key);
    expect([403, 409], early.text).toContain(early.status);
    await waitFor(
      async () => ((await get(id)).waitingSteps.some((w) => w.stepId === 'kill-switch') ? true : undefined),
      'kill-switch waiting',
    );
    for (const role of ['incident-commander', 'security-lead']) {
      const res = await post(id, 'approveStep', { stepId: 'kill-switch', role }, env.keys.operator.key);
      expect(res.status, res.text).toBe(403);
      expect(res.body.message).toContain('app.killSwitch is destructive; that needs a commander key');
    }
    await expect(
      env.incidents.send(id, 'approveStep', {
        by: 'olga',
        apiRole: 'operator',
        stepId: 'kill-switch',
        role: 'incident-commander',
      }),
    ).rejects.toBeInstanceOf(UpdateForbiddenError);
    const still = await get(id);
    expect(still.waitingSteps.map((w) => w.stepId)).toEqual(['kill-switch']);
    expect(still.timeline.some((e) => e.type === 'approval_granted')).toBe(false);
  });

  it('a key bound to runbook roles acts only in those, and is told the roles it has', async () => {
    const bound = env.keyStore.create({ name: 'bound-commander', role: 'commander', runbookRoles: ['security-lead'] });
    const id = await open('gates', 'P1');
    await waitFor(
      async () => ((await get(id)).waitingSteps.some((w) => w.stepId === 'kill-switch') ? true : undefined),
      'kill-switch waiting',
    );

    const asCommander = await post(id, 'approveStep', { stepId: 'kill-switch', role: 'incident-commander' }, bound.key);
    expect(asCommander.status, asCommander.text).toBe(403);
    expect(asCommander.body.message).toContain(
      'bound-commander may not act as "incident-commander"; the runbook roles of its key are: security-lead',
    );
    // Without a role named, the server picks the step's first approver role the key may act in.
    const asLead = await post(id, 'approveStep', { stepId: 'kill-switch' }, bound.key);
    expect(asLead.status, asLead.text).toBe(200);

    await waitFor(
      async () => ((await get(id)).waitingSteps.some((w) => w.stepId === 'brief-legal') ? true : undefined),
      'brief-legal waiting',
    );
    const asLegal = await post(id, 'completeTask', VALID_BODY.completeTask, bound.key);
    expect(asLegal.status, asLegal.text).toBe(403);
    expect(asLegal.body.message).toContain('the runbook roles of its key are: security-lead');
    const granted = (await get(id)).timeline.filter((e) => e.type === 'approval_granted');
    expect(granted.map((e) => [e.stepId, e.by, e.role])).toEqual([['kill-switch', 'bound-commander', 'security-lead']]);
    expect((await get(id)).timeline.some((e) => e.type === 'task_completed')).toBe(false);

    // The kill switch's output (what the drill recorded) stays in the workflow; views leave it out (not safeOutput).
    const inWorkflow = (await env.incidents.status(id)).steps.find((s) => s.stepId === 'kill-switch');
    expect(inWorkflow?.output).toEqual({ recorded: true });
    const shown = (await get(id)).steps.find((s) => s.stepId === 'kill-switch');
    expect(shown).toMatchObject({ status: 'completed', action: 'app.killSwitch' });
    expect(shown).not.toHaveProperty('output');
    // Nor does the post-incident review a viewer reads.
    const review = await http<{ actions: { stepId: string; output?: unknown }[] }>(
      `${env.url}/incidents/${id}/review`,
      {
        key: env.keys.viewer.key,
      },
    );
    expect(review.status, review.text).toBe(200);
    const reviewed = review.body.actions.find((a) => a.stepId === 'kill-switch');
    expect(reviewed).toMatchObject({ status: 'completed', action: 'app.killSwitch' });
    expect(reviewed).not.toHaveProperty('output');

    // A task completed without a role named: the server acts in its first role the key may act in.
    const completed = await post(id, 'completeTask', { stepId: 'brief-legal' }, env.keys.operator.key);
    expect(completed.status, completed.text).toBe(200);
    expect((await get(id)).timeline.find((e) => e.type === 'task_completed')).toMatchObject({
      stepId: 'brief-legal',
      role: 'legal-counsel',
    });
  });
});
