// What a closed incident leaves in its result: its last status view and timeline. Reading a closed incident by query
// replays its whole history on a worker, which costs a replay per read, needs a worker, and fails when the worker's
// code cannot replay that history (a release with a nondeterministic change); the client reads this record instead
// (src/client.ts, src/temporal/final-record.ts). Bounded like the carried state: the result is one payload. Pure: no
// Temporal calls.
import type { TimelineEvent } from '../../domain/incident';
import type { IncidentStatusView } from '../definitions';
import { jsonBytes } from '../../domain/utf8';
import { MAX_CARRIED_BYTES } from './carried';

export interface FinalRecord {
  view: IncidentStatusView;
  timeline: TimelineEvent[];
}

/** The record, or undefined when it would not fit one payload (the incident is then read by query only). */
export function finalRecord(view: IncidentStatusView, timeline: TimelineEvent[]): FinalRecord | undefined {
  const record = { view, timeline };
  return jsonBytes(record) <= MAX_CARRIED_BYTES ? record : undefined;
}
