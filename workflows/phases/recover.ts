// Recovery (1-24 h): restore, validate integrity, tell users, watch for recurrence.
import { type PhaseInput, type PhaseResult, runSteps } from '../steps';

export async function recoverPhase(input: PhaseInput): Promise<PhaseResult> {
  return runSteps(input);
}
