// The stepEvent signal's payload checked before the incident reads it. A phase child sends it, but anyone who can
// signal the incident can send one of any shape, and a payload the incident cannot read must not fail the workflow
// task (a failed task is retried forever on the same signal: the incident would stop). Only the fields the incident
// reads are checked; a valid event is passed on untouched, so a recorded history replays as before.
import { log } from '@temporalio/workflow';
import { z } from 'zod';
import { Phase } from '../../domain/incident';
import type { StepEvent } from '../definitions';

const kind = z.enum(['approval', 'task']);
const onTimeout = z.enum(['proceed', 'skip', 'escalate', 'fail']);
const StepEventShape = z.discriminatedUnion('type', [
  z.looseObject({
    type: z.literal('waiting'),
    phase: Phase,
    stepId: z.string(),
    action: z.string(),
    kind,
    roles: z.array(z.string()).optional(),
    instructions: z.string().optional(),
    timeoutAt: z.number().optional(),
    onTimeout: onTimeout.optional(),
  }),
  z.looseObject({
    type: z.literal('decided'),
    phase: Phase,
    decision: z.looseObject({
      stepId: z.string(),
      kind: z.enum(['approve', 'reject', 'complete']),
      by: z.string(),
      role: z.string().optional(),
      note: z.string().optional(),
      reason: z.string().optional(),
    }),
  }),
  z.looseObject({
    type: z.literal('timed_out'),
    phase: Phase,
    stepId: z.string(),
    kind,
    onTimeout,
    stillWaiting: z.boolean(),
    timeoutAt: z.number().optional(),
  }),
  z.looseObject({
    type: z.literal('result'),
    result: z.looseObject({
      phase: Phase,
      stepId: z.string(),
      action: z.string(),
      status: z.enum(['completed', 'failed', 'skipped']),
      startedAt: z.number(),
      endedAt: z.number(),
      error: z.string().optional(),
      reason: z.string().optional(),
    }),
  }),
  z.looseObject({
    type: z.literal('phase_ended'),
    phase: Phase,
    failed: z.looseObject({ stepId: z.string(), error: z.string() }).optional(),
    stopped: z.string().optional(),
    error: z.string().optional(),
  }),
]);

/** `raw` as a StepEvent when the incident can read it; otherwise logged (with what was wrong) and undefined. */
export function readableStepEvent(raw: unknown, incidentId: string): StepEvent | undefined {
  const parsed = StepEventShape.safeParse(raw);
  if (parsed.success) return raw as StepEvent;
  log.warn('stepEvent signal ignored: invalid payload', { incidentId, error: parsed.error.message });
  return undefined;
}
