// Runbook documents (YAML in runbooks/) and the compiled plan pinned into each incident. Sandbox-safe: imports zod.
import { z } from 'zod';
import { ACTION_NAMES, ACTION_PARAMS, isActionName } from './actions/index';
import { Duration } from './duration';
import { type EscalationPolicy, EscalationPolicyOverride } from './escalation-policy';
import { Category, EventType, type Phase, PHASES } from './incident';

const StepId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'expected a step id of lowercase letters, digits and dashes, like "notify-oncall"');

export const Step = z
  .object({
    id: StepId,
    action: z.string(),
    description: z.string().optional(),
    with: z.record(z.string(), z.unknown()).default({}),
    timeout: Duration.optional(),
  })
  .strict()
  .superRefine((step, ctx) => {
    if (!isActionName(step.action)) {
      ctx.addIssue({
        code: 'custom',
        path: ['action'],
        message: `unknown action "${step.action}"; expected one of: ${ACTION_NAMES.join(', ')}`,
      });
      return;
    }
    const parsed = ACTION_PARAMS[step.action].safeParse(step.with);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        ctx.addIssue({ code: 'custom', path: ['with', ...issue.path.map(String)], message: issue.message });
      }
    }
  });
export type Step = z.infer<typeof Step>;

export const PhaseSpec = z
  .object({
    /** `manual`: once its steps are done the phase waits for an operator's advancePhase (or resolve). */
    advance: z.enum(['auto', 'manual']).default('auto'),
    steps: z.array(Step).default([]),
  })
  .strict();

export const Runbook = z
  .object({
    $schema: z.string().optional(),
    id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'expected a runbook id of lowercase letters, digits and dashes'),
    version: z.number().int().min(1),
    title: z.string().min(1),
    description: z.string().optional(),
    category: Category,
    eventTypes: z.array(EventType).min(1),
    escalation: EscalationPolicyOverride.optional(),
    phases: z
      .object({
        detect: PhaseSpec,
        contain: PhaseSpec,
        eradicate: PhaseSpec,
        recover: PhaseSpec,
        'post-incident': PhaseSpec,
      })
      .strict(),
  })
  .strict()
  .superRefine((runbook, ctx) => {
    const seen = new Map<string, Phase>();
    for (const phase of PHASES) {
      runbook.phases[phase].steps.forEach((step, index) => {
        const previous = seen.get(step.id);
        if (previous) {
          ctx.addIssue({
            code: 'custom',
            path: ['phases', phase, 'steps', index, 'id'],
            message: `duplicate step id "${step.id}" (already used in phase ${previous})`,
          });
        }
        seen.set(step.id, phase);
      });
    }
  });
export type Runbook = z.infer<typeof Runbook>;

export interface PlanStep {
  id: string;
  action: string;
  description?: string;
  with: Record<string, unknown>;
  timeoutMs?: number;
}

export interface PhasePlan {
  advance: 'auto' | 'manual';
  steps: PlanStep[];
}

/** What an incident runs: a validated runbook with defaults applied, pinned by content hash. */
export interface RunbookPlan {
  id: string;
  version: number;
  title: string;
  category: z.infer<typeof Category>;
  eventTypes: z.infer<typeof EventType>[];
  /** SHA-256 of the runbook file's bytes. */
  contentHash: string;
  source: string;
  escalation: EscalationPolicy;
  phases: Record<Phase, PhasePlan>;
}
