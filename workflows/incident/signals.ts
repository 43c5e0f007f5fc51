// The signals the incident takes: its phase children's step events, single alerts (a detector or a person signalling
// directly, drills), batches forwarded by its alert stream (workflows/alert-stream.ts), and the stream's exact counts.
// Each payload is parsed; a bad one is logged and ignored, never failing the workflow task.
import { log, setHandler } from '@temporalio/workflow';
import { AlertCounts } from '../../domain/alert-book';
import { AlertBatch, AlertSignalInput } from '../../domain/messages';
import { alertBatchSignal, alertCountsSignal, alertSignal, stepEventSignal } from '../definitions';
import type { Incident } from './incident';
import { readableStepEvent } from './step-events';

export function handleSignals(incident: Incident): void {
  const ignored = (what: string, error: string) =>
    log.warn(`${what} ignored: invalid payload`, { incidentId: incident.incidentId, error });
  setHandler(stepEventSignal, (raw) => {
    const event = readableStepEvent(raw, incident.incidentId);
    if (event) incident.onStepEvent(event);
  });
  setHandler(alertSignal, (raw) => {
    const parsed = AlertSignalInput.safeParse(raw);
    if (parsed.success) incident.onAlert(parsed.data);
    else ignored('alert signal', parsed.error.message);
  });
  setHandler(alertBatchSignal, (raw) => {
    const parsed = AlertBatch.safeParse(raw);
    if (parsed.success) parsed.data.forEach((alert) => incident.onAlert(alert));
    else ignored('alert batch', parsed.error.message);
  });
  setHandler(alertCountsSignal, (raw) => {
    const parsed = AlertCounts.safeParse(raw);
    if (parsed.success) incident.onAlertCounts(parsed.data);
    else ignored('alert counts', parsed.error.message);
  });
}
