// The report's determinism rules, without a server: offsets in whole seconds, epoch times inside recorded text
// rewritten as offsets, millisecond jitter dropped from durations, and steps of one parallel group listed in runbook
// order (undo in reverse) whatever order they finished in.
import { describe, expect, it } from 'vitest';
import {
  type ReportTimelineEntry,
  canonicalTimeline,
  normaliseText,
  normaliseValue,
  offsetLabel,
} from '../../src/drills/report';
import type { TimelineEvent } from '../../domain/incident';
import type { PlanStep, RunbookPlan } from '../../domain/runbook';

const OPENED = Date.UTC(2026, 10, 23, 10, 0, 0, 123);
const offsetOf = (ms: number) => Math.floor((ms - OPENED) / 1000);

describe('drill report normalisation', () => {
  it('labels offsets as people write durations', () => {
    expect([0, 59, 3600, 5400, 93_600, -300].map(offsetLabel)).toEqual([
      '+0s',
      '+59s',
      '+1h',
      '+1h30m',
      '+1d2h',
      '-5m',
    ]);
  });

  it('rewrites ISO and epoch times as offsets from the opening, and drops millisecond tails of durations', () => {
    const sla = new Date(OPENED + 4 * 3_600_000 + 17).toISOString();
    expect(normaliseText(`Expected resolution: by ${sla} (P0 resolution SLA).`, OPENED, offsetOf)).toBe(
      'Expected resolution: by opening+4h (P0 resolution SLA).',
    );
    expect(normaliseText(`DRILL-0000-001/escalation/manual:2:${OPENED + 600_045}`, OPENED, offsetOf)).toBe(
      'DRILL-0000-001/escalation/manual:2:@+10m',
    );
    expect(normaliseText('Open for 1h17ms; 2 steps done; timeout 15m', OPENED, offsetOf)).toBe(
      'Open for 1h; 2 steps done; timeout 15m',
    );
    // Numbers that are not times near the opening stay as they are.
    expect(normaliseText('order 1234567890123 and 42ms', OPENED, offsetOf)).toBe('order 1234567890123 and 42ms');
    expect(normaliseValue({ [`key-${OPENED}`]: [`at ${OPENED + 1000}`, 7] }, OPENED, offsetOf)).toEqual({
      'key-@+0s': ['at @+1s', 7],
    });
  });

  it('lists a parallel group in runbook order, and its undo in reverse, whatever order they finished in', () => {
    const step = (id: string, group?: string): PlanStep =>
      ({ id, action: 'notify.send', with: {}, ...(group ? { group } : {}) }) as PlanStep;
    const phases = {
      detect: { advance: 'auto', steps: [step('page')] },
      contain: {
        advance: 'auto',
        steps: [step('block', 'isolate'), step('disable', 'isolate'), step('suspend', 'isolate'), step('tell')],
      },
      eradicate: { advance: 'auto', steps: [] },
      recover: { advance: 'auto', steps: [] },
      'post-incident': { advance: 'auto', steps: [] },
    } as unknown as RunbookPlan['phases'];
    const done = (stepId: string): TimelineEvent => ({
      at: OPENED,
      type: 'step_completed',
      phase: 'contain',
      stepId,
      action: 'notify.send',
    });
    const undone = (stepId: string): TimelineEvent => ({
      at: OPENED + 60_000,
      type: 'step_compensated',
      phase: 'contain',
      stepId,
      action: 'x',
      undo: 'y',
    });
    const events: TimelineEvent[] = [
      done('suspend'),
      done('block'),
      done('disable'),
      done('tell'),
      {
        at: OPENED + 60_000,
        type: 'compensation_started',
        reason: 'false_positive',
        steps: ['tell', 'disable', 'block', 'suspend'],
      },
      undone('disable'),
      undone('block'),
      undone('suspend'),
    ];
    const entries: ReportTimelineEntry[] = events.map((e) => ({
      at: offsetOf(e.at),
      atLabel: offsetLabel(offsetOf(e.at)),
      type: e.type,
      text:
        e.type === 'compensation_started'
          ? `undoing: ${e.steps.join(', ')}`
          : `${e.type} ${'stepId' in e ? e.stepId : ''}`,
      event: { ...e },
    }));
    const ordered = canonicalTimeline(entries, events, { id: 'x', version: 1, contentHash: 'h', phases });
    expect(ordered.map((e) => e.text)).toEqual([
      'step_completed block',
      'step_completed disable',
      'step_completed suspend',
      'step_completed tell',
      'undoing: tell, suspend, disable, block',
      'step_compensated suspend',
      'step_compensated disable',
      'step_compensated block',
    ]);
  });
});
