// Containment (15-60 min): limit scope, prevent further damage, preserve evidence.
import { type PhaseInput, type PhaseResult, runSteps } from '../steps';

export async function containPhase(input: PhaseInput): Promise<PhaseResult> {
  return runSteps(input);
}
