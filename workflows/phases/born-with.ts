// A phase child type born with a patch baseline: it declares the baseline first thing (typeBornWith), so it answers
// that baseline's patches without a marker, then runs its phase's steps. Shared by the born-patched phase types
// (v2.ts, v3.ts).
import { typeBornWith } from '../patches';
import { type PhaseInput, type PhaseResult, runSteps } from '../steps';

export function runPhaseBornWith(baselineId: string, input: PhaseInput): Promise<PhaseResult> {
  typeBornWith(baselineId);
  return runSteps(input);
}
