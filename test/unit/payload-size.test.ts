// Sizes that keep a payload under Temporal's 2 MB are counted in UTF-8 bytes, as Temporal counts them, not in string
// length: a step's output, a long incident's carried state and a closed one's final record, in a script of
// three-byte characters.
import { describe, expect, it } from 'vitest';
import type { TimelineEvent } from '../../domain/incident';
import { jsonBytes, utf8Bytes } from '../../domain/utf8';
import { compactBody } from '../../activities/http/client';
import { type CarriedIncident, MAX_CARRIED_BYTES, fitCarried } from '../../workflows/incident/carried';
import { finalRecord } from '../../workflows/incident/final-record';
import type { IncidentStatusView } from '../../workflows/definitions';
import { harness } from '../helpers/incident-harness';

const note = (text: string): TimelineEvent => ({ type: 'note_added', at: 0, by: 'alice', text, finding: false });
/** 1,000 three-byte characters: 3 KB in a payload, 1,000 in a string's length. */
const WIDE = note('漢'.repeat(1_000));

describe('utf8Bytes', () => {
  it('counts what Node writes as UTF-8, in every width and for a lone surrogate', () => {
    for (const text of ['', 'plain ascii', 'café', '漢字', '🔥 on db-1', 'a\uD800b', '\uDC00', 'end \uD83D']) {
      expect(utf8Bytes(text), text).toBe(Buffer.byteLength(text, 'utf8'));
    }
  });
});

describe('a response body kept as a step output', () => {
  it('is kept whole up to 4 KiB of UTF-8, and cut to at most that in any script', () => {
    const small = { ok: true, note: '漢'.repeat(1_000) };
    expect(compactBody(small)).toBe(small);
    for (const body of [{ text: 'x'.repeat(10_000) }, { text: '漢'.repeat(10_000) }, { text: '🔥'.repeat(10_000) }]) {
      const kept = compactBody(body) as { truncated: string; chars: number };
      expect(kept.chars).toBe(JSON.stringify(body).length);
      expect(utf8Bytes(kept.truncated)).toBeLessThanOrEqual(4096 + 3);
      expect(utf8Bytes(kept.truncated)).toBeGreaterThan(4096 - 4);
      expect(JSON.stringify(body).startsWith(kept.truncated.slice(0, -1))).toBe(true);
    }
  });
});

describe('the carried state of a run that continues as new', () => {
  const carried = (timeline: TimelineEvent[]): CarriedIncident =>
    ({ ...harness().incident.carry(), timeline, timelineOmitted: 0 }) as CarriedIncident;

  it('keeps as many of the newest events as fit in bytes, so the next run gets one payload', () => {
    // 600 wide notes: 0.6 M characters, which the character count took whole, 1.8 MB as a payload.
    const fitted = fitCarried(carried(Array.from({ length: 600 }, () => WIDE)))!;
    expect(jsonBytes(fitted)).toBeLessThanOrEqual(MAX_CARRIED_BYTES);
    expect(fitted.timeline.length).toBeGreaterThan(350);
    expect(fitted.timelineOmitted).toBe(600 - fitted.timeline.length);
  });

  it('is the same as before for text of one-byte characters', () => {
    const plain = note('x'.repeat(1_000));
    const whole = fitCarried(carried(Array.from({ length: 100 }, () => plain)))!;
    expect(whole.timeline).toHaveLength(100);
    const fitted = fitCarried(carried(Array.from({ length: 1_300 }, () => plain)))!;
    expect(fitted.timelineOmitted).toBeGreaterThan(0);
    expect(JSON.stringify(fitted).length).toBeLessThanOrEqual(MAX_CARRIED_BYTES);
    expect(JSON.stringify(fitted).length).toBeGreaterThan(MAX_CARRIED_BYTES - 1_100);
  });
});

describe('the final record', () => {
  it('is left out when its bytes, not its characters, would pass one payload', () => {
    const view = { incidentId: 'INC-2026-001' } as IncidentStatusView;
    const timeline = Array.from({ length: 401 }, () => WIDE);
    expect(JSON.stringify({ view, timeline }).length).toBeLessThan(MAX_CARRIED_BYTES / 2);
    expect(finalRecord(view, timeline)).toBeUndefined();
    expect(finalRecord(view, timeline.slice(0, 300))).toEqual({ view, timeline: timeline.slice(0, 300) });
  });
});
