// One incident, from opening to close, wired to Temporal: the Incident (incident.ts) holds the state and every rule;
// this file registers its handlers (one per entry of the update table, domain/updates.ts), runs the five phases as
// child workflows, keeps the escalation and status-update timers, and undoes completed steps on a false positive or
// a failed phase. Deterministic: time comes from the workflow clock, effects from activities and signals.
import {
  type CancellationScope,
  allHandlersFinished,
  condition,
  continueAsNew,
  currentUpdateInfo,
  getExternalWorkflowHandle,
  log,
  proxyActivities,
  type SignalDefinition,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { UpdateDefinition } from '@temporalio/common';
import type { createActivities } from '../../activities';
import type { Phase } from '../../domain/incident';
import { timelinePage } from '../../domain/timeline-page';
import { UPDATE_NAMES, type UpdateInput, type UpdateName } from '../../domain/updates';
import {
  type IncidentInput,
  type IncidentStartInput,
  type IncidentOutcome,
  type IncidentStatusView,
  incidentUpdates,
  openingAlertsQuery,
  phaseFactsSignal,
  statusQuery,
  stepDecisionSignal,
  stopPhaseSignal,
  timelineQuery,
  timelinePageQuery,
} from '../definitions';
import { NOTIFY_OPTIONS } from '../notify-options';
import { isPatched, patchOnce } from '../patches';
import { loadPinnedPlan } from '../runbook-plan';
import { incidentSearchAttributes } from '../search-attributes';
import { Incident, type UpdateEffect, failureMessage, parseUpdate } from './incident';
import { handleSignals } from './signals';
import { announceClosed, recordAtClose, startFollowUpReminders } from './closing';
import { compensate } from './compensation';
import { PublishedAttributes } from './published-attributes';
import { AppliedUpdates } from './applied-updates';
import { Continuation } from './continuation';
import { finalRecord } from './final-record';
import { type PhaseRun, askPhaseEnd, phaseChildId, runPhases } from './phases';
import { runIncidentTimers } from './timers';

const { notifyEscalation, notifyIncident } = proxyActivities<ReturnType<typeof createActivities>>(NOTIFY_OPTIONS);

export async function incidentWorkflow(started: IncidentStartInput): Promise<IncidentOutcome> {
  // Opened through the registry: the plan comes by reference and is pinned here (a local activity's marker).
  const input: IncidentInput = started.plan
    ? { ...started, plan: started.plan }
    : { ...started, plan: await loadPinnedPlan(started.runbook) };
  const { incidentId, carried } = input;
  const now = (): number => Date.now();
  const notifications: Promise<void>[] = [];
  let phaseScope: CancellationScope | undefined;
  // Asked once per run: a carried run is always a new one, so it continues as new in turn.
  const continues = isPatched('incident-continues-as-new');

  /** Sends a signal to the running phase child; a child that has just finished is not an error. */
  function signalPhase<T extends unknown[]>(phase: Phase, signal: SignalDefinition<T>, ...args: T): Promise<void> {
    const sent = getExternalWorkflowHandle(phaseChildId(incidentId, phase))
      .signal(signal, ...args)
      .catch((error: unknown) =>
        log.warn('could not signal the phase', { incidentId, phase, error: failureMessage(error) }),
      );
    return continuation.track(sent);
  }
  /** A notification (an activity) the incident does not wait for, except before it closes or continues as new. */
  const notify = (sent: Promise<void>) => void notifications.push(continuation.track(sent));

  const notifyFailed = (audience: string) => (error: unknown) => {
    incident.record({ at: now(), type: 'notification_failed', audience, error: failureMessage(error) });
  };
  const published = new PublishedAttributes(patchOnce('search-attributes-changed-only'));
  const incident: Incident = new Incident(
    input,
    now,
    {
      publish: () => published.publish(incidentSearchAttributes(incident.state)),
      notify: (fired) =>
        notify(notifyEscalation(incident.escalationNotice(fired)).then(() => undefined, notifyFailed(fired.audience))),
      sendFacts: (phase, facts) => void signalPhase(phase, phaseFactsSignal, facts),
      cancelPhase: () => phaseScope?.cancel(),
      tell: (notice) => notify(notifyIncident(notice).then(() => undefined, notifyFailed('internal'))),
      historyLength: () => workflowInfo().historyLength,
    },
    {
      alertLabels: patchOnce('alert-labels'),
      alertLifecycle: patchOnce('alert-lifecycle'),
      combinedSeverity: patchOnce('combined-severity'),
      severityWithoutLabels: patchOnce('severity-without-labels'),
      falsePositiveCompensates: patchOnce('false-positive-compensates'),
      phaseFailureCompensates: patchOnce('phase-failure-compensates'),
      senderRecorded: patchOnce('sender-recorded'),
    },
    carried,
  );
  const continuation = new Continuation(
    continues,
    incident,
    input.continueAsNewAfterEvents,
    continues && isPatched('continue-at-recorded-length'),
  );

  // ---- messages -------------------------------------------------------------------------------------------

  setHandler(statusQuery, () => incident.view());
  setHandler(timelineQuery, () => incident.timeline);
  setHandler(timelinePageQuery, (request) => timelinePage(incident.timeline, request));
  setHandler(openingAlertsQuery, () => input.alerts ?? []);
  handleSignals(incident);

  /** Updates applied by this run and the runs before it that it carried on from (their ids). */
  const applied = new AppliedUpdates(carried?.appliedUpdateIds);
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
    continuation.noteUpdate();
    return incident.view();
  }

  /** One handler per entry of the update table: the validator parses and checks, the handler applies. */
  function register<N extends UpdateName>(name: N): void {
    setHandler(
      incidentUpdates[name] as UpdateDefinition<IncidentStatusView, [unknown]>,
      (raw) => {
        continuation.noteUpdate();
        const id = currentUpdateInfo()?.id ?? '';
        // An update the run before applied, handed to this run again: answered, not applied twice.
        if (applied.has(id)) return incident.view();
        applied.add(id);
        // On replay no validator runs: the handler parses (a recorded update was valid when accepted).
        const value = parsedInputs.has(id) ? (parsedInputs.get(id) as UpdateInput<N>) : parseUpdate(name, raw, true);
        parsedInputs.delete(id);
        const effect = incident.apply(name, value);
        return effect.kind === 'answer' ? incident.view() : follow(effect);
      },
      {
        validator: (raw) => {
          // A repeat of an applied update is accepted as it was the first time; its handler only answers.
          if (applied.has(currentUpdateInfo()?.id ?? '')) return;
          const value = parseUpdate(name, raw);
          incident.check(name, value);
          parsedInputs.set(currentUpdateInfo()?.id ?? '', value);
        },
      },
    );
  }
  for (const name of UPDATE_NAMES) register(name);

  // ---- timers ---------------------------------------------------------------------------------------------

  // A carried incident was opened by its first run; this run only publishes its search attributes again.
  if (carried) published.publish(incidentSearchAttributes(incident.state));
  else incident.open();
  const timers = runIncidentTimers(incident);
  void continuation.keepAwake(() => incident.closed);

  // ---- phases ---------------------------------------------------------------------------------------------

  const phaseRun: PhaseRun = {
    incident,
    continues,
    continueNow: () => !phaseRun.holdContinue && continuation.due(),
    setScope: (scope) => (phaseScope = scope),
  };
  while ((await runPhases(phaseRun)) === 'continue') {
    // A running phase child outlives this run only once it has been asked to tell the next run how it ends.
    if (incident.childStarted && incident.phaseEnd === undefined && !(await askPhaseEnd(phaseRun))) continue;
    const next = continuation.carry(applied.carry());
    if (next) {
      const { runbook: _reference, ...request } = started;
      await continueAsNew<typeof incidentWorkflow>({ ...request, plan: input.plan, carried: next });
    }
  }

  await compensate(incident);
  incident.close();
  await timers;
  await Promise.all(notifications);
  await startFollowUpReminders(incident);
  await recordAtClose(incident);

  await announceClosed(input, incident.state);
  await condition(allHandlersFinished);
  const view = incident.view();
  return { incidentId, status: view.status, metrics: view.metrics, final: finalRecord(view, incident.timeline) };
}
