// Detect and classify (0-15 min): classification of the opening event, then the runbook's detect steps.
import { type PhaseInput, type PhaseResult, runSteps } from '../steps';

export async function detectPhase(input: PhaseInput): Promise<PhaseResult> {
  return runSteps(input);
}
