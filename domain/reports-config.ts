// The `reports` section of incident-engine.yaml: who receives the periodic reports, on which cadence (cron, UTC), and
// which drills the programme holds when. Every field has a default, so reports run with no configuration at all.
import { z } from 'zod';

const Cron = z
  .string()
  .trim()
  .regex(/^\S+(\s+\S+){4}$/, 'expected a cron expression of five fields, like "0 8 * * MON"');

const Cadence = z.union([Cron, z.literal(false)], { error: 'expected a cron expression, or false to turn it off' });

export const ScheduledDrill = z
  .object({
    /** A scenario id in runbooks/drills. */
    scenario: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'expected a drill scenario id, like "security-breach-tabletop"'),
    cron: Cron,
  })
  .strict();

export const ReportsConfigFile = z
  .object({
    /** The audience the reports and drill results are sent to (a key of `audiences`, like internal). */
    audience: z.string().min(1).default('internal'),
    weekly: Cadence.default('0 8 * * MON'),
    monthly: Cadence.default('0 8 1 * *'),
    quarterly: Cadence.default('0 8 1 1,4,7,10 *'),
    /** The drill programme: each entry a scenario held on its cron (both procedure documents ask for quarterly drills). */
    drills: z.array(ScheduledDrill).max(50).default([]),
  })
  .strict();
export type ReportsConfig = z.output<typeof ReportsConfigFile>;

export const DEFAULT_REPORTS_CONFIG: ReportsConfig = ReportsConfigFile.parse({});
