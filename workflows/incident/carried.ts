// What a long incident carries into its next run when it continues as new (workflow.ts): everything the Incident
// holds that its history alone would have rebuilt, and the status-update cadence. The carried value is one payload,
// so it is bounded: past MAX_CARRIED_BYTES the oldest timeline events stay in the earlier runs' histories (the
// export reads every run) and the new run counts them in `timelineOmitted`. Pure: no Temporal calls.
import type { IncidentState, TimelineEvent } from '../../domain/incident';
import { jsonBytes, utf8Bytes } from '../../domain/utf8';
import type { WaitingStep } from '../definitions';
import type { Stage } from './incident';

/**
 * UTF-8 bytes of JSON one run hands the next. Temporal refuses a payload past 2 MB; the rest of the input (the plan,
 * the opening request) is bounded by the runbook and request limits and stays well under the remaining room.
 */
export const MAX_CARRIED_BYTES = 1_200_000;

/** How a phase child ended, as it reported itself (phase_ended): all a later run can learn of a child it did not start. */
export interface PhaseEnd {
  phase: IncidentState['phase'];
  failed?: { stepId: string; error: string };
  stopped?: string;
  /** The child failed outright (not a step: its own code or a timeout). */
  error?: string;
}

export interface CarriedIncident {
  /** The number of the run that carried it over (the first run is 1). */
  run: number;
  state: IncidentState;
  timeline: TimelineEvent[];
  /** Timeline events left in earlier runs' histories because the carried value would have been too large. */
  timelineOmitted: number;
  version: number;
  nextEscalationAt?: number;
  stage: Stage;
  advanceRequested: boolean;
  waiting: (WaitingStep & { deciding?: boolean })[];
  acceptedSteps: string[];
  lastFactsSent?: string;
  basis: 'opener' | 'assessment';
  alertsQuietSince?: number;
  phaseEnd?: PhaseEnd;
  statusUpdates: { sent: number; lastAt: number };
  /** The ids of the last updates applied (applied-updates.ts): a repeat of one in the next run is not applied again. */
  appliedUpdateIds?: string[];
}

/**
 * `carried` with as many of the newest timeline events as fit in MAX_CARRIED_BYTES; undefined when even the rest of
 * the state does not fit (the run then does not continue as new, and its update budget still bounds it).
 */
export function fitCarried(carried: CarriedIncident): CarriedIncident | undefined {
  const { timeline, ...rest } = carried;
  // Whether the rest fits is still decided in characters, as before sizes were counted in bytes: that decision is
  // whether the run continues as new at all, which a replay of a run that did must repeat. The notes, lessons and
  // follow-ups that make up most of it are bounded in bytes (MAX_RECORDS_BYTES) well inside this.
  const restJson = JSON.stringify(rest);
  if (restJson.length > MAX_CARRIED_BYTES) return undefined;
  // How many timeline events go along only shapes the next run's input, which a replay does not compare: in bytes.
  let room = Math.max(0, MAX_CARRIED_BYTES - utf8Bytes(restJson));
  // Newest first, while they fit: `omitted` ends as the number of oldest events left out.
  let omitted = timeline.length;
  while (omitted > 0) {
    const size = jsonBytes(timeline[omitted - 1]) + 1;
    if (size > room) break;
    room -= size;
    omitted--;
  }
  if (omitted === 0) return carried;
  return { ...carried, timeline: timeline.slice(omitted), timelineOmitted: carried.timelineOmitted + omitted };
}
