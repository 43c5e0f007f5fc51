// The stepEvent signal's payload checked before the incident reads it. A phase child sends it, but anyone who can
// signal the incident can send one of any shape, and a payload the incident cannot read must not fail the workflow
// task (a failed task is retried forever on the same signal: the incident would stop). Only the fields the incident
// reads are checked; a valid event is passed on untouched, so a recorded history replays as before.
import { log } from '@temporalio/workflow';
import { StepEventShape } from '../../domain/step-event';
import type { StepEvent } from '../definitions';

/** `raw` as a StepEvent when the incident can read it; otherwise logged (with what was wrong) and undefined. */
export function readableStepEvent(raw: unknown, incidentId: string): StepEvent | undefined {
  const parsed = StepEventShape.safeParse(raw);
  if (parsed.success) return raw as StepEvent;
  log.warn('stepEvent signal ignored: invalid payload', { incidentId, error: parsed.error.message });
  return undefined;
}
