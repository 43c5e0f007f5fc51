// Shared set-up for workflow tests: an engine config in a temp dir wired to a real webhook sink, evidence sources
// with real files, and a way to start an incident directly (bypassing the registry) with a pinned plan.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { buildConfig, type EngineConfig } from '../../src/config';
import { parse as parseYaml } from 'yaml';
import { loadRunbookFile, pinnedPlan } from '../../src/runbooks/load';
import { Runbook, type RunbookPlan } from '../../domain/runbook';
import { type AlertSignalInput, OpenRequest } from '../../domain/messages';
import type { IncidentInput } from '../../workflows/definitions';
import { tempDir } from './temp-dirs';

export const RUNBOOK_DIR = path.resolve(import.meta.dirname, '../../runbooks');

export { tempDir } from './temp-dirs';

/** A data dir with logs/, config/ and backups/ holding real files, and a config whose channels go to `sinkUrl`. */
export function makeEngineConfig(sinkUrl: string | undefined, taskQueue: string): EngineConfig {
  const base = tempDir('incident-engine');
  for (const [dir, file, text] of [
    ['logs', 'audit.log', 'login failed for admin from 203.0.113.7\n'],
    ['config', 'app.yaml', 'safe_mode: disabled\n'],
    ['backups', 'latest.txt', 'backup 2026-11-22\n'],
  ] as const) {
    mkdirSync(path.join(base, dir), { recursive: true });
    writeFileSync(path.join(base, dir, file), text);
  }
  return buildConfig(
    {
      dataDir: 'data',
      taskQueue,
      channels: sinkUrl ? { sink: { type: 'webhook', url: sinkUrl, headers: {} } } : {},
      audiences: sinkUrl ? { internal: 'sink', external: 'sink', L1: 'sink', L2: 'sink', L3: 'sink' } : {},
    },
    base,
  );
}

/** An alert label for every target a shipped runbook step can take from the alert, and a critical severity label. */
export const ALERT_TARGET_LABELS = {
  source_ip: '203.0.113.7',
  user: 'user-4711',
  endpoint: 'POST /api/upload',
  key_id: 'ci-deploy-key',
  path: '/srv/app/uploads/user-7/invoice.pdf.exe',
  breaker: 'file-uploads',
  severity: 'critical',
} as const;

export function plan(id: string): RunbookPlan {
  return loadRunbookFile(path.join(RUNBOOK_DIR, `${id}.yaml`));
}

/** A plan from the YAML of some phases (the others empty), validated and compiled like a loaded runbook. */
export function planFromPhases(id: string, eventTypes: string[], phasesYaml: string, source: string): RunbookPlan {
  const phases = parseYaml(phasesYaml) as Record<string, unknown>;
  const runbook = Runbook.parse({
    id,
    version: 1,
    title: id,
    category: 'security',
    eventTypes,
    phases: { detect: {}, contain: {}, eradicate: {}, recover: {}, 'post-incident': {}, ...phases },
  });
  return pinnedPlan(runbook, { contentHash: 'test', source });
}

/**
 * A long incident's runbook for the continue-as-new test and recorded history: detect waits on a person's task,
 * containment tells the team, post-incident waits for an operator.
 */
export function waitingOnTaskPlan(id: string, source: string): RunbookPlan {
  return planFromPhases(
    id,
    ['service_outage'],
    `
detect:
  steps:
    - id: confirm-scope
      action: task
      with: { instructions: Confirm which services are down. }
contain:
  steps:
    - id: tell-the-team
      action: notify.send
      with: { audience: internal, message: '\${incident.id} contained' }
post-incident: { advance: manual }
`,
    source,
  );
}

/** The long incident's n-th alert: one node of the outage, a fingerprint of its own. */
export function nodeAlert(n: number): AlertSignalInput {
  return {
    status: 'firing',
    source: 'prometheus',
    summary: `checkout 5xx on node ${n}`,
    labels: { node: `node-${n}` },
    fingerprint: `node-${n}`,
  };
}

/** The long incident's first `count` alerts. */
export function nodeAlerts(count: number): AlertSignalInput[] {
  return Array.from({ length: count }, (_, n) => nodeAlert(n));
}

export function incidentInput(
  incidentId: string,
  runbook: RunbookPlan,
  request: Partial<OpenRequest> = {},
): IncidentInput {
  return { ...OpenRequest.parse({ title: 'test incident', trigger: 'test', ...request }), incidentId, plan: runbook };
}

export async function startIncident(client: Client, taskQueue: string, input: IncidentInput) {
  return client.workflow.start('incidentWorkflow', { workflowId: input.incidentId, taskQueue, args: [input] });
}
