// Typed search attribute keys of an incident, and the values the incident publishes. Sandbox-safe.
import { defineSearchAttributeKey, type SearchAttributeUpdatePair } from '@temporalio/common';
import type { IncidentState } from '../domain/incident';

export const IncidentSeverityKey = defineSearchAttributeKey('IncidentSeverity', 'KEYWORD');
export const IncidentCategoryKey = defineSearchAttributeKey('IncidentCategory', 'KEYWORD');
export const IncidentPhaseKey = defineSearchAttributeKey('IncidentPhase', 'KEYWORD');
export const IncidentStatusKey = defineSearchAttributeKey('IncidentStatus', 'KEYWORD');
export const RunbookIdKey = defineSearchAttributeKey('RunbookId', 'KEYWORD');
export const IsDrillKey = defineSearchAttributeKey('IsDrill', 'BOOL');

export function incidentSearchAttributes(state: IncidentState): SearchAttributeUpdatePair[] {
  return [
    { key: IncidentSeverityKey, value: state.severity },
    { key: IncidentCategoryKey, value: state.category },
    { key: IncidentPhaseKey, value: state.phase },
    { key: IncidentStatusKey, value: state.status },
    { key: RunbookIdKey, value: state.runbookId },
    { key: IsDrillKey, value: state.drill },
  ];
}
