// Step semantics under time skipping: parallel groups, `when`, retry policies, approval gates (granted, rejected,
// each onTimeout), tasks, and compensation (false positive, failed critical step). Plans are built here from YAML,
// validated by the runbook schema and compiled as an incident pins them; activities are real (webhook peer, files).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpdateRefusedError } from '../../src/client';
import type { StepResult, TimelineEvent } from '../../domain/incident';
import type { RunbookPlan } from '../../domain/runbook';
import type { IncidentOutcome, IncidentStatusView } from '../../workflows/definitions';
import { testDataConverter } from '../helpers/codec';
import { incidentInput, planFromPhases, startIncident, tempDir } from '../helpers/incident-fixtures';
import { bundleWorkflows } from '../../src/worker';
import { type TimeSkippingEngine, startTimeSkippingEngine, until } from '../helpers/time-skipping-engine';

let engine: TimeSkippingEngine;
let quarantineRoot: string;

beforeAll(async () => {
  engine = await startTimeSkippingEngine('steps-test');
  // file.quarantine only takes files under configured roots; the worker's activities read this config object.
  quarantineRoot = tempDir('quarantine-root');
  engine.config.quarantine = { roots: [quarantineRoot] };
});

afterAll(async () => {
  await engine?.close();
});

function planOf(phasesYaml: string): RunbookPlan {
  return planFromPhases('steps-test', ['other'], phasesYaml, 'test/workflows/steps.test.ts');
}

async function open(id: string, plan: RunbookPlan, request: Parameters<typeof incidentInput>[2] = { severity: 'P3' }) {
  return startIncident(engine.env.client, engine.taskQueue, incidentInput(id, plan, request));
}

const status = (id: string): Promise<IncidentStatusView> => engine.incidents.status(id);
const stepOf = (s: IncidentStatusView, stepId: string): StepResult | undefined =>
  s.steps.find((x) => x.stepId === stepId);
const waitingFor = (id: string, stepId: string) =>
  until(
    () => status(id),
    (s) => s.waitingSteps.some((w) => w.stepId === stepId),
    `${id}: ${stepId} waiting`,
  );
const stepDone = (id: string, stepId: string) =>
  until(
    () => status(id),
    (s) => stepOf(s, stepId) !== undefined,
    `${id}: ${stepId} done`,
  );
const eventsOf = <T extends TimelineEvent['type']>(timeline: TimelineEvent[], type: T) =>
  timeline.filter((e): e is TimelineEvent & { type: T } => e.type === type);

function victim(name: string): string {
  const file = path.join(quarantineRoot, name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `suspicious payload ${name}\n`);
  return file;
}

describe('step semantics', () => {
  it('runs a parallel group together, records each result, and goes on once all are done', async () => {
    const id = 'INC-2026-301';
    const plan = planOf(`
contain:
  steps:
    - id: before
      action: notify.send
      with: { message: 'before the group' }
    - id: fan-out
      parallel:
        - id: tell-internal
          action: notify.send
          with: { message: 'group member 1' }
        - id: tell-external
          action: notify.send
          with: { audience: external, message: 'group member 2' }
        - id: grab-logs
          action: evidence.snapshot
          with: { paths: [logs] }
    - id: after
      action: notify.send
      with: { message: 'after the group' }
`);
    const handle = await open(id, plan);
    const outcome = (await handle.result()) as IncidentOutcome;
    expect(outcome.status).toBe('closed');

    const s = await status(id);
    const group = ['tell-internal', 'tell-external', 'grab-logs'].map((stepId) => stepOf(s, stepId)!);
    expect(group.map((r) => [r.status, r.group])).toEqual([
      ['completed', 'fan-out'],
      ['completed', 'fan-out'],
      ['completed', 'fan-out'],
    ]);
    // Started in the same workflow task, after the step before and before the step after.
    expect(new Set(group.map((r) => r.startedAt)).size).toBe(1);
    expect(group[0]!.startedAt).toBeGreaterThanOrEqual(stepOf(s, 'before')!.endedAt);
    expect(stepOf(s, 'after')!.startedAt).toBeGreaterThanOrEqual(Math.max(...group.map((r) => r.endedAt)));
    // Each step's effect happened once, under its own idempotency key.
    for (const stepId of ['before', 'tell-internal', 'tell-external', 'after']) {
      expect(engine.sink.deliveriesFor(`${id}/${stepId}`)).toHaveLength(1);
    }
    expect(s.evidence.map((e) => e.stepId)).toEqual(['grab-logs']);
    const timeline = await engine.incidents.timeline(id);
    expect(eventsOf(timeline, 'step_completed').map((e) => e.stepId)).toEqual(
      expect.arrayContaining(['before', 'tell-internal', 'tell-external', 'grab-logs', 'after']),
    );
    expect(timeline.map((e) => e.at)).toEqual([...timeline.map((e) => e.at)].sort((a, b) => a - b));
  });

  it('skips a step whose `when` does not hold, with the reason, and sees facts that change during the phase', async () => {
    const id = 'INC-2026-302';
    const plan = planOf(`
contain:
  steps:
    - id: page-executives
      action: notify.send
      when: { severity: [P0, P1] }
      with: { message: 'only for P0 and P1' }
    - id: many-systems
      action: notify.send
      when: { affectedSystems: { atLeast: 2 } }
      with: { message: 'two or more systems' }
    - id: hold
      action: task
      with: { instructions: 'confirm whether personal data left the building' }
    - id: breach-notice
      action: notify.send
      after: { steps: [hold], reason: the facts change while the task holds it }
      when: { dataBreachConfirmed: true, not: { eventType: policy_violation } }
      with: { message: 'breach confirmed' }
`);
    const handle = await open(id, plan, { severity: 'P3', eventType: 'other' });
    await waitingFor(id, 'hold');
    const early = await status(id);
    expect(stepOf(early, 'page-executives')).toMatchObject({
      status: 'skipped',
      reason: 'when: severity is P3, expected P0 or P1',
    });
    expect(stepOf(early, 'many-systems')).toMatchObject({
      status: 'skipped',
      reason: 'when: affectedSystems is 0, expected at least 2',
    });
    expect(engine.sink.deliveriesFor(`${id}/page-executives`)).toHaveLength(0);

    // The breach is confirmed while the phase runs: the step after the task sees it.
    await engine.incidents.updateImpact(id, { by: 'dpo', dataBreachConfirmed: true });
    await engine.incidents.completeTask(id, { by: 'dpo', stepId: 'hold', note: 'customer table exfiltrated' });
    const outcome = (await handle.result()) as IncidentOutcome;
    expect(outcome.status).toBe('closed');
    const s = await status(id);
    expect(stepOf(s, 'breach-notice')?.status).toBe('completed');
    expect(engine.sink.deliveriesFor(`${id}/breach-notice`)).toHaveLength(1);
    const skipped = eventsOf(await engine.incidents.timeline(id), 'step_skipped');
    expect(skipped.map((e) => [e.stepId, e.detail])).toEqual([
      ['page-executives', 'when: severity is P3, expected P0 or P1'],
      ['many-systems', 'when: affectedSystems is 0, expected at least 2'],
    ]);
  });

  it("honours a step's retry policy: a peer failing twice then succeeding", async () => {
    const plan = (attempts: number) =>
      planOf(`
contain:
  steps:
    - id: flaky-peer
      action: notify.send
      retry: { maxAttempts: ${attempts}, initialInterval: 1s, backoff: 1, maxInterval: 1s }
      with: { message: 'through a flaky peer' }
`);
    // Two attempts are not enough for a peer that fails twice: the step fails after exactly two requests.
    engine.sink.setBehaviour({ failFirst: 2, failStatus: 503 });
    await (await open('INC-2026-303', plan(2))).result();
    const short = await status('INC-2026-303');
    expect(stepOf(short, 'flaky-peer')).toMatchObject({ status: 'failed' });
    expect(stepOf(short, 'flaky-peer')?.error).toMatch(/503/);
    expect(engine.sink.deliveriesFor('INC-2026-303/flaky-peer').map((r) => r.status)).toEqual([503, 503]);

    // Three attempts: the third succeeds, once.
    engine.sink.setBehaviour({ failFirst: 2, failStatus: 503 });
    await (await open('INC-2026-304', plan(3))).result();
    expect(stepOf(await status('INC-2026-304'), 'flaky-peer')?.status).toBe('completed');
    const deliveries = engine.sink.deliveriesFor('INC-2026-304/flaky-peer');
    expect(deliveries.map((r) => r.status)).toEqual([503, 503, 200]);
    expect(deliveries.filter((r) => r.applied)).toHaveLength(1);
  });

  it('holds a step at its approval gate: granted, rejected, refused for the wrong role, and each onTimeout', async () => {
    const id = 'INC-2026-305';
    // Gates hold no later step by themselves; here each waits for the one before, so they are asked one at a time.
    const gate = (stepId: string, extra = '', previous?: string) => `
    - id: ${stepId}
      action: notify.send
      approval: { roles: [incident-commander, security-lead]${extra} }${previous ? `\n      after: { steps: [${previous}], reason: one gate at a time }` : ''}
      with: { message: '${stepId} ran' }`;
    const plan = planOf(`
contain:
  steps:${gate('gate-granted', ', timeout: 1h, onTimeout: skip')}${gate('gate-rejected', '', 'gate-granted')}${gate('gate-proceed', ', timeout: 5m, onTimeout: proceed', 'gate-rejected')}${gate('gate-skip', ', timeout: 5m, onTimeout: skip', 'gate-proceed')}${gate('gate-fail', ', timeout: 5m, onTimeout: fail', 'gate-skip')}
`);
    const handle = await open(id, plan);

    const asked = await waitingFor(id, 'gate-granted');
    expect(asked.waitingSteps).toEqual([
      expect.objectContaining({
        stepId: 'gate-granted',
        kind: 'approval',
        roles: ['incident-commander', 'security-lead'],
      }),
    ]);
    expect(engine.sink.deliveriesFor(`${id}/gate-granted`)).toHaveLength(0);

    // The validator refuses, with its reason, and the step keeps waiting.
    const wrongRole = engine.incidents.approveStep(id, { by: 'mallory', role: 'intern', stepId: 'gate-granted' });
    await expect(wrongRole).rejects.toBeInstanceOf(UpdateRefusedError);
    await expect(wrongRole).rejects.toThrow(
      /role "intern" may not approve step "gate-granted"; expected one of: incident-commander, security-lead/,
    );
    await expect(
      engine.incidents.approveStep(id, { by: 'alice', role: 'incident-commander', stepId: 'gate-fail' }),
    ).rejects.toThrow(/step "gate-fail" is not waiting for approval: it has not been reached yet/);
    await expect(
      engine.incidents.approveStep(id, { by: 'alice', role: 'incident-commander', stepId: 'nope' }),
    ).rejects.toThrow(/no step "nope" in runbook steps-test/);
    await expect(engine.incidents.completeTask(id, { by: 'alice', stepId: 'gate-granted' })).rejects.toThrow(
      /step "gate-granted" is a notify.send step, not a task/,
    );

    const granted = await engine.incidents.approveStep(id, {
      by: 'alice',
      role: 'incident-commander',
      stepId: 'gate-granted',
      note: 'go',
    });
    expect(granted.waitingSteps.map((w) => w.stepId)).not.toContain('gate-granted');
    await expect(
      engine.incidents.approveStep(id, { by: 'bob', role: 'security-lead', stepId: 'gate-granted' }),
    ).rejects.toThrow(/not waiting for approval/);

    await waitingFor(id, 'gate-rejected');
    expect(stepOf(await status(id), 'gate-granted')?.status).toBe('completed');
    await engine.incidents.rejectStep(id, {
      by: 'bob',
      role: 'security-lead',
      stepId: 'gate-rejected',
      reason: 'would page the CEO at 3am',
    });
    expect(await stepDone(id, 'gate-rejected').then((s) => stepOf(s, 'gate-rejected'))).toMatchObject({
      status: 'skipped',
      reason: 'approval rejected by bob (security-lead): would page the CEO at 3am',
    });

    // Nobody decides: each gate's timer runs out in simulated time and onTimeout decides.
    for (const stepId of ['gate-proceed', 'gate-skip', 'gate-fail']) {
      await waitingFor(id, stepId);
      await engine.env.sleep('5m');
      await stepDone(id, stepId);
    }
    const outcome = (await handle.result()) as IncidentOutcome;
    expect(outcome.status).toBe('closed');

    const s = await status(id);
    expect(stepOf(s, 'gate-proceed')).toMatchObject({
      status: 'completed',
      reason: 'approval not given within 5m; ran anyway (onTimeout: proceed)',
    });
    expect(stepOf(s, 'gate-skip')).toMatchObject({ status: 'skipped', reason: 'approval not given within 5m' });
    expect(stepOf(s, 'gate-fail')).toMatchObject({ status: 'failed', error: 'approval not given within 5m' });
    expect(
      ['gate-granted', 'gate-rejected', 'gate-proceed', 'gate-skip', 'gate-fail'].map(
        (step) => engine.sink.deliveriesFor(`${id}/${step}`).length,
      ),
    ).toEqual([1, 0, 1, 0, 0]);

    const timeline = await engine.incidents.timeline(id);
    expect(eventsOf(timeline, 'approval_requested').map((e) => e.stepId)).toEqual([
      'gate-granted',
      'gate-rejected',
      'gate-proceed',
      'gate-skip',
      'gate-fail',
    ]);
    expect(eventsOf(timeline, 'approval_granted').map((e) => [e.stepId, e.by, e.role, e.note])).toEqual([
      ['gate-granted', 'alice', 'incident-commander', 'go'],
    ]);
    expect(eventsOf(timeline, 'approval_rejected').map((e) => [e.stepId, e.by, e.reason])).toEqual([
      ['gate-rejected', 'bob', 'would page the CEO at 3am'],
    ]);
    expect(eventsOf(timeline, 'approval_timed_out').map((e) => [e.stepId, e.onTimeout])).toEqual([
      ['gate-proceed', 'proceed'],
      ['gate-skip', 'skip'],
      ['gate-fail', 'fail'],
    ]);
    expect(timeline.map((e) => e.at)).toEqual([...timeline.map((e) => e.at)].sort((a, b) => a - b));
  });

  it('escalates when an approval times out with onTimeout: escalate, and keeps waiting for the decision', async () => {
    const id = 'INC-2026-306';
    const plan = planOf(`
contain:
  steps:
    - id: block-everything
      action: notify.send
      approval: { roles: [incident-commander], timeout: 10m, onTimeout: escalate }
      with: { message: 'blocking' }
`);
    const handle = await open(id, plan);
    const asked = await waitingFor(id, 'block-everything');
    expect(asked.escalation.level).toBe(0);
    await engine.env.sleep('10m');
    const escalated = await until(
      () => status(id),
      (s) => s.escalation.level === 1,
      `${id} escalated`,
    );
    expect(escalated.waitingSteps.map((w) => w.stepId)).toEqual(['block-everything']);
    expect(escalated.waitingSteps[0]!.timeoutAt).toBeGreaterThan(asked.waitingSteps[0]!.timeoutAt!);
    const timeline = await engine.incidents.timeline(id);
    expect(eventsOf(timeline, 'approval_timed_out').map((e) => e.onTimeout)).toEqual(['escalate']);
    expect(eventsOf(timeline, 'escalated').map((e) => [e.trigger, e.toLevel, e.reason])).toEqual([
      ['manual', 1, expect.stringMatching(/approval of step "block-everything" timed out/)],
    ]);

    await engine.incidents.approveStep(id, { by: 'carol', role: 'incident-commander', stepId: 'block-everything' });
    expect((await handle.result()) as IncidentOutcome).toMatchObject({ status: 'closed' });
    expect(stepOf(await status(id), 'block-everything')?.status).toBe('completed');
  });

  it('waits for a task until it is completed by an allowed role, or its timeout runs out', async () => {
    const id = 'INC-2026-307';
    const plan = planOf(`
contain:
  steps:
    - id: engage-forensics
      action: task
      with:
        instructions: 'Engage external forensics for \${incident.id}'
        roles: [security-lead]
    - id: brief-legal
      action: task
      with: { instructions: 'Brief legal', timeout: 30m, onTimeout: skip }
`);
    const handle = await open(id, plan);
    const asked = await waitingFor(id, 'engage-forensics');
    expect(asked.waitingSteps[0]).toMatchObject({
      kind: 'task',
      instructions: `Engage external forensics for ${id}`,
      roles: ['security-lead'],
    });
    await expect(engine.incidents.completeTask(id, { by: 'dave', stepId: 'engage-forensics' })).rejects.toThrow(
      /step "engage-forensics" needs a role to complete it; expected one of: security-lead/,
    );
    await expect(
      engine.incidents.approveStep(id, { by: 'dave', role: 'security-lead', stepId: 'engage-forensics' }),
    ).rejects.toThrow(/step "engage-forensics" has no approval gate/);
    await engine.incidents.completeTask(id, {
      by: 'dave',
      role: 'security-lead',
      stepId: 'engage-forensics',
      note: 'retainer called',
    });

    await waitingFor(id, 'brief-legal');
    await engine.env.sleep('30m');
    await (handle.result() as Promise<IncidentOutcome>);
    const s = await status(id);
    expect(stepOf(s, 'engage-forensics')).toMatchObject({
      status: 'completed',
      output: { completed: true, completedBy: 'dave', role: 'security-lead', note: 'retainer called' },
    });
    expect(stepOf(s, 'brief-legal')).toMatchObject({ status: 'skipped', reason: 'task not completed within 30m' });
    const timeline = await engine.incidents.timeline(id);
    expect(eventsOf(timeline, 'task_requested').map((e) => e.stepId)).toEqual(['engage-forensics', 'brief-legal']);
    expect(eventsOf(timeline, 'task_completed').map((e) => [e.stepId, e.by, e.note])).toEqual([
      ['engage-forensics', 'dave', 'retainer called'],
    ]);
    expect(eventsOf(timeline, 'task_timed_out').map((e) => [e.stepId, e.onTimeout])).toEqual([['brief-legal', 'skip']]);
  });

  it('undoes completed steps in reverse order across phases when declared a false positive mid-phase', async () => {
    const id = 'INC-2026-308';
    const [a, b, c] = ['a/upload.php', 'b/shell.exe', 'c/keep.bin'].map(victim) as [string, string, string];
    const plan = planOf(`
contain:
  steps:
    - id: quarantine-a
      action: file.quarantine
      with: { path: '${a}' }
    - id: quarantine-c
      action: file.quarantine
      compensate: false
      with: { path: '${c}' }
    - id: tell-team
      action: notify.send
      with: { message: 'contained' }
eradicate:
  steps:
    - id: quarantine-b
      action: file.quarantine
      with: { path: '${b}' }
    - id: wipe-host
      action: notify.send
      approval: { roles: [incident-commander] }
      with: { message: 'wiping' }
`);
    const handle = await open(id, plan);
    await waitingFor(id, 'wipe-host');
    expect([a, b, c].map(existsSync)).toEqual([false, false, false]);

    // The update answers once the running phase stopped and the undo is done.
    const view = await engine.incidents.declareFalsePositive(id, { by: 'alice', reason: 'pentest by the red team' });
    expect(view.status).toBe('false_positive');
    expect(view.waitingSteps).toEqual([]);
    const outcome = (await handle.result()) as IncidentOutcome;
    expect(outcome.status).toBe('false_positive');

    // Restored, newest first; the step marked compensate: false stays quarantined.
    expect([a, b, c].map(existsSync)).toEqual([true, true, false]);
    expect(readFileSync(a, 'utf8')).toBe('suspicious payload a/upload.php\n');
    const timeline = await engine.incidents.timeline(id);
    expect(eventsOf(timeline, 'compensation_started')).toEqual([
      expect.objectContaining({ reason: 'false_positive', steps: ['quarantine-b', 'quarantine-a'] }),
    ]);
    expect(eventsOf(timeline, 'step_compensated').map((e) => [e.stepId, e.undo])).toEqual([
      ['quarantine-b', 'file.restore'],
      ['quarantine-a', 'file.restore'],
    ]);
    expect(eventsOf(timeline, 'compensation_failed')).toEqual([]);
    const s = await status(id);
    expect(stepOf(s, 'wipe-host')).toMatchObject({
      status: 'skipped',
      reason: expect.stringMatching(/phase stopped: declared a false positive by alice/),
    });
    expect(engine.sink.deliveriesFor(`${id}/wipe-host`)).toHaveLength(0);
    expect(s.phases.recover).toBeUndefined();
    // Every timeline entry after the declaration is the undo and the close.
    const types = timeline.map((e) => e.type);
    expect(types.slice(types.indexOf('false_positive'))).toEqual([
      'false_positive',
      'step_skipped',
      'compensation_started',
      'step_compensated',
      'step_compensated',
      'closed',
    ]);
  });

  it('undoes completed steps and ends as failed when a critical step fails', async () => {
    const id = 'INC-2026-309';
    const [a, b] = ['d/dropper.js', 'e/miner'].map(victim) as [string, string];
    const missing = path.join(quarantineRoot, 'f/never-existed');
    const plan = planOf(`
contain:
  steps:
    - id: quarantine-d
      action: file.quarantine
      with: { path: '${a}' }
eradicate:
  steps:
    - id: quarantine-e
      action: file.quarantine
      with: { path: '${b}' }
    - id: quarantine-missing
      action: file.quarantine
      critical: true
      with: { path: '${missing}' }
    - id: never-runs
      action: notify.send
      with: { message: 'not reached' }
recover:
  steps:
    - id: recover-step
      action: notify.send
      with: { message: 'not reached either' }
`);
    const handle = await open(id, plan);
    const outcome = (await handle.result()) as IncidentOutcome;
    expect(outcome.status).toBe('failed');
    expect([a, b].map(existsSync)).toEqual([true, true]);

    const s = await status(id);
    expect(stepOf(s, 'quarantine-missing')?.status).toBe('failed');
    expect(stepOf(s, 'never-runs')).toBeUndefined();
    expect(s.phases.recover).toBeUndefined();
    const timeline = await engine.incidents.timeline(id);
    expect(eventsOf(timeline, 'phase_failed').map((e) => [e.phase, e.error])).toEqual([
      ['eradicate', expect.stringMatching(/^critical step "quarantine-missing" failed: /)],
    ]);
    expect(eventsOf(timeline, 'step_compensated').map((e) => e.stepId)).toEqual(['quarantine-e', 'quarantine-d']);
    expect(eventsOf(timeline, 'compensation_started')[0]).toMatchObject({ reason: 'phase_failed' });
    expect(timeline.at(-1)).toMatchObject({ type: 'closed', status: 'failed' });
    await expect(engine.incidents.declareFalsePositive(id, { by: 'alice', reason: 'too late' })).rejects.toThrow(
      /failed|closed/,
    );
  });

  it('replays every history recorded above (incidents and phases) against the same code, deterministically', async () => {
    const ids = [
      'INC-2026-301',
      'INC-2026-302',
      'INC-2026-303',
      'INC-2026-304',
      'INC-2026-305',
      'INC-2026-306',
      'INC-2026-307',
      'INC-2026-308',
      'INC-2026-309',
    ];
    const phases = ['detect', 'contain', 'eradicate', 'recover', 'post-incident'];
    const histories: { workflowId: string; history: Awaited<ReturnType<WorkflowHandle['fetchHistory']>> }[] = [];
    for (const id of ids) {
      for (const workflowId of [id, ...phases.map((phase) => `${id}.${phase}`)]) {
        const history = await engine.env.client.workflow
          .getHandle(workflowId)
          .fetchHistory()
          .catch(() => undefined);
        if (history) histories.push({ workflowId, history });
      }
    }
    expect(histories.length).toBeGreaterThan(ids.length * 2);
    const failures: string[] = [];
    for await (const result of Worker.runReplayHistories(
      { workflowBundle: await bundleWorkflows(), replayName: 'steps-self-replay', dataConverter: testDataConverter },
      histories,
    )) {
      if (result.error) failures.push(`${result.workflowId}: ${(result.error as Error).message}`);
    }
    expect(failures).toEqual([]);
  });
});
