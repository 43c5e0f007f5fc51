// The shape of a stepEvent signal's payload, as far as the incident reads it (workflows/incident/step-events.ts
// checks each payload against it). Only the fields the incident reads are checked, and loose objects let the rest
// through untouched, so a recorded history replays as before. A schema module, shared by every workflow in the worker
// (workflows/shared-schemas.ts) rather than built again by each one.
import { z } from 'zod';
import { Phase } from './incident';

const kind = z.enum(['approval', 'task']);
const onTimeout = z.enum(['proceed', 'skip', 'escalate', 'fail']);
export const StepEventShape = z.discriminatedUnion('type', [
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
