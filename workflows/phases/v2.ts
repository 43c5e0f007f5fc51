// The phase child types new incidents start (patch phase-types-born-patched). They first shipped with every patch of
// baseline patches-through-2026-12-03-c, so no run of them ever lacked one: they ask no patch marker for those (two
// history events fewer per phase: the marker and its TemporalChangeVersion upsert). Each runs its phase exactly as
// the type it replaces (detect.ts and the others, which children started before keep, and replay with their markers).
import { typeBornWith } from '../patches';
import { type PhaseInput, type PhaseResult, runSteps } from '../steps';

/** The baseline these types were born with; never changes (a later patch is asked with its marker, as anywhere). */
const BORN_WITH = 'patches-through-2026-12-03-c';

function runPhase(input: PhaseInput): Promise<PhaseResult> {
  typeBornWith(BORN_WITH);
  return runSteps(input);
}

export async function detectPhaseV2(input: PhaseInput): Promise<PhaseResult> {
  return runPhase(input);
}

export async function containPhaseV2(input: PhaseInput): Promise<PhaseResult> {
  return runPhase(input);
}

export async function eradicatePhaseV2(input: PhaseInput): Promise<PhaseResult> {
  return runPhase(input);
}

export async function recoverPhaseV2(input: PhaseInput): Promise<PhaseResult> {
  return runPhase(input);
}

export async function postIncidentPhaseV2(input: PhaseInput): Promise<PhaseResult> {
  return runPhase(input);
}
