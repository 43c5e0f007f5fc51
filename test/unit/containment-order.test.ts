// Containment from the first alert, as pure code: the loader's `after:` checks (file:line:column, unknown and
// impossible ids refused), the order the step runner derives (people's tasks hold no automated step unless named),
// the P0/P1 plan that moves people's detect checks beside containment, and the triage fallback of runbook matching.
import { describe, expect, it } from 'vitest';
import { selectRunbook } from '../../src/runbooks/match';
import { compileRunbook, loadRunbooks } from '../../src/runbooks/load';
import { DETECT_CHECKS_GROUP, planForOpening, planForSeverity } from '../../domain/runbook';
import { EVENT_TYPES, type EventType } from '../../domain/incident';
import { stepDependencies, waitsForPerson } from '../../workflows/steps';
import { refusalOf } from '../helpers/refusal';

const FILE = 'runbooks/order.yaml';

/** detect: a page and two checks; contain: a check, then a block and a report that waits for the check. */
const RUNBOOK = `id: order
version: 1
title: Order
category: security
eventTypes: [dos]
phases:
  detect:
    steps:
      - id: page
        action: notify.send
        with: { message: opened }
      - id: confirm
        action: task
        with: { instructions: confirm it }
      - id: classify
        action: task
        with: { instructions: classify it }
  contain:
    steps:
      - id: identify
        action: task
        with: { instructions: find the sources }
      - id: block
        action: network.blockSource
        with: { targets: 198.51.100.0/24 }
      - id: report
        action: notify.send
        after:
          steps: [identify]
          reason: it reports what people found
        with: { message: contained }
  eradicate: { advance: manual }
  recover: {}
  post-incident: { advance: manual }
`;

const errorOf = (text: string): string => refusalOf(() => compileRunbook(text, FILE), 'the runbook');

describe('after: in the runbook schema', () => {
  it('compiles the ids into the plan', () => {
    const plan = compileRunbook(RUNBOOK, FILE);
    expect(plan.phases.contain.steps.find((s) => s.id === 'report')?.after).toEqual(['identify']);
  });

  it('refuses unknown, later, same-group and other-phase ids with file:line:column', () => {
    expect(errorOf(RUNBOOK.replace('steps: [identify]', 'steps: [identfy]'))).toMatch(
      /^runbooks\/order\.yaml:29:19: phases\.contain\.steps\[2\]\.after\.steps\[0\]: no step "identfy" in this runbook; expected one of: page, confirm, classify, identify, block, report/,
    );
    expect(errorOf(RUNBOOK.replace('steps: [identify]', 'steps: [report]'))).toMatch(
      /phases\.contain\.steps\[2\]\.after\.steps\[0\]: step "report" cannot wait for itself/,
    );
    const later = RUNBOOK.replace(
      '        with: { targets: 198.51.100.0/24 }',
      '        after: { steps: [report], reason: wrong way round }\n        with: { targets: 198.51.100.0/24 }',
    );
    expect(errorOf(later)).toMatch(
      /:25:26: phases\.contain\.steps\[1\]\.after\.steps\[0\]: step "report" comes later in phase contain/,
    );
    expect(errorOf(RUNBOOK.replace('steps: [identify]', 'steps: [page]'))).toMatch(
      /step "page" is an automated detect step; it is always done before containment starts/,
    );
    const fromRecover = RUNBOOK.replace(
      '  recover: {}',
      '  recover:\n    steps:\n      - id: tell\n        action: notify.send\n        after: { steps: [identify], reason: x }\n        with: { message: m }',
    );
    expect(errorOf(fromRecover)).toMatch(/step "identify" is in phase contain; only a contain step may wait/);
    expect(errorOf(RUNBOOK.replace('          reason: it reports what people found\n', ''))).toMatch(
      /after\.reason: expected reason: why this step must wait for them/,
    );
  });
});

describe('the order the step runner keeps', () => {
  it('holds automated steps only behind automated steps and what `after` names; tasks behind everything', () => {
    const plan = compileRunbook(RUNBOOK, FILE);
    expect(Object.fromEntries(stepDependencies(plan.phases.contain.steps))).toEqual({
      identify: [],
      block: [],
      report: ['block', 'identify'],
    });
    expect(Object.fromEntries(stepDependencies(plan.phases.detect.steps))).toEqual({
      page: [],
      confirm: ['page'],
      classify: ['page', 'confirm'],
    });
  });
});

describe('planForSeverity', () => {
  const plan = compileRunbook(RUNBOOK, FILE);

  it('moves a P0 or P1’s detect checks to the head of containment, ids unchanged', () => {
    for (const severity of ['P0', 'P1'] as const) {
      const moved = planForSeverity(plan, severity);
      expect(moved.phases.detect.steps.map((s) => s.id)).toEqual(['page']);
      expect(moved.phases.contain.steps.map((s) => [s.id, s.group])).toEqual([
        ['confirm', DETECT_CHECKS_GROUP],
        ['classify', DETECT_CHECKS_GROUP],
        ['identify', undefined],
        ['block', undefined],
        ['report', undefined],
      ]);
      // The checks hold no automated containment step.
      expect(stepDependencies(moved.phases.contain.steps).get('block')).toEqual([]);
    }
  });

  it('leaves P2 and P3 as they are, and keeps in detect a check containment names in after:', () => {
    expect(planForSeverity(plan, 'P2')).toBe(plan);
    expect(planForSeverity(plan, 'P3')).toBe(plan);
    const held = compileRunbook(RUNBOOK.replace('steps: [identify]', 'steps: [identify, confirm]'), FILE);
    const moved = planForSeverity(held, 'P0');
    expect(moved.phases.detect.steps.map((s) => s.id)).toEqual(['page', 'confirm']);
    expect(moved.phases.contain.steps[0]).toMatchObject({ id: 'classify', group: DETECT_CHECKS_GROUP });
  });
});

describe('the shipped runbooks', () => {
  const shipped = loadRunbooks();

  it('state a reason for every automated step a person’s task or approval still holds', () => {
    for (const plan of shipped.values()) {
      for (const phase of Object.values(plan.phases)) {
        const deps = stepDependencies(phase.steps);
        for (const step of phase.steps) {
          if (step.action === 'task') continue;
          const tasks = (deps.get(step.id) ?? []).filter((id) => {
            const held = phase.steps.find((s) => s.id === id);
            return held !== undefined && waitsForPerson(held);
          });
          // Only `after:` (which requires a reason) makes an automated step wait for a person.
          expect(
            tasks.every((id) => step.after?.includes(id)),
            `${plan.id}/${step.id}`,
          ).toBe(true);
        }
      }
    }
  });

  it('send alerts no match rule selects to the triage runbook', () => {
    const choice = selectRunbook(shipped, {
      format: 'alertmanager',
      source: 'alertmanager',
      labels: { alertname: 'X' },
    });
    expect(choice).toMatchObject({ plan: { id: 'triage' }, reason: expect.stringMatching(/^triage runbook/) });
  });

  it('send an alert that names its event type to the runbook written for it, the most specific first', () => {
    const facts = { format: 'generic' as const, source: 'siem', labels: {} };
    const chosen = (eventType: EventType) => selectRunbook(shipped, facts, undefined, eventType);
    expect(chosen('data_breach')).toMatchObject({
      plan: { id: 'data-breach' },
      reason: 'the runbook for event type data_breach',
    });
    expect(chosen('unauthorized_access').plan.id).toBe('unauthorized-access');
    expect(chosen('policy_violation').plan.id).toBe('security-incident');
    // Every event type but `other` has a shipped runbook of its own; `other` says nothing, so triage takes it.
    for (const eventType of EVENT_TYPES.filter((t) => t !== 'other'))
      expect(chosen(eventType).plan.id).not.toBe('triage');
    expect(chosen('other').plan.id).toBe('triage');
  });

  it('pins by the severity an opening classifies to: the opener’s, the event type’s, the labels’', () => {
    const plan = compileRunbook(RUNBOOK, FILE);
    const movedIds = ['confirm', 'classify', 'identify', 'block', 'report'];
    const containIds = (p: typeof plan) => p.phases.contain.steps.map((s) => s.id);
    expect(planForOpening(plan, { eventType: 'dos' })).toBe(plan);
    expect(containIds(planForOpening(plan, { eventType: 'dos', severity: 'P1' }))).toEqual(movedIds);
    expect(containIds(planForOpening(plan, { eventType: 'dos', labels: { impact: 'unavailable' } }))).toEqual(movedIds);
    expect(containIds(planForOpening(plan, { eventType: 'data_breach' }))).toEqual(movedIds);
    // Applied twice (the intake's open goes through the client), the plan is the same.
    const once = planForOpening(plan, { severity: 'P0' });
    expect(planForOpening(once, { severity: 'P0' })).toBe(once);
  });
});
