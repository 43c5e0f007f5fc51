// A runbook's `autoResolve`: a durable timer that resolves the incident once every alert has resolved and none fired
// again for the quiet period, where a person's resolve would be allowed (after containment). A firing alert, a phase
// change or any other change re-checks the deadline; one that moves cancels the timer.
import { onDeadline } from '../deadline-timer';
import { isPatched } from '../patches';
import type { Incident } from './incident';

/** Runs until the incident ends; returns at once when its runbook asks for no automatic resolve. */
export async function runAutoResolve(incident: Incident): Promise<void> {
  const quietForMs = incident.input.plan.autoResolve?.quietForMs;
  if (quietForMs === undefined || !isPatched('auto-resolve')) return;
  await onDeadline(incident, {
    done: () => incident.terminal,
    deadline: () => incident.autoResolveAt(quietForMs),
    due: () => incident.autoResolve(quietForMs),
  });
}
