// Detect and classify (0-15 min): classification of the opening event, then the runbook's detect steps.
import { assessSeverity, type EventType } from '../../src/schemas/incident';
import type { Severity } from '../../src/schemas/severity';
import { type PhaseInput, type PhaseResult, runSteps } from '../steps';

/** Seed 000's assessment unless the opener gave a severity. */
export function classify(eventType: EventType, given: Severity | undefined): { severity: Severity; basis: 'opener' | 'assessment' } {
  return given ? { severity: given, basis: 'opener' } : { severity: assessSeverity(eventType), basis: 'assessment' };
}

export async function detectPhase(input: PhaseInput): Promise<PhaseResult> {
  return runSteps(input);
}
