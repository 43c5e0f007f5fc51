// A runbook plan named by reference: what travels through the incident registry instead of the plan itself. The
// hash is the SHA-256 of the compiled plan as the opener sent it (its JSON), so two plans with the same id but
// different content never meet under one reference. Sandbox-safe: imports only zod.
import { z } from 'zod';

export const RunbookRef = z
  .object({
    id: z.string().min(1, 'expected the runbook id').max(200, 'expected a runbook id of at most 200 characters'),
    hash: z.string().regex(/^[0-9a-f]{64}$/, 'expected the SHA-256 (64 hex digits) of the compiled runbook plan'),
  })
  .strict();
export type RunbookRef = z.infer<typeof RunbookRef>;

/** The workflow that holds one compiled plan for incidents to load (see workflows/runbook-plan.ts). */
export function planHolderId(ref: RunbookRef): string {
  return `runbook-plan-${ref.id}-${ref.hash}`;
}
