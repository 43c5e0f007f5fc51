// Several processes on one dev server: two worker processes and two API processes under an alert storm sent to both
// APIs at once, with operators acknowledging half the incidents through either API. One API process is SIGKILLed in
// the middle of the storm; a detector whose request got no answer sends the same alert again to the other API, as
// Alertmanager retries. Counted: incidents per dedup key (dedup must be atomic across the APIs: exactly one),
// effects applied at the peer per Idempotency-Key (once), escalations per incident (unacknowledged ones escalate
// once, acknowledged ones never), and the workflow tasks and activities each worker took (both a share).
import { writeFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { Client, type Connection } from '@temporalio/client';
import { connectClosable } from '../../src/temporal/closable-connection';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyStore } from '../../src/api-keys';
import { IncidentClient } from '../../src/client';
import type { EngineConfig } from '../../src/config';
import { PHASES, type TimelineEvent } from '../../domain/incident';
import type { DevServer } from '../../src/temporal/dev-server';
import { bundleWorkflows } from '../../src/worker';
import { REGISTRY_WORKFLOW_ID, type RegistryState, registryStateQuery } from '../../workflows/definitions';
import { phaseChildId } from '../../workflows/incident/phases';
import { alertsOf, http } from '../helpers/api-env';
import { makeEngineConfig, tempDir } from '../helpers/incident-fixtures';
import { startDevServerForTest } from '../helpers/temporal-env';
import { startWebhookSink, type WebhookSink } from '../helpers/webhook-sink';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-launcher';
import { type ApiProcess, spawnApi } from './api-launcher';
import { recordFigures } from './results';

const ALERTS = Number(process.env.FAULT_PROCESS_ALERTS ?? 240);
const DEDUP_KEYS = 20;
const TASK_QUEUE = 'faults-processes';
const RESPONSE_TIME_S = 25;

const RUNBOOK = `id: storm
version: 1
title: storm
category: security
eventTypes: [other]
match:
  default: true
escalation:
  responseTime: { P2: ${RESPONSE_TIME_S}s }
phases:
  detect:
    steps:
      - id: notify-opened
        action: notify.send
        timeout: 5s
        with: { audience: internal, message: '\${incident.id} opened' }
  contain: {}
  eradicate: { advance: manual }
  recover: {}
  post-incident: { advance: manual }
`;

describe('two workers and two API processes on one server', () => {
  let rootDir: string;
  let server: DevServer;
  let sink: WebhookSink;
  let engine: EngineConfig;
  let connection: Connection;
  const workers: WorkerProcess[] = [];
  const apis: ApiProcess[] = [];
  let detectorKey: string;
  let operatorKey: string;

  beforeAll(async () => {
    rootDir = tempDir('faults-processes');
    sink = await startWebhookSink();
    engine = makeEngineConfig(`${sink.url}/hooks/incidents`, TASK_QUEUE);
    const [bundle, dev] = await Promise.all([bundleWorkflows(), startDevServerForTest(path.join(rootDir, 'server'))]);
    server = dev;
    const bundlePath = path.join(rootDir, 'workflow-bundle.js');
    await writeFile(bundlePath, bundle.code);
    const runbookFile = path.join(rootDir, 'storm.yaml');
    await writeFile(runbookFile, RUNBOOK);
    const keysFile = path.join(rootDir, 'api-keys.json');
    const keys = new ApiKeyStore(keysFile);
    detectorKey = keys.create({ name: 'storm-detector', role: 'detector' }).key;
    operatorKey = keys.create({ name: 'alice', role: 'operator' }).key;
    for (const identity of ['worker-a', 'worker-b']) {
      workers.push(
        spawnWorker({
          address: server.address,
          namespace: 'default',
          engine,
          identity,
          workflowBundlePath: bundlePath,
        }),
      );
    }
    for (let i = 0; i < 2; i++) {
      apis.push(spawnApi({ address: server.address, taskQueue: TASK_QUEUE, runbookFile, keysFile }));
    }
    await Promise.all([...workers.map((w) => w.ready), ...apis.map((a) => a.url)]);
    connection = await connectClosable({ address: server.address });
  });

  afterAll(async () => {
    await Promise.all(apis.map((a) => a.kill('SIGKILL')));
    await Promise.all(workers.map((w) => w.kill('SIGKILL')));
    await connection?.close().catch(() => undefined);
    await server?.stop();
    await sink?.close();
    if (engine) await rm(engine.evidenceBase, { recursive: true, force: true });
    if (rootDir) await rm(rootDir, { recursive: true, force: true });
  });

  it(`${ALERTS} alerts over ${DEDUP_KEYS} keys through both APIs, one killed mid-storm: one incident per key, effects and escalations once`, async () => {
    const urls = await Promise.all(apis.map((a) => a.url));
    let apiKilled = false;
    let retriedAfterKill = 0;
    const acknowledgedAlerts = new Map<string, string>(); // fingerprint -> incident
    const ackedIncidents = new Set<string>();

    const sendAlert = async (n: number): Promise<void> => {
      const body = {
        source: 'storm',
        title: `storm alert ${n}`,
        severity: 'P2',
        fingerprint: `storm-${n}`,
        dedupKey: `key-${n % DEDUP_KEYS}`,
      };
      for (let attempt = 0; attempt < 20; attempt++) {
        // The first try alternates between the APIs; a retry after no answer goes to the one still standing.
        const url = apiKilled ? urls[1]! : urls[(n + attempt) % 2]!;
        const reply = await http<{ incidentId?: string }>(`${url}/intake/alerts`, { key: detectorKey, body }).catch(
          () => undefined,
        );
        if (reply && reply.status < 300 && reply.body.incidentId) {
          acknowledgedAlerts.set(body.fingerprint, reply.body.incidentId);
          return;
        }
        if (!reply) retriedAfterKill++;
        await new Promise((r) => setTimeout(r, 300));
      }
      throw new Error(`alert ${n} was never acknowledged`);
    };

    let next = 0;
    const lanes = Array.from({ length: 8 }, async () => {
      while (next < ALERTS) {
        const n = next++;
        if (!apiKilled && n === Math.floor(ALERTS / 2)) {
          apiKilled = true;
          void apis[0]!.kill('SIGKILL');
        }
        await sendAlert(n);
        // Operators acknowledge the even keys' incidents, through both APIs, racing each other and the storm.
        const id = acknowledgedAlerts.get(`storm-${n}`);
        if (id && n % 2 === 0 && !ackedIncidents.has(id)) {
          ackedIncidents.add(id);
          await Promise.all(
            [urls[1]!, apiKilled ? urls[1]! : urls[0]!].map((url) =>
              http(`${url}/incidents/${id}/acknowledge`, { key: operatorKey, body: { note: 'on it' } }),
            ),
          );
        }
      }
    });
    await Promise.all(lanes);

    const client = new Client({ connection, namespace: 'default' });
    const incidents = new IncidentClient(client, TASK_QUEUE);
    const ids = new Set(acknowledgedAlerts.values());
    const registry = await client.workflow.getHandle(REGISTRY_WORKFLOW_ID).query<RegistryState>(registryStateQuery);

    // Let every unacknowledged incident's escalation fall due and fire.
    await new Promise((r) => setTimeout(r, (RESPONSE_TIME_S + 10) * 1000));
    const timelines = new Map<string, TimelineEvent[]>();
    for (const id of ids) timelines.set(id, await incidents.timeline(id));

    let alertsLost = 0;
    for (const [fingerprint, id] of acknowledgedAlerts) {
      if (!alertsOf(timelines.get(id)!).some((a) => a.fingerprint === fingerprint)) alertsLost++;
    }
    let escalationsWrong = 0;
    let escalations = 0;
    for (const [id, timeline] of timelines) {
      const escalated = timeline.filter((e) => e.type === 'escalated');
      escalations += escalated.length;
      const acked = timeline.some((e) => e.type === 'acknowledged');
      if (escalated.length !== (acked ? 0 : 1)) escalationsWrong++;
      void id;
    }
    let duplicateEffects = 0;
    const perKey = new Map<string, number>();
    for (const r of sink.requests)
      if (r.applied && r.idempotencyKey) perKey.set(r.idempotencyKey, (perKey.get(r.idempotencyKey) ?? 0) + 1);
    for (const count of perKey.values()) if (count > 1) duplicateEffects += count - 1;
    const openedNotices = [...perKey.keys()].filter((k) => k.endsWith('/notify-opened')).length;

    // The load is shared: which worker took each workflow task and each activity of the incidents and the phases they
    // ran (up to eradication, which waits for an operator).
    const tasksBy = new Map<string, number>();
    const phasesRun = PHASES.slice(0, PHASES.indexOf('eradicate') + 1);
    for (const id of ids) {
      for (const workflowId of [id, ...phasesRun.map((phase) => phaseChildId(id, phase))]) {
        const history = await client.workflow.getHandle(workflowId).fetchHistory();
        for (const event of history.events ?? []) {
          const identity =
            event.workflowTaskCompletedEventAttributes?.identity ?? event.activityTaskStartedEventAttributes?.identity;
          if (identity) tasksBy.set(identity, (tasksBy.get(identity) ?? 0) + 1);
        }
      }
    }
    const tasks = [...tasksBy.values()].reduce((a, b) => a + b, 0);

    recordFigures('processes', {
      processes_tasks_worker_a: tasksBy.get('worker-a') ?? 0,
      processes_tasks_worker_b: tasksBy.get('worker-b') ?? 0,
      processes_workers: workers.length,
      processes_apis: apis.length,
      processes_alerts: ALERTS,
      processes_dedup_keys: DEDUP_KEYS,
      processes_incidents: ids.size,
      processes_alerts_lost: alertsLost,
      processes_requests_retried_after_api_kill: retriedAfterKill,
      processes_duplicate_effects: duplicateEffects,
      processes_escalations: escalations,
      processes_escalations_wrong: escalationsWrong,
    });
    expect(ids.size).toBe(DEDUP_KEYS);
    expect(Object.keys(registry.openByDedupKey).filter((k) => k.startsWith('key-') || k.includes('key-')).length).toBe(
      DEDUP_KEYS,
    );
    expect(alertsLost).toBe(0);
    expect(openedNotices).toBe(DEDUP_KEYS);
    expect(duplicateEffects).toBe(0);
    expect(escalationsWrong).toBe(0);
    expect(apiKilled).toBe(true);
    // Both workers did a real share of the tasks (each at least a tenth), and no other worker took any.
    expect([...tasksBy.keys()].sort()).toEqual(['worker-a', 'worker-b']);
    for (const identity of ['worker-a', 'worker-b']) expect(tasksBy.get(identity)!).toBeGreaterThan(tasks / 10);
  }, 600_000);
});
