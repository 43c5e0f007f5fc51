// Escalation policy: the procedure documents' defaults, overridable per runbook. Sandbox-safe: imports only zod.
import { z } from 'zod';
import { Duration } from './duration';
import { type EscalationLevel, type Phase } from './incident';
import { type Severity } from './severity';

const HOUR = 3_600_000;
const MINUTE = 60_000;
const DAY = 24 * HOUR;

export interface EscalationLevelPolicy {
  name: string;
  /** How long this level has to acknowledge before the next level is called. */
  respondWithinMs: number;
  /** Audience key used for notifications at this level. */
  audience: string;
}

export interface PhaseWindow {
  /** Offset from the incident's opening at which the phase is expected to begin. */
  fromMs: number;
  /** Offset from the incident's opening by which the phase should be finished; past it the phase is overdue. */
  toMs: number;
}

export interface EscalationPolicy {
  /** Time to first acknowledgement, by severity (the Fiovana procedures' "Response Time"). */
  responseTimeMs: Record<Severity, number>;
  /** Time to resolution, by severity. */
  resolutionSlaMs: Record<Severity, number>;
  /** "Root cause not identified within 2 hours" (the FailSafe-Qore procedures). */
  rootCauseWithinMs: number;
  levels: Record<Exclude<EscalationLevel, 0>, EscalationLevelPolicy>;
  phaseWindows: Record<Phase, PhaseWindow>;
  /** "Multiple systems affected": how many affected systems count as multiple. */
  multipleSystemsThreshold: number;
  /**
   * How often an active incident sends an internal status update, by severity (the Fiovana procedures' communication plan:
   * "Medium: daily status updates", "Low: weekly summary reports"). Optional: plans pinned before it existed lack it.
   */
  statusUpdateEveryMs?: Record<Severity, number>;
  /** The level each trigger escalates to (at least; escalation never lowers the level). */
  triggerLevels: {
    unacknowledged: EscalationLevel;
    no_root_cause: EscalationLevel;
    sla_breached: EscalationLevel;
    phase_overdue: EscalationLevel;
    severity_p0: EscalationLevel;
    data_breach_confirmed: EscalationLevel;
    multiple_systems: EscalationLevel;
    executive_attention: EscalationLevel;
  };
}

/** Status update cadence for plans that carry none (see EscalationPolicy.statusUpdateEveryMs). */
export const DEFAULT_STATUS_UPDATE_EVERY_MS: Record<Severity, number> = { P0: HOUR, P1: HOUR, P2: DAY, P3: 7 * DAY };

/** Where each default comes from is in docs/ESCALATION.md. */
export const DEFAULT_ESCALATION_POLICY: EscalationPolicy = {
  responseTimeMs: { P0: 0, P1: HOUR, P2: 4 * HOUR, P3: 24 * HOUR },
  resolutionSlaMs: { P0: 4 * HOUR, P1: 24 * HOUR, P2: 3 * DAY, P3: 7 * DAY },
  rootCauseWithinMs: 2 * HOUR,
  levels: {
    1: { name: 'Incident Response Team', respondWithinMs: HOUR, audience: 'L1' },
    2: { name: 'Management', respondWithinMs: 30 * MINUTE, audience: 'L2' },
    3: { name: 'Executive', respondWithinMs: 0, audience: 'L3' },
  },
  phaseWindows: {
    detect: { fromMs: 0, toMs: 15 * MINUTE },
    contain: { fromMs: 15 * MINUTE, toMs: HOUR },
    eradicate: { fromMs: HOUR, toMs: 24 * HOUR },
    recover: { fromMs: HOUR, toMs: 24 * HOUR },
    'post-incident': { fromMs: DAY, toMs: 7 * DAY },
  },
  multipleSystemsThreshold: 2,
  // P2 daily and P3 weekly are the Fiovana procedures'; P0 and P1 hourly are ours (the Fiovana procedures ask for immediate and within-1-hour
  // first notifications, which the detect step and the escalation timers already give).
  statusUpdateEveryMs: DEFAULT_STATUS_UPDATE_EVERY_MS,
  triggerLevels: {
    unacknowledged: 1,
    no_root_cause: 2,
    sla_breached: 2,
    phase_overdue: 1,
    severity_p0: 3,
    data_breach_confirmed: 3,
    multiple_systems: 2,
    executive_attention: 3,
  },
};

const Level = z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3)]);
const BySeverity = z.object({ P0: Duration, P1: Duration, P2: Duration, P3: Duration }).partial().strict();
const Window = z.object({ from: Duration, to: Duration }).strict();
const LevelOverride = z
  .object({ name: z.string().min(1), respondWithin: Duration, audience: z.string().min(1) })
  .partial()
  .strict();

/** The escalation block of a runbook: every field optional, each overriding one default. */
export const EscalationPolicyOverride = z
  .object({
    responseTime: BySeverity,
    resolutionSla: BySeverity,
    rootCauseWithin: Duration,
    levels: z.object({ 1: LevelOverride, 2: LevelOverride, 3: LevelOverride }).partial().strict(),
    phaseWindows: z
      .object({ detect: Window, contain: Window, eradicate: Window, recover: Window, 'post-incident': Window })
      .partial()
      .strict(),
    multipleSystemsThreshold: z.number().int().min(1),
    statusUpdateEvery: BySeverity,
    triggerLevels: z
      .object({
        unacknowledged: Level,
        no_root_cause: Level,
        sla_breached: Level,
        phase_overdue: Level,
        severity_p0: Level,
        data_breach_confirmed: Level,
        multiple_systems: Level,
        executive_attention: Level,
      })
      .partial()
      .strict(),
  })
  .partial()
  .strict();
export type EscalationPolicyOverride = z.infer<typeof EscalationPolicyOverride>;

/** Applies a runbook's overrides to the defaults. */
export function resolveEscalationPolicy(
  override: EscalationPolicyOverride = {},
  base: EscalationPolicy = DEFAULT_ESCALATION_POLICY,
): EscalationPolicy {
  const levels = { ...base.levels };
  for (const key of [1, 2, 3] as const) {
    const o = override.levels?.[key];
    if (!o) continue;
    levels[key] = {
      name: o.name ?? levels[key].name,
      respondWithinMs: o.respondWithin ?? levels[key].respondWithinMs,
      audience: o.audience ?? levels[key].audience,
    };
  }
  const phaseWindows = { ...base.phaseWindows };
  for (const [phase, w] of Object.entries(override.phaseWindows ?? {}) as [Phase, { from: number; to: number }][]) {
    phaseWindows[phase] = { fromMs: w.from, toMs: w.to };
  }
  return {
    responseTimeMs: { ...base.responseTimeMs, ...override.responseTime },
    resolutionSlaMs: { ...base.resolutionSlaMs, ...override.resolutionSla },
    rootCauseWithinMs: override.rootCauseWithin ?? base.rootCauseWithinMs,
    levels,
    phaseWindows,
    multipleSystemsThreshold: override.multipleSystemsThreshold ?? base.multipleSystemsThreshold,
    statusUpdateEveryMs: {
      ...(base.statusUpdateEveryMs ?? DEFAULT_STATUS_UPDATE_EVERY_MS),
      ...override.statusUpdateEvery,
    },
    triggerLevels: { ...base.triggerLevels, ...override.triggerLevels },
  };
}
