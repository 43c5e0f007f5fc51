// One incident, from opening to close, wired to Temporal: the Incident (incident.ts) holds the state and every rule;
// this file registers its handlers (one per entry of the update table, domain/updates.ts), runs the five phases as
// child workflows, keeps the escalation and status-update timers, and undoes completed steps on a false positive or
// a failed phase. Deterministic: time comes from the workflow clock, effects from activities and signals.
import {
  CancellationScope,
  allHandlersFinished,
  condition,
  currentUpdateInfo,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  proxyActivities,
  type SignalDefinition,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { UpdateDefinition } from '@temporalio/common';
import type { createActivities } from '../../activities';
import { type Phase, PHASES } from '../../domain/incident';
import { timelinePage } from '../../domain/timeline-page';
import { UPDATE_NAMES, type UpdateInput, type UpdateName } from '../../domain/updates';
import {
  type IncidentInput,
  type IncidentStartInput,
  type IncidentOutcome,
  type IncidentStatusView,
  incidentUpdates,
  phaseFactsSignal,
  statusQuery,
  stepDecisionSignal,
  stopPhaseSignal,
  timelineQuery,
  timelinePageQuery,
} from '../definitions';
import { NOTIFY_OPTIONS } from '../notify-options';
import { patchOnce } from '../patches';
import { loadPinnedPlan } from '../runbook-plan';
import { containPhase } from '../phases/contain';
import { detectPhase } from '../phases/detect';
import { eradicatePhase } from '../phases/eradicate';
import { postIncidentPhase } from '../phases/post-incident';
import { recoverPhase } from '../phases/recover';
import { incidentSearchAttributes } from '../search-attributes';
import type { PhaseInput, PhaseResult } from '../steps';
import { Incident, type UpdateEffect, failureMessage, parseUpdate } from './incident';
import { handleSignals } from './signals';
import { announceClosed, recordAtClose, startFollowUpReminders } from './closing';
import { compensate } from './compensation';
import { runIncidentTimers } from './timers';

const { notifyEscalation, notifyIncident } = proxyActivities<ReturnType<typeof createActivities>>(NOTIFY_OPTIONS);

const PHASE_WORKFLOWS: Record<Phase, (input: PhaseInput) => Promise<PhaseResult>> = {
  detect: detectPhase,
  contain: containPhase,
  eradicate: eradicatePhase,
  recover: recoverPhase,
  'post-incident': postIncidentPhase,
};

export async function incidentWorkflow(started: IncidentStartInput): Promise<IncidentOutcome> {
  // Opened through the registry: the plan comes by reference and is pinned here (a local activity's marker).
  const input: IncidentInput = started.plan
    ? { ...started, plan: started.plan }
    : { ...started, plan: await loadPinnedPlan(started.runbook) };
  const { incidentId } = input;
  const now = (): number => Date.now();
  const notifications: Promise<void>[] = [];
  let phaseScope: CancellationScope | undefined;

  /** Sends a signal to the running phase child; a child that has just finished is not an error. */
  async function signalPhase<T extends unknown[]>(phase: Phase, signal: SignalDefinition<T>, ...args: T) {
    try {
      await getExternalWorkflowHandle(`${incidentId}.${phase}`).signal(signal, ...args);
    } catch (error) {
      log.warn('could not signal the phase', { incidentId, phase, error: failureMessage(error) });
    }
  }

  const notifyFailed = (audience: string) => (error: unknown) => {
    incident.record({ at: now(), type: 'notification_failed', audience, error: failureMessage(error) });
  };
  const incident: Incident = new Incident(
    input,
    now,
    {
      publish: () => upsertSearchAttributes(incidentSearchAttributes(incident.state)),
      notify: (fired) =>
        void notifications.push(
          notifyEscalation(incident.escalationNotice(fired)).then(() => undefined, notifyFailed(fired.audience)),
        ),
      sendFacts: (phase, facts) => void signalPhase(phase, phaseFactsSignal, facts),
      cancelPhase: () => phaseScope?.cancel(),
      tell: (notice) => void notifications.push(notifyIncident(notice).then(() => undefined, notifyFailed('internal'))),
      historyLength: () => workflowInfo().historyLength,
    },
    {
      alertLabels: patchOnce('alert-labels'),
      alertLifecycle: patchOnce('alert-lifecycle'),
      combinedSeverity: patchOnce('combined-severity'),
      falsePositiveCompensates: patchOnce('false-positive-compensates'),
      phaseFailureCompensates: patchOnce('phase-failure-compensates'),
      senderRecorded: patchOnce('sender-recorded'),
    },
  );

  // ---- messages -------------------------------------------------------------------------------------------

  setHandler(statusQuery, () => incident.view());
  setHandler(timelineQuery, () => incident.timeline);
  setHandler(timelinePageQuery, (request) => timelinePage(incident.timeline, request));
  handleSignals(incident);

  /** Inputs the validator parsed, by update id, for its handler (a replay runs no validator: the handler parses). */
  const parsedInputs = new Map<string, unknown>();

  /**
   * What an accepted update still waits for before it answers (incident.ts, UpdateEffect). Each path keeps the
   * awaits the handlers always had: the moment an update completes is a command, and recorded histories replay it.
   */
  async function follow(effect: Exclude<UpdateEffect, { kind: 'answer' }>): Promise<IncidentStatusView> {
    switch (effect.kind) {
      case 'cancelled':
        break;
      case 'wait':
        await condition(effect.until);
        break;
      case 'stop':
        if (effect.phase) {
          await condition(() => incident.childStarted || !incident.phaseRunning);
          if (incident.phaseRunning && incident.state.phase === effect.phase) {
            await signalPhase(effect.phase, stopPhaseSignal, { reason: effect.reason });
          }
        }
        await condition(() => incident.closed);
        break;
      case 'decide': {
        const { decision } = effect;
        await signalPhase(incident.beginDecision(decision), stepDecisionSignal, decision);
        await condition(() => incident.decisionSettled(decision.stepId));
        incident.finishDecision(decision.stepId);
        break;
      }
    }
    return incident.view();
  }

  /** One handler per entry of the update table: the validator parses and checks, the handler applies. */
  function register<N extends UpdateName>(name: N): void {
    setHandler(
      incidentUpdates[name] as UpdateDefinition<IncidentStatusView, [unknown]>,
      (raw) => {
        const id = currentUpdateInfo()?.id ?? '';
        // On replay no validator runs: the handler parses (a recorded update was valid when accepted).
        const value = parsedInputs.has(id) ? (parsedInputs.get(id) as UpdateInput<N>) : parseUpdate(name, raw);
        parsedInputs.delete(id);
        const effect = incident.apply(name, value);
        return effect.kind === 'answer' ? incident.view() : follow(effect);
      },
      {
        validator: (raw) => {
          const value = parseUpdate(name, raw);
          incident.check(name, value);
          parsedInputs.set(currentUpdateInfo()?.id ?? '', value);
        },
      },
    );
  }
  for (const name of UPDATE_NAMES) register(name);

  // ---- timers ---------------------------------------------------------------------------------------------

  incident.open();
  const timers = runIncidentTimers(incident);

  // ---- phases ---------------------------------------------------------------------------------------------

  for (const phase of PHASES) {
    if (incident.isFalsePositive) break;
    incident.startPhase(phase);
    let failure: string | undefined;
    let cancelled = false;
    try {
      const scope = new CancellationScope();
      phaseScope = scope;
      // startChild then result: the same commands as executeChild, but the incident knows when the child exists.
      const child = await scope.run(() =>
        startChild(PHASE_WORKFLOWS[phase], {
          workflowId: `${incidentId}.${phase}`,
          args: [incident.phaseInput(phase)],
        }),
      );
      incident.phaseChildStarted();
      failure = incident.phaseResult(phase, await scope.run(() => child.result()));
    } catch (error) {
      cancelled = isCancellation(error) && incident.isFalsePositive;
      if (!cancelled) failure = failureMessage(error);
    } finally {
      phaseScope = undefined;
      incident.phaseEnded(phase);
    }
    if (cancelled) break;
    const next = incident.afterPhase(phase, failure);
    if (next === 'stop') break;
    if (next === 'wait') await condition(() => incident.advanceReady);
    if (!incident.finishPhase(phase)) break;
  }

  await compensate(incident);
  incident.close();
  await timers;
  await Promise.all(notifications);
  await startFollowUpReminders(incident);
  await recordAtClose(incident);

  await announceClosed(input, incident.state);
  await condition(allHandlersFinished);
  return { incidentId, status: incident.state.status, metrics: incident.view().metrics };
}
