// Timeline pages: bounded by event count and by bytes, so no read of a long timeline passes the gRPC message limit.
import { describe, expect, it } from 'vitest';
import type { TimelineEvent } from '../../domain/incident';
import { MAX_TIMELINE_PAGE_EVENTS, TIMELINE_PAGE_BYTES, timelinePage } from '../../domain/timeline-page';
import { jsonBytes } from '../../domain/utf8';

const event = (i: number, size = 10) =>
  ({ at: i, type: 'alert', source: 'waf', status: 'firing', summary: 's'.repeat(size) }) as unknown as TimelineEvent;

describe('timelinePage', () => {
  it('pages by count, from an index, with the total', () => {
    const timeline = Array.from({ length: 1_200 }, (_, i) => event(i));
    const first = timelinePage(timeline, {});
    expect(first.events).toHaveLength(MAX_TIMELINE_PAGE_EVENTS);
    expect(first).toMatchObject({ next: MAX_TIMELINE_PAGE_EVENTS, total: 1_200 });
    expect(timelinePage(timeline, { from: 1_190, limit: 50 })).toMatchObject({ next: 1_200, total: 1_200 });
    expect(timelinePage(timeline, { from: 5_000 })).toEqual({ events: [], next: 1_200, total: 1_200 });
  });

  it('stops at about a megabyte, and still returns one event larger than that', () => {
    const timeline = Array.from({ length: 20 }, (_, i) => event(i, 300 * 1024));
    const page = timelinePage(timeline, { limit: 20 });
    expect(page.events.length).toBe(3);
    expect(JSON.stringify(page.events).length).toBeLessThanOrEqual(TIMELINE_PAGE_BYTES);
    const big = [event(0, 2 * TIMELINE_PAGE_BYTES), event(1)];
    expect(timelinePage(big, {}).events).toHaveLength(1);
  });

  it('counts bytes as Temporal does, so a page of three-byte characters is no larger', () => {
    const wide = (i: number) =>
      ({ at: i, type: 'note_added', by: 'alice', text: '漢'.repeat(100 * 1024), finding: false }) as TimelineEvent;
    const page = timelinePage(
      Array.from({ length: 20 }, (_, i) => wide(i)),
      { limit: 20 },
    );
    expect(page.events.length).toBe(3);
    expect(jsonBytes(page.events)).toBeLessThanOrEqual(TIMELINE_PAGE_BYTES);
  });

  it('answers a malformed request with the first page', () => {
    expect(timelinePage([event(0)], { from: -1 }).events).toHaveLength(1);
  });
});
