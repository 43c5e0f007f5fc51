// Undoing what a runbook did: on a false positive (with the false-positive-compensates patch) or a failed phase, the
// completed steps that have an undo run it, newest first; a failed undo is recorded and the rest still run.
import { actionActivity, describeFailure } from '../steps';
import type { Incident } from './incident';

export async function compensate(incident: Incident): Promise<void> {
  const reason = incident.compensationReason();
  const { incidentId } = incident;
  for (const { step, planned } of reason ? incident.compensation(reason) : []) {
    const undo = step.undo!;
    try {
      await actionActivity(undo.action, {
        ...(planned?.timeoutMs !== undefined ? { timeoutMs: planned.timeoutMs } : {}),
        ...(planned?.retry ? { retry: planned.retry } : {}),
      })({
        incidentId,
        phase: step.phase,
        stepId: step.stepId,
        action: undo.action,
        params: undo.with,
        drill: incident.state.drill,
        idempotencyKey: `${incidentId}/${step.stepId}/undo`,
      });
      incident.compensated(step);
    } catch (error) {
      incident.compensated(step, describeFailure(error));
    }
  }
}
