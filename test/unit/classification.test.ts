// Severity from both procedure documents: the Fiovana assessment beside the FailSafe-Qore P0-P3 criteria, the more
// severe winning, and the two-argument classify the recorded incidents computed left exactly as it was.
import { describe, expect, it } from 'vitest';
import { classifyAlert, fiovanaSeverity } from '../../domain/classification';
import { EVENT_TYPES, assessSeverity, classifiedApart, classify } from '../../domain/incident';

describe('classifyAlert', () => {
  it('opens a DoS the alert says made the system unavailable as P0, significant degradation as P1', () => {
    expect(classifyAlert({ eventType: 'dos', labels: {} })).toMatchObject({ severity: 'P3', basis: 'fiovana' });
    expect(classifyAlert({ eventType: 'dos', labels: { impact: 'unavailable' } })).toMatchObject({
      severity: 'P0',
      basis: 'failsafe-qore',
    });
    expect(classifyAlert({ eventType: 'dos', labels: { impact: 'Significant degradation' } }).severity).toBe('P1');
    expect(classifyAlert({ eventType: 'dos', labels: { impact: 'partial-degradation' } }).severity).toBe('P2');
  });

  it('takes the FailSafe-Qore exploitation, data and production-access criteria', () => {
    expect(classifyAlert({ eventType: 'xss', labels: { exploitation: 'in progress' } }).severity).toBe('P0');
    expect(classifyAlert({ eventType: 'xss', labels: { exploitation: 'exploited' } }).severity).toBe('P1');
    expect(classifyAlert({ eventType: 'xss', labels: { exploitation: 'identified' } }).severity).toBe('P2');
    expect(classifyAlert({ eventType: 'other', labels: { data: 'exposure_suspected' } }).severity).toBe('P1');
    expect(classifyAlert({ eventType: 'data_exposure' }).severity).toBe('P1');
    expect(classifyAlert({ eventType: 'unauthorized_access', labels: {} }).severity).toBe('P1');
    expect(classifyAlert({ eventType: 'unauthorized_access', labels: { environment: 'production' } })).toMatchObject({
      severity: 'P0',
      basis: 'failsafe-qore',
    });
  });

  it('picks the more severe of the documents and the sender, naming every criterion that held', () => {
    const result = classifyAlert({ eventType: 'data_breach', labels: { impact: 'degraded' }, given: 'P2' });
    expect(result).toMatchObject({ severity: 'P0', basis: 'fiovana' });
    expect(result.reasons.map((r) => r.severity)).toEqual(['P0', 'P2', 'P2']);
    expect(classifyAlert({ eventType: 'dos', labels: {}, given: 'P1' })).toMatchObject({
      severity: 'P1',
      basis: 'sender',
    });
    expect(classifyAlert({ eventType: 'system_compromise' }).severity).toBe('P0');
    expect(fiovanaSeverity('policy_violation').severity).toBe('P2');
  });
});

describe('classify', () => {
  it('without labels computes what it always did (recorded incidents replay unchanged)', () => {
    for (const eventType of EVENT_TYPES) {
      expect(classify(eventType, undefined)).toEqual({ severity: assessSeverity(eventType), basis: 'assessment' });
      expect(classify(eventType, 'P2')).toEqual({ severity: 'P2', basis: 'opener' });
    }
  });

  it('with labels takes both documents', () => {
    expect(classify('dos', undefined, { impact: 'unavailable' })).toEqual({ severity: 'P0', basis: 'assessment' });
    expect(classify('dos', 'P1', {})).toEqual({ severity: 'P1', basis: 'opener' });
  });
});

describe('classifiedApart', () => {
  it('names the event types whose severity without labels differs by both documents, and only without a severity', () => {
    const apart = EVENT_TYPES.filter((eventType) => classifiedApart(eventType, undefined));
    expect(apart.sort()).toEqual(['data_exposure', 'performance_degradation', 'system_compromise']);
    expect(EVENT_TYPES.filter((eventType) => classifiedApart(eventType, 'P3'))).toEqual([]);
  });
});
