// Names and kinds of the custom search attributes every incident carries. Registered on the dev server at start,
// upserted by the incident workflow, filtered on by `list`. Plain data: sandbox-safe.
export const INCIDENT_SEARCH_ATTRIBUTES = {
  IncidentSeverity: 'Keyword',
  IncidentCategory: 'Keyword',
  IncidentPhase: 'Keyword',
  IncidentStatus: 'Keyword',
  RunbookId: 'Keyword',
  IsDrill: 'Bool',
} as const;

export type IncidentSearchAttributeName = keyof typeof INCIDENT_SEARCH_ATTRIBUTES;
