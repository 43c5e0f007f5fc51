// The phase child types incidents of baseline patches-through-2026-12-03-c start (patch phase-types-born-patched).
// They first shipped with every patch of that baseline, so no run of them ever lacked one: they ask no patch marker
// for those (two history events fewer per phase: the marker and its TemporalChangeVersion upsert). Each runs its
// phase exactly as the type it replaces (detect.ts and the others, which children started before keep, and replay
// with their markers). Children started since keep these types; new incidents start v3.ts's.
import type { PhaseInput, PhaseResult } from '../steps';
import { runPhaseBornWith } from './born-with';

/** The baseline these types were born with; never changes (a later patch is asked with its marker, as anywhere). */
const BORN_WITH = 'patches-through-2026-12-03-c';

export async function detectPhaseV2(input: PhaseInput): Promise<PhaseResult> {
  return runPhaseBornWith(BORN_WITH, input);
}

export async function containPhaseV2(input: PhaseInput): Promise<PhaseResult> {
  return runPhaseBornWith(BORN_WITH, input);
}

export async function eradicatePhaseV2(input: PhaseInput): Promise<PhaseResult> {
  return runPhaseBornWith(BORN_WITH, input);
}

export async function recoverPhaseV2(input: PhaseInput): Promise<PhaseResult> {
  return runPhaseBornWith(BORN_WITH, input);
}

export async function postIncidentPhaseV2(input: PhaseInput): Promise<PhaseResult> {
  return runPhaseBornWith(BORN_WITH, input);
}
