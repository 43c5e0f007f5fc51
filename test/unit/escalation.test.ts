// Unit tests for the pure escalation policy (workflows/escalation.ts): due times to the millisecond, the level chain,
// acknowledgement, severity changes, status gating, once-only keys, overrides, determinism and immutability.
import { describe, it, expect } from 'vitest';
import {
  type EscalationFacts,
  type FiredEscalation,
  nextEscalationDeadline,
  runEscalations,
} from '../../domain/escalation';
import {
  DEFAULT_ESCALATION_POLICY,
  EscalationPolicyOverride,
  resolveEscalationPolicy,
  type EscalationPolicy,
} from '../../domain/escalation-policy';
import { PHASES, type EscalationLevel, type EscalationTrigger, type Phase } from '../../domain/incident';
import { SEVERITIES } from '../../domain/severity';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 1, 13, 9, 0, 0);
const policy = DEFAULT_ESCALATION_POLICY;

/** An active P1 incident opened at T0, at level 0, with nothing acknowledged, recorded or fired. */
function facts(overrides: Partial<EscalationFacts> = {}): EscalationFacts {
  return {
    severity: 'P1',
    status: 'active',
    phase: 'eradicate',
    openedAt: T0,
    acknowledgedAt: undefined,
    rootCause: undefined,
    dataBreachConfirmed: false,
    executiveAttentionRequested: false,
    affectedSystems: [],
    escalation: { level: 0, levelSince: T0, levelAcknowledged: false, fired: [] },
    ...overrides,
  };
}

/** Facts where only the trigger under test can fire: acknowledged, root cause known, a long phase window. */
function quiet(overrides: Partial<EscalationFacts> = {}): EscalationFacts {
  return facts({ acknowledgedAt: T0, rootCause: { summary: 'bad deploy', by: 'alice', at: T0 }, ...overrides });
}

/** Runs at `now` and returns the facts the workflow would hold afterwards, plus what fired. */
function step(f: EscalationFacts, now: number, p: EscalationPolicy = policy) {
  const run = runEscalations(f, p, now);
  return { ...run, facts: { ...f, escalation: run.escalation } };
}

/** Drives the policy the way the workflow does: wake at each next deadline until `until`, collecting what fired. */
function simulate(f: EscalationFacts, until: number, p: EscalationPolicy = policy, start = f.openedAt) {
  const fired: (FiredEscalation & { at: number })[] = [];
  let current = f;
  let now: number | undefined = start;
  while (now !== undefined && now <= until) {
    const at: number = now;
    const run = step(current, at, p);
    fired.push(...run.fired.map((e) => ({ ...e, at })));
    current = run.facts;
    expect(run.nextDeadline === undefined || run.nextDeadline > at).toBe(true);
    now = run.nextDeadline;
  }
  return { fired, facts: current };
}

const keys = (fired: FiredEscalation[]) => fired.map((e) => e.key);

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

describe('time triggers fire at their due millisecond and not 1 ms before', () => {
  it.each(SEVERITIES.filter((s) => s !== 'P0'))('unacknowledged %s at its response time', (severity) => {
    const responseMs = policy.responseTimeMs[severity];
    const f = facts({
      severity,
      acknowledgedAt: undefined,
      rootCause: { summary: 'x', by: 'a', at: T0 },
      phase: 'post-incident',
    });
    expect(runEscalations(f, policy, T0 + responseMs - 1).fired).toEqual([]);
    expect(nextEscalationDeadline(f, policy, T0 + responseMs - 1)).toBe(T0 + responseMs);
    const run = runEscalations(f, policy, T0 + responseMs);
    expect(run.fired[0]).toEqual({
      trigger: 'unacknowledged',
      key: 'unacknowledged',
      dueAt: T0 + responseMs,
      fromLevel: 0,
      toLevel: 1,
      reason: `not acknowledged within ${{ P1: '1h', P2: '4h', P3: '1d' }[severity]} (${severity} response time)`,
      audience: 'L1',
    });
    expect(run.escalation).toMatchObject({ level: 1, levelSince: T0 + responseMs, levelAcknowledged: false });
  });

  it('unacknowledged P0 is due immediately at opening', () => {
    const run = runEscalations(facts({ severity: 'P0' }), policy, T0);
    expect(run.fired[0]).toMatchObject({
      trigger: 'unacknowledged',
      dueAt: T0,
      reason: 'not acknowledged immediately (P0 response time)',
    });
    expect(runEscalations(facts({ severity: 'P0' }), policy, T0 - 1).fired.map((e) => e.trigger)).not.toContain(
      'unacknowledged',
    );
  });

  it('level_unacknowledged at L1 after 1h moves to L2', () => {
    const f = quiet({ escalation: { level: 1, levelSince: T0 + 10 * MINUTE, levelAcknowledged: false, fired: [] } });
    expect(runEscalations(f, policy, T0 + 70 * MINUTE - 1).fired).toEqual([]);
    const run = runEscalations(f, policy, T0 + 70 * MINUTE);
    expect(run.fired).toEqual([
      {
        trigger: 'level_unacknowledged',
        key: 'level_unacknowledged:1',
        dueAt: T0 + 70 * MINUTE,
        fromLevel: 1,
        toLevel: 2,
        reason: 'L1 Incident Response Team did not acknowledge within 1h',
        audience: 'L2',
      },
    ]);
    expect(run.escalation).toEqual({
      level: 2,
      levelSince: T0 + 70 * MINUTE,
      levelAcknowledged: false,
      fired: ['level_unacknowledged:1'],
    });
  });

  it('level_unacknowledged at L2 after 30m moves to L3; L3 has nowhere to go', () => {
    const f = quiet({ escalation: { level: 2, levelSince: T0, levelAcknowledged: false, fired: [] } });
    expect(runEscalations(f, policy, T0 + 30 * MINUTE - 1).fired).toEqual([]);
    const run = runEscalations(f, policy, T0 + 30 * MINUTE);
    expect(run.fired).toHaveLength(1);
    expect(run.fired[0]).toMatchObject({
      key: 'level_unacknowledged:2',
      toLevel: 3,
      audience: 'L3',
      reason: 'L2 Management did not acknowledge within 30m',
    });
    const atTop = quiet({ escalation: { level: 3, levelSince: T0, levelAcknowledged: false, fired: [] } });
    expect(runEscalations(atTop, policy, T0 + 20 * HOUR).fired).toEqual([]);
    // Only the SLA and the phase window remain (both at 24h for P1 in eradicate); nothing for level 3.
    expect(nextEscalationDeadline(atTop, policy, T0)).toBe(T0 + DAY);
  });

  it('no_root_cause at 2h escalates to L2', () => {
    const f = facts({ acknowledgedAt: T0 });
    expect(runEscalations(f, policy, T0 + 2 * HOUR - 1).fired).toEqual([]);
    expect(nextEscalationDeadline(f, policy, T0 + 2 * HOUR - 1)).toBe(T0 + 2 * HOUR);
    const run = runEscalations(f, policy, T0 + 2 * HOUR);
    expect(run.fired).toEqual([
      {
        trigger: 'no_root_cause',
        key: 'no_root_cause',
        dueAt: T0 + 2 * HOUR,
        fromLevel: 0,
        toLevel: 2,
        reason: 'root cause not identified within 2h',
        audience: 'L2',
      },
    ]);
  });

  it('sla_breached at the severity SLA escalates to L2', () => {
    const f = quiet({ severity: 'P2', phase: 'post-incident' });
    expect(runEscalations(f, policy, T0 + 3 * DAY - 1).fired).toEqual([]);
    const run = runEscalations(f, policy, T0 + 3 * DAY);
    expect(run.fired).toEqual([
      {
        trigger: 'sla_breached',
        key: 'sla_breached',
        dueAt: T0 + 3 * DAY,
        fromLevel: 0,
        toLevel: 2,
        reason: 'not resolved within 3d (P2 resolution SLA)',
        audience: 'L2',
      },
    ]);
  });

  it.each(PHASES)('phase_overdue for the current phase %s at the end of its window', (phase: Phase) => {
    const toMs = policy.phaseWindows[phase].toMs;
    // Resolved, so phase_overdue is the only trigger that can fire.
    const f = facts({ phase, status: 'resolved' });
    expect(runEscalations(f, policy, T0 + toMs - 1).fired).toEqual([]);
    expect(nextEscalationDeadline(f, policy, T0 + toMs - 1)).toBe(T0 + toMs);
    const run = runEscalations(f, policy, T0 + toMs);
    expect(run.fired).toEqual([
      expect.objectContaining({
        trigger: 'phase_overdue',
        key: `phase_overdue:${phase}`,
        dueAt: T0 + toMs,
        toLevel: 1,
        audience: 'L1',
      }),
    ]);
    expect(nextEscalationDeadline(f, policy, T0 + toMs)).toBeUndefined();
  });

  it('phase_overdue names the phase and its window', () => {
    const run = runEscalations(quiet({ phase: 'contain' }), policy, T0 + HOUR);
    expect(run.fired.map((e) => e.reason)).toEqual([
      'contain phase not finished within 1h of opening (phase window 15m to 1h)',
    ]);
  });

  it('phase_overdue considers only the current phase', () => {
    // In eradicate at 2h: detect (15m) and contain (1h) windows are past, but they are not the current phase.
    const run = runEscalations(quiet({ phase: 'eradicate' }), policy, T0 + 2 * HOUR);
    expect(run.fired).toEqual([]);
    // Moving back to a phase whose window is past makes it overdue at once, keyed by that phase.
    expect(keys(runEscalations(quiet({ phase: 'contain' }), policy, T0 + 2 * HOUR).fired)).toEqual([
      'phase_overdue:contain',
    ]);
  });
});

describe('event triggers fire the moment their condition holds', () => {
  const cases: [EscalationTrigger, Partial<EscalationFacts>, EscalationLevel, string][] = [
    ['severity_p0', { severity: 'P0', acknowledgedAt: T0 }, 3, 'severity is P0 (Critical)'],
    ['data_breach_confirmed', { dataBreachConfirmed: true }, 3, 'data breach confirmed'],
    ['multiple_systems', { affectedSystems: ['api', 'db'] }, 2, '2 systems affected (threshold 2)'],
    ['executive_attention', { executiveAttentionRequested: true }, 3, 'executive attention requested'],
  ];

  it.each(cases)('%s', (trigger, change, toLevel, reason) => {
    const now = T0 + 20 * MINUTE;
    const before = quiet();
    expect(runEscalations(before, policy, now).fired).toEqual([]);
    const run = runEscalations({ ...before, ...change }, policy, now);
    expect(run.fired).toEqual([
      { trigger, key: trigger, dueAt: now, fromLevel: 0, toLevel, reason, audience: `L${toLevel}` },
    ]);
    expect(run.escalation).toEqual({ level: toLevel, levelSince: now, levelAcknowledged: false, fired: [trigger] });
  });

  it('multiple_systems needs the threshold of distinct systems', () => {
    expect(runEscalations(quiet({ affectedSystems: ['api'] }), policy, T0).fired).toEqual([]);
    expect(runEscalations(quiet({ affectedSystems: ['api', 'api'] }), policy, T0).fired).toEqual([]);
    expect(keys(runEscalations(quiet({ affectedSystems: ['api', 'db', 'queue'] }), policy, T0).fired)).toEqual([
      'multiple_systems',
    ]);
  });

  it('event triggers set no future deadline', () => {
    const f = quiet({ phase: 'post-incident', severity: 'P3', dataBreachConfirmed: true });
    const run = runEscalations(f, policy, T0 + HOUR);
    // After firing (to L3, which has no level deadline) only the P3 SLA and the post-incident window remain, both 7d.
    expect(run.nextDeadline).toBe(T0 + 7 * DAY);
  });
});

describe('the level chain', () => {
  it('P1 unacknowledged: L1 at 1h, L2 at 2h, L3 at 2h30m, nothing after', () => {
    const f = facts({ rootCause: { summary: 'x', by: 'a', at: T0 } });
    const { fired, facts: after } = simulate(f, T0 + DAY - 1);
    expect(fired.map((e) => [e.key, e.at - T0, e.fromLevel, e.toLevel, e.audience])).toEqual([
      ['unacknowledged', HOUR, 0, 1, 'L1'],
      ['level_unacknowledged:1', 2 * HOUR, 1, 2, 'L2'],
      ['level_unacknowledged:2', 2.5 * HOUR, 2, 3, 'L3'],
    ]);
    expect(after.escalation).toEqual({
      level: 3,
      levelSince: T0 + 2.5 * HOUR,
      levelAcknowledged: false,
      fired: ['unacknowledged', 'level_unacknowledged:1', 'level_unacknowledged:2'],
    });
    // Scanning minute by minute up to the SLA finds nothing more either.
    let current = after;
    for (let now = T0 + 2.5 * HOUR; now < T0 + DAY; now += MINUTE) {
      const run = step(current, now);
      expect(run.fired).toEqual([]);
      current = run.facts;
    }
    expect(nextEscalationDeadline(after, policy, T0 + 2.5 * HOUR)).toBe(T0 + DAY);
  });

  it('without a root cause, no_root_cause at 2h fires after level_unacknowledged:1, without raising the level again', () => {
    const run = step(step(facts(), T0 + HOUR).facts, T0 + 2 * HOUR);
    expect(run.fired.map((e) => [e.key, e.fromLevel, e.toLevel, e.audience])).toEqual([
      ['level_unacknowledged:1', 1, 2, 'L2'],
      ['no_root_cause', 2, 2, 'L2'],
    ]);
    expect(run.escalation.levelSince).toBe(T0 + 2 * HOUR);
    expect(run.nextDeadline).toBe(T0 + 2.5 * HOUR);
  });

  it('acknowledging before the response time stops the chain', () => {
    const f = facts({ acknowledgedAt: T0 + 30 * MINUTE, rootCause: { summary: 'x', by: 'a', at: T0 } });
    expect(simulate(f, T0 + DAY - 1).fired).toEqual([]);
  });

  it('acknowledging at L1 stops the move to L2', () => {
    const l1 = step(facts({ rootCause: { summary: 'x', by: 'a', at: T0 } }), T0 + HOUR).facts;
    expect(l1.escalation.level).toBe(1);
    const acked: EscalationFacts = {
      ...l1,
      acknowledgedAt: T0 + 70 * MINUTE,
      escalation: { ...l1.escalation, levelAcknowledged: true },
    };
    expect(simulate(acked, T0 + DAY - 1, policy, T0 + 70 * MINUTE).fired).toEqual([]);
    expect(nextEscalationDeadline(acked, policy, T0 + 70 * MINUTE)).toBe(T0 + DAY);
  });

  it('after an acknowledged level, a new trigger re-escalates and restarts the level clock', () => {
    const l1 = step(facts(), T0 + HOUR).facts;
    const acked: EscalationFacts = {
      ...l1,
      acknowledgedAt: T0 + 70 * MINUTE,
      escalation: { ...l1.escalation, levelAcknowledged: true },
    };
    const { fired, facts: after } = simulate(acked, T0 + 3 * HOUR, policy, T0 + 70 * MINUTE);
    expect(fired.map((e) => [e.key, e.at - T0, e.fromLevel, e.toLevel])).toEqual([
      ['no_root_cause', 2 * HOUR, 1, 2],
      ['level_unacknowledged:2', 2.5 * HOUR, 2, 3],
    ]);
    expect(after.escalation.level).toBe(3);
  });
});

describe('severity changes', () => {
  it('raising P2 to P0 makes unacknowledged due at once, fires severity_p0 and recomputes the SLA', () => {
    const now = T0 + 30 * MINUTE;
    const p2 = facts({ severity: 'P2', rootCause: { summary: 'x', by: 'a', at: T0 }, phase: 'post-incident' });
    expect(runEscalations(p2, policy, now).fired).toEqual([]);
    expect(nextEscalationDeadline(p2, policy, now)).toBe(T0 + 4 * HOUR); // P2 response time

    const p0 = { ...p2, severity: 'P0' as const };
    const run = runEscalations(p0, policy, now);
    expect(run.fired.map((e) => [e.trigger, e.dueAt, e.fromLevel, e.toLevel])).toEqual([
      ['unacknowledged', T0, 0, 1],
      ['severity_p0', now, 1, 3],
    ]);
    expect(run.escalation).toMatchObject({ level: 3, levelSince: now });
    // The P0 SLA (4h) replaces the P2 one (3d).
    expect(run.nextDeadline).toBe(T0 + 4 * HOUR);
    const acked = { ...p2, acknowledgedAt: T0 + MINUTE };
    expect(nextEscalationDeadline(acked, policy, now)).toBe(T0 + 3 * DAY);
    expect(nextEscalationDeadline({ ...acked, severity: 'P0' }, policy, now)).toBe(T0 + 4 * HOUR);
  });

  it('lowering severity lengthens the pending deadlines', () => {
    const f = quiet({ severity: 'P1', acknowledgedAt: undefined, phase: 'post-incident' });
    expect(nextEscalationDeadline(f, policy, T0)).toBe(T0 + HOUR);
    expect(nextEscalationDeadline({ ...f, severity: 'P3' }, policy, T0)).toBe(T0 + DAY);
  });
});

describe('status gating', () => {
  const everything = facts({
    severity: 'P0',
    phase: 'recover',
    dataBreachConfirmed: true,
    executiveAttentionRequested: true,
    affectedSystems: ['api', 'db', 'queue'],
  });

  it('active: everything due fires, ordered by due time then trigger order', () => {
    expect(keys(runEscalations(everything, policy, T0 + 30 * DAY).fired)).toEqual([
      'unacknowledged', // due T0
      'no_root_cause', // due 2h
      'sla_breached', // due 4h (P0)
      'phase_overdue:recover', // due 24h
      'severity_p0', // event triggers: due now, in ESCALATION_TRIGGERS order
      'data_breach_confirmed',
      'multiple_systems',
      'executive_attention',
    ]);
  });

  it('resolved: only phase_overdue', () => {
    const resolved = { ...everything, status: 'resolved' as const };
    const run = runEscalations(resolved, policy, T0 + 30 * DAY);
    expect(keys(run.fired)).toEqual(['phase_overdue:recover']);
    expect(run.nextDeadline).toBeUndefined();
    expect(nextEscalationDeadline(resolved, policy, T0)).toBe(T0 + DAY);
    // The post-incident window still runs after resolution.
    expect(nextEscalationDeadline({ ...resolved, phase: 'post-incident' }, policy, T0 + DAY)).toBe(T0 + 7 * DAY);
  });

  it.each(['closed', 'false_positive', 'failed'] as const)('%s: nothing fires and nothing is pending', (status) => {
    const run = runEscalations({ ...everything, status }, policy, T0 + 30 * DAY);
    expect(run.fired).toEqual([]);
    expect(run.nextDeadline).toBeUndefined();
    expect(run.escalation).toEqual(everything.escalation);
  });
});

describe('once-only keys', () => {
  it('running again at the same or a later time fires nothing already fired', () => {
    const first = step(facts({ severity: 'P0', dataBreachConfirmed: true }), T0 + 3 * HOUR);
    expect(first.fired.length).toBeGreaterThan(0);
    expect(step(first.facts, T0 + 3 * HOUR).fired).toEqual([]);
    expect(keys(step(first.facts, T0 + 5 * HOUR).fired)).toEqual(['sla_breached']);
    const all = simulate(facts({ severity: 'P0', dataBreachConfirmed: true }), T0 + 60 * DAY);
    expect(new Set(keys(all.fired)).size).toBe(all.fired.length);
  });

  it('a key already in fired is not fired again, even if its condition still holds', () => {
    const f = quiet({
      executiveAttentionRequested: true,
      escalation: { level: 3, levelSince: T0, levelAcknowledged: true, fired: ['executive_attention'] },
    });
    expect(runEscalations(f, policy, T0 + HOUR).fired).toEqual([]);
  });

  it('an escalation that does not raise the level is still fired and notified to the current level', () => {
    const f = quiet({ escalation: { level: 3, levelSince: T0, levelAcknowledged: true, fired: [] } });
    const run = runEscalations({ ...f, dataBreachConfirmed: true }, policy, T0 + HOUR);
    expect(run.fired).toEqual([
      expect.objectContaining({ key: 'data_breach_confirmed', fromLevel: 3, toLevel: 3, audience: 'L3' }),
    ]);
    expect(run.escalation).toEqual({
      level: 3,
      levelSince: T0,
      levelAcknowledged: true,
      fired: ['data_breach_confirmed'],
    });
  });
});

describe('policy overrides', () => {
  const overridden = resolveEscalationPolicy(
    EscalationPolicyOverride.parse({
      responseTime: { P1: '30m' },
      rootCauseWithin: '1h',
      resolutionSla: { P1: '8h' },
      levels: { 1: { respondWithin: '15m', audience: 'security-oncall', name: 'Security on-call' } },
      phaseWindows: { eradicate: { from: '1h', to: '6h' } },
      multipleSystemsThreshold: 3,
      triggerLevels: { unacknowledged: 2, no_root_cause: 1 },
    }),
  );

  it('change the due times', () => {
    const f = facts({ rootCause: { summary: 'x', by: 'a', at: T0 } });
    const { fired } = simulate(f, T0 + 10 * HOUR, overridden);
    expect(fired.map((e) => [e.key, e.at - T0, e.toLevel])).toEqual([
      ['unacknowledged', 30 * MINUTE, 2], // response time 30m, straight to L2
      ['level_unacknowledged:2', HOUR, 3], // L2 still 30m
      ['phase_overdue:eradicate', 6 * HOUR, 3],
      ['sla_breached', 8 * HOUR, 3],
    ]);
  });

  it('change level response times, names and audiences', () => {
    const f = quiet({ escalation: { level: 1, levelSince: T0, levelAcknowledged: false, fired: [] } });
    expect(runEscalations(f, overridden, T0 + 15 * MINUTE - 1).fired).toEqual([]);
    expect(runEscalations(f, overridden, T0 + 15 * MINUTE).fired[0]).toMatchObject({
      reason: 'L1 Security on-call did not acknowledge within 15m',
      toLevel: 2,
    });
    const noRootCause = runEscalations(facts({ acknowledgedAt: T0 }), overridden, T0 + HOUR);
    expect(noRootCause.fired).toEqual([
      expect.objectContaining({
        key: 'no_root_cause',
        toLevel: 1,
        audience: 'security-oncall',
        reason: 'root cause not identified within 1h',
      }),
    ]);
  });

  it('change the multiple-systems threshold', () => {
    expect(runEscalations(quiet({ affectedSystems: ['a', 'b'] }), overridden, T0).fired).toEqual([]);
    expect(keys(runEscalations(quiet({ affectedSystems: ['a', 'b', 'c'] }), overridden, T0).fired)).toEqual([
      'multiple_systems',
    ]);
  });
});

describe('purity', () => {
  const input = facts({
    severity: 'P0',
    dataBreachConfirmed: true,
    affectedSystems: ['api', 'db'],
    escalation: { level: 0, levelSince: T0, levelAcknowledged: false, fired: ['phase_overdue:detect'] },
  });

  it('is deterministic: the same input gives deep-equal output', () => {
    const a = runEscalations(input, policy, T0 + 5 * HOUR);
    const b = runEscalations(structuredClone(input), structuredClone(policy), T0 + 5 * HOUR);
    expect(a.fired.length).toBeGreaterThan(0);
    expect(b).toEqual(a);
  });

  it('does not mutate its input or the policy', () => {
    const frozen = deepFreeze(structuredClone(input));
    const snapshot = structuredClone(frozen);
    const policySnapshot = structuredClone(policy);
    const run = runEscalations(frozen, policy, T0 + 5 * HOUR);
    expect(frozen).toEqual(snapshot);
    expect(policy).toEqual(policySnapshot);
    expect(run.escalation).not.toBe(frozen.escalation);
    expect(run.escalation.fired).not.toBe(frozen.escalation.fired);
    expect(run.escalation.fired[0]).toBe('phase_overdue:detect');
  });

  it('returns a fresh escalation object even when nothing fires', () => {
    const f = quiet();
    const run = runEscalations(f, policy, T0);
    expect(run.fired).toEqual([]);
    expect(run.escalation).toEqual(f.escalation);
    expect(run.escalation).not.toBe(f.escalation);
    expect(run.escalation.fired).not.toBe(f.escalation.fired);
  });
});
