// Every transition of the incident's lifecycle (Stage) and status, on the Incident alone (no server): each edge of
// STAGE_TRANSITIONS and STATUS_TRANSITIONS is taken by a path the workflow takes, and every other move is a bug that
// throws. Also the order compensation undoes steps in, and the escalation facts the phases see.
import { describe, expect, it } from 'vitest';
import type { IncidentStatus } from '../../domain/incident';
import { STAGE_TRANSITIONS, STATUS_TRANSITIONS, type Stage } from '../../workflows/incident/incident';
import { type Harness, endPhase, harness, result, runPhase, startPhase } from '../helpers/incident-harness';

/** Records every stage and status the incident passes through. */
function watch(h: Harness) {
  const stages: Stage[] = [h.incident.stage];
  const statuses: IncidentStatus[] = [h.incident.state.status];
  const look = () => {
    if (stages.at(-1) !== h.incident.stage) stages.push(h.incident.stage);
    if (statuses.at(-1) !== h.incident.state.status) statuses.push(h.incident.state.status);
  };
  return { stages, statuses, look };
}

const edges = (path: string[]) => path.slice(1).map((to, i) => `${path[i]}->${to}`);

describe('incident lifecycle', () => {
  const seenStages = new Set<string>();
  const seenStatuses = new Set<string>();

  it('runs every phase to close: resolved by recovery, a manual phase waiting for advancePhase', () => {
    const h = harness();
    const w = watch(h);
    const { incident } = h;
    runPhase(incident, 'detect', [result('detect', 'page')]);
    w.look();
    startPhase(incident, 'contain');
    w.look();
    expect(endPhase(incident, 'contain')).toBe('next');
    w.look();
    incident.finishPhase('contain');
    startPhase(incident, 'eradicate');
    expect(endPhase(incident, 'eradicate')).toBe('wait');
    w.look();
    expect(incident.state.awaitingAdvance).toBe(true);
    h.send('advancePhase', { by: 'alice' });
    expect(incident.finishPhase('eradicate')).toBe(true);
    runPhase(incident, 'recover');
    w.look();
    expect(incident.state.status).toBe('resolved');
    expect(incident.timeline.at(-1)).toMatchObject({ type: 'resolved', summary: 'recovery completed' });
    runPhase(incident, 'post-incident');
    expect(incident.compensationReason()).toBeUndefined();
    incident.close();
    w.look();
    expect(incident.state.status).toBe('closed');
    expect(incident.closed).toBe(true);
    expect(w.stages).toEqual([
      'opened',
      'phase_done',
      'phase_running',
      'phase_done',
      'awaiting_advance',
      'phase_done',
      'closed',
    ]);
    for (const e of edges(w.statuses)) seenStatuses.add(e);
    seenStages.add('opened->phase_starting');
    seenStages.add('phase_starting->phase_running');
    seenStages.add('phase_running->phase_done');
    seenStages.add('phase_done->phase_starting');
    seenStages.add('phase_done->awaiting_advance');
    seenStages.add('awaiting_advance->phase_starting');
    seenStages.add('phase_done->closed');
  });

  it('a resolve while a manual phase waits moves it on; a later failed phase ends it failed', () => {
    const h = harness();
    const { incident } = h;
    runPhase(incident, 'detect');
    runPhase(incident, 'contain');
    startPhase(incident, 'eradicate');
    expect(endPhase(incident, 'eradicate')).toBe('wait');
    expect(incident.advanceReady).toBe(false);
    h.send('resolve', { by: 'alice', summary: 'restored' });
    expect(incident.advanceReady).toBe(true);
    incident.finishPhase('eradicate');
    startPhase(incident, 'recover');
    expect(endPhase(incident, 'recover', [], 'restore')).toBe('stop');
    expect(incident.state.status).toBe('failed');
    expect(incident.compensationReason()).toBe('phase_failed');
    incident.close();
    expect(incident.state.status).toBe('failed');
    seenStatuses.add('active->resolved');
    seenStatuses.add('resolved->failed');
    seenStages.add('phase_done->closed');
  });

  it('a child that never starts ends its phase; without the compensation patch the next phase runs', () => {
    const h = harness({}, { phaseFailureCompensates: () => false });
    const { incident } = h;
    incident.startPhase('detect');
    incident.phaseEnded('detect');
    expect(incident.afterPhase('detect', 'child failed to start')).toBe('next');
    expect(incident.timeline.map((e) => e.type)).toContain('phase_failed');
    expect(incident.state.status).toBe('active');
    seenStages.add('phase_starting->phase_done');
  });

  it('a false positive mid-phase stops it and undoes completed steps, newest first, across phases', () => {
    const h = harness();
    const { incident } = h;
    const undo = (action: string) => ({ undo: { action, with: {} } });
    runPhase(incident, 'detect', [result('detect', 'page', undo('notify.send'))]);
    startPhase(incident, 'contain');
    incident.onStepEvent({ type: 'result', result: result('contain', 'block', undo('notify.send')) });
    incident.onStepEvent({ type: 'result', result: result('contain', 'skipped', { status: 'skipped', ...undo('x') }) });
    h.send('declareFalsePositive', { by: 'alice', reason: 'test traffic' });
    expect(endPhase(incident, 'contain')).toBe('stop');
    const reason = incident.compensationReason();
    expect(reason).toBe('false_positive');
    const order = incident.compensation(reason!);
    expect(order.map((o) => o.step.stepId)).toEqual(['block', 'page']);
    expect(incident.stage).toBe('compensating');
    incident.compensated(order[0]!.step);
    incident.compensated(order[1]!.step, 'peer down');
    incident.close();
    expect(incident.timeline.slice(-4).map((e) => e.type)).toEqual([
      'compensation_started',
      'step_compensated',
      'compensation_failed',
      'closed',
    ]);
    expect(incident.state.status).toBe('false_positive');
    seenStatuses.add('active->false_positive');
    seenStages.add('phase_done->compensating');
    seenStages.add('compensating->closed');
  });

  it('a false positive while a manual phase waits ends the wait; with nothing to undo it closes', () => {
    const h = harness();
    const { incident } = h;
    runPhase(incident, 'detect');
    runPhase(incident, 'contain', [result('contain', 'block', { undo: { action: 'notify.send', with: {} } })]);
    startPhase(incident, 'eradicate');
    expect(endPhase(incident, 'eradicate')).toBe('wait');
    h.send('declareFalsePositive', { by: 'alice', reason: 'x' });
    expect(incident.advanceReady).toBe(true);
    expect(incident.finishPhase('eradicate')).toBe(false);
    expect(incident.compensation('false_positive').map((o) => o.step.stepId)).toEqual(['block']);
    seenStages.add('awaiting_advance->compensating');

    const bare = harness();
    runPhase(bare.incident, 'detect');
    runPhase(bare.incident, 'contain');
    startPhase(bare.incident, 'eradicate');
    endPhase(bare.incident, 'eradicate');
    bare.send('declareFalsePositive', { by: 'alice', reason: 'x' });
    bare.incident.finishPhase('eradicate');
    expect(bare.incident.compensation('false_positive')).toEqual([]);
    bare.incident.close();
    seenStages.add('awaiting_advance->closed');
  });

  it('a critical step that failed before the stop arrived ends a false positive as failed', () => {
    const h = harness();
    startPhase(h.incident, 'detect');
    h.send('declareFalsePositive', { by: 'alice', reason: 'x' });
    expect(endPhase(h.incident, 'detect', [], 'page')).toBe('stop');
    expect(h.incident.state.status).toBe('failed');
    seenStatuses.add('false_positive->failed');
    seenStatuses.add('active->failed');
  });

  it('a false positive before compensation existed cancels the phase and closes as a false positive', () => {
    const h = harness({}, { falsePositiveCompensates: () => false });
    startPhase(h.incident, 'detect');
    h.send('declareFalsePositive', { by: 'alice', reason: 'x' });
    expect(h.calls).toContain('cancel');
    h.incident.phaseEnded('detect');
    expect(h.incident.compensationReason()).toBeUndefined();
    h.incident.close();
    expect(h.incident.state.status).toBe('false_positive');
    seenStatuses.add('active->closed');
    seenStatuses.add('resolved->closed');
  });

  it('refuses every move the tables do not allow', () => {
    const h = harness();
    expect(() => h.incident.phaseChildStarted()).toThrow('no transition from opened to phase_running');
    expect(() => h.incident.close()).toThrow('no transition from opened to closed');
    h.incident.startPhase('detect');
    expect(() => h.incident.startPhase('contain')).toThrow('no transition from phase_starting to phase_starting');
  });

  it('took every edge of both tables', () => {
    const allStages = Object.entries(STAGE_TRANSITIONS).flatMap(([from, to]) => to.map((t) => `${from}->${t}`));
    const allStatuses = Object.entries(STATUS_TRANSITIONS).flatMap(([from, to]) => to.map((t) => `${from}->${t}`));
    expect([...seenStages].sort()).toEqual(allStages.sort());
    expect([...seenStatuses].sort()).toEqual(allStatuses.sort());
  });
});

describe('escalation facts and the running phase', () => {
  it('sends the running phase fresh facts when a firing alert adds a label, once', () => {
    const yaml = `
contain:
  steps:
    - id: block
      action: notify.send
      when: { labels: { source_ip: present } }
      with: { message: 'block \${alert.labels.source_ip}' }
`;
    const h = harness({}, {}, yaml);
    runPhase(h.incident, 'detect');
    startPhase(h.incident, 'contain');
    h.calls.length = 0;
    const alert = { source: 'waf', status: 'firing' as const, summary: '', labels: { source_ip: '203.0.113.7' } };
    h.incident.onAlert(alert);
    h.incident.onAlert({ ...alert, labels: { source_ip: '198.51.100.1' } });
    expect(h.calls).toEqual(['facts:contain']);
    expect(h.incident.state.alertLabels).toEqual({ source_ip: '203.0.113.7' });
    expect(h.incident.facts().labels).toEqual({ source_ip: '203.0.113.7' });
  });

  it('escalates when an escalate-on-timeout wait runs out, up to executive attention', () => {
    const h = harness();
    runPhase(h.incident, 'detect');
    startPhase(h.incident, 'contain');
    const timedOut = {
      type: 'timed_out' as const,
      phase: 'contain' as const,
      stepId: 'block',
      kind: 'approval' as const,
      onTimeout: 'escalate' as const,
      stillWaiting: true,
    };
    for (let i = 0; i < 4; i++) h.incident.onStepEvent(timedOut);
    // 0 -> 1 -> 2, then executive attention (the policy's level 3); the fourth timeout has nothing more to ask.
    expect(h.incident.state.escalation.level).toBe(3);
    expect(h.incident.state.executiveAttentionRequested).toBe(true);
    const manual = h.incident.timeline.filter((e) => e.type === 'escalated' && e.trigger === 'manual');
    expect(manual.map((e) => e.by ?? (e as { reason: string }).reason)).toEqual([
      'escalated by runbook: approval of step "block" timed out waiting for a decision',
      'escalated by runbook: approval of step "block" timed out waiting for a decision',
    ]);
  });
});
