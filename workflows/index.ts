// Every workflow the worker registers: the bundle's entry point (workflowsPath).
export { incidentWorkflow } from './incident/workflow';
export { incidentRegistryWorkflow } from './registry';
export { runbookPlanWorkflow } from './runbook-plan';
export { detectPhase } from './phases/detect';
export { containPhase } from './phases/contain';
export { eradicatePhase } from './phases/eradicate';
export { recoverPhase } from './phases/recover';
export { postIncidentPhase } from './phases/post-incident';
export { detectPhaseV2, containPhaseV2, eradicatePhaseV2, recoverPhaseV2, postIncidentPhaseV2 } from './phases/v2';
export { alertStreamWorkflow } from './alert-stream';
export { periodicReportWorkflow, scheduledDrillWorkflow } from './reports';
export { followUpRemindersWorkflow } from './follow-up-reminders';
