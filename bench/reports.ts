// `npm run bench:reports`: a quarterly report over 10,000 closed incidents, from the summary store on disk to the
// rendered HTML page, must take under 5 s (the summaries are written by the close-time activity; here they are
// generated, spread over a quarter, with recurrences and drills). Writes bench/results/reports.json.
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { IncidentSummaryRecord } from '../domain/report';
import { SEVERITIES } from '../domain/severity';
import { generateReport } from '../src/reports/generate';
import { renderReport } from '../src/reports/report-render';
import { summaryFile } from '../src/reports/store';

const COUNT = Number(process.env.BENCH_REPORT_INCIDENTS ?? 10_000);
const LIMIT_MS = 5_000;
const HOUR = 3_600_000;
const QUARTER_START = Date.UTC(2026, 6, 1);
const QUARTER_MS = 92 * 24 * HOUR;

function summary(i: number): IncidentSummaryRecord {
  const severity = SEVERITIES[i % 4]!;
  const openedAt = QUARTER_START + Math.floor((i / COUNT) * (QUARTER_MS - 72 * HOUR));
  const ttr = ((i * 7919) % 60) * HOUR + 15 * 60_000;
  return {
    v: 1,
    incidentId: `INC-2026-${String(i + 1).padStart(5, '0')}`,
    title: `incident ${i}`,
    runbookId: ['web-attack', 'outage', 'leak', 'dos', 'xss'][i % 5]!,
    category: ['security', 'operational', 'privacy'][i % 3]!,
    eventType: 'other',
    severity,
    initialSeverity: severity,
    status: 'closed',
    drill: i % 50 === 0,
    openedAt,
    closedAt: openedAt + ttr + HOUR,
    tta: ((i * 31) % 120) * 60_000,
    ttd: 5 * 60_000,
    ttc: 40 * 60_000,
    tte: ttr - 45 * 60_000,
    ttr,
    ackTargetMs: [15, 60, 240, 1440][i % 4]! * 60_000,
    resolveTargetMs: [4, 24, 72, 168][i % 4]! * HOUR,
    escalations: i % 3 === 0 ? [{ trigger: 'unacknowledged', toLevel: 1 }] : [],
    phasesLate: i % 7 === 0 ? ['eradicate'] : [],
    target: `source_ip=203.0.113.${i % 200}`,
    ...(i % 4 ? { rootCause: `cause ${i % 40}` } : {}),
    dataBreachConfirmed: i % 97 === 0,
    evidence: 1,
    lessons: i % 10 === 0 ? ['tighten the WAF rule'] : [],
    followUpsOpen: i % 25 === 0 ? [{ title: 'fix it', owner: 'alice', dueAt: openedAt + 14 * 24 * HOUR }] : [],
  };
}

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bench-reports-'));
try {
  mkdirSync(path.dirname(summaryFile(dataDir)), { recursive: true });
  writeFileSync(
    summaryFile(dataDir),
    Array.from({ length: COUNT }, (_, i) => JSON.stringify(summary(i))).join('\n') + '\n',
  );
  const runs: number[] = [];
  let incidents = 0;
  for (let run = 0; run < 3; run++) {
    const started = performance.now();
    const report = await generateReport(dataDir, 'quarterly', { from: QUARTER_START, now: QUARTER_START + QUARTER_MS });
    renderReport(report, 'html');
    renderReport(report, 'md');
    runs.push(performance.now() - started);
    incidents = report.metrics.overall.count + report.metrics.drills.count;
  }
  const worst = Math.max(...runs);
  const result = {
    what: 'quarterly report (read store, metrics, trend, render HTML and Markdown) over closed incidents',
    incidents,
    runsMs: runs.map((ms) => Math.round(ms)),
    worstMs: Math.round(worst),
    limitMs: LIMIT_MS,
    passed: worst < LIMIT_MS,
    node: process.version,
    cpus: os.cpus().length,
  };
  writeFileSync(path.resolve(import.meta.dirname, 'results/reports.json'), JSON.stringify(result, null, 2) + '\n');
  console.log(
    `quarterly report over ${incidents} closed incidents: ${result.runsMs.join(', ')} ms (limit ${LIMIT_MS} ms)`,
  );
  if (!result.passed) process.exitCode = 1;
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
