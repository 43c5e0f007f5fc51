// An incident as lists show it: what Temporal visibility keeps of it (its search attributes and times), and its title
// where the list asked for it. The engine holds the times as Dates; over HTTP (and in the console) they are ISO text.
// Types only: the console's browser code imports it too.

export interface IncidentSummary<Time = Date> {
  incidentId: string;
  title?: string;
  severity?: string;
  category?: string;
  phase?: string;
  status?: string;
  runbookId?: string;
  drill?: boolean;
  startTime: Time;
  closeTime?: Time;
}
