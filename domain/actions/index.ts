// The action registry: every runbook action's spec (parameters, compensation), keyed by action name. The loader
// checks each step's `with` against these before anything runs; the activities parse again at the boundary.
// Sandbox-safe: imports only zod.
import { CONNECTOR_ACTIONS } from './connectors';
import { EMERGENCY_ACTIONS } from './emergency';
import { EVIDENCE_ACTIONS } from './evidence';
import { HTTP_ACTIONS } from './http';
import { NOTIFY_ACTIONS } from './notify';
import { QUARANTINE_ACTIONS } from './quarantine';
import { TASK_ACTIONS } from './task';
import type { ActionSpec } from './spec';
import type { EscalationLevel, Phase } from '../incident';
import type { Severity } from '../severity';

/**
 * Every runbook action, by name. A family lives in its own file (one job per file); add it here. Keys are the names
 * runbooks use in `action:` and the activity names the step runner calls.
 */
export const ACTIONS = {
  ...NOTIFY_ACTIONS,
  ...EVIDENCE_ACTIONS,
  ...QUARANTINE_ACTIONS,
  ...EMERGENCY_ACTIONS,
  ...CONNECTOR_ACTIONS,
  ...HTTP_ACTIONS,
  ...TASK_ACTIONS,
} satisfies Record<string, ActionSpec>;

export type ActionName = keyof typeof ACTIONS;
export const ACTION_NAMES = Object.keys(ACTIONS) as ActionName[];

/** Parameter schemas by action name (the loader and the activities parse with these). */
export const ACTION_PARAMS = Object.fromEntries(ACTION_NAMES.map((name) => [name, ACTIONS[name].params])) as {
  [K in ActionName]: (typeof ACTIONS)[K]['params'];
};

export function isActionName(name: string): name is ActionName {
  return Object.prototype.hasOwnProperty.call(ACTIONS, name);
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

/** A message the incident itself sends (status updates): composed in the workflow, delivered by an activity. */
export interface IncidentNotice {
  incidentId: string;
  audience: string;
  severity: Severity;
  subject: string;
  text: string;
  /** What kind of message, for machines reading the channel (`status_update`). */
  kind: string;
  drill: boolean;
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

export { NOTIFY_AUDIENCES } from './notify';
export type { ActionSpec, CompensationStep } from './spec';
