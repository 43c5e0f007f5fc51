// Crash recovery against a real dev server started here (SQLite file in a temp dir, free ports) and workers that are
// real OS processes: a worker SIGKILLed while a step's webhook is in flight is replaced and every step's effect lands
// once at the peer; a dev server stopped and restarted on the same file keeps its incidents and their escalation
// timers; a step whose peer is slow goes on past its local attempt as a scheduled activity; and concurrent opens
// through the registry get distinct, gapless ids. No mocks: the webhook peer is a real
// HTTP server, evidence goes to real files. With RECORD_HISTORIES=1 the kill and the restart incidents' histories are
// written to test/replay/histories for the replay gate.
import { createHash } from 'node:crypto';
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Client, type Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { connectClosable } from '../../src/temporal/closable-connection';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { IncidentClient } from '../../src/client';
import type { EngineConfig } from '../../src/config';
import { PHASES, type TimelineEvent } from '../../domain/incident';
import type { RunbookPlan } from '../../domain/runbook';
import type { DevServer } from '../../src/temporal/dev-server';
import { bundleWorkflows } from '../../src/worker';
import { LOCAL_ATTEMPT_MS } from '../../workflows/steps';
import { REGISTRY_WORKFLOW_ID, type IncidentOutcome, registryStateQuery } from '../../workflows/definitions';
import { makeEngineConfig, plan, tempDir } from '../helpers/incident-fixtures';
import { recordIncidentHistories } from '../replay/history-files';
import { startDevServerForTest } from '../helpers/temporal-env';
import { startWebhookSink, type WebhookSink } from '../helpers/webhook-sink';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-launcher';
import { waitFor } from '../helpers/wait-for';

/** Start-to-close timeout of the step held in flight: the killed attempt is retried once it runs out. */
const HELD_STEP_TIMEOUT_MS = 4_000;
const { EventType, PendingWorkflowTaskState } = proto.temporal.api.enums.v1;
/** How long the sink holds the held step's acknowledgement: longer than the test; the kill cuts it short. */
const HOLD_MS = 120_000;
/** P3 response time in the restart test: the `unacknowledged` escalation falls due this long after opening. */
const RESPONSE_TIME_MS = 12_000;
/** A second namespace on the first server, so the concurrent-open test starts from a registry that does not exist. */
const OPENS_NAMESPACE = 'concurrent-opens';
const CONCURRENT_OPENS = 40;
/** Set to 1 to (re-)record the kill and restart scenarios' histories for the replay gate. */
const RECORD_HISTORIES = process.env.RECORD_HISTORIES === '1';

type Escalated = Extract<TimelineEvent, { type: 'escalated' }>;
const escalations = (timeline: TimelineEvent[]): Escalated[] =>
  timeline.filter((e): e is Escalated => e.type === 'escalated');

type HistoryEvent = NonNullable<
  Awaited<ReturnType<ReturnType<Client['workflow']['getHandle']>['fetchHistory']>>['events']
>[number];

/** The activity type a local activity's marker records (its `data` detail, JSON); undefined for any other event. */
function localActivityType(event: HistoryEvent): string | undefined {
  const marker = event.markerRecordedEventAttributes;
  const data = marker?.markerName === 'core_local_activity' ? marker.details?.data?.payloads?.[0]?.data : undefined;
  if (!data) return undefined;
  return (JSON.parse(Buffer.from(data).toString('utf8')) as { activity_type: string }).activity_type;
}

/** A deep copy of the security-incident runbook, safe to change for one test. */
function securityPlan(): RunbookPlan {
  return structuredClone(plan('security-incident'));
}

async function sha256(file: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(file))
    .digest('hex');
}

describe('crash recovery on a real dev server with worker processes', () => {
  let rootDir: string;
  let bundlePath: string;
  let sink: WebhookSink;
  let sinkUrl: string;
  /** Server for the worker-crash and concurrent-open tests (namespaces `default` and OPENS_NAMESPACE). */
  let server: DevServer;
  // Everything started here, so afterAll can stop it whatever a test left behind.
  const servers = new Set<DevServer>();
  const workers = new Set<WorkerProcess>();
  const connections = new Set<Connection>();
  const configs: EngineConfig[] = [];

  async function startServer(dataDir: string, namespace?: string): Promise<DevServer> {
    const started = await startDevServerForTest(dataDir, namespace ? { namespace } : {});
    servers.add(started);
    return started;
  }

  async function stopServer(s: DevServer): Promise<void> {
    await s.stop();
    servers.delete(s);
  }

  async function startWorker(
    on: DevServer,
    namespace: string,
    engine: EngineConfig,
    identity: string,
  ): Promise<WorkerProcess> {
    const worker = spawnWorker({ address: on.address, namespace, engine, identity, workflowBundlePath: bundlePath });
    workers.add(worker);
    void worker.exited.then(() => workers.delete(worker));
    await worker.ready;
    return worker;
  }

  async function connect(on: DevServer, namespace: string, taskQueue: string) {
    const connection = await connectClosable({ address: on.address });
    connections.add(connection);
    const client = new Client({ connection, namespace });
    return {
      client,
      incidents: new IncidentClient(client, taskQueue),
      close: async () => {
        connections.delete(connection);
        await connection.close();
      },
    };
  }

  function engineConfig(taskQueue: string): EngineConfig {
    const config = makeEngineConfig(sinkUrl, taskQueue);
    configs.push(config);
    return config;
  }

  beforeAll(async () => {
    rootDir = tempDir('crash-recovery');
    sink = await startWebhookSink();
    sinkUrl = `${sink.url}/hooks/incidents`;
    // Bundle once (the slow part of a worker's start) while the server comes up; workers load it from a file.
    const [bundle, started] = await Promise.all([
      bundleWorkflows(),
      startServer(path.join(rootDir, 'server'), OPENS_NAMESPACE),
    ]);
    server = started;
    bundlePath = path.join(rootDir, 'workflow-bundle.js');
    await writeFile(bundlePath, bundle.code);
  });

  beforeEach(() => {
    sink.setBehaviour({ delayMs: 0, failFirst: 0, delayKeySuffix: undefined });
  });

  afterAll(async () => {
    await Promise.all([...workers].map((w) => w.kill('SIGKILL')));
    await Promise.all([...connections].map((c) => c.close().catch(() => undefined)));
    await Promise.all([...servers].map((s) => s.stop()));
    await sink?.close();
    for (const config of configs) await rm(config.evidenceBase, { recursive: true, force: true });
    if (rootDir) await rm(rootDir, { recursive: true, force: true });
  });

  it('replaces a worker SIGKILLed while a step is in flight; every step takes effect exactly once', async () => {
    const config = engineConfig('crash-recovery');
    const runbook = securityPlan();
    const held = runbook.phases.contain.steps.find((s) => s.id === 'notify-contained');
    expect(held?.action).toBe('notify.send');
    held!.timeoutMs = HELD_STEP_TIMEOUT_MS;

    // Containment's notification is held by the peer: the effect is applied, the acknowledgement waits.
    sink.setBehaviour({ delayMs: HOLD_MS, delayKeySuffix: '/notify-contained' });
    const first = await startWorker(server, 'default', config, 'worker-1');
    const { client, incidents, close } = await connect(server, 'default', config.taskQueue);
    // P3: no escalation falls due during the test, so the only webhook traffic is the steps, one at a time.
    const { incidentId: id, created } = await incidents.open(
      { title: 'credential stuffing on the admin login', trigger: 'operator:alice', severity: 'P3' },
      runbook,
    );
    expect(created).toBe(true);
    const key = (stepId: string) => `${id}/${stepId}`;

    const heldDelivery = await waitFor(() => sink.deliveriesFor(key('notify-contained'))[0], 'the held delivery');
    expect(heldDelivery).toMatchObject({ applied: true });

    // The step runs as a local activity inside containment's workflow task, which worker-1 holds: started, not done.
    const containHandle = client.workflow.getHandle(`${id}.contain`);
    const running = await waitFor(async () => {
      const { raw } = await containHandle.describe();
      return raw.pendingWorkflowTask?.state === PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_STARTED
        ? raw.pendingWorkflowTask
        : undefined;
    }, 'the workflow task running the held step');
    expect(running.attempt).toBe(1);
    const started = (await containHandle.fetchHistory()).events?.filter((e) => e.workflowTaskStartedEventAttributes);
    expect(started?.at(-1)?.workflowTaskStartedEventAttributes?.identity).toBe('worker-1');

    await first.kill('SIGKILL');
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
    sink.setBehaviour({ delayMs: 0, delayKeySuffix: undefined });
    const second = await startWorker(server, 'default', config, 'worker-2');

    // The killed worker's task times out and worker-2 runs the step again with the same key: acknowledged, not
    // applied again.
    const retried = await waitFor(() => sink.deliveriesFor(key('notify-contained'))[1], 'the retried delivery', {
      timeoutMs: 90_000,
    });
    expect(retried).toMatchObject({ status: 200, applied: false });

    // Drive the incident to its end as an operator would: resolve in eradication, then close the review.
    await waitFor(async () => {
      const s = await incidents.status(id);
      return s.phase === 'eradicate' && s.awaitingAdvance ? s : undefined;
    }, `${id} waiting in eradicate`);
    await incidents.resolve(id, { by: 'alice', summary: 'attacker IP blocked, admin password rotated' });
    await waitFor(async () => {
      const s = await incidents.status(id);
      return s.phase === 'post-incident' && s.awaitingAdvance ? s : undefined;
    }, `${id} waiting in post-incident`);
    await incidents.advancePhase(id, { by: 'alice', note: 'review scheduled' });
    const outcome = await client.workflow.getHandle<() => Promise<IncidentOutcome>>(id).result();
    expect(outcome.status).toBe('closed');

    // Every step completed once on the timeline, none failed.
    const timeline = await incidents.timeline(id);
    const allSteps = PHASES.flatMap((phase) => runbook.phases[phase].steps);
    const completed = timeline.flatMap((e) => (e.type === 'step_completed' ? [e.stepId] : []));
    expect(completed).toEqual(allSteps.map((s) => s.id));
    expect(timeline.filter((e) => e.type === 'step_failed' || e.type === 'phase_failed')).toEqual([]);

    // At the peer: each notification step's effect applied exactly once, and nothing else for this incident.
    const notifySteps = allSteps.filter((s) => s.action === 'notify.send').map((s) => s.id);
    for (const stepId of notifySteps) {
      expect(
        sink.deliveriesFor(key(stepId)).filter((r) => r.applied),
        stepId,
      ).toHaveLength(1);
    }
    const appliedKeys = sink.requests
      .filter((r) => r.applied && r.idempotencyKey?.startsWith(`${id}/`))
      .map((r) => r.idempotencyKey);
    expect(appliedKeys.sort()).toEqual(notifySteps.map(key).sort());
    expect(sink.deliveriesFor(key('notify-contained')).map((r) => [r.status, r.applied])).toEqual([
      [200, true],
      [200, false],
    ]);
    // What the outside world saw for the held step is the first delivery, sent by the killed worker.
    expect(sink.effects().get(key('notify-contained'))).toEqual(heldDelivery.body);

    // The evidence snapshot ran once, before the crash: one archive, matching what the incident recorded.
    const evidenceFiles = (await readdir(path.join(config.evidenceDir, id))).sort();
    expect(evidenceFiles).toEqual(['preserve-evidence.manifest.json', 'preserve-evidence.tar.gz']);
    const status = await incidents.status(id);
    expect(status.evidence).toHaveLength(1);
    expect(status.evidence[0]).toMatchObject({
      stepId: 'preserve-evidence',
      archive: path.join(config.evidenceDir, id, 'preserve-evidence.tar.gz'),
    });
    expect(await sha256(status.evidence[0]!.archive)).toBe(status.evidence[0]!.sha256);

    // History: the snapshot's marker came from worker-1; worker-1's task running the held step timed out, and the
    // step's marker came from worker-2. Each local-activity marker follows the completed task that recorded it.
    const history = await containHandle.fetchHistory();
    let completedBy: string | undefined;
    const recorded = (history.events ?? []).flatMap((e) => {
      if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT) return [['timed out']];
      if (e.workflowTaskCompletedEventAttributes) completedBy = e.workflowTaskCompletedEventAttributes.identity ?? '';
      const local = localActivityType(e);
      return local ? [[local, completedBy]] : [];
    });
    expect(recorded).toEqual([['evidence.snapshot', 'worker-1'], ['timed out'], ['notify.send', 'worker-2']]);

    // The test's processes use the default data converter (no codec): the histories are already in the clear.
    if (RECORD_HISTORIES) await recordIncidentHistories(client, id, 'worker-kill-mid-step');

    await close();
    await second.kill('SIGTERM');
  }, 120_000);

  it('runs a step past its local attempt as a scheduled activity when the peer is slow; the effect lands once', async () => {
    // The task queue of the first test: the namespace's incident registry, which that test started, runs there.
    const config = engineConfig('crash-recovery');
    const worker = await startWorker(server, 'default', config, 'worker-slow-peer');
    const { client, incidents, close } = await connect(server, 'default', config.taskQueue);
    // The peer applies containment's notification at once and acknowledges it after longer than a local attempt.
    sink.setBehaviour({ delayMs: LOCAL_ATTEMPT_MS + 1_500, delayKeySuffix: '/notify-contained' });
    const { incidentId: id } = await incidents.open(
      { title: 'slow webhook peer during containment', trigger: 'operator:alice', severity: 'P3' },
      securityPlan(),
    );
    await waitFor(async () => {
      const s = await incidents.status(id);
      return s.phase === 'eradicate' && s.awaitingAdvance ? s : undefined;
    }, `${id} waiting in eradicate`);

    // Containment's history: the snapshot and the notification's first attempt as local activities, then the
    // notification as a scheduled activity that completed.
    const events = (await client.workflow.getHandle(`${id}.contain`).fetchHistory()).events ?? [];
    const recorded = events.flatMap((e) => {
      const local = localActivityType(e);
      if (local) return [[`local ${local}`, e.markerRecordedEventAttributes!.failure ? 'failed' : 'completed']];
      const scheduled = e.activityTaskScheduledEventAttributes;
      if (scheduled) return [[`scheduled ${scheduled.activityType?.name ?? ''}`, 'scheduled']];
      return e.activityTaskCompletedEventAttributes ? [['scheduled', 'completed']] : [];
    });
    expect(recorded).toEqual([
      ['local evidence.snapshot', 'completed'],
      ['local notify.send', 'failed'],
      ['scheduled notify.send', 'scheduled'],
      ['scheduled', 'completed'],
    ]);
    const timeline = await incidents.timeline(id);
    expect(timeline.find((e) => e.type === 'step_completed' && e.stepId === 'notify-contained')).toBeDefined();
    // Applied by the first attempt, acknowledged without a second effect for the scheduled one.
    expect(sink.deliveriesFor(`${id}/notify-contained`).map((r) => [r.status, r.applied])).toEqual([
      [200, true],
      [200, false],
    ]);
    await close();
    await worker.kill('SIGTERM');
  });

  it('keeps an open incident and its escalation timer across a dev server restart on the same SQLite file', async () => {
    const dataDir = path.join(rootDir, 'restart-server');
    const config = engineConfig('restart');
    const runbook = securityPlan();
    runbook.escalation.responseTimeMs.P3 = RESPONSE_TIME_MS;

    const before = await startServer(dataDir);
    const firstWorker = await startWorker(before, 'default', config, 'worker-before-restart');
    const beforeClient = await connect(before, 'default', config.taskQueue);
    const { incidentId: id } = await beforeClient.incidents.open(
      { title: 'suspicious admin session', trigger: 'operator:bob', severity: 'P3' },
      runbook,
    );
    // Let the automatic phases finish so the incident is at rest, waiting on its operator and its timer.
    const waiting = await waitFor(async () => {
      const s = await beforeClient.incidents.status(id);
      return s.phase === 'eradicate' && s.awaitingAdvance ? s : undefined;
    }, `${id} waiting in eradicate`);
    const dueAt = waiting.openedAt + RESPONSE_TIME_MS;
    expect(waiting.nextEscalationAt).toBe(dueAt);
    expect(escalations(await beforeClient.incidents.timeline(id))).toEqual([]);

    await beforeClient.close();
    await firstWorker.kill('SIGTERM');
    await stopServer(before);
    const stoppedAt = Date.now();
    expect(stoppedAt, 'server and worker must be down before the escalation is due').toBeLessThan(dueAt);

    const after = await startServer(dataDir);
    expect(after.dbFile).toBe(before.dbFile);
    await startWorker(after, 'default', config, 'worker-after-restart');
    const { incidents, client, close } = await connect(after, 'default', config.taskQueue);

    // The incident is still there, rebuilt from the file's history. (The first read after a restart may race the new
    // worker's first poll; waitFor retries and reports the last error if it never answers.)
    const reloaded = await waitFor(() => incidents.status(id), `${id} after the restart`, { timeoutMs: 30_000 });
    expect(reloaded).toMatchObject({
      incidentId: id,
      status: 'active',
      phase: 'eradicate',
      awaitingAdvance: true,
      openedAt: waiting.openedAt,
    });
    expect((await client.workflow.getHandle(id).describe()).status.name).toBe('RUNNING');

    // The timer armed before the restart fires after it, not before it was due.
    const fired = await waitFor(
      async () => escalations(await incidents.timeline(id)).find((e) => e.trigger === 'unacknowledged'),
      'the unacknowledged escalation',
    );
    expect(fired).toMatchObject({ key: 'unacknowledged', dueAt, fromLevel: 0, toLevel: 1 });
    expect(fired.at).toBeGreaterThanOrEqual(dueAt);
    expect(fired.at).toBeGreaterThan(stoppedAt);
    const escalated = await incidents.status(id);
    expect(escalated.escalation.level).toBe(1);
    // Its notification reached the peer once.
    const notice = await waitFor(
      () => sink.deliveriesFor(`${id}/escalation/unacknowledged`)[0],
      'the escalation notice',
    );
    expect(notice.applied).toBe(true);

    // Listing (visibility, from the same file) still shows the incident as open.
    const listed = await waitFor(
      async () => (await incidents.list()).find((i) => i.incidentId === id),
      `${id} in the list`,
    );
    expect(listed).toMatchObject({ status: 'active', severity: 'P3', runbookId: 'security-incident' });

    if (RECORD_HISTORIES) {
      // Still open, waiting on an operator and its next timers: record it at rest, between workflow tasks.
      await waitFor(async () => {
        const { raw } = await client.workflow.getHandle(id).describe();
        return !raw.pendingWorkflowTask && !raw.pendingActivities?.length ? raw : undefined;
      }, `${id} at rest`);
      await recordIncidentHistories(client, id, 'server-restart-mid-timer', { running: true });
    }

    await close();
  }, 120_000);

  it(`gives ${CONCURRENT_OPENS} concurrent opens through the registry distinct, gapless ids`, async () => {
    const config = engineConfig('concurrent-opens');
    // No steps: this test is about ids, and 40 incidents' notifications would only slow two cores down.
    const runbook = securityPlan();
    for (const phase of PHASES) runbook.phases[phase].steps = [];
    await startWorker(server, OPENS_NAMESPACE, config, 'worker-opens');
    const { client, incidents, close } = await connect(server, OPENS_NAMESPACE, config.taskQueue);

    // A fresh namespace: the registry does not exist yet, so the concurrent update-with-starts also race to start it.
    const titles = Array.from({ length: CONCURRENT_OPENS }, (_, i) => `concurrent incident ${i + 1}`);
    const results = await Promise.all(
      titles.map((title) => incidents.open({ title, trigger: 'alertmanager', severity: 'P3' }, runbook)),
    );
    expect(results.every((r) => r.created)).toBe(true);

    const ids = results.map((r) => r.incidentId);
    expect(new Set(ids).size).toBe(CONCURRENT_OPENS);
    const parsed = ids.map((incidentId) => {
      const match = /^INC-(\d{4})-(\d{3,})$/.exec(incidentId);
      expect(match, incidentId).not.toBeNull();
      return { year: match![1]!, n: Number(match![2]) };
    });
    const years = [...new Set(parsed.map((p) => p.year))];
    expect(years).toHaveLength(1);
    expect(parsed.map((p) => p.n).sort((a, b) => a - b)).toEqual(
      Array.from({ length: CONCURRENT_OPENS }, (_, i) => i + 1),
    );
    expect(ids.slice().sort()[0]).toBe(`INC-${years[0]}-001`);
    const registry = await client.workflow.getHandle(REGISTRY_WORKFLOW_ID).query(registryStateQuery);
    expect(registry.counters[years[0]!]).toBe(CONCURRENT_OPENS);
    expect(registry.pending ?? []).toEqual([]);
    // The registry carries a runbook reference, never the plan: no step, phase or escalation policy in its history.
    const { events } = await client.workflow.getHandle(REGISTRY_WORKFLOW_ID).fetchHistory();
    const payloadText: string[] = [];
    const collect = (value: unknown): void => {
      if (value instanceof Uint8Array) payloadText.push(Buffer.from(value).toString('utf8'));
      else if (value && typeof value === 'object') Object.values(value).forEach(collect);
    };
    collect(events);
    expect(payloadText.join('\n')).toContain('concurrent incident 1');
    expect(payloadText.join('\n')).not.toContain('"escalation"');
    expect(events!.length).toBeLessThan(CONCURRENT_OPENS * 10);

    // Each id names a running incident that carries the request it was opened with.
    const statuses = await Promise.all(ids.map((incidentId) => incidents.status(incidentId)));
    statuses.forEach((s, i) => expect(s).toMatchObject({ incidentId: ids[i], title: titles[i], status: 'active' }));
    const listed = await waitFor(async () => {
      const all = await incidents.list({ limit: 100 });
      return all.length >= CONCURRENT_OPENS ? all : undefined;
    }, `${CONCURRENT_OPENS} incidents in the list`);
    expect(listed.map((i) => i.incidentId).sort()).toEqual(ids.slice().sort());

    await close();
  }, 180_000);
});
