// Every refusal rule of the operator updates, on the Incident alone (no server): each update is refused with its
// reason in the states it may not act in, and leaves the incident unchanged; accepted, it records its table events.
import { describe, expect, it } from 'vitest';
import type { StepEvent } from '../../workflows/definitions';
import { parseUpdate } from '../../workflows/incident/incident';
import { MAX_TEXT_CHARS, MAX_TITLE_CHARS, MAX_UPDATE_HISTORY_EVENTS } from '../../domain/limits';
import { UPDATES, UPDATE_NAMES, type UpdateName, type UpdateRequest } from '../../domain/updates';
import { ID, endPhase, harness, result, runPhase, startPhase } from '../helpers/incident-harness';

/** One valid input per update, for the rules every update shares. */
const VALID: { [N in UpdateName]: UpdateRequest<N> } = {
  acknowledge: { by: 'alice' },
  setSeverity: { by: 'alice', severity: 'P0' },
  recordRootCause: { by: 'alice', summary: 'leaked key' },
  assignOwner: { by: 'alice', owner: 'bob' },
  escalate: { by: 'alice', reason: 'slow' },
  updateImpact: { by: 'alice', affectedSystems: ['db'] },
  advancePhase: { by: 'alice' },
  resolve: { by: 'alice' },
  declareFalsePositive: { by: 'alice', reason: 'test traffic' },
  approveStep: { by: 'alice', role: 'incident-commander', stepId: 'block' },
  rejectStep: { by: 'alice', role: 'incident-commander', stepId: 'block', reason: 'no' },
  completeTask: { by: 'alice', role: 'security-lead', stepId: 'confirm' },
  addNote: { by: 'alice', text: 'the WAF logs show the scan began at 08:40' },
  recordLessons: { by: 'alice', lessonsLearned: ['page the database team at once'] },
  addFollowUp: { by: 'alice', title: 'rotate the API keys', owner: 'bob', due: '2026-12-10' },
  completeFollowUp: { by: 'alice', followUpId: 'F1' },
};

/** The `confirm` task starts waiting. */
const TASK_WAITING = {
  type: 'waiting',
  phase: 'contain',
  stepId: 'confirm',
  action: 'task',
  kind: 'task',
  roles: ['security-lead'],
} as const satisfies StepEvent;

/** An incident in containment with `block` waiting for approval. */
function waitingForApproval() {
  const h = harness();
  runPhase(h.incident, 'detect', [result('detect', 'page')]);
  startPhase(h.incident, 'contain');
  h.incident.onStepEvent({
    type: 'waiting',
    phase: 'contain',
    stepId: 'block',
    action: 'notify.send',
    kind: 'approval',
    roles: ['incident-commander'],
  });
  return h;
}

/** An incident in which `name`, sent with its VALID input, is accepted. */
function readyFor(name: UpdateName) {
  const h = name === 'approveStep' || name === 'rejectStep' ? waitingForApproval() : harness();
  const { incident } = h;
  if (name === 'advancePhase') {
    runPhase(incident, 'detect');
    startPhase(incident, 'contain');
    expect(endPhase(incident, 'contain')).toBe('next');
    incident.finishPhase('contain');
    startPhase(incident, 'eradicate');
    expect(endPhase(incident, 'eradicate')).toBe('wait');
  }
  if (name === 'resolve') {
    runPhase(incident, 'detect');
    runPhase(incident, 'contain');
    startPhase(incident, 'eradicate');
  }
  if (name === 'completeTask') {
    runPhase(incident, 'detect');
    startPhase(incident, 'contain');
    incident.onStepEvent(TASK_WAITING);
  }
  if (name === 'completeFollowUp') h.send('addFollowUp', VALID.addFollowUp);
  return h;
}

describe('every update', () => {
  it.each(UPDATE_NAMES)('%s is refused once the incident is closed, false positive or failed', (name) => {
    for (const end of ['closed', 'false_positive', 'failed'] as const) {
      const h = harness();
      h.incident.state.status = end;
      const before = h.incident.timeline.length;
      expect(h.refusal(name, VALID[name] as never)).toBe(`incident ${ID} is ${end.replace('_', ' ')}`);
      expect(h.incident.timeline.length).toBe(before);
    }
  });

  it.each(UPDATE_NAMES)('%s refuses bad input naming the field', (name) => {
    const h = harness();
    expect(h.refusal(name, { by: ' ' } as never)).toMatch(/^invalid input: by: expected who is acting/);
    expect(h.refusal(name, { ...VALID[name], extra: 1 } as never)).toMatch(/^invalid input: .*extra/);
  });

  it.each(UPDATE_NAMES)('%s, accepted, records the timeline events the update table names', (name) => {
    const h = readyFor(name);
    const { incident } = h;
    const before = incident.timeline.length;
    const effect = h.send(name, VALID[name] as never);
    if (effect.kind === 'decide') {
      // The phase applies the decision and says so; the incident records it then.
      incident.beginDecision(effect.decision);
      incident.onStepEvent({ type: 'decided', phase: 'contain', decision: effect.decision });
      incident.finishDecision(effect.decision.stepId);
    }
    const recorded = incident.timeline.slice(before).map((e) => e.type);
    for (const event of UPDATES[name].events) expect(recorded).toContain(event);
  });
});

describe('the history budget', () => {
  it.each(UPDATE_NAMES)('%s past MAX_UPDATE_HISTORY_EVENTS is taken only when it finishes the incident', (name) => {
    const h = readyFor(name);
    h.setHistoryLength(MAX_UPDATE_HISTORY_EVENTS);
    const before = h.incident.timeline.length;
    if (UPDATES[name].finishes) {
      expect(() => h.send(name, VALID[name] as never)).not.toThrow();
      return;
    }
    expect(h.refusal(name, VALID[name] as never)).toBe(
      `incident ${ID} has ${MAX_UPDATE_HISTORY_EVENTS} events in its history, past the ` +
        `${MAX_UPDATE_HISTORY_EVENTS} after which only updates that finish it are taken (Temporal ends a workflow ` +
        'at 51,200 events); still taken: acknowledge, advancePhase, resolve, declareFalsePositive, approveStep, ' +
        'rejectStep, completeTask',
    );
    expect(h.incident.timeline.length).toBe(before);
  });

  it('takes every update one event short of it', () => {
    const h = harness();
    h.setHistoryLength(MAX_UPDATE_HISTORY_EVENTS - 1);
    h.send('addNote', VALID.addNote);
    h.send('assignOwner', VALID.assignOwner);
    expect(h.incident.state.owner).toBe('bob');
  });
});

describe('acknowledge', () => {
  it('is refused when already acknowledged at the level, naming who at level 0', () => {
    const h = harness();
    h.send('acknowledge', { by: 'alice' });
    expect(h.refusal('acknowledge', { by: 'bob' })).toBe(`incident ${ID} is already acknowledged at level 0 by alice`);
    h.send('escalate', { by: 'bob', reason: 'no progress', level: 1 });
    h.send('acknowledge', { by: 'carol' });
    expect(h.refusal('acknowledge', { by: 'dave' })).toBe(`incident ${ID} is already acknowledged at level 1`);
    expect(h.incident.state.acknowledgedBy).toBe('alice');
  });

  it('is refused once resolved', () => {
    const h = harness();
    runPhase(h.incident, 'detect');
    runPhase(h.incident, 'contain');
    startPhase(h.incident, 'eradicate');
    h.send('resolve', { by: 'alice' });
    expect(h.refusal('acknowledge', { by: 'alice' })).toBe(`incident ${ID} is already resolved`);
  });
});

describe('setSeverity', () => {
  it('is refused for the severity it already has, in either notation', () => {
    const h = harness({ severity: 'P2' });
    expect(h.refusal('setSeverity', { by: 'alice', severity: 'Medium' })).toBe('severity is already P2 (Medium)');
    expect(h.refusal('setSeverity', { by: 'alice', severity: 'P9' })).toMatch(/^invalid input: severity: expected/);
  });

  it('raising to P0 publishes, fires the P0 trigger and notifies', () => {
    const h = harness({ severity: 'P3' });
    h.calls.length = 0;
    h.send('setSeverity', { by: 'alice', severity: 'P0' });
    expect(h.calls[0]).toBe('publish');
    expect(h.calls).toContain('notify:severity_p0');
  });
});

describe('assignOwner, escalate, updateImpact', () => {
  it('assignOwner is refused for the owner it already has', () => {
    const h = harness();
    h.send('assignOwner', { by: 'alice', owner: 'bob' });
    expect(h.refusal('assignOwner', { by: 'alice', owner: 'bob' })).toBe(`bob already owns incident ${ID}`);
  });

  it("assignOwner bounds a new owner like a follow-up's, and replays an owner recorded under the old bound", () => {
    const h = harness();
    const owner = 'o'.repeat(MAX_TITLE_CHARS + 1);
    expect(h.refusal('assignOwner', { by: 'alice', owner })).toBe(
      `invalid input: owner: expected at most ${MAX_TITLE_CHARS} characters`,
    );
    expect(parseUpdate('assignOwner', { by: 'alice', owner }, true)).toEqual({ by: 'alice', owner });
    expect(() => parseUpdate('assignOwner', { by: 'alice', owner: 'o'.repeat(MAX_TEXT_CHARS + 1) }, true)).toThrow(
      `expected at most ${MAX_TEXT_CHARS} characters`,
    );
  });

  it('escalate is refused at or below the current level, and asks executive attention once', () => {
    const h = harness();
    h.send('escalate', { by: 'alice', reason: 'slow', level: 2 });
    expect(h.incident.state.escalation.level).toBe(2);
    expect(h.refusal('escalate', { by: 'alice', reason: 'slow', level: 1 })).toBe(
      `incident ${ID} is already at escalation level 2`,
    );
    h.send('escalate', { by: 'alice', reason: 'board' });
    expect(h.incident.state.executiveAttentionRequested).toBe(true);
    expect(h.refusal('escalate', { by: 'alice', reason: 'again', level: 3 })).toBe(
      'executive attention was already requested',
    );
  });

  it('updateImpact cannot withdraw a confirmed breach, and needs one of its fields', () => {
    const h = harness({ eventType: 'data_breach' });
    expect(h.refusal('updateImpact', { by: 'alice', dataBreachConfirmed: false })).toBe(
      'a confirmed data breach cannot be withdrawn',
    );
    expect(h.refusal('updateImpact', { by: 'alice' })).toBe(
      'invalid input: expected affectedSystems or dataBreachConfirmed',
    );
    h.send('updateImpact', { by: 'alice', affectedSystems: ['db', 'api', 'db'] });
    expect(h.incident.state.affectedSystems).toEqual(['db', 'api']);
  });
});

describe('advancePhase', () => {
  it('is refused while the phase runs (naming what it waits for) and when the phase advances by itself', () => {
    const h = waitingForApproval();
    expect(h.refusal('advancePhase', { by: 'alice' })).toBe(
      'phase contain is still running its steps (waiting for approval of block)',
    );
    endPhase(h.incident, 'contain');
    h.incident.finishPhase('contain');
    expect(h.refusal('advancePhase', { by: 'alice' })).toBe('phase contain advances by itself when its steps are done');
  });

  it('answers once the phase has moved', () => {
    const h = harness();
    runPhase(h.incident, 'detect');
    runPhase(h.incident, 'contain');
    startPhase(h.incident, 'eradicate');
    expect(endPhase(h.incident, 'eradicate')).toBe('wait');
    const effect = h.send('advancePhase', { by: 'alice', note: 'clean' });
    if (effect.kind !== 'wait') throw new Error(`expected to wait, got ${effect.kind}`);
    expect(effect.until()).toBe(false);
    expect(h.incident.advanceReady).toBe(true);
    h.incident.finishPhase('eradicate');
    h.incident.startPhase('recover');
    expect(effect.until()).toBe(true);
  });
});

describe('resolve and declareFalsePositive', () => {
  it('resolve is refused before containment ends, and twice', () => {
    const h = harness();
    expect(h.refusal('resolve', { by: 'alice' })).toBe(
      `cannot resolve incident ${ID}: containment has not ended (phase is detect)`,
    );
    runPhase(h.incident, 'detect');
    startPhase(h.incident, 'contain');
    expect(h.refusal('resolve', { by: 'alice' })).toMatch(/phase is contain/);
    endPhase(h.incident, 'contain');
    h.incident.finishPhase('contain');
    startPhase(h.incident, 'eradicate');
    h.send('resolve', { by: 'alice' });
    expect(h.refusal('resolve', { by: 'alice' })).toBe(`incident ${ID} is already resolved`);
  });

  it('a resolved incident is not a false positive', () => {
    const h = harness();
    runPhase(h.incident, 'detect');
    runPhase(h.incident, 'contain');
    startPhase(h.incident, 'eradicate');
    h.send('resolve', { by: 'alice' });
    expect(h.refusal('declareFalsePositive', { by: 'alice', reason: 'x' })).toBe(
      `incident ${ID} is resolved; a resolved incident is not a false positive`,
    );
  });

  it('a false positive stops the running phase; before compensation existed it cancelled it', () => {
    const stopping = waitingForApproval();
    expect(stopping.send('declareFalsePositive', { by: 'alice', reason: 'test traffic' })).toEqual({
      kind: 'stop',
      phase: 'contain',
      reason: 'declared a false positive by alice',
    });
    const old = harness({}, { falsePositiveCompensates: () => false });
    startPhase(old.incident, 'detect');
    old.calls.length = 0;
    expect(old.send('declareFalsePositive', { by: 'alice', reason: 'x' })).toEqual({ kind: 'cancelled' });
    expect(old.calls.slice(0, 2)).toEqual(['cancel', 'publish']);
  });
});

describe('approveStep, rejectStep, completeTask', () => {
  it('refuse a step the runbook does not have, listing its steps', () => {
    const h = waitingForApproval();
    expect(h.refusal('approveStep', { by: 'a', role: 'incident-commander', stepId: 'nope' })).toBe(
      'no step "nope" in runbook unit; its steps are: page, block, confirm, clean',
    );
  });

  it('refuse the wrong kind of step', () => {
    const h = waitingForApproval();
    expect(h.refusal('approveStep', { by: 'a', role: 'x', stepId: 'confirm' })).toBe(
      'step "confirm" has no approval gate',
    );
    expect(h.refusal('completeTask', { by: 'a', stepId: 'block' })).toBe(
      'step "block" is a notify.send step, not a task',
    );
  });

  it('refuse a step that is not waiting, saying where it stands', () => {
    const h = waitingForApproval();
    h.incident.onStepEvent({ type: 'result', result: result('contain', 'page-again') });
    expect(h.refusal('completeTask', { by: 'a', role: 'security-lead', stepId: 'confirm' })).toBe(
      'step "confirm" is not waiting for completion: it has not been reached yet (phase contain)',
    );
    const done = harness();
    runPhase(done.incident, 'detect');
    startPhase(done.incident, 'contain');
    done.incident.onStepEvent({ type: 'result', result: result('contain', 'block') });
    expect(done.refusal('approveStep', { by: 'a', role: 'incident-commander', stepId: 'block' })).toBe(
      'step "block" is not waiting for approval: it completed',
    );
    endPhase(done.incident, 'contain');
    done.incident.finishPhase('contain');
    expect(done.refusal('completeTask', { by: 'a', role: 'security-lead', stepId: 'confirm' })).toBe(
      'step "confirm" is not waiting for completion: it did not run',
    );
  });

  it('refuse a decision without a role, or in a role the step does not allow', () => {
    const h = waitingForApproval();
    expect(h.refusal('approveStep', { by: 'a', role: 'intern', stepId: 'block' })).toBe(
      'role "intern" may not approve step "block"; expected one of: incident-commander',
    );
    h.incident.onStepEvent(TASK_WAITING);
    expect(h.refusal('completeTask', { by: 'a', stepId: 'confirm' })).toBe(
      'step "confirm" needs a role to complete it; expected one of: security-lead',
    );
  });

  it('refuse a second decision while one is applied, and answer a decision that came too late', () => {
    const h = waitingForApproval();
    const effect = h.send('approveStep', { by: 'a', role: 'incident-commander', stepId: 'block' });
    if (effect.kind !== 'decide') throw new Error(`expected a decision, got ${effect.kind}`);
    expect(h.incident.beginDecision(effect.decision)).toBe('contain');
    expect(h.refusal('rejectStep', { by: 'b', role: 'incident-commander', stepId: 'block', reason: 'no' })).toBe(
      'a decision on step "block" is already being applied',
    );
    h.incident.onStepEvent({
      type: 'timed_out',
      phase: 'contain',
      stepId: 'block',
      kind: 'approval',
      onTimeout: 'skip',
      stillWaiting: false,
    });
    expect(h.incident.decisionSettled('block')).toBe(true);
    expect(() => h.incident.finishDecision('block')).toThrow('step "block" timed out before the decision reached it');
  });
});

describe('a timer that fires with a stale workflow clock', () => {
  // Under load the SDK has woken a workflow by its timer with the clock of its previous task: the incident found
  // nothing due, armed the timer again, and its replay (with the right clock) failed. A fired deadline now counts.
  it('escalates at the deadline whose timer fired, though the clock says earlier', () => {
    const h = harness({ severity: 'P1' });
    const deadline = h.incident.nextEscalationAt!;
    h.tick(deadline - h.incident.now() - 60_000); // the clock of a task a minute before the deadline
    h.incident.evaluateEscalations();
    expect(h.incident.timeline.filter((e) => e.type === 'escalated')).toHaveLength(0);
    expect(h.incident.nextEscalationAt).toBe(deadline);

    h.incident.clockAtLeast(deadline);
    h.incident.evaluateEscalations();
    const escalated = h.incident.timeline.filter((e) => e.type === 'escalated');
    expect(escalated).toHaveLength(1);
    expect(escalated[0]!.at).toBe(deadline);
    expect(h.incident.nextEscalationAt).toBeGreaterThan(deadline);
  });

  it('changes nothing when the clock is right', () => {
    const h = harness({ severity: 'P1' });
    const deadline = h.incident.nextEscalationAt!;
    h.tick(deadline - h.incident.now() + 250);
    const right = h.incident.now();
    h.incident.clockAtLeast(deadline);
    expect(h.incident.now()).toBe(right);
  });
});
