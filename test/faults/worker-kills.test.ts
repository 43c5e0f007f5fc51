// Worker kills under load, on a real dev server: INCIDENTS incidents in flight while workers (real OS processes) are
// SIGKILLed one every KILL_EVERY_MS for KILL_FOR_MS and replaced. Counted: incidents lost (not closed with every step
// on its timeline), effects applied more than once at the webhook peer (by Idempotency-Key), due timers not fired.
// The history of an incident whose step was cut short by a kill is kept for the replay gate (test/replay/histories).
import { writeFile, rm } from 'node:fs/promises';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import proto from '@temporalio/proto';
import path from 'node:path';
import { Client, type Connection } from '@temporalio/client';
import { connectClosable } from '../../src/temporal/closable-connection';
import pLimit from 'p-limit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IncidentClient } from '../../src/client';
import type { EngineConfig } from '../../src/config';
import type { TimelineEvent } from '../../domain/incident';
import type { RunbookPlan } from '../../domain/runbook';
import type { DevServer } from '../../src/temporal/dev-server';
import { bundleWorkflows } from '../../src/worker';
import { makeEngineConfig, planFromPhases, tempDir } from '../helpers/incident-fixtures';
import { startDevServerForTest } from '../helpers/temporal-env';
import { startWebhookSink, type WebhookSink } from '../helpers/webhook-sink';
import { compileWorkerScript, spawnWorker, type WorkerProcess } from '../helpers/worker-launcher';
import { waitFor } from '../helpers/wait-for';
import { recordFigures } from './results';

const INCIDENTS = Number(process.env.FAULT_INCIDENTS ?? 100);
/** Kills wanted; on two cores one every KILL_EVERY_MS fits a hundred in about two minutes. */
const KILLS = Number(process.env.FAULT_KILLS ?? 100);
const KILL_EVERY_MS = 1_150;
/** The killing stops at KILLS or after this long, whichever comes first. */
const KILL_FOR_MS = Number(process.env.FAULT_KILL_FOR_MS ?? 150_000);
/** Workers alive at once: a kill takes one, its replacement starts while the others keep working. */
const WORKERS = 4;
/** The timer every incident arms: a task nobody completes, skipped when it runs out. */
const WAIT = '30s';
const TASK_QUEUE = 'faults-kills';

/** Four effects at the peer per incident, a durable timer between them, activities short enough to retry soon. */
function killPlan(): RunbookPlan {
  const notify = (id: string, message: string) => `
      - id: ${id}
        action: notify.send
        timeout: 5s
        retry: { initialInterval: 1s, maxInterval: 2s }
        with: { audience: internal, message: '\${incident.id}: ${message}' }`;
  return planFromPhases(
    'fault-kills',
    ['other'],
    `
  detect:
    steps:${notify('notify-opened', 'opened')}
  contain:
    steps:
      - id: wait-for-analyst
        action: task
        with: { instructions: nobody completes this, timeout: ${WAIT}, onTimeout: skip }${notify('notify-contained', 'contained')}
  eradicate:
    steps:${notify('notify-eradicated', 'eradicated')}
  post-incident:
    steps:${notify('notify-closed', 'review scheduled')}
`,
    'test/faults/worker-kills.test.ts',
  );
}

const EFFECT_STEPS = ['notify-opened', 'notify-contained', 'notify-eradicated', 'notify-closed'];

const { EventType } = proto.temporal.api.enums.v1;
const HISTORIES_DIR = path.resolve(import.meta.dirname, '../replay/histories');

/**
 * For the replay gate: the first incident whose step was cut short by a kill (an activity started again, or a workflow
 * task that timed out on a dead worker), with every phase child, as `worker-kill.<part>.json`.
 */
async function recordKilledMidStep(client: Client, ids: string[]): Promise<void> {
  const parts = ['detect', 'contain', 'eradicate', 'recover', 'post-incident'];
  for (const id of ids) {
    const histories = new Map<
      string,
      Awaited<ReturnType<ReturnType<Client['workflow']['getHandle']>['fetchHistory']>>
    >();
    histories.set('incident', await client.workflow.getHandle(id).fetchHistory());
    for (const part of parts) histories.set(part, await client.workflow.getHandle(`${id}.${part}`).fetchHistory());
    const cut = [...histories.values()].some((h) =>
      (h.events ?? []).some(
        (e) =>
          (e.activityTaskStartedEventAttributes?.attempt ?? 1) > 1 ||
          e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
      ),
    );
    if (!cut) continue;
    for (const [part, history] of histories) {
      await writeFile(path.join(HISTORIES_DIR, `worker-kill.${part}.json`), `${historyToJSON(history)}\n`);
    }
    return;
  }
}

describe('workers SIGKILLed every second or so under a hundred incidents', () => {
  let rootDir: string;
  let server: DevServer;
  let sink: WebhookSink;
  let bundlePath: string;
  let compiledScript: string;
  let engine: EngineConfig;
  let connection: Connection | undefined;
  const workers = new Set<WorkerProcess>();
  let started = 0;

  function startWorker(): WorkerProcess {
    const worker = spawnWorker({
      address: server.address,
      namespace: 'default',
      engine,
      identity: `worker-${++started}`,
      workflowBundlePath: bundlePath,
      compiledScript,
      readyTimeoutMs: 120_000,
    });
    workers.add(worker);
    void worker.exited.then(() => workers.delete(worker));
    return worker;
  }

  beforeAll(async () => {
    rootDir = tempDir('faults-kills');
    sink = await startWebhookSink();
    engine = makeEngineConfig(`${sink.url}/hooks/incidents`, TASK_QUEUE);
    const [bundle, dev] = await Promise.all([bundleWorkflows(), startDevServerForTest(path.join(rootDir, 'server'))]);
    server = dev;
    bundlePath = path.join(rootDir, 'workflow-bundle.js');
    await writeFile(bundlePath, bundle.code);
    // Inside node_modules, so the compiled script's package imports resolve; one file per run.
    compiledScript = await compileWorkerScript(
      path.resolve(import.meta.dirname, `../../node_modules/.cache/faults-worker-${process.pid}.mjs`),
    );
  });

  afterAll(async () => {
    await Promise.all([...workers].map((w) => w.kill('SIGKILL')));
    await connection?.close().catch(() => undefined);
    await server?.stop();
    await sink?.close();
    if (engine) await rm(engine.evidenceBase, { recursive: true, force: true });
    if (rootDir) await rm(rootDir, { recursive: true, force: true });
    if (compiledScript) await rm(compiledScript, { force: true });
  });

  it(`loses none of ${INCIDENTS} incidents, applies every effect once and fires every timer`, async () => {
    const first = startWorker();
    await first.ready;
    for (let i = 1; i < WORKERS; i++) startWorker();
    connection = await connectClosable({ address: server.address });
    const client = new Client({ connection, namespace: 'default' });
    const incidents = new IncidentClient(client, TASK_QUEUE);
    const plan = killPlan();

    // The killer: every KILL_EVERY_MS the oldest worker is SIGKILLed and a new one started in its place.
    let kills = 0;
    const killing = (async () => {
      const until = Date.now() + KILL_FOR_MS;
      while (kills < KILLS && Date.now() < until) {
        await new Promise((r) => setTimeout(r, KILL_EVERY_MS));
        const victim = [...workers][0];
        if (victim) {
          await victim.kill('SIGKILL');
          kills++;
        }
        startWorker();
      }
    })();

    // Opened while the killing goes on, through the registry, as the API would. Each with its own dedup key, as a
    // sender that retries must: an open the registry accepted but could not answer before a kill is answered on the
    // retry with the same incident, not a second one.
    const limit = pLimit(8);
    const ids = await Promise.all(
      Array.from({ length: INCIDENTS }, (_, n) =>
        limit(async () => {
          const opened = await waitFor(
            () =>
              incidents.open(
                { title: `fault drill incident ${n}`, trigger: 'faults:kills', severity: 'P3', dedupKey: `kills-${n}` },
                plan,
              ),
            `incident ${n} to open`,
            { timeoutMs: 120_000, intervalMs: 500 },
          );
          return opened.incidentId;
        }),
      ),
    );
    await killing;
    // One worker stays up at the end, so everything can finish.
    while (workers.size < 2) startWorker();
    await Promise.all([...workers].map((w) => w.ready.catch(() => undefined)));

    const closed = new Map<string, TimelineEvent[]>();
    await waitFor(
      async () => {
        for (const id of ids) {
          if (closed.has(id)) continue;
          const { status } = await client.workflow.getHandle(id).describe();
          if (status.name === 'COMPLETED') closed.set(id, await incidents.timeline(id));
        }
        return closed.size === ids.length ? true : undefined;
      },
      'every incident to close',
      { timeoutMs: 240_000, intervalMs: 2_000 },
    );

    let lost = 0;
    let timersNotFired = 0;
    let duplicateEffects = 0;
    let missingEffects = 0;
    for (const id of ids) {
      const timeline = closed.get(id) ?? [];
      const steps = timeline.flatMap((e) => (e.type === 'step_completed' ? [e.stepId] : []));
      if (!EFFECT_STEPS.every((s) => steps.includes(s))) lost++;
      const timedOut = timeline.some(
        (e) =>
          e.type === 'step_skipped' && e.stepId === 'wait-for-analyst' && /not completed within/.test(e.detail ?? ''),
      );
      if (!timedOut) timersNotFired++;
      for (const step of EFFECT_STEPS) {
        const applied = sink.deliveriesFor(`${id}/${step}`).filter((r) => r.applied).length;
        if (applied === 0) missingEffects++;
        if (applied > 1) duplicateEffects++;
      }
    }
    // Any key the peer applied that is not one incident step's key would be an effect applied under a second key.
    const expected = new Set(ids.flatMap((id) => EFFECT_STEPS.map((s) => `${id}/${s}`)));
    const strays = sink.requests.filter((r) => r.applied && r.idempotencyKey && !expected.has(r.idempotencyKey));
    duplicateEffects += strays.length;
    const redeliveries = sink.requests.filter((r) => r.status < 300 && !r.applied).length;

    if (process.env.FAULTS_RECORD_HISTORIES) await recordKilledMidStep(client, ids);

    recordFigures('worker-kills', {
      worker_kills: kills,
      incidents: ids.length,
      lost,
      duplicate_effects: duplicateEffects,
      effects_missing: missingEffects,
      redeliveries_acknowledged_not_applied: redeliveries,
      timers_due: ids.length,
      timers_not_fired: timersNotFired,
    });
    const strayKeys = strays.slice(0, 5).map((r) => `${r.path} ${r.idempotencyKey}`);
    expect({ lost, duplicateEffects, missingEffects, timersNotFired }, `stray keys: ${strayKeys.join(', ')}`).toEqual({
      lost: 0,
      duplicateEffects: 0,
      missingEffects: 0,
      timersNotFired: 0,
    });
    expect(kills).toBeGreaterThanOrEqual(KILLS);
  }, 900_000);
});
