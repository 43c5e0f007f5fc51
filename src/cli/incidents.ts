// What the CLI's incident commands (open, list, show, watch and the updates) need of the engine, and its break-glass
// implementation: straight to Temporal through IncidentClient, with no API role, so the incident records each update
// as `breakGlass` on its timeline. The HTTP API implementation is api-incidents.ts.
import type { z } from 'zod';
import type { IncidentClient, IncidentSummary, ListFilter } from '../client';
import { findRunbook } from '../runbooks/load';
import type { TimelineEvent } from '../../domain/incident';
import type { OpenRequest } from '../../domain/messages';
import type { UpdateName, UpdateRequest } from '../../domain/updates';
import type { IncidentStatusView, OpenIncidentResult } from '../../workflows/definitions';

/** What `open` asks for; who opened it (the trigger) is up to the implementation. */
export type OpenCommand = Omit<z.input<typeof OpenRequest>, 'trigger'>;

export interface CliIncidents {
  /** Opens an incident with the runbook of that id. */
  open(request: OpenCommand, runbookId: string): Promise<OpenIncidentResult>;
  list(filter: ListFilter): Promise<IncidentSummary[]>;
  status(incidentId: string): Promise<IncidentStatusView>;
  timeline(incidentId: string): Promise<TimelineEvent[]>;
  send<N extends UpdateName>(incidentId: string, name: N, input: UpdateRequest<N>): Promise<IncidentStatusView>;
}

/** Straight to Temporal: runbooks from this checkout, opened as `operator:<actor>`. */
export function temporalIncidents(client: IncidentClient, actor: string): CliIncidents {
  return {
    open: (request, runbookId) => client.open({ ...request, trigger: `operator:${actor}` }, findRunbook(runbookId)),
    list: (filter) => client.list(filter),
    status: (id) => client.status(id),
    timeline: (id) => client.timeline(id),
    send: (id, name, input) => client.send(id, name, input),
  };
}
