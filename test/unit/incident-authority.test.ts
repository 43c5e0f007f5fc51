// Who may send what, enforced by the incident's validators on the sender each update carries (its API role and the
// runbook roles its key is bound to), on the Incident alone: commander only on a P0 and for a destructive step
// (decided from the pinned plan), the update table's roles, runbook roles bound to keys, and the break-glass path
// (no API role: sent straight to Temporal) recorded on the timeline.
import type { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { UPDATES } from '../../domain/updates';
import { ID, type Harness, harness, runPhase, startPhase } from '../helpers/incident-harness';

const PLAN = `
contain:
  steps:
    - id: block
      action: network.blockSource
      approval: { roles: [incident-commander, security-lead] }
      with: { targets: ['203.0.113.7'] }
    - id: page
      action: notify.send
      approval: { roles: [incident-commander, security-lead] }
      with: { message: 'paged' }
`;

/** The failure type of a refusal: UpdateForbidden (403) or UpdateRefused (409). */
function refusalType(h: Harness, run: () => unknown): string {
  try {
    run();
  } catch (error) {
    return `${(error as ApplicationFailure).type}: ${(error as Error).message}`;
  }
  throw new Error('expected a refusal; it was accepted');
}

function p0AfterContainment(): Harness {
  const h = harness({ severity: 'P0' });
  runPhase(h.incident, 'detect');
  runPhase(h.incident, 'contain');
  startPhase(h.incident, 'eradicate');
  return h;
}

describe('commander only on a P0', () => {
  it('an operator may not lower, resolve or declare a false positive on a P0; a commander may', () => {
    const h = p0AfterContainment();
    const operator = { by: 'olga', apiRole: 'operator' } as const;
    expect(refusalType(h, () => h.send('setSeverity', { ...operator, severity: 'P1' }))).toBe(
      `UpdateForbidden: olga has API role operator, which may not lower ${ID} from P0; that needs a commander key`,
    );
    expect(refusalType(h, () => h.send('resolve', operator))).toBe(
      `UpdateForbidden: olga has API role operator, which may not resolve ${ID}, a P0 incident; that needs a commander key`,
    );
    expect(refusalType(h, () => h.send('declareFalsePositive', { ...operator, reason: 'x' }))).toBe(
      `UpdateForbidden: olga has API role operator, which may not declare ${ID}, a P0 incident, a false positive; that needs a commander key`,
    );
    expect(h.incident.state.status).toBe('active');
    h.send('resolve', { by: 'cora', apiRole: 'commander' });
    expect(h.incident.state.status).toBe('resolved');
    expect(h.incident.timeline.at(-1)).toMatchObject({ type: 'resolved', by: 'cora', apiRole: 'commander' });
  });

  it('an operator may raise to P0 and steer a P1', () => {
    const h = harness({ severity: 'P1' });
    h.send('setSeverity', { by: 'olga', apiRole: 'operator', severity: 'P0' });
    expect(h.incident.state.severity).toBe('P0');
  });
});

describe('the update table and runbook roles', () => {
  it('refuses an API role the table does not list for the update, naming the roles it needs', () => {
    const h = harness();
    expect(UPDATES.acknowledge.roles).not.toContain('viewer');
    expect(refusalType(h, () => h.send('acknowledge', { by: 'vic', apiRole: 'viewer' }))).toBe(
      'UpdateForbidden: acknowledge needs an API role of operator or commander; vic has viewer',
    );
  });

  it('approving a destructive step needs a commander, decided from the pinned plan', () => {
    const h = harness({}, {}, PLAN);
    runPhase(h.incident, 'detect');
    startPhase(h.incident, 'contain');
    for (const [stepId, action] of [
      ['block', 'network.blockSource'],
      ['page', 'notify.send'],
    ] as const) {
      h.incident.onStepEvent({
        type: 'waiting',
        phase: 'contain',
        stepId,
        action,
        kind: 'approval',
        roles: ['incident-commander', 'security-lead'],
      });
    }
    const operator = { by: 'olga', apiRole: 'operator', role: 'security-lead' } as const;
    expect(refusalType(h, () => h.send('approveStep', { ...operator, stepId: 'block' }))).toBe(
      `UpdateForbidden: olga has API role operator, which may not approve step "block" of ${ID}, whose action network.blockSource is destructive; that needs a commander key`,
    );
    expect(h.send('approveStep', { ...operator, stepId: 'page' })).toMatchObject({
      kind: 'decide',
      decision: { stepId: 'page', apiRole: 'operator' },
    });
    expect(
      h.send('approveStep', { by: 'cora', apiRole: 'commander', role: 'incident-commander', stepId: 'block' }),
    ).toMatchObject({ kind: 'decide' });
  });

  it('a key bound to runbook roles may act only in them, and is told the roles it has', () => {
    const h = harness({}, {}, PLAN);
    runPhase(h.incident, 'detect');
    startPhase(h.incident, 'contain');
    h.incident.onStepEvent({
      type: 'waiting',
      phase: 'contain',
      stepId: 'page',
      action: 'notify.send',
      kind: 'approval',
      roles: ['incident-commander', 'security-lead'],
    });
    const bound = { by: 'sam', apiRole: 'operator' as const, runbookRoles: ['security-lead'], stepId: 'page' };
    expect(refusalType(h, () => h.send('approveStep', { ...bound, role: 'incident-commander' }))).toBe(
      'UpdateForbidden: sam may not act as "incident-commander"; the runbook roles of its key are: security-lead',
    );
    expect(
      refusalType(h, () => h.send('rejectStep', { ...bound, runbookRoles: [], role: 'security-lead', reason: 'no' })),
    ).toBe('UpdateForbidden: sam may not act as "security-lead"; the runbook roles of its key are: none');
    expect(h.send('approveStep', { ...bound, role: 'security-lead' })).toMatchObject({ kind: 'decide' });
  });
});

describe('break-glass: an update without an API role', () => {
  it('is accepted under the incident rules and recorded as break-glass; a decision carries it to the timeline', () => {
    const h = p0AfterContainment();
    h.send('resolve', { by: 'root' });
    expect(h.incident.timeline.at(-1)).toMatchObject({ type: 'resolved', by: 'root', breakGlass: true });

    const d = harness({}, {}, PLAN);
    runPhase(d.incident, 'detect');
    startPhase(d.incident, 'contain');
    d.incident.onStepEvent({
      type: 'waiting',
      phase: 'contain',
      stepId: 'block',
      action: 'network.blockSource',
      kind: 'approval',
      roles: ['incident-commander'],
    });
    const effect = d.send('approveStep', { by: 'root', role: 'incident-commander', stepId: 'block' });
    if (effect.kind !== 'decide') throw new Error(`expected a decision, got ${effect.kind}`);
    d.incident.beginDecision(effect.decision);
    d.incident.onStepEvent({ type: 'decided', phase: 'contain', decision: effect.decision });
    expect(d.incident.timeline.at(-1)).toMatchObject({ type: 'approval_granted', by: 'root', breakGlass: true });
  });

  it('is not marked on incidents from before the sender was recorded (no sender-recorded patch)', () => {
    const h = harness({}, { senderRecorded: () => false });
    h.send('acknowledge', { by: 'root' });
    expect(h.incident.timeline.at(-1)).not.toHaveProperty('breakGlass');
  });
});
