// Every workflow the worker registers: the bundle's entry point (workflowsPath).
export { incidentWorkflow } from './incident/workflow';
export { incidentRegistryWorkflow } from './registry';
export { runbookPlanWorkflow } from './runbook-plan';
export { detectPhase } from './phases/detect';
export { containPhase } from './phases/contain';
export { eradicatePhase } from './phases/eradicate';
export { recoverPhase } from './phases/recover';
export { postIncidentPhase } from './phases/post-incident';
export { alertStreamWorkflow } from './alert-stream';
export { periodicReportWorkflow, scheduledDrillWorkflow } from './reports';
export { followUpRemindersWorkflow } from './follow-up-reminders';
