// What the CLI prints cannot drive the terminal: escape sequences, other controls and bidi overrides are removed.
import { describe, expect, it } from 'vitest';
import { formatStatus, formatTimeline, terminalSafe } from '../../src/format';
import type { IncidentStatusView } from '../../workflows/definitions';

describe('terminalSafe', () => {
  it('removes escape sequences, carriage returns, C1 controls and bidi overrides; keeps newlines, tabs and text', () => {
    const hostile =
      'Login \u001b[2J\u001b[1;1Hfrom\r admin\u009b31m \u202eevil\u202c \u2066x\u2069 ok\ttab\nnext é 日本';
    const safe = terminalSafe(hostile);
    expect(safe).toBe('Login [2J[1;1Hfrom admin31m evil x ok\ttab\nnext é 日本');
    // eslint-disable-next-line no-control-regex
    expect(safe).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
  });

  it('cleans a timeline line built from alert text', () => {
    const line = formatTimeline([
      { type: 'note', at: '2026-12-03T00:00:00.000Z', by: 'x', text: 'hi \u001b]0;pwned\u0007 there' } as never,
    ]);
    expect(terminalSafe(line)).not.toContain('\u001b');
  });

  it('keeps each field on its line: a title or note with line breaks cannot forge the lines under it', () => {
    const view = {
      incidentId: 'INC-2026-001',
      title: 'Disk full on db-01\n  severity    P3 (Low)\r\n  status      closed',
      severity: 'P0',
      status: 'active',
      drill: false,
      phase: 'contain',
      awaitingAdvance: false,
      category: 'security',
      eventType: 'other',
      runbookId: 'plain',
      runbookVersion: 1,
      runbookHash: 'abcdef0123456789',
      openedAt: 0,
      escalation: { level: 0, levelAcknowledged: false },
      metrics: {},
      affectedSystems: [],
      evidence: [],
    } as unknown as IncidentStatusView;
    const lines = formatStatus(view).split('\n');
    expect(lines[0]).toBe('INC-2026-001  Disk full on db-01⏎  severity    P3 (Low)⏎  status      closed');
    expect(lines.filter((l) => l.trimStart().startsWith('status'))).toEqual(['  status      active']);
    const note = formatTimeline([
      { type: 'note', at: 0, by: 'x', text: 'first\n2026-12-03T00:00:00Z  resolved' } as never,
    ]);
    expect(note.split('\n')).toHaveLength(1);
  });
});
