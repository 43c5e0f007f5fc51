// Recurrence after close, without a server: what the registry remembers of closed incidents (per key, for the
// enhanced-monitoring window, bounded), which open it makes a recurrence, and what an incident opened as one does
// (timeline, notice, L1 at least).
import { describe, expect, it } from 'vitest';
import { describeEvent } from '../../domain/timeline-text';
import { formatStatus } from '../../src/format';
import {
  ENHANCED_MONITORING_MS,
  MAX_RECENTLY_CLOSED,
  MAX_RECENTLY_CLOSED_KEY_CHARS,
  type RecentlyClosed,
  describeRecurrence,
  pruneClosed,
  recurrenceFor,
  rememberClosed,
} from '../../domain/recurrence';
import { AUTO_RESOLVE_MAX_MS } from '../../domain/runbook';
import { harness } from '../helpers/incident-harness';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 11, 3, 9, 0, 0);
const closed = (dedupKey: string, incidentId: string, resolvedAt: number): RecentlyClosed => ({
  dedupKey,
  incidentId,
  resolvedAt,
});

describe('the registry remembers resolved incidents for their enhanced-monitoring window', () => {
  it('is 48 hours, the far end of the window auto-resolve is bounded by too', () => {
    expect(ENHANCED_MONITORING_MS).toBe(48 * HOUR);
    expect(AUTO_RESOLVE_MAX_MS).toBe(ENHANCED_MONITORING_MS);
  });

  it('links an open for the key within 48 h of resolution, not after, and not for another key', () => {
    const list = rememberClosed([], closed('k', 'INC-2026-004', T0), T0 + HOUR);
    expect(recurrenceFor(list, 'k', T0 + 3 * HOUR)).toEqual({ incidentId: 'INC-2026-004', resolvedAt: T0 });
    expect(recurrenceFor(list, 'k', T0 + 48 * HOUR)).toEqual({ incidentId: 'INC-2026-004', resolvedAt: T0 });
    expect(recurrenceFor(list, 'k', T0 + 48 * HOUR + 1)).toBeUndefined();
    expect(recurrenceFor(list, 'other', T0 + HOUR)).toBeUndefined();
  });

  it('keeps the latest incident per key, oldest resolution first, and drops what has expired', () => {
    let list = rememberClosed([], closed('a', 'INC-2026-001', T0), T0);
    list = rememberClosed(list, closed('b', 'INC-2026-002', T0 + 2 * HOUR), T0 + 2 * HOUR);
    list = rememberClosed(list, closed('a', 'INC-2026-003', T0 + HOUR), T0 + 2 * HOUR);
    expect(list.map((e) => e.incidentId)).toEqual(['INC-2026-003', 'INC-2026-002']);
    // An incident that closed long after its resolution is already out of its window.
    list = rememberClosed(list, closed('c', 'INC-2026-005', T0), T0 + 49 * HOUR);
    expect(list.map((e) => e.incidentId)).toEqual(['INC-2026-003', 'INC-2026-002']);
    expect(pruneClosed(list, T0 + 49 * HOUR + 30 * 60_000).map((e) => e.incidentId)).toEqual(['INC-2026-002']);
  });

  it(`holds at most ${MAX_RECENTLY_CLOSED} incidents and ${MAX_RECENTLY_CLOSED_KEY_CHARS} characters of keys, dropping the oldest`, () => {
    let list: RecentlyClosed[] = [];
    for (let i = 0; i <= MAX_RECENTLY_CLOSED; i++) {
      list = rememberClosed(list, closed(`k${i}`, `INC-2026-${i}`, T0 + i), T0 + i);
    }
    expect(list).toHaveLength(MAX_RECENTLY_CLOSED);
    expect(recurrenceFor(list, 'k0', T0 + HOUR)).toBeUndefined();
    expect(recurrenceFor(list, 'k1', T0 + HOUR)).toBeDefined();

    const long = 'x'.repeat(MAX_RECENTLY_CLOSED_KEY_CHARS / 4);
    let big: RecentlyClosed[] = [];
    for (let i = 0; i < 5; i++) big = rememberClosed(big, closed(`${i}${long}`, `INC-2026-${i}`, T0 + i), T0 + i);
    expect(big.map((e) => e.incidentId)).toEqual(['INC-2026-2', 'INC-2026-3', 'INC-2026-4']);
  });

  it('words the link with how long ago the previous incident was resolved', () => {
    expect(describeRecurrence('INC-2026-004', T0, T0 + 3 * HOUR + 59_000)).toBe(
      'recurrence of INC-2026-004 (resolved 3h ago) within its enhanced-monitoring window',
    );
    expect(describeRecurrence('INC-2026-004', T0, T0 + 20_000)).toContain('resolved under a minute ago');
  });
});

describe('an incident opened as a recurrence', () => {
  const recurrenceOf = { incidentId: 'INC-2026-004', resolvedAt: T0 - 3 * HOUR };

  it('names the previous incident on its timeline, tells the owner and pages L1', () => {
    const h = harness({ severity: 'P3', recurrenceOf });
    const { incident } = h;
    expect(incident.view().recurrenceOf).toEqual(recurrenceOf);
    expect(formatStatus(incident.view())).toContain('recurrence  of INC-2026-004 (resolved 2026-12-03T06:00:00Z)');
    const types = incident.timeline.map((e) => e.type);
    expect(types.slice(0, 3)).toEqual(['opened', 'classified', 'recurrence_of']);
    const link = incident.timeline[2]!;
    expect(link).toMatchObject({ previousIncidentId: 'INC-2026-004', resolvedAt: recurrenceOf.resolvedAt });
    expect(describeEvent(link)).toBe(
      'recurrence of INC-2026-004 (resolved 3h ago) within its enhanced-monitoring window',
    );
    expect(h.calls).toContain('tell:recurrence:internal');
    expect(h.calls).toContain('notify:manual');
    expect(incident.state.escalation.level).toBe(1);
    const escalated = incident.timeline.find((e) => e.type === 'escalated');
    expect(escalated).toMatchObject({ fromLevel: 0, toLevel: 1, reason: expect.stringContaining('INC-2026-004') });
  });

  it('keeps a higher level it opened at', () => {
    const h = harness({ severity: 'P0', recurrenceOf });
    // The P0 policy pages at open; the recurrence adds no page of its own.
    const escalated = h.incident.timeline.filter((e) => e.type === 'escalated');
    expect(escalated.length).toBeGreaterThan(0);
    expect(escalated.map((e) => e.trigger)).not.toContain('manual');
    expect(h.incident.state.escalation.level).toBeGreaterThanOrEqual(1);
    expect(h.calls).toContain('tell:recurrence:internal');
  });

  it('is an ordinary incident without the link', () => {
    const h = harness({ severity: 'P3' });
    expect(h.incident.view().recurrenceOf).toBeUndefined();
    expect(h.incident.timeline.some((e) => e.type === 'recurrence_of')).toBe(false);
    expect(h.calls.some((c) => c.startsWith('tell:'))).toBe(false);
    expect(h.incident.state.escalation.level).toBe(0);
  });
});
