// An Incident without a server, for the unit tests of its rules and lifecycle: a settable clock, hooks that record
// what the workflow would send, and helpers that play a phase child's part.
import type { Phase, StepResult } from '../../domain/incident';
import type { OpenRequest } from '../../domain/messages';
import type { UpdateName, UpdateRequest } from '../../domain/updates';
import type { IncidentInput } from '../../workflows/definitions';
import { Incident, type IncidentPatches, type UpdateEffect, parseUpdate } from '../../workflows/incident/incident';
import { incidentInput, planFromPhases } from './incident-fixtures';

/** detect: one step; contain: an approval gate and a task with a role; eradicate: manual; the rest empty. */
export const PLAN_YAML = `
detect:
  steps:
    - id: page
      action: notify.send
      with: { message: 'paged' }
contain:
  steps:
    - id: block
      action: notify.send
      approval: { roles: [incident-commander] }
      with: { message: 'blocked' }
    - id: confirm
      action: task
      with: { instructions: 'confirm the block', roles: [security-lead] }
eradicate:
  advance: manual
  steps:
    - id: clean
      action: notify.send
      with: { message: 'cleaned' }
`;

export const ID = 'INC-2026-001';

export interface Harness {
  incident: Incident;
  /** What the hooks were asked, in order: publish, notify:<trigger>, facts:<phase>, cancel, tell:<kind>:<audience>. */
  calls: string[];
  tick(ms: number): void;
  /** Sets the length of the history the incident's update budget reads (0 at first). */
  setHistoryLength(events: number): void;
  /** check then apply, as the validator and handler do; throws the refusal. */
  send<N extends UpdateName>(name: N, input: UpdateRequest<N>): UpdateEffect;
  /** The refusal message of an update that must be refused; fails when it is accepted. */
  refusal<N extends UpdateName>(name: N, input: UpdateRequest<N>): string;
}

export function harness(
  { recurrenceOf, ...request }: Partial<OpenRequest> & Pick<IncidentInput, 'recurrenceOf'> = {},
  patches: Partial<IncidentPatches> = {},
  yaml = PLAN_YAML,
): Harness {
  let clock = Date.UTC(2026, 11, 3, 9, 0, 0);
  const calls: string[] = [];
  let historyLength = 0;
  const plan = planFromPhases('unit', ['other'], yaml, 'test/helpers/incident-harness.ts');
  const incident = new Incident(
    { ...incidentInput(ID, plan, { severity: 'P2', ...request }), ...(recurrenceOf ? { recurrenceOf } : {}) },
    () => clock,
    {
      publish: () => calls.push('publish'),
      notify: (fired) => calls.push(`notify:${fired.trigger}`),
      sendFacts: (phase) => calls.push(`facts:${phase}`),
      cancelPhase: () => calls.push('cancel'),
      tell: (notice) => calls.push(`tell:${notice.kind}:${notice.audience}`),
      historyLength: () => historyLength,
    },
    {
      alertLabels: () => true,
      falsePositiveCompensates: () => true,
      phaseFailureCompensates: () => true,
      senderRecorded: () => true,
      ...patches,
    },
  );
  incident.open();
  const send = <N extends UpdateName>(name: N, input: UpdateRequest<N>): UpdateEffect => {
    const parsed = parseUpdate(name, input);
    incident.check(name, parsed);
    return incident.apply(name, parsed);
  };
  return {
    incident,
    calls,
    tick: (ms) => (clock += ms),
    setHistoryLength: (events) => (historyLength = events),
    send,
    refusal: (name, input) => {
      try {
        send(name, input);
      } catch (error) {
        return (error as Error).message;
      }
      throw new Error(`expected ${name} to be refused; it was accepted`);
    },
  };
}

export function result(phase: Phase, stepId: string, extra: Partial<StepResult> = {}): StepResult {
  return { phase, stepId, action: 'notify.send', status: 'completed', startedAt: 0, endedAt: 0, ...extra };
}

/** Starts `phase` and its child; returns the child's part: report steps, wait, end. */
export function startPhase(incident: Incident, phase: Phase): void {
  incident.startPhase(phase);
  incident.phaseChildStarted();
}

/** Ends the running phase with these results; returns what the phase loop does next. */
export function endPhase(incident: Incident, phase: Phase, steps: StepResult[] = [], failed?: string) {
  const failure = incident.phaseResult(phase, {
    phase,
    steps,
    ...(failed ? { failed: { stepId: failed, error: 'peer down' } } : {}),
  });
  incident.phaseEnded(phase);
  return incident.afterPhase(phase, failure);
}

/** Runs a phase that needs nobody through to its end. */
export function runPhase(incident: Incident, phase: Phase, steps: StepResult[] = []): void {
  startPhase(incident, phase);
  const next = endPhase(incident, phase, steps);
  if (next !== 'next') throw new Error(`phase ${phase}: expected to go on, got ${next}`);
  incident.finishPhase(phase);
}
