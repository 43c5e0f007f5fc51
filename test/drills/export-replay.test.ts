// Export and replay of a real incident: one incident runs on the time-skipping server with real activities (paged at
// 1h, acknowledged, resolved, closed); `incident export` writes its history and its phase children's, as one bundle
// and as one file per workflow; `drill replay` replays them clean against the current code; a tampered copy is
// reported with the first divergence (core's nondeterminism message and the event it concerns) and exit status 1;
// `drill replay --reenact` turns the history back into a drill and finds the same decisions.
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@temporalio/client';
import type { WorkflowBundle } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDataConverter } from '../helpers/codec';
import { type HistoryBundle, exportIncident } from '../../src/drills/export';
import { reenactHistories } from '../../src/drills/reenact';
import { stackTracesOnThisThread } from '../../src/drills/replay-sandbox';
import { loadHistories, replayHistories } from '../../src/drills/replay';
import { bundleWorkflows } from '../../src/worker';
import type { IncidentOutcome } from '../../workflows/definitions';
import { incidentInput, plan, startIncident } from '../helpers/incident-fixtures';
import { runCli } from '../helpers/run-cli';
import { type TimeSkippingEngine, startTimeSkippingEngine, until } from '../helpers/time-skipping-engine';

const ID = 'INC-2026-950';
const MINUTE = 60_000;

const cli = (args: string[]) => runCli(args);

let engine: TimeSkippingEngine;
let bundle: WorkflowBundle;
let exported: HistoryBundle;
const dir = mkdtempSync(path.join(os.tmpdir(), 'drill-export-'));

beforeAll(async () => {
  engine = await startTimeSkippingEngine('drill-export');
  bundle = await bundleWorkflows();
  const handle = await startIncident(
    engine.env.client,
    engine.taskQueue,
    incidentInput(ID, plan('security-incident'), {
      eventType: 'unauthorized_access',
      title: 'admin login from an unknown address',
    }),
  );
  const { openedAt } = await until(
    () => engine.incidents.status(ID),
    (s) => s.phase === 'eradicate' && s.awaitingAdvance,
    'waiting in eradicate',
  );
  const sleepUntil = async (target: number) => {
    const now = await engine.env.currentTimeMs();
    if (target > now) await engine.env.sleep(target - now);
  };
  await sleepUntil(openedAt + 70 * MINUTE); // L1 paged at 1h
  await engine.incidents.acknowledge(ID, { by: 'alice', note: 'on it' });
  await sleepUntil(openedAt + 80 * MINUTE);
  await engine.incidents.recordRootCause(ID, { by: 'alice', summary: 'leaked admin password' });
  await sleepUntil(openedAt + 90 * MINUTE);
  await engine.incidents.resolve(ID, { by: 'alice', summary: 'password rotated' });
  await until(
    () => engine.incidents.status(ID),
    (s) => s.phase === 'post-incident' && s.awaitingAdvance,
    'waiting in post-incident',
  );
  await sleepUntil(openedAt + 100 * MINUTE);
  await engine.incidents.advancePhase(ID, { by: 'alice', note: 'review held' });
  // A plain client waits for the result in real time (the time-skipping one would jump the clock years ahead).
  const outcome = (await new Client({ connection: engine.env.connection, dataConverter: testDataConverter }).workflow
    .getHandle(handle.workflowId)
    .result()) as IncidentOutcome;
  expect(outcome.status).toBe('closed');
}, 300_000);

afterAll(async () => {
  await engine?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('incident export and drill replay', () => {
  it('exports the incident and every phase child it started, as `temporal workflow show --output json` prints them', async () => {
    exported = await exportIncident(engine.env.client, ID);
    expect(exported.format).toBe('incident-engine/history-bundle@1');
    expect(exported.workflows.map((w) => [w.workflowId, w.role])).toEqual([
      [ID, 'incident'],
      [`${ID}.detect`, 'detect'],
      [`${ID}.contain`, 'contain'],
      [`${ID}.eradicate`, 'eradicate'],
      [`${ID}.recover`, 'recover'],
      [`${ID}.post-incident`, 'post-incident'],
    ]);
    const events = exported.workflows[0]!.history.events as { eventType: string }[];
    expect(events[0]!.eventType).toBe('EVENT_TYPE_WORKFLOW_EXECUTION_STARTED');
    expect(events.at(-1)!.eventType).toBe('EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED');
    writeFileSync(path.join(dir, 'bundle.json'), JSON.stringify(exported));
  });

  it('exports through the CLI: a bundle, or one file per workflow named for the replay gate', async () => {
    const out = path.join(dir, 'cli-bundle.json');
    const bundleRun = await cli(['--address', engine.env.address, 'incident', 'export', ID, '--out', out]);
    expect(bundleRun.code, bundleRun.stderr).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(JSON.parse(JSON.stringify(exported)));

    const split = path.join(dir, 'split');
    const splitRun = await cli([
      '--address',
      engine.env.address,
      'incident',
      'export',
      ID,
      '--dir',
      split,
      '--prefix',
      'prod-INC-2026-950',
    ]);
    expect(splitRun.code, splitRun.stderr).toBe(0);
    expect(readdirSync(split).sort()).toEqual(
      ['contain', 'detect', 'eradicate', 'incident', 'post-incident', 'recover'].map(
        (role) => `prod-INC-2026-950.${role}.json`,
      ),
    );
    expect(JSON.parse(readFileSync(path.join(split, 'prod-INC-2026-950.incident.json'), 'utf8'))).toEqual(
      exported.workflows[0]!.history,
    );
  });

  it('replays the export clean against the current code, from the bundle and from the split files', async () => {
    const outcomes = await replayHistories(loadHistories([path.join(dir, 'bundle.json'), path.join(dir, 'split')]), {
      workflowBundle: bundle,
    });
    expect(outcomes).toHaveLength(12);
    expect(outcomes.filter((o) => !o.ok)).toEqual([]);
    // Replay ran without the SDK's per-promise stack capture (most of its CPU); this fails if an SDK upgrade moves
    // the switch.
    expect(stackTracesOnThisThread()).toBe(false);

    const run = await cli(['drill', 'replay', path.join(dir, 'split')]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('6 history(ies) replay clean');
  });

  it('reports the first divergence of a tampered history: core’s message and the event, and exits 1', async () => {
    const tampered = JSON.parse(JSON.stringify(exported)) as HistoryBundle;
    const contain = tampered.workflows.find((w) => w.role === 'contain')!;
    // Containment's steps run as local activities: the evidence snapshot's marker, recorded as a notification.
    const markerData = (e: Record<string, Record<string, unknown>>) =>
      (e.markerRecordedEventAttributes?.details as { data?: { payloads: { data: string }[] } } | undefined)?.data
        ?.payloads[0];
    const decode = (payload: { data: string }) =>
      JSON.parse(Buffer.from(payload.data, 'base64').toString('utf8')) as { activity_type: string };
    const event = (contain.history.events as Record<string, Record<string, unknown>>[]).find((e) => {
      const payload = markerData(e);
      return payload !== undefined && decode(payload).activity_type === 'evidence.snapshot';
    })!;
    const payload = markerData(event)!;
    payload.data = Buffer.from(JSON.stringify({ ...decode(payload), activity_type: 'notify.send' })).toString('base64');
    const file = path.join(dir, 'tampered.json');
    writeFileSync(file, JSON.stringify(tampered));

    const outcomes = await replayHistories(loadHistories([file]), { workflowBundle: bundle });
    const bad = outcomes.filter((o) => !o.ok);
    expect(bad).toHaveLength(1);
    expect(bad[0]).toMatchObject({
      workflowId: `${ID}.contain`,
      failure: 'nondeterminism',
      message:
        "[TMPRL1100] Nondeterminism error: Activity type of recorded marker 'notify.send' does not match activity type of local activity command 'evidence.snapshot'",
      divergence: {
        eventId: Number(event.eventId),
        eventType: 'MARKER_RECORDED',
        detail: 'local activity notify.send',
      },
    });

    const run = await cli(['drill', 'replay', file]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`DIVERGES  tampered.json#${ID}.contain (`);
    expect(run.stdout).toContain(`at event ${String(event.eventId)} MARKER_RECORDED (local activity notify.send)`);
    expect(run.stdout).toContain(
      "Activity type of recorded marker 'notify.send' does not match activity type of local activity command 'evidence.snapshot'",
    );
    expect(run.stdout).toContain('1 of 6 history(ies) do not replay against the current code');
  });

  it('reenacts the incident as a drill: the same escalation, steps, phases and final status', async () => {
    const [result] = await reenactHistories(loadHistories([path.join(dir, 'bundle.json')]), { workflowBundle: bundle });
    expect(result!.incidentId).toBe(ID);
    expect(result!.differences).toEqual([]);
    expect(result!.original.escalations).toEqual([{ key: 'unacknowledged', toLevel: 1, at: 3600 }]);
    expect(result!.reenacted.escalations).toEqual([{ key: 'unacknowledged', toLevel: 1, at: 3600 }]);
    expect(result!.original.finalStatus).toBe('closed');
    // The generated scenario is a drill file an operator can keep.
    expect(result!.scenario).toContain('id: reenact-inc-2026-950');
    expect(result!.scenario).toMatch(/- at: 1h10m\n {4}by: alice\n {4}acknowledge:\n {6}note: on it/);
  });
});
