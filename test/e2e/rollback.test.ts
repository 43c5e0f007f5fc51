// Rollback end to end: a real worker (real activities) on the time-skipping server, configured from an
// incident-engine.yaml written here, containing an incident against the reference emergency API and control plane
// (real HTTP peers on loopback, bearer tokens from the environment), then undoing it. Two ways in: a false positive
// declared once containment is done, and a critical step that fails (an integrity check the application fails).
// Either way every containment step is undone newest first under its own idempotency key (`<incident>/<step>/undo`)
// and both peers end exactly as they were before the incident.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { IncidentClient } from '../../src/client';
import { type EngineConfig, loadConfig } from '../../src/config';
import { compileRunbook } from '../../src/runbooks/load';
import type { TimelineEvent } from '../../domain/incident';
import type { RunbookPlan } from '../../domain/runbook';
import { registerSearchAttributes } from '../../src/temporal/search-attributes';
import { bundleWorkflows, createWorker } from '../../src/worker';
import type { IncidentOutcome, IncidentStatusView } from '../../workflows/definitions';
import { type ControlPlaneServer, startControlPlaneServer } from '../helpers/control-plane-server';
import { type EmergencyApiServer, type JsonPeer, startEmergencyApiServer } from '../helpers/emergency-api-server';
import { tempDir } from '../helpers/incident-fixtures';
import { createTimeSkippingEnv } from '../helpers/temporal-env';
import { until } from '../helpers/time-skipping-engine';
import { type WebhookSink, startWebhookSink } from '../helpers/webhook-sink';

const TASK_QUEUE = 'rollback-e2e';
const EMERGENCY_TOKEN_ENV = 'ROLLBACK_E2E_EMERGENCY_TOKEN';
const CONTROL_PLANE_TOKEN_ENV = 'ROLLBACK_E2E_CONTROL_PLANE_TOKEN';

const SUSPICIOUS_PATH = '/srv/app/uploads/user-7/invoice.pdf.exe';
const ATTACKER_CIDR = '198.51.100.0/24';
const ACCOUNT = 'user-4711';
/** An endpoint name with a space and slashes: the connector URL must encode it as one path segment. */
const ENDPOINT = 'POST /api/upload';

let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
let incidents: IncidentClient;
/**
 * A plain client for outcomes: the time-skipping client's result() unlocks time skipping, and the test server then
 * skips time freely, also while a step's real HTTP request is in flight (and jumps 10 years once nothing runs).
 */
let outcomes: Client;
let config: EngineConfig;
let emergency: EmergencyApiServer;
let controlPlane: ControlPlaneServer;
let sink: WebhookSink;

beforeAll(async () => {
  [emergency, controlPlane, sink] = await Promise.all([
    startEmergencyApiServer({ token: 'emergency-e2e-token-5b1c' }),
    startControlPlaneServer('control-plane-e2e-token-77ad'),
    startWebhookSink(),
  ]);
  process.env[EMERGENCY_TOKEN_ENV] = emergency.token;
  process.env[CONTROL_PLANE_TOKEN_ENV] = controlPlane.token;

  // The config a deployment would have: tokens come from the environment, never from the file.
  const dir = tempDir('rollback-e2e');
  const auth = (name: string) => ({ Authorization: { fromEnv: name, prefix: 'Bearer ' } });
  const at = (suffix: string) => `${controlPlane.url}/v1/${suffix}`;
  const headers = auth(CONTROL_PLANE_TOKEN_ENV);
  writeFileSync(
    path.join(dir, 'incident-engine.yaml'),
    toYaml({
      dataDir: 'data',
      taskQueue: TASK_QUEUE,
      channels: { sink: { type: 'webhook', url: `${sink.url}/hooks/incidents` } },
      audiences: { internal: 'sink', external: 'sink', executive: 'sink', L1: 'sink', L2: 'sink', L3: 'sink' },
      emergencyApi: { baseUrl: emergency.url, headers: auth(EMERGENCY_TOKEN_ENV), timeoutMs: 5000 },
      connectors: {
        'firewall-block': {
          url: at('firewall/blocks'),
          headers,
          body: { targets: '${params.targets}', reason: '${params.reason}', incident: '${incident.id}' },
        },
        'firewall-unblock': {
          url: at('firewall/blocks'),
          method: 'DELETE',
          headers,
          body: { targets: '${params.targets}' },
        },
        'idp-suspend': { url: at('accounts/${params.account}/suspend'), headers },
        'idp-reinstate': { url: at('accounts/${params.account}/reinstate'), headers },
        'gateway-disable': { url: at('endpoints/${params.endpoint}/disable'), headers },
        'gateway-enable': { url: at('endpoints/${params.endpoint}/enable'), headers },
      },
      connectorFor: {
        'network.blockSource': 'firewall-block',
        'network.unblockSource': 'firewall-unblock',
        'accounts.suspend': 'idp-suspend',
        'accounts.reinstate': 'idp-reinstate',
        'endpoint.disable': 'gateway-disable',
        'endpoint.enable': 'gateway-enable',
      },
    }),
  );
  config = loadConfig(dir, {});

  env = await createTimeSkippingEnv();
  await registerSearchAttributes(env.connection);
  worker = await createWorker({
    connection: env.nativeConnection,
    namespace: 'default',
    config,
    workflowBundle: await bundleWorkflows(),
  });
  running = worker.run();
  incidents = new IncidentClient(env.client, TASK_QUEUE);
  outcomes = new Client({ connection: env.connection, namespace: 'default' });
});

afterAll(async () => {
  if (worker) {
    worker.shutdown();
    await running;
  }
  await env?.teardown();
  await Promise.all([emergency?.close(), controlPlane?.close(), sink?.close()]);
  delete process.env[EMERGENCY_TOKEN_ENV];
  delete process.env[CONTROL_PLANE_TOKEN_ENV];
});

// ---- the runbook ----------------------------------------------------------------------------------------------

/** Contain: six changes to the two peers (three of them in a parallel group), then a message that has no undo. */
const CONTAIN = `
  contain:
    steps:
      - id: safe-mode-emergency
        action: app.safeMode
        with: { level: Emergency }
      - id: kill-switch
        action: app.killSwitch
        with: { enabled: true }
      - id: quarantine-upload
        action: app.quarantine
        with: { path: '${SUSPICIOUS_PATH}' }
      - id: cut-off-uploader
        parallel:
          - id: block-uploader
            action: network.blockSource
            with: { targets: '${ATTACKER_CIDR}', reason: 'malicious uploads (\${incident.id})' }
          - id: suspend-uploader
            action: accounts.suspend
            with: { account: ${ACCOUNT} }
          - id: disable-uploads
            action: endpoint.disable
            with: { endpoint: '${ENDPOINT}' }
      - id: tell-team
        action: notify.send
        with: { message: '\${incident.id}: uploads contained' }`;

function runbook(id: string, eradicate: string): RunbookPlan {
  return compileRunbook(
    `
id: ${id}
version: 1
title: Malicious upload containment
category: security
eventTypes: [malicious_file_upload]
phases:
  detect: {}
${CONTAIN}
  eradicate:
${eradicate}
  recover:
    steps:
      - { id: tell-users, action: notify.send, with: { audience: external, message: 'Uploads are back.' } }
  post-incident: {}
`,
    `test/e2e/rollback.test.ts#${id}`,
  );
}

/** Each containment step, the undo the engine must run for it, and the request that undo makes at its peer. */
const UNDOS = [
  {
    stepId: 'safe-mode-emergency',
    undo: 'app.safeMode',
    peer: 'emergency',
    method: 'POST',
    path: '/api/emergency/safe-mode/restricted',
  },
  {
    stepId: 'kill-switch',
    undo: 'app.killSwitch',
    peer: 'emergency',
    method: 'POST',
    path: '/api/emergency/kill-switch/disable',
  },
  {
    stepId: 'quarantine-upload',
    undo: 'app.releaseQuarantine',
    peer: 'emergency',
    method: 'POST',
    path: '/api/security/quarantine/release',
  },
  {
    stepId: 'block-uploader',
    undo: 'network.unblockSource',
    peer: 'controlPlane',
    method: 'DELETE',
    path: '/v1/firewall/blocks',
  },
  {
    stepId: 'suspend-uploader',
    undo: 'accounts.reinstate',
    peer: 'controlPlane',
    method: 'POST',
    path: `/v1/accounts/${ACCOUNT}/reinstate`,
  },
  {
    stepId: 'disable-uploads',
    undo: 'endpoint.enable',
    peer: 'controlPlane',
    method: 'POST',
    path: `/v1/endpoints/${encodeURIComponent(ENDPOINT)}/enable`,
  },
] as const;
const UNDOABLE = UNDOS.map((u) => u.stepId) as string[];

// ---- the peers ------------------------------------------------------------------------------------------------

/** Both peers' whole state as plain, comparable data. */
function peerState() {
  const e = emergency.state;
  const c = controlPlane.state;
  const sorted = <T>(values: Iterable<T>) => [...values].map(String).sort();
  const entries = <V>(map: Map<string, V>) =>
    Object.fromEntries([...map.entries()].sort(([a], [b]) => a.localeCompare(b)));
  return structuredClone({
    emergency: {
      safeMode: e.safeMode,
      killSwitch: e.killSwitch,
      quarantined: sorted(e.quarantined),
      backups: sorted(e.backups),
      restores: e.restores,
      integrity: e.integrity,
    },
    controlPlane: {
      blocked: sorted(c.blocked),
      keys: entries(c.keys),
      revoked: c.revoked,
      accounts: entries(c.accounts),
      endpoints: entries(c.endpoints),
      breakers: entries(c.breakers),
    },
  });
}

/** A change made directly at a peer (not by the engine), as an operator would have made it before the incident. */
async function setUp(peer: JsonPeer, method: string, route: string, key: string, body?: unknown): Promise<void> {
  const response = await fetch(`${peer.url}${route}`, {
    method,
    headers: {
      Authorization: `Bearer ${peer.token}`,
      'Idempotency-Key': key,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  expect(response.status, `set-up ${method} ${route}`).toBeLessThan(300);
}

/** Before each incident: the application runs at Restricted and the upload endpoint is explicitly enabled. */
async function priorState(tag: string): Promise<void> {
  await setUp(emergency, 'POST', '/api/emergency/safe-mode/restricted', `set-up/${tag}/safe-mode`);
  await setUp(controlPlane, 'POST', `/v1/endpoints/${encodeURIComponent(ENDPOINT)}/enable`, `set-up/${tag}/endpoint`);
}

async function open(plan: RunbookPlan, title: string) {
  const { incidentId, created } = await incidents.open(
    { title, trigger: 'test:rollback-e2e', eventType: 'malicious_file_upload', severity: 'P2' },
    plan,
  );
  expect(created).toBe(true);
  return { incidentId, handle: outcomes.workflow.getHandle(incidentId) };
}

const status = (id: string): Promise<IncidentStatusView> => incidents.status(id);
const eventsOf = <T extends TimelineEvent['type']>(timeline: TimelineEvent[], type: T) =>
  timeline.filter((e): e is TimelineEvent & { type: T } => e.type === type);

/**
 * The undo happened as designed: the timeline undid exactly the undoable steps, newest completed first, each with its
 * inverse action; every undo reached its peer once, under `<incident>/<step>/undo`, with the inverse request, in the
 * same order; and the forward requests kept their own keys.
 */
async function expectRolledBack(
  incidentId: string,
  reason: 'false_positive' | 'phase_failed',
  /** Steps of this incident that also called a peer but have nothing to undo (e.g. a read). */
  otherSteps: string[] = [],
): Promise<void> {
  const timeline = await incidents.timeline(incidentId);
  const completed = eventsOf(timeline, 'step_completed').map((e) => e.stepId);
  const completedUndoable = completed.filter((id) => UNDOABLE.includes(id));
  expect([...completedUndoable].sort()).toEqual([...UNDOABLE].sort());
  const newestFirst = [...completedUndoable].reverse();

  expect(eventsOf(timeline, 'compensation_started')).toEqual([expect.objectContaining({ reason, steps: newestFirst })]);
  expect(eventsOf(timeline, 'step_compensated').map((e) => [e.stepId, e.undo])).toEqual(
    newestFirst.map((stepId) => [stepId, UNDOS.find((u) => u.stepId === stepId)!.undo]),
  );
  expect(eventsOf(timeline, 'compensation_failed')).toEqual([]);
  // The undo runs after everything else the incident did, and the close comes last.
  const types = timeline.map((e) => e.type);
  expect(types.indexOf('compensation_started')).toBeGreaterThan(types.lastIndexOf('step_completed'));
  expect(timeline.at(-1)).toMatchObject({
    type: 'closed',
    status: reason === 'false_positive' ? 'false_positive' : 'failed',
  });

  // The step results carry the undo the engine planned from what each peer answered.
  const s = await status(incidentId);
  expect(s.steps.find((r) => r.stepId === 'safe-mode-emergency')).toMatchObject({
    output: { level: 'Emergency', previous: 'Restricted' },
    undo: { action: 'app.safeMode', with: { level: 'Restricted' } },
  });
  expect(s.steps.find((r) => r.stepId === 'tell-team')).toMatchObject({ status: 'completed' });
  expect(s.steps.find((r) => r.stepId === 'tell-team')?.undo).toBeUndefined();

  // At the peers: each step's forward request under `<incident>/<step>`, its undo under `<incident>/<step>/undo`.
  const peers = { emergency, controlPlane };
  const ofIncident = (peer: JsonPeer) => peer.requests.filter((r) => r.idempotencyKey?.startsWith(`${incidentId}/`));
  for (const u of UNDOS) {
    const requests = ofIncident(peers[u.peer]);
    const forward = requests.filter((r) => r.idempotencyKey === `${incidentId}/${u.stepId}`);
    const undo = requests.filter((r) => r.idempotencyKey === `${incidentId}/${u.stepId}/undo`);
    expect(forward.length, `${u.stepId}: forward requests`).toBeGreaterThanOrEqual(1);
    expect(
      forward.every((r) => `${r.method} ${r.path}` !== `${u.method} ${u.path}`),
      `${u.stepId}: the forward key was never used for the undo`,
    ).toBe(true);
    expect(undo.length, `${u.stepId}: undo requests`).toBeGreaterThanOrEqual(1);
    expect(undo.map((r) => [r.method, r.path, r.authorized, r.status])).toEqual(
      undo.map(() => [u.method, u.path, true, expect.any(Number)]),
    );
    expect(undo.every((r) => typeof r.status === 'number' && r.status < 300)).toBe(true);
  }
  // Every request of this incident is a forward or an undo of one of its steps, and each undo applied its effect once.
  const keys = new Set([
    ...UNDOS.flatMap((u) => [`${incidentId}/${u.stepId}`, `${incidentId}/${u.stepId}/undo`]),
    ...otherSteps.map((stepId) => `${incidentId}/${stepId}`),
  ]);
  expect([...ofIncident(emergency), ...ofIncident(controlPlane)].filter((r) => !keys.has(r.idempotencyKey!))).toEqual(
    [],
  );
  const effectKeys = [...emergency.effects.map((e) => e.key), ...controlPlane.effects.map((e) => e.key)];
  for (const u of UNDOS) {
    expect(
      effectKeys.filter((k) => k === `${incidentId}/${u.stepId}/undo`),
      `${u.stepId}: undo effects`,
    ).toHaveLength(1);
  }
  // Each peer saw the undos in the order the timeline gives (requests on one peer arrive in order; undos run one at a time).
  for (const name of ['emergency', 'controlPlane'] as const) {
    const seen = ofIncident(peers[name])
      .filter((r) => r.idempotencyKey!.endsWith('/undo') && typeof r.status === 'number' && r.status < 300)
      .map((r) => r.idempotencyKey!.slice(incidentId.length + 1, -'/undo'.length));
    const expected = newestFirst.filter((stepId) => UNDOS.find((u) => u.stepId === stepId)!.peer === name);
    expect(seen, `${name}: undo order`).toEqual(expected);
  }
  // The body of the firewall undo names the same targets the block did.
  const unblock = ofIncident(controlPlane).find((r) => r.idempotencyKey === `${incidentId}/block-uploader/undo`);
  expect(unblock?.body).toEqual({ targets: [ATTACKER_CIDR] });
}

/** While contained: every change is in force at the peers. */
function expectContained(): void {
  const s = peerState();
  expect(s.emergency).toMatchObject({
    safeMode: 'Emergency',
    killSwitch: true,
    quarantined: expect.arrayContaining([SUSPICIOUS_PATH]),
  });
  expect(s.controlPlane.blocked).toContain(ATTACKER_CIDR);
  expect(s.controlPlane.accounts[ACCOUNT]).toBe('suspended');
  expect(s.controlPlane.endpoints[ENDPOINT]).toBe('disabled');
}

// ---- the tests ------------------------------------------------------------------------------------------------

describe('rollback against real peers', () => {
  it('undoes every containment step, newest first, when the incident is declared a false positive', async () => {
    const plan = runbook(
      'rollback-false-positive',
      `    advance: manual
    steps:
      - { id: tell-eradication, action: notify.send, with: { message: 'eradication under way' } }`,
    );
    await priorState('false-positive');
    const before = peerState();
    expect(before.emergency.safeMode).toBe('Restricted');
    expect(before.controlPlane.endpoints[ENDPOINT]).toBe('enabled');

    const { incidentId, handle } = await open(plan, 'uploads of executables by user-7');
    // Containment done: eradication ran its step and waits for an operator.
    const waiting = await until(
      () => status(incidentId),
      (s) => s.phase === 'eradicate' && s.awaitingAdvance,
      `${incidentId}: containment done`,
    );
    expect(waiting.phases.contain?.endedAt).toBeDefined();
    expect(waiting.steps.filter((r) => r.status !== 'completed')).toEqual([]);
    expectContained();
    expect(sink.deliveriesFor(`${incidentId}/tell-team`)).toHaveLength(1);

    // The update answers once the undo is done.
    const view = await incidents.declareFalsePositive(incidentId, {
      by: 'alice',
      reason: 'the uploads were the red team',
    });
    expect(view.status).toBe('false_positive');
    expect(peerState()).toEqual(before);
    expect(((await handle.result()) as IncidentOutcome).status).toBe('false_positive');

    await expectRolledBack(incidentId, 'false_positive');
    // Safe mode back to Restricted, kill switch off, path released, CIDR unblocked, account reinstated, endpoint enabled.
    expect(peerState()).toEqual(before);
  });

  it('undoes every containment step, newest first, and fails the incident when a critical step fails', async () => {
    const plan = runbook(
      'rollback-critical-failure',
      `    steps:
      - id: validate-integrity
        action: app.validateIntegrity
        critical: true
      - { id: never-runs, action: notify.send, with: { message: 'not reached' } }`,
    );
    await priorState('critical-failure');
    emergency.setIntegrity({ valid: false, violations: ['/srv/app/bin/upload-handler: checksum mismatch'] });
    try {
      const before = peerState();
      expect(before.emergency.safeMode).toBe('Restricted');

      const { incidentId, handle } = await open(plan, 'uploads of executables by user-8');
      const outcome = (await handle.result()) as IncidentOutcome;
      expect(outcome.status).toBe('failed');

      const s = await status(incidentId);
      expect(s.status).toBe('failed');
      expect(s.steps.find((r) => r.stepId === 'validate-integrity')).toMatchObject({
        status: 'failed',
        error: expect.stringMatching(/checksum mismatch/),
      });
      expect(s.steps.find((r) => r.stepId === 'never-runs')).toBeUndefined();
      expect(s.phases.recover).toBeUndefined();
      const timeline = await incidents.timeline(incidentId);
      expect(eventsOf(timeline, 'phase_failed').map((e) => [e.phase, e.error])).toEqual([
        ['eradicate', expect.stringMatching(/^critical step "validate-integrity" failed: .*checksum mismatch/)],
      ]);
      expect(sink.deliveriesFor(`${incidentId}/never-runs`)).toHaveLength(0);
      expect(sink.deliveriesFor(`${incidentId}/tell-users`)).toHaveLength(0);

      await expectRolledBack(incidentId, 'phase_failed', ['validate-integrity']);
      expect(peerState()).toEqual(before);
      await expect(incidents.advancePhase(incidentId, { by: 'alice' })).rejects.toThrow(/failed/);
    } finally {
      emergency.setIntegrity({ valid: true, violations: [] });
    }
  });
});
