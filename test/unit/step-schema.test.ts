// The runbook's step grammar (parallel groups, when, retry, approval, compensate, task) and the `when` evaluator:
// what the loader accepts, what it refuses and with which words, and how conditions decide. No server.
import { describe, expect, it } from 'vitest';
import { type Condition, type StepFacts, evaluateCondition } from '../../domain/condition';
import { PhaseSpec, compileSteps, planEntries } from '../../domain/runbook';

function issues(steps: unknown[]): string[] {
  const parsed = PhaseSpec.safeParse({ steps });
  return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

const notify = { action: 'notify.send', with: { message: 'hi' } };

describe('step grammar', () => {
  it('compiles steps, parallel groups and their options into the plan', () => {
    const phase = PhaseSpec.parse({
      steps: [
        { id: 'one', ...notify, retry: { maxAttempts: 3, initialInterval: '2s' }, timeout: '30s', critical: true },
        {
          parallel: [
            { id: 'two', ...notify },
            { id: 'three', ...notify, compensate: false },
          ],
        },
        { id: 'named', parallel: [{ id: 'four', ...notify, when: { severity: { atLeast: 'High' } } }] },
        { id: 'gate', ...notify, approval: { roles: ['incident-commander'], timeout: '30m' } },
      ],
    });
    const plan = compileSteps(phase.steps);
    expect(plan.map((s) => [s.id, s.group])).toEqual([
      ['one', undefined],
      ['two', 'parallel-2'],
      ['three', 'parallel-2'],
      ['four', 'named'],
      ['gate', undefined],
    ]);
    expect(plan[0]).toMatchObject({
      timeoutMs: 30_000,
      critical: true,
      retry: { maximumAttempts: 3, initialIntervalMs: 2_000, backoffCoefficient: 2, maximumIntervalMs: 60_000 },
    });
    expect(plan[2]).toMatchObject({ compensate: false });
    expect(plan[3]?.when).toEqual({ severity: { atLeast: 'P1' } });
    expect(plan[4]?.approval).toEqual({ roles: ['incident-commander'], timeoutMs: 1_800_000, onTimeout: 'escalate' });
    expect(planEntries(plan).map((e) => e.steps.map((s) => s.id))).toEqual([
      ['one'],
      ['two', 'three'],
      ['four'],
      ['gate'],
    ]);
  });

  it('refuses what cannot work, naming the field', () => {
    expect(issues([{ id: 'gate', ...notify, approval: { roles: [] } }])).toEqual([
      'steps.0.approval.roles: an approval with no approver role can never be granted; expected at least one role, like [incident-commander]',
    ]);
    expect(issues([{ id: 'gate', ...notify, approval: { roles: ['lead'], onTimeout: 'skip' } }])).toEqual([
      'steps.0.approval.onTimeout: onTimeout needs a timeout: add timeout (like "30m") or remove onTimeout',
    ]);
    expect(issues([{ id: 'x', ...notify, compensate: true }])).toEqual([
      'steps.0.compensate: expected compensate: false (leave it out to undo the step when needed)',
    ]);
    expect(issues([{ id: 'x', ...notify, when: { severity: ['P5'] } }])[0]).toMatch(/^steps\.0\.when\.severity/);
    expect(issues([{ id: 'x', ...notify, when: {} }])).toEqual([
      expect.stringMatching(/^steps\.0\.when: expected at least one test: severity, eventType/),
    ]);
    expect(issues([{ id: 'x', action: 'notify.send' }])).toEqual([
      'steps.0.with.message: Invalid input: expected string, received undefined',
    ]);
    expect(issues([{ action: 'notify.send', with: { message: 'no id' } }])).toEqual([
      'steps.0.id: required field is missing: expected a step id, like "notify-oncall"',
    ]);
    expect(issues([{ parallel: [{ id: 'a' }] }])).toEqual([
      'steps.0.parallel.0.action: expected an action name, like notify.send',
    ]);
    expect(issues([{ parallel: [{ id: 'a', ...notify }], when: { drill: true } }])).toEqual([
      'steps.0.when: a parallel group has only `parallel` (its steps) and an optional `id`; put step fields on its steps',
    ]);
    expect(issues([{ id: 't', action: 'task', with: { instructions: 'call legal' }, timeout: '1h' }])).toEqual([
      'steps.0.timeout: a task step waits for a person and runs no activity; put its timeout under with (with.timeout, with.onTimeout)',
    ]);
    expect(issues([{ id: 't', action: 'task', with: { instructions: 'call legal', onTimeout: 'fail' } }])).toEqual([
      'steps.0.with.onTimeout: onTimeout needs a timeout: add timeout (like "4h") or remove onTimeout',
    ]);
  });
});

describe('when conditions', () => {
  const facts: StepFacts = {
    severity: 'P1',
    eventType: 'data_breach',
    category: 'security',
    dataBreachConfirmed: false,
    executiveAttentionRequested: false,
    affectedSystems: 3,
    escalationLevel: 1,
    drill: false,
  };
  const cases: [Condition, boolean, string?][] = [
    [{ severity: ['P0', 'P1'] }, true],
    [{ severity: 'P0' }, false, 'severity is P1, expected P0'],
    [{ severity: { atLeast: 'P1' } }, true],
    [{ severity: { atLeast: 'P0' } }, false, 'severity is P1, expected P0'],
    [{ eventType: 'data_breach' }, true],
    [{ dataBreachConfirmed: true }, false, 'dataBreachConfirmed is false, expected true'],
    [{ affectedSystems: { atLeast: 2 } }, true],
    [{ affectedSystems: { atMost: 2 } }, false, 'affectedSystems is 3, expected at most 2'],
    [{ severity: ['P0', 'P1'], dataBreachConfirmed: true }, false, 'dataBreachConfirmed is false, expected true'],
    [{ any: [{ severity: 'P0' }, { affectedSystems: { atLeast: 2 } }] }, true],
    [{ all: [{ severity: 'P1' }, { drill: true }] }, false, 'drill is false, expected true'],
    [{ not: { category: ['privacy', 'operational'] } }, true],
    [{ not: { eventType: 'data_breach' } }, false, 'not expected: eventType is data_breach'],
  ];
  it.each(cases)('%j -> %s', (condition, ok, reason) => {
    const result = evaluateCondition(condition, facts);
    expect(result.ok).toBe(ok);
    if (reason) expect(result.reason).toBe(reason);
  });
});
