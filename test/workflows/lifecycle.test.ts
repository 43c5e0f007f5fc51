// The incident lifecycle under time skipping: five phases as child workflows, real activities against a real
// webhook peer and real files, update validators refusing illegal moves, and the metrics from phase timestamps.
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpdateRefusedError } from '../../src/client';
import type { IncidentOutcome } from '../../workflows/definitions';
import { incidentInput, plan, startIncident } from '../helpers/incident-fixtures';
import { type TimeSkippingEngine, startTimeSkippingEngine, until } from '../helpers/time-skipping-engine';

const TASK_QUEUE = 'lifecycle-test';
let engine: TimeSkippingEngine;

beforeAll(async () => {
  engine = await startTimeSkippingEngine(TASK_QUEUE);
});

afterAll(async () => {
  await engine?.close();
});

describe('incident lifecycle', () => {
  it('runs all five phases, refuses illegal moves with a reason, and yields its metrics', async () => {
    const id = 'INC-2026-101';
    const handle = await startIncident(
      engine.env.client,
      TASK_QUEUE,
      incidentInput(id, plan('security-incident'), {
        eventType: 'unauthorized_access',
        title: 'admin login from unknown address',
      }),
    );

    // The Fiovana procedures' assessment: unauthorized access is High (P1) when the opener gives no severity.
    const first = await engine.incidents.status(id);
    expect(first.severity).toBe('P1');

    await expect(engine.incidents.resolve(id, { by: 'alice' })).rejects.toThrow(/containment has not ended/);
    await expect(engine.incidents.setSeverity(id, { by: 'alice', severity: 'P9' })).rejects.toThrow(
      /expected a severity/,
    );

    await engine.incidents.acknowledge(id, { by: 'alice' });
    const twice = engine.incidents.acknowledge(id, { by: 'bob' });
    await expect(twice).rejects.toBeInstanceOf(UpdateRefusedError);
    await expect(twice).rejects.toThrow(/already acknowledged at level 0 by alice/);

    // Detect and contain run by themselves; eradicate waits for an operator.
    const waiting = await until(
      () => engine.incidents.status(id),
      (s) => s.phase === 'eradicate' && s.awaitingAdvance,
    );
    expect(waiting.phases.detect?.endedAt).toBeDefined();
    expect(waiting.evidence).toHaveLength(1);
    const evidence = waiting.evidence[0]!;
    expect(existsSync(evidence.archive)).toBe(true);

    await engine.incidents.recordRootCause(id, { by: 'alice', summary: 'leaked admin password' });
    await engine.env.sleep('30m');
    const resolved = await engine.incidents.resolve(id, { by: 'alice', summary: 'password rotated' });
    expect(resolved.status).toBe('resolved');

    await until(
      () => engine.incidents.status(id),
      (s) => s.phase === 'post-incident' && s.awaitingAdvance,
    );
    const closing = await engine.incidents.advancePhase(id, { by: 'alice', note: 'review held' });
    expect(closing.status).toBe('closed');
    const outcome = (await handle.result()) as IncidentOutcome;
    expect(outcome.status).toBe('closed');
    expect(outcome.metrics.timeToResolveMs).toBeGreaterThanOrEqual(30 * 60_000);
    expect(outcome.metrics.timeToDetectMs).toBeGreaterThanOrEqual(0);
    expect(outcome.metrics.timeToContainMs).toBeGreaterThanOrEqual(0);
    expect(outcome.metrics.timeToEradicateMs).toBeGreaterThanOrEqual(30 * 60_000);

    const timeline = await engine.incidents.timeline(id);
    const types = timeline.map((e) => e.type);
    for (const phase of ['detect', 'contain', 'eradicate', 'recover', 'post-incident']) {
      expect(timeline.some((e) => e.type === 'phase_started' && e.phase === phase)).toBe(true);
    }
    expect(types.at(-1)).toBe('closed');
    // Timestamps never go backwards: the timeline is append-only in time order.
    expect(timeline.map((e) => e.at)).toEqual([...timeline.map((e) => e.at)].sort((a, b) => a - b));

    // Each notification step reached the real peer exactly once, keyed by incident and step.
    for (const step of [
      'notify-responders',
      'notify-contained',
      'notify-eradication',
      'notify-users',
      'schedule-review',
    ]) {
      expect(engine.sink.deliveriesFor(`${id}/${step}`)).toHaveLength(1);
    }
    // A new incident records one patch marker (the baseline), not one per patch; its phases, of types born with
    // that baseline, record none.
    for (const workflowId of [
      id,
      ...['detect', 'contain', 'eradicate', 'recover', 'post-incident'].map((p) => `${id}.${p}`),
    ]) {
      const history = await engine.env.client.workflow.getHandle(workflowId).fetchHistory();
      const patches = history.events!.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch');
      expect(patches.length, workflowId).toBe(workflowId === id ? 1 : 0);
    }
    const manifest = JSON.parse(readFileSync(evidence.archive.replace(/\.tar\.gz$/, '.manifest.json'), 'utf8')) as {
      files: { path: string }[];
    };
    expect(manifest.files.map((f) => f.path).sort()).toEqual(
      expect.arrayContaining([expect.stringContaining('audit.log')]),
    );
  });

  it('refuses every update once the incident is closed', async () => {
    const id = 'INC-2026-102';
    const handle = await startIncident(
      engine.env.client,
      TASK_QUEUE,
      incidentInput(id, plan('security-incident'), { severity: 'P3' }),
    );
    await until(
      () => engine.incidents.status(id),
      (s) => s.phase === 'eradicate' && s.awaitingAdvance,
    );
    await engine.incidents.declareFalsePositive(id, { by: 'alice', reason: 'scanner test traffic' });
    const outcome = (await handle.result()) as IncidentOutcome;
    expect(outcome.status).toBe('false_positive');
    await expect(engine.incidents.acknowledge(id, { by: 'bob' })).rejects.toThrow(/closed|false positive/);
  });

  it("opens what both documents call critical or high as such without labels; an operator's severity stands", async () => {
    const opened = async (id: string, request: Parameters<typeof incidentInput>[2]) => {
      await startIncident(engine.env.client, TASK_QUEUE, incidentInput(id, plan('security-incident'), request));
      const view = await engine.incidents.status(id);
      await engine.incidents.declareFalsePositive(id, { by: 'alice', reason: 'test' });
      return view.severity;
    };
    // Fiovana's Severity Levels: "System compromise" is Critical; FailSafe-Qore's P1: "Data exposure suspected".
    expect(await opened('INC-2026-103', { eventType: 'system_compromise' })).toBe('P0');
    expect(await opened('INC-2026-104', { eventType: 'data_exposure' })).toBe('P1');
    expect(await opened('INC-2026-105', { eventType: 'system_compromise', severity: 'P2' })).toBe('P2');
  });
});
