// Parameter schemas for every runbook action, keyed by action name. The loader checks each step's `with` against
// these before anything runs; the activities parse again at the boundary. Sandbox-safe: imports only zod.
import { z } from 'zod';
import type { EscalationLevel, Phase } from './incident';
import type { Severity } from './severity';

export const NOTIFY_AUDIENCES = ['internal', 'external', 'executive', 'L1', 'L2', 'L3'] as const;

export const ACTION_PARAMS = {
  /** Post a message to a configured notification channel (webhook or file), e.g. the on-call webhook. */
  'notify.send': z
    .object({
      channel: z.string().min(1).optional(),
      audience: z.enum(NOTIFY_AUDIENCES).default('internal'),
      message: z.string().min(1),
    })
    .strict(),
  /** Archive paths (logs, backups, config) into a tar.gz with a SHA-256 manifest (seed 000, Evidence Preservation). */
  'evidence.snapshot': z
    .object({
      paths: z.array(z.string().min(1)).min(1),
      label: z.string().min(1).optional(),
    })
    .strict(),
} as const;

export type ActionName = keyof typeof ACTION_PARAMS;
export const ACTION_NAMES = Object.keys(ACTION_PARAMS) as ActionName[];

export function isActionName(name: string): name is ActionName {
  return Object.prototype.hasOwnProperty.call(ACTION_PARAMS, name);
}

/** What the step runner hands every action activity. */
export interface ActionInput {
  incidentId: string;
  phase: Phase;
  stepId: string;
  action: string;
  params: Record<string, unknown>;
  drill: boolean;
  /** Sent to every external system so a retried activity applies its effect once. */
  idempotencyKey: string;
}

/** What the incident hands the escalation notifier. */
export interface EscalationNotice {
  incidentId: string;
  title: string;
  severity: Severity;
  trigger: string;
  fromLevel: EscalationLevel;
  toLevel: EscalationLevel;
  levelName: string;
  audience: string;
  reason: string;
  drill: boolean;
  idempotencyKey: string;
}
