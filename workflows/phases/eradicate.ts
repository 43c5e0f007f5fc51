// Eradication (1-24 h): remove the root cause, apply fixes, verify remediation.
import { type PhaseInput, type PhaseResult, runSteps } from '../steps';

export async function eradicatePhase(input: PhaseInput): Promise<PhaseResult> {
  return runSteps(input);
}
