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
export { detectPhaseV3, containPhaseV3, eradicatePhaseV3, recoverPhaseV3, postIncidentPhaseV3 } from './phases/v3';
export { alertStreamWorkflow } from './alert-stream';
export { periodicReportWorkflow, scheduledDrillWorkflow } from './reports';
export { followUpRemindersWorkflow } from './follow-up-reminders';
