// Peers and disks that misbehave, on a real dev server with a real worker: a peer behind a fault proxy that resets
// connections, answers 503, never answers (effect applied, acknowledgement lost) or answers slowly; a critical step
// whose peer keeps failing; an evidence directory that cannot be written (a file where the directory should be) or
// is full (a 64 KiB tmpfs, when this process may mount one). Counted: attempts within the step's retry policy, effects
// applied once at the peer (by Idempotency-Key), rollback of what ran, and the incident going on after a disk error.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { Client, type Connection } from '@temporalio/client';
import { connectClosable } from '../../src/temporal/closable-connection';
import { type Worker } from '@temporalio/worker';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { IncidentClient } from '../../src/client';
import type { EngineConfig } from '../../src/config';
import type { TimelineEvent } from '../../domain/incident';
import type { DevServer } from '../../src/temporal/dev-server';
import { bundleWorkflows, createWorker } from '../../src/worker';
import type { IncidentOutcome } from '../../workflows/definitions';
import { incidentInput, makeEngineConfig, planFromPhases, startIncident, tempDir } from '../helpers/incident-fixtures';
import { startDevServerForTest } from '../helpers/temporal-env';
import { startWebhookSink, type WebhookSink } from '../helpers/webhook-sink';
import { type Fault, type FaultProxy, startFaultProxy } from './fault-proxy';
import { recordFigures } from './results';

const MAX_ATTEMPTS = 4;
const ATTEMPT_TIMEOUT = '3s';

describe('peers and disks that misbehave', () => {
  let rootDir: string;
  let server: DevServer;
  let sink: WebhookSink;
  let proxy: FaultProxy;
  let connection: Connection;
  let client: Client;
  let bundle: Awaited<ReturnType<typeof bundleWorkflows>>;
  const workers: Array<{ worker: Worker; running: Promise<void>; config: EngineConfig }> = [];
  const mounts: string[] = [];
  const figures: Record<string, number> = {};

  async function engine(taskQueue: string, change: (config: EngineConfig) => EngineConfig = (c) => c) {
    const base = makeEngineConfig(`${sink.url}/hooks/incidents`, taskQueue);
    const config = change({ ...base, http: { allowHosts: [new URL(proxy.url).host] } });
    const { NativeConnection } = await import('@temporalio/worker');
    const native = await NativeConnection.connect({ address: server.address });
    const worker = await createWorker({ connection: native, namespace: 'default', config, workflowBundle: bundle });
    const running = worker.run().finally(() => native.close());
    workers.push({ worker, running, config });
    return { config, incidents: new IncidentClient(client, taskQueue), taskQueue };
  }

  let opened = 0;
  /**
   * Started straight on the test's own task queue (its worker, its config): through the registry, an incident would
   * run on the registry's task queue, the first test's.
   */
  async function runToEnd(
    { incidents, taskQueue }: { incidents: IncidentClient; taskQueue: string },
    plan: ReturnType<typeof planFromPhases>,
    title: string,
  ) {
    const incidentId = `INC-1999-${String(++opened).padStart(3, '0')}`;
    await startIncident(client, taskQueue, incidentInput(incidentId, plan, { title, severity: 'P3' }));
    const outcome = await client.workflow.getHandle<() => Promise<IncidentOutcome>>(incidentId).result();
    return { incidentId, outcome, timeline: await incidents.timeline(incidentId) };
  }

  const httpStep = (id: string, extra = '') => `
      - id: ${id}
        action: http.request
        timeout: ${ATTEMPT_TIMEOUT}
        retry: { maxAttempts: ${MAX_ATTEMPTS}, initialInterval: 200ms, maxInterval: 1s }${extra}
        with:
          method: POST
          url: ${proxy.url}/hooks/effects
          body: { step: ${id} }`;

  beforeAll(async () => {
    rootDir = tempDir('faults-peers');
    sink = await startWebhookSink();
    proxy = await startFaultProxy(sink.url);
    [bundle, server] = await Promise.all([bundleWorkflows(), startDevServerForTest(path.join(rootDir, 'server'))]);
    connection = await connectClosable({ address: server.address });
    client = new Client({ connection, namespace: 'default' });
  });

  beforeEach(() => proxy.clear());

  afterAll(async () => {
    for (const { worker } of workers) worker.shutdown();
    await Promise.all(workers.map((w) => w.running.catch(() => undefined)));
    await connection?.close().catch(() => undefined);
    await server?.stop();
    await proxy?.close();
    await sink?.close();
    for (const dir of mounts) {
      try {
        execFileSync('umount', [dir]);
      } catch {
        // Already gone with the temp dir's process.
      }
    }
    for (const { config } of workers) await rm(config.evidenceBase, { recursive: true, force: true });
    if (rootDir) await rm(rootDir, { recursive: true, force: true });
    recordFigures('peers-and-disk', figures);
  });

  it.each<[string, Fault[]]>([
    ['answers 503 twice', ['503', '503']],
    ['resets the connection twice', ['reset', 'reset']],
    ['applies the effect and never answers', ['hang']],
    ['answers slowly, within the timeout', [{ slowMs: 1_500 }]],
  ])(
    'a peer that %s: retried within the policy, the effect applied once',
    async (name, faults) => {
      const target = await engine(`faults-peer-${faults.join('-').replace(/\W/g, '')}`);
      const plan = planFromPhases('fault-peer', ['other'], `\n  detect:\n    steps:${httpStep('call-peer')}\n`, 'test');
      proxy.inject(...faults);
      const { incidentId, outcome, timeline } = await runToEnd(target, plan, `peer that ${name}`);
      const key = `${incidentId}/call-peer`;
      const attempts = proxy.seen.filter((r) => r.idempotencyKey === key).length;
      const applied = sink.deliveriesFor(key).filter((r) => r.applied).length;
      figures.peer_faults_injected = (figures.peer_faults_injected ?? 0) + faults.length;
      figures.peer_duplicate_effects = (figures.peer_duplicate_effects ?? 0) + Math.max(0, applied - 1);
      expect(outcome.status).toBe('closed');
      expect(timeline.filter((e) => e.type === 'step_completed').map((e) => (e as { stepId: string }).stepId)).toEqual([
        'call-peer',
      ]);
      expect(attempts).toBe(faults.filter((f) => typeof f === 'string').length + 1);
      expect(attempts).toBeLessThanOrEqual(MAX_ATTEMPTS);
      expect(applied).toBe(1);
    },
    120_000,
  );

  it('a critical step whose peer keeps failing fails its phase and the incident rolls back what ran', async () => {
    const target = await engine('faults-critical', (c) => ({
      ...c,
      quarantine: { roots: [path.join(c.evidenceBase, 'uploads')] },
    }));
    const upload = path.join(target.config.evidenceBase, 'uploads', 'invoice.pdf.php');
    mkdirSync(path.dirname(upload), { recursive: true });
    writeFileSync(upload, '<?php system($_GET["c"]); ?>\n');
    const plan = planFromPhases(
      'fault-critical',
      ['other'],
      `
  contain:
    steps:
      - id: quarantine-upload
        action: file.quarantine
        with: { path: ${upload} }${httpStep('open-breaker', '\n        critical: true')}
`,
      'test',
    );
    proxy.inject(...Array.from({ length: MAX_ATTEMPTS }, () => '503' as const));
    const { incidentId, outcome, timeline } = await runToEnd(target, plan, 'critical step keeps failing');
    const attempts = proxy.seen.filter((r) => r.idempotencyKey === `${incidentId}/open-breaker`).length;
    const types = timeline.map((e) => e.type);
    figures.critical_failures_rolled_back = (figures.critical_failures_rolled_back ?? 0) + 1;
    expect(attempts).toBe(MAX_ATTEMPTS);
    expect(outcome.status).toBe('failed');
    expect(types, JSON.stringify(timeline)).toEqual(
      expect.arrayContaining(['step_failed', 'phase_failed', 'compensation_started']),
    );
    const failed = timeline.find(
      (e): e is Extract<TimelineEvent, { type: 'phase_failed' }> => e.type === 'phase_failed',
    );
    expect(failed?.error).toMatch(/critical step "open-breaker" failed/);
    // Rolled back: the quarantined file is back where it was, as it was.
    expect(readFileSync(upload, 'utf8')).toContain('<?php');
    expect(sink.deliveriesFor(`${incidentId}/open-breaker`).filter((r) => r.applied)).toEqual([]);
  }, 180_000);

  const evidencePlan = () =>
    planFromPhases(
      'fault-evidence',
      ['other'],
      `
  contain:
    steps:
      - id: preserve-evidence
        action: evidence.snapshot
        retry: { maxAttempts: 2, initialInterval: 200ms }
        with: { label: evidence, paths: [logs, config, big] }${httpStep('after-evidence')}
`,
      'test',
    );

  function expectEvidenceFailure(timeline: TimelineEvent[], where: string): void {
    const failed = timeline.find(
      (e): e is Extract<TimelineEvent, { type: 'step_failed' }> =>
        e.type === 'step_failed' && (e as { stepId: string }).stepId === 'preserve-evidence',
    );
    expect(failed, `the evidence step fails: ${JSON.stringify(timeline)}`).toBeDefined();
    expect(JSON.stringify(failed)).toContain(where);
    expect(
      timeline.some((e) => e.type === 'step_completed' && (e as { stepId: string }).stepId === 'after-evidence'),
    ).toBe(true);
  }

  it('an evidence directory that cannot be written fails the step naming the path; the incident goes on', async () => {
    const target = await engine('faults-evidence-unwritable', (c) => {
      mkdirSync(path.dirname(c.evidenceDir), { recursive: true });
      writeFileSync(c.evidenceDir, 'a file where the evidence directory should be\n');
      return c;
    });
    const { outcome, timeline } = await runToEnd(target, evidencePlan(), 'evidence directory unwritable');
    expect(outcome.status).toBe('closed');
    expectEvidenceFailure(timeline, target.config.evidenceDir);
    figures.evidence_failures_named = (figures.evidence_failures_named ?? 0) + 1;
  }, 120_000);

  it('a full evidence disk fails the step naming the path; the incident goes on', async (context) => {
    const dir = path.join(rootDir, 'full-evidence');
    mkdirSync(dir, { recursive: true });
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { stdio: 'ignore' });
      mounts.push(dir);
    } catch {
      context.skip('cannot mount a small tmpfs here (needs root or CAP_SYS_ADMIN); the full-disk case did not run');
    }
    const target = await engine('faults-evidence-full', (c) => {
      // A megabyte of evidence to archive, into 64 KiB of space.
      writeFileSync(
        path.join(c.evidenceBase, 'big'),
        Buffer.alloc(1024 * 1024, 7).map((b, i) => (b * i) % 251),
      );
      return { ...c, evidenceDir: dir };
    });
    expect(existsSync(dir)).toBe(true);
    const { outcome, timeline } = await runToEnd(target, evidencePlan(), 'evidence disk full');
    expect(outcome.status).toBe('closed');
    expectEvidenceFailure(timeline, dir);
    figures.evidence_failures_named = (figures.evidence_failures_named ?? 0) + 1;
  }, 120_000);
});
