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

/** Mid-quarter, 10:00 UTC: a tabletop breach in the quarter's second month, a communication test in its third. */
export const DEFAULT_DRILLS: z.input<typeof ScheduledDrill>[] = [
  { scenario: 'security-breach-tabletop', cron: '0 10 15 2,5,8,11 *' },
  { scenario: 'communication-protocol', cron: '0 10 15 3,6,9,12 *' },
];

export const ReportsConfigFile = z
  .object({
    /** The audience the reports and drill results are sent to (a key of `audiences`, like internal). */
    audience: z.string().min(1).default('internal'),
    weekly: Cadence.default('0 8 * * MON'),
    monthly: Cadence.default('0 8 1 * *'),
    quarterly: Cadence.default('0 8 1 1,4,7,10 *'),
    /**
     * The drill programme: each entry a scenario held on its cron. Both procedure documents ask for quarterly drills
     * (the Fiovana procedures: tabletop exercises, technical recovery drills, communication protocol testing), so by
     * default a tabletop breach and a communication test are held every quarter; technical recovery needs a staging
     * copy of the application (docs/DRILLS.md) and is added where there is one. `[]` turns the programme off.
     */
    drills: z.array(ScheduledDrill).max(50).default(DEFAULT_DRILLS),
  })
  .strict();
export type ReportsConfig = z.output<typeof ReportsConfigFile>;

export const DEFAULT_REPORTS_CONFIG: ReportsConfig = ReportsConfigFile.parse({});
