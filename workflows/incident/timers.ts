// The incident's durable timers: the escalation deadline (the policy's next trigger), the internal status update at
// the severity's cadence, a runbook's automatic resolve (auto-resolve.ts) and follow-up reminders (follow-ups.ts).
// The first two wake on every change of the Incident (its `version`) and re-arm at once.
// With the stable-timers patch a timer is kept while its deadline stays the same (DeadlineTimer); before it, each
// change cancelled and restarted it, and histories recorded then replay that way.
import { condition } from '@temporalio/workflow';
import { statusUpdateInterval } from '../../domain/status-updates';
import { DeadlineTimer, onDeadline } from '../deadline-timer';
import { isPatched, patchOnce } from '../patches';
import { runAutoResolve } from './auto-resolve';
import { runFollowUpReminders } from './follow-ups';
import type { Incident, StatusUpdateNotice } from './incident';

/** Every durable timer of the incident (escalation, status updates, automatic resolve, follow-up reminders). */
export async function runIncidentTimers(incident: Incident): Promise<void> {
  const stableTimers = isPatched('stable-timers');
  const escalation = runEscalationTimer(incident, stableTimers);
  const statusUpdates = runStatusUpdates(incident, stableTimers, (notice) => incident.sendNotice(notice));
  const autoResolve = runAutoResolve(incident);
  const reminders = runFollowUpReminders(incident);
  await escalation;
  await statusUpdates;
  await autoResolve;
  await reminders;
}

/** Fires escalations when their deadline passes, until the incident ends. */
export async function runEscalationTimer(incident: Incident, stableTimers: boolean): Promise<void> {
  if (stableTimers) {
    return onDeadline(incident, {
      done: () => incident.terminal,
      deadline: () => incident.nextEscalationAt,
      due: () => incident.evaluateEscalations(),
    });
  }
  while (!incident.terminal) {
    const seen = incident.version;
    const deadline = incident.nextEscalationAt;
    if (deadline === undefined) await condition(() => incident.version !== seen);
    else if (!(await condition(() => incident.version !== seen, Math.max(1, deadline - Date.now())))) {
      incident.clockAtLeast(deadline);
      incident.evaluateEscalations();
    }
  }
}

/**
 * While the incident is active, one status update every interval of its current severity, counted from the last one
 * (or the opening); `send` notifies it. Incidents started before the status-updates patch never send them.
 */
export async function runStatusUpdates(
  incident: Incident,
  stableTimers: boolean,
  send: (notice: StatusUpdateNotice) => void,
): Promise<void> {
  if (!isPatched('status-updates')) return;
  const stable = patchOnce('status-update-stable');
  const onCadence = patchOnce('status-update-on-cadence');
  const timer = stableTimers ? new DeadlineTimer() : undefined;
  const { escalation } = incident.input.plan;
  // Kept on the Incident so a run that continues as new carries the cadence on.
  const cadence = incident.statusUpdates;
  while (!incident.terminal) {
    const seen = incident.version;
    const active = incident.state.status === 'active';
    const interval = statusUpdateInterval(escalation, incident.state.severity);
    const dueAt = cadence.lastAt + interval;
    if (!active || dueAt > incident.now()) {
      const at = active ? dueAt : undefined;
      if (timer) {
        timer.set(at);
        await condition(() => incident.version !== seen || timer.fired);
        // Fired: the next turn finds the update due and sends it.
        const fired = timer.take();
        if (fired !== undefined) incident.clockAtLeast(fired);
      } else if (at === undefined) await condition(() => incident.version !== seen);
      else await condition(() => incident.version !== seen, at - Date.now());
      continue;
    }
    const n = ++cadence.sent;
    const firedAt = incident.now();
    // On cadence, the update speaks as of the instant it was due however late its timer fired on a loaded worker,
    // and the next one falls an interval after that instant (after a long pause it restarts from now).
    const asOf = onCadence() && firedAt - dueAt < interval ? dueAt : firedAt;
    cadence.lastAt = asOf;
    // Escalations due at this instant first, so the update reports the same level whatever order timers fire in.
    if (stable()) incident.evaluateEscalations();
    send(incident.statusUpdate(n, firedAt, stable(), asOf));
  }
  timer?.set(undefined);
}
