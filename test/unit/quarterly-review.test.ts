// The quarterly review's threat model update, security audit and training record, from closed incidents and drills.
import { describe, expect, it } from 'vitest';
import { TRAINING_REQUIREMENTS, securityAudit, threatModelUpdate, trainingRecord } from '../../domain/quarterly-review';
import type { DrillHeld, IncidentSummaryRecord } from '../../domain/report';

function record(incidentId: string, over: Partial<IncidentSummaryRecord>): IncidentSummaryRecord {
  return {
    v: 1,
    incidentId,
    title: incidentId,
    runbookId: 'security-incident',
    category: 'security',
    eventType: 'unauthorized_access',
    severity: 'P1',
    initialSeverity: 'P1',
    status: 'closed',
    drill: false,
    openedAt: 0,
    closedAt: 1,
    ackTargetMs: 1,
    resolveTargetMs: 1,
    escalations: [],
    phasesLate: [],
    target: 'security-incident:user=alice',
    rootCause: 'leaked password',
    dataBreachConfirmed: false,
    evidence: 1,
    lessons: [],
    followUpsOpen: [],
    ...over,
  } as IncidentSummaryRecord;
}

const records = [
  record('INC-2026-001', {}),
  record('INC-2026-002', { severity: 'P0', initialSeverity: 'P2', evidence: 0, rootCause: undefined }),
  record('INC-2026-003', {
    eventType: 'data_breach',
    category: 'privacy',
    severity: 'P0',
    initialSeverity: 'P0',
    dataBreachConfirmed: true,
    escalations: [{ trigger: 'severity_p0', toLevel: 3 }],
  }),
  record('INC-2026-004', { eventType: 'xss', status: 'false_positive', evidence: 0, rootCause: undefined }),
];

describe('the quarterly review', () => {
  it('lists the threats the quarter realised by event type, false positives left out', () => {
    expect(threatModelUpdate(records)).toEqual([
      {
        eventType: 'unauthorized_access',
        incidents: 2,
        worstSeverity: 'P0',
        raisedAfterOpening: 1,
        targets: ['security-incident:user=alice'],
        rootCauses: ['leaked password'],
      },
      {
        eventType: 'data_breach',
        incidents: 1,
        worstSeverity: 'P0',
        raisedAfterOpening: 0,
        targets: ['security-incident:user=alice'],
        rootCauses: ['leaked password'],
      },
    ]);
  });

  it('names the incidents each audit check finds, and keeps the checks that found none', () => {
    const audit = Object.fromEntries(
      securityAudit(records, [{ incidentId: 'INC-2026-001' }]).map((c) => [c.check, c.incidents]),
    );
    expect(audit).toEqual({
      'Security or privacy incident closed with no evidence preserved': ['INC-2026-002'],
      'Confirmed data breach: were the notifications the law requires made in time?': ['INC-2026-003'],
      'Closed without a root cause': ['INC-2026-002'],
      'Raised in severity after opening: did detection underrate it?': ['INC-2026-002'],
      'Escalated to executive level (L3)': ['INC-2026-003'],
      'Follow-up action overdue': ['INC-2026-001'],
    });
    expect(securityAudit([], []).every((c) => c.incidents.length === 0)).toBe(true);
  });

  it("carries both documents' training requirements, the drill-backed ones with the quarter's drills", () => {
    const drill = (scenario: string, mode: string) => ({ scenario, mode }) as DrillHeld;
    const lines = trainingRecord([drill('dos', 'tabletop'), drill('dos', 'tabletop'), drill('restore', 'technical')]);
    expect(lines).toHaveLength(TRAINING_REQUIREMENTS.length);
    expect(lines.find((l) => l.requirement === 'Regular tabletop exercises')?.drills).toEqual({
      held: 2,
      scenarios: ['dos'],
    });
    expect(lines.find((l) => l.requirement === 'Technical recovery drills')?.drills).toEqual({
      held: 1,
      scenarios: ['restore'],
    });
    expect(lines.find((l) => l.requirement === 'Phishing awareness')).not.toHaveProperty('drills');
    expect(lines.filter((l) => l.source === 'fiovana').map((l) => l.audience)).toEqual(
      expect.arrayContaining(['All engineers', 'Security team', 'Management']),
    );
  });
});
