// The phase child types new incidents start (patch steps-as-local-activities). Born with baseline
// patches-through-2026-12-03-d, they run their automated steps' first attempts as local activities (runAction in
// steps.ts) and record no patch marker. The V2 types (v2.ts) keep scheduled activities, so children started before
// replay as they ran.
import type { PhaseInput, PhaseResult } from '../steps';
import { runPhaseBornWith } from './born-with';

/** The baseline these types were born with; never changes (a later patch is asked with its marker, as anywhere). */
const BORN_WITH = 'patches-through-2026-12-03-d';

export async function detectPhaseV3(input: PhaseInput): Promise<PhaseResult> {
  return runPhaseBornWith(BORN_WITH, input);
}

export async function containPhaseV3(input: PhaseInput): Promise<PhaseResult> {
  return runPhaseBornWith(BORN_WITH, input);
}

export async function eradicatePhaseV3(input: PhaseInput): Promise<PhaseResult> {
  return runPhaseBornWith(BORN_WITH, input);
}

export async function recoverPhaseV3(input: PhaseInput): Promise<PhaseResult> {
  return runPhaseBornWith(BORN_WITH, input);
}

export async function postIncidentPhaseV3(input: PhaseInput): Promise<PhaseResult> {
  return runPhaseBornWith(BORN_WITH, input);
}
