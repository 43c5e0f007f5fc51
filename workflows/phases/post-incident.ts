// Post-incident activity (1-7 days): review, documentation and control updates.
import { type PhaseInput, type PhaseResult, runSteps } from '../steps';

export async function postIncidentPhase(input: PhaseInput): Promise<PhaseResult> {
  return runSteps(input);
}
