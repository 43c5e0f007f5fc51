// A week of incidents played on the time-skipping server with the real workflows and activities: several severities,
// categories and runbooks, a recurrence, a missed acknowledgement and a missed SLA, and drills mixed in. Each incident
// is recorded at close by the close-time activity (what the incident calls when it closes); the weekly, monthly and
// quarterly reports must then give exactly the expected figures, and a closed incident's review must hold every part.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Runbook, type RunbookPlan } from '../../domain/runbook';
import type { PeriodicReport } from '../../domain/report';
import type { Review } from '../../domain/review';
import { pinnedPlan } from '../../src/runbooks/load';
import { generateReport } from '../../src/reports/generate';
import { renderReport } from '../../src/reports/report-render';
import { readSummaries, reviewDir } from '../../src/reports/store';
import { incidentInput, startIncident } from '../helpers/incident-fixtures';
import { type TimeSkippingEngine, startTimeSkippingEngine, until } from '../helpers/time-skipping-engine';

const TASK_QUEUE = 'reports-week-test';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

function plainPlan(id: string, category: string): RunbookPlan {
  const runbook = Runbook.parse({
    id,
    version: 1,
    title: id,
    category,
    eventTypes: ['other'],
    // Fewer timers: periodic status updates would only add noise to the week.
    escalation: {
      statusUpdateEvery: { P0: 30 * 24 * HOUR, P1: 30 * 24 * HOUR, P2: 30 * 24 * HOUR, P3: 30 * 24 * HOUR },
    },
    phases: {
      detect: {},
      contain: {},
      eradicate: { advance: 'manual' },
      recover: {},
      'post-incident': { advance: 'manual' },
    },
  });
  return pinnedPlan(runbook, { contentHash: `test-${id}`, source: `${id}.yaml` });
}

const PLANS = {
  'web-attack': plainPlan('web-attack', 'security'),
  outage: plainPlan('outage', 'operational'),
  leak: plainPlan('leak', 'privacy'),
};

interface Played {
  id: string;
  runbook: keyof typeof PLANS;
  severity: 'P0' | 'P1' | 'P2' | 'P3';
  labels: Record<string, string>;
  ackAt: number;
  resolveAt: number;
  rootCause?: string;
  drill?: boolean;
}

// TTR 4h, 6h, 26h, 3h, 48h, 5h for the six real incidents; 203 is acknowledged late (1h30m > P1's 1h) and resolved
// past P1's 24h SLA, and repeats 201's runbook and source address, as does 206.
const WEEK: Played[] = [
  {
    id: 'INC-2026-201',
    runbook: 'web-attack',
    severity: 'P1',
    labels: { source_ip: '203.0.113.7' },
    ackAt: 30 * MINUTE,
    resolveAt: 4 * HOUR,
    rootCause: 'credential stuffing',
  },
  {
    id: 'INC-2026-202',
    runbook: 'outage',
    severity: 'P2',
    labels: { service: 'search' },
    ackAt: HOUR,
    resolveAt: 6 * HOUR,
    rootCause: 'index shard full',
  },
  {
    id: 'INC-2026-203',
    runbook: 'web-attack',
    severity: 'P1',
    labels: { source_ip: '203.0.113.7' },
    ackAt: 90 * MINUTE,
    resolveAt: 26 * HOUR,
  },
  {
    id: 'INC-2026-204',
    runbook: 'leak',
    severity: 'P0',
    labels: { bucket: 'exports' },
    ackAt: 10 * MINUTE,
    resolveAt: 3 * HOUR,
    rootCause: 'public bucket policy',
  },
  {
    id: 'INC-2026-205',
    runbook: 'outage',
    severity: 'P3',
    labels: { service: 'batch' },
    ackAt: 2 * HOUR,
    resolveAt: 48 * HOUR,
    rootCause: 'cron clock skew',
  },
  {
    id: 'INC-2026-206',
    runbook: 'web-attack',
    severity: 'P2',
    labels: { source_ip: '203.0.113.7' },
    ackAt: 20 * MINUTE,
    resolveAt: 5 * HOUR,
    rootCause: 'credential stuffing again',
  },
  {
    id: 'INC-2026-207',
    runbook: 'outage',
    severity: 'P2',
    labels: { service: 'search' },
    ackAt: 5 * MINUTE,
    resolveAt: HOUR,
    rootCause: 'drill',
    drill: true,
  },
  {
    id: 'INC-2026-208',
    runbook: 'web-attack',
    severity: 'P1',
    labels: { source_ip: '203.0.113.7' },
    ackAt: 5 * MINUTE,
    resolveAt: HOUR,
    rootCause: 'drill',
    drill: true,
  },
];

let engine: TimeSkippingEngine;
let from: number;
const reports: Partial<Record<'weekly' | 'monthly' | 'quarterly', PeriodicReport>> = {};

/** Plays one incident to its close and records it as the incident does at close. */
async function play(p: Played): Promise<void> {
  const plan = PLANS[p.runbook];
  await startIncident(
    engine.env.client,
    TASK_QUEUE,
    incidentInput(p.id, plan, {
      severity: p.severity,
      labels: p.labels,
      drill: p.drill ?? false,
      title: `${p.runbook} ${p.id}`,
    }),
  );
  const opened = await until(
    () => engine.incidents.status(p.id),
    (s) => s.phase === 'eradicate' && s.awaitingAdvance,
    `${p.id} waiting in eradicate`,
  );
  from ??= opened.openedAt - 1_000;
  const at = async (offset: number) => {
    const now = await engine.env.currentTimeMs();
    if (opened.openedAt + offset > now) await engine.env.sleep(opened.openedAt + offset - now);
    await settle(p.id);
  };
  await at(p.ackAt);
  await engine.incidents.acknowledge(p.id, { by: 'alice' });
  if (p.rootCause) await engine.incidents.recordRootCause(p.id, { by: 'alice', summary: p.rootCause });
  await at(p.resolveAt);
  await engine.incidents.resolve(p.id, { by: 'alice', summary: 'fixed' });
  await until(
    () => engine.incidents.status(p.id),
    (s) => s.phase === 'post-incident' && s.awaitingAdvance,
    `${p.id} waiting in post-incident`,
  );
  const closed = await engine.incidents.advancePhase(p.id, { by: 'dana', note: 'review held' });
  expect(closed.status).toBe('closed');
  // The incident records its review and summary as it closes (waiting on its run's result would skip time here).
  await until(
    () => readSummaries(engine.config.dataDir),
    (summaries) => summaries.some((s) => s.incidentId === p.id),
    `${p.id} recorded at close`,
  );
  await engine.env.sleep(2 * HOUR);
}

/**
 * Waits until the incident has no workflow task or activity in flight, twice in a row: the time-skipping server can
 * lose a workflow task when an update arrives while timers that just fired are still being handled.
 */
async function settle(id: string): Promise<void> {
  let quiet = 0;
  for (let i = 0; i < 600 && quiet < 2; i++) {
    const { raw } = await engine.env.client.workflow.getHandle(id).describe();
    quiet = (raw.pendingActivities?.length ?? 0) === 0 && !raw.pendingWorkflowTask ? quiet + 1 : 0;
    if (quiet < 2) await new Promise((r) => setTimeout(r, 50));
  }
}

const near = (actual: number | null | undefined, expected: number) => {
  expect(actual).not.toBeNull();
  expect(Math.abs((actual as number) - expected)).toBeLessThan(30_000);
};

beforeAll(async () => {
  engine = await startTimeSkippingEngine(TASK_QUEUE);
  for (const p of WEEK) await play(p);
  const now = await engine.env.currentTimeMs();
  for (const kind of ['weekly', 'monthly', 'quarterly'] as const)
    reports[kind] = await generateReport(engine.config.dataDir, kind, { from, now });
}, 300_000);

afterAll(async () => {
  await engine?.close();
});

describe('a week of incidents', () => {
  it('records one summary per closed incident, drills marked', async () => {
    const summaries = await readSummaries(engine.config.dataDir);
    expect(summaries.map((s) => s.incidentId).sort()).toEqual(WEEK.map((p) => p.id));
    expect(
      summaries
        .filter((s) => s.drill)
        .map((s) => s.incidentId)
        .sort(),
    ).toEqual(['INC-2026-207', 'INC-2026-208']);
  });

  it.each(['weekly', 'monthly', 'quarterly'] as const)(
    '%s report: exact counts, SLA compliance, recurrences and MTTR',
    (kind) => {
      const m = reports[kind]!.metrics;
      expect(m.overall.count).toBe(6);
      expect(m.counts.bySeverity).toEqual({ P0: 1, P1: 2, P2: 2, P3: 1 });
      expect(m.counts.byCategory).toEqual({ operational: 2, privacy: 1, security: 3 });
      expect(m.counts.byStatus).toEqual({ closed: 6 });
      expect(m.overall.acknowledgedInTime).toEqual({ met: 5, total: 6, rate: 5 / 6 });
      expect(m.overall.resolvedInTime).toEqual({ met: 5, total: 6, rate: 5 / 6 });
      expect(m.recurring).toEqual([
        {
          runbookId: 'web-attack',
          target: 'source_ip=203.0.113.7',
          count: 3,
          incidents: ['INC-2026-201', 'INC-2026-203', 'INC-2026-206'],
        },
      ]);
      // TTR 3h, 4h, 5h, 6h, 26h, 48h: mean 15h20m, p50 (3rd of 6) 5h, p90 (6th) 48h.
      near(m.overall.mttr!.meanMs, (92 * HOUR) / 6);
      near(m.overall.mttr!.p50Ms, 5 * HOUR);
      near(m.overall.mttr!.p90Ms, 48 * HOUR);
      expect(m.overall.mttr!.n).toBe(6);
      // TTA 10m, 20m, 30m, 1h, 1h30m, 2h: mean 55m.
      near(m.overall.mtta!.meanMs, (330 * MINUTE) / 6);
      near(m.bySeverity.P1!.mttr!.meanMs, 15 * HOUR);
      expect(m.bySeverity.P1!.acknowledgedInTime).toEqual({ met: 1, total: 2, rate: 0.5 });
      expect(m.byRunbook['web-attack']!.count).toBe(3);
      expect(m.byCategory.operational!.mttr!.n).toBe(2);
      // 203 unacknowledged at 1h, its level then unacknowledged, no root cause at 2h, past its SLA at 24h; 204 (P0, an
      // "immediate" response time) unacknowledged at once and paged as P0; 205 without a root cause at 2h; eradicate
      // and recover past their 24h windows in 203 and 205.
      expect(m.escalationsByTrigger).toEqual({
        level_unacknowledged: 1,
        no_root_cause: 2,
        phase_overdue: 4,
        severity_p0: 1,
        sla_breached: 1,
        unacknowledged: 2,
      });
      expect(m.drills).toEqual({
        count: 2,
        byRunbook: { outage: 1, 'web-attack': 1 },
        incidents: ['INC-2026-207', 'INC-2026-208'],
      });
      const missed = reports[kind]!.incidents.find((i) => i.incidentId === 'INC-2026-203')!;
      expect(missed).toMatchObject({ ackMet: false, resolveMet: false });
      expect(reports[kind]!.recommendations.join('\n')).toMatch(/Recurring: 3 incidents of runbook web-attack/);
    },
  );

  it('monthly and quarterly reports add root causes, process improvements and posture; quarterly the procedure review', () => {
    const monthly = reports.monthly!;
    expect(monthly.rootCauses).toHaveLength(5);
    expect(monthly.missingRootCause).toEqual(['INC-2026-203']);
    expect(monthly.securityPosture).toMatchObject({ securityIncidents: 3, privacyIncidents: 1, critical: 1 });
    expect(monthly.processImprovements!.join('\n')).toMatch(/sla_breached/);
    expect(reports.weekly!.rootCauses).toBeUndefined();
    const quarterly = reports.quarterly!;
    expect(quarterly.procedureReview!.map((p) => [p.runbookId, p.incidents])).toEqual([
      ['leak', 1],
      ['outage', 2],
      ['web-attack', 3],
    ]);
    expect(quarterly.drillsHeld).toEqual([]);
    expect(quarterly.threatModel!.reduce((n, t) => n + t.incidents, 0)).toBeGreaterThan(0);
    expect(quarterly.securityAudit!.find((c) => c.check === 'Closed without a root cause')?.incidents).toEqual([
      'INC-2026-203',
    ]);
    expect(quarterly.training!.find((t) => t.requirement === 'Regular tabletop exercises')?.drills?.held).toBe(0);
  });

  it('renders every report as Markdown and as HTML with its charts, escaping what people typed', () => {
    const html = renderReport(reports.weekly!, 'html');
    expect(html).toContain('<svg');
    expect(html).toContain('Incidents by severity');
    expect(html).toContain('Mean time to resolve by period');
    expect(html).not.toMatch(/<script/i);
    const md = renderReport(reports.quarterly!, 'md');
    for (const heading of [
      'Incident summary',
      'Metrics dashboard',
      'Trends',
      'Recommendations',
      'Root cause analysis',
      'Security posture assessment',
      'Threat model update',
      'Security audit',
      'Response procedure review',
      'Training requirements',
      'Training and simulation',
    ])
      expect(md).toContain(`## ${heading}`);
  });

  it('writes the review of each closed incident to the data directory with every part', () => {
    const base = path.join(reviewDir(engine.config.dataDir), 'INC-2026-203');
    const review = JSON.parse(readFileSync(`${base}.json`, 'utf8')) as Review;
    expect(review.final).toBe(true);
    expect(review.summary).toMatchObject({
      incidentId: 'INC-2026-203',
      status: 'closed',
      severity: 'P1',
      defaultWindows: false,
    });
    near(review.times.resolveMs, 26 * HOUR);
    near(review.times.acknowledgeMs, 90 * MINUTE);
    expect(review.times.containMs).toBeDefined();
    expect(review.escalations.map((e) => e.trigger)).toEqual(
      expect.arrayContaining(['unacknowledged', 'sla_breached']),
    );
    expect(review.phases.find((p) => p.phase === 'eradicate')).toMatchObject({ verdict: 'late' });
    expect(review.phases.find((p) => p.phase === 'detect')).toMatchObject({ verdict: 'on_time' });
    expect(review.severityHistory[0]).toMatchObject({ severity: 'P1' });
    const md = readFileSync(`${base}.md`, 'utf8');
    for (const part of [
      'Summary',
      'Times',
      'Severity history',
      'Phases against their windows',
      'Escalations',
      'Actions taken and undone',
      'Approvals, rejections and tasks',
      'Root cause',
      'Impact',
      'Evidence',
      'Notes and findings',
      'Lessons learned',
      'Follow-up actions',
      'Timeline (condensed)',
    ])
      expect(md).toContain(`## ${part}`);
    const html = readFileSync(`${base}.html`, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('INC-2026-203');
  });
});
