// Severity scale shared by both procedure documents: P0-P3 and Critical/High/Medium/Low are one scale.
// Sandbox-safe: imports only zod.
import { z } from 'zod';

export const SEVERITIES = ['P0', 'P1', 'P2', 'P3'] as const;

export const SEVERITY_NAMES = { P0: 'Critical', P1: 'High', P2: 'Medium', P3: 'Low' } as const;

const NAME_TO_SEVERITY: Record<string, (typeof SEVERITIES)[number]> = {
  critical: 'P0',
  high: 'P1',
  medium: 'P2',
  low: 'P3',
};

/** Accepts `P0`..`P3` (any case) or `Critical`/`High`/`Medium`/`Low`; always yields `P0`..`P3`. */
export const Severity = z.preprocess(
  (value) => {
    if (typeof value !== 'string') return value;
    const trimmed = value.trim();
    return NAME_TO_SEVERITY[trimmed.toLowerCase()] ?? trimmed.toUpperCase();
  },
  z.enum(SEVERITIES, { error: 'expected a severity: P0, P1, P2, P3 or Critical, High, Medium, Low' }),
);
export type Severity = (typeof SEVERITIES)[number];

/** Lower rank = more severe. */
export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

export function describeSeverity(severity: Severity): string {
  return `${severity} (${SEVERITY_NAMES[severity]})`;
}
