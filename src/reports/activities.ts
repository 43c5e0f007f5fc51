// The activities of reports: the record an incident leaves at close (its final review in three formats and its
// summary in the store), the periodic report a schedule sends, and a scheduled drill. Registered by the worker beside
// the action activities; workflows import them by type only.
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { sendNotification } from '../../activities/actions/notify';
import type { EngineConfig } from '../config';
import { type ReportKind, previousPeriodStart, summarize } from '../../domain/report';
import { type ReviewInput, buildReview } from '../../domain/review';
import { day } from './text';
import { recordDrillHeld } from './drills-held';
import { generateReport } from './generate';
import { renderReport } from './report-render';
import { renderReview } from './review-render';
import { appendSummary, reportsDir, reviewDir, writeFileAtomic } from './store';

export interface ReportActivityDeps {
  config: EngineConfig;
  /** Wall clock for report generation; tests pin it. */
  now?: () => number;
}

/** What the incident hands over at close: its final status view and timeline, and the plan's windows and steps. */
export type ClosedIncidentInput = ReviewInput;

export interface ClosedIncidentRecord {
  incidentId: string;
  files: string[];
}

export function createReportActivities(deps: ReportActivityDeps) {
  const { config } = deps;
  const now = deps.now ?? Date.now;

  return {
    /** Writes `<dataDir>/reviews/<id>.{md,json,html}` and appends the summary. Safe to retry. */
    async recordClosedIncident(input: ClosedIncidentInput): Promise<ClosedIncidentRecord> {
      const review = buildReview(input);
      const base = path.join(reviewDir(config.dataDir), review.summary.incidentId);
      const files: string[] = [];
      for (const format of ['md', 'json', 'html'] as const) {
        const file = `${base}.${format}`;
        await writeFileAtomic(file, renderReview(review, format));
        files.push(file);
      }
      await appendSummary(config.dataDir, summarize(review, input.plan?.escalation));
      return { incidentId: review.summary.incidentId, files };
    },

    /** The report of the last whole period before `at`, written to the data directory and sent to the audience. */
    async sendPeriodicReport(input: { kind: ReportKind; at: number }) {
      const from = previousPeriodStart(input.kind, input.at);
      const report = await generateReport(config.dataDir, input.kind, { from, now: now() });
      const base = path.join(reportsDir(config.dataDir), `${input.kind}-${day(from)}`);
      for (const format of ['md', 'json', 'html'] as const)
        await writeFileAtomic(`${base}.${format}`, renderReport(report, format));
      const m = report.metrics.overall;
      const delivery = await sendNotification(
        { config, now: () => new Date(now()) },
        {
          incidentId: `report-${input.kind}-${day(from)}`,
          audience: config.reports.audience,
          subject: `${input.kind} incident report ${day(from)} to ${day(report.window.to)}: ${m.count} incident(s)`,
          text: renderReport(report, 'md'),
          details: { kind: input.kind, from, to: report.window.to, html: `${base}.html` },
        },
        `report:${input.kind}:${from}`,
      );
      return {
        kind: input.kind,
        from,
        to: report.window.to,
        incidents: m.count,
        files: `${base}.{md,json,html}`,
        delivery,
      };
    },

    /** Runs a drill scenario as a tabletop on its own time-skipping server, records it and sends the result. */
    async runScheduledDrill(input: { scenario: string; at: number }) {
      const { findDrill } = await import('../drills/load');
      const { runDrill } = await import('../drills/runner');
      const { reportMarkdown } = await import('../drills/report');
      const scenario = findDrill(input.scenario);
      const heartbeat = setInterval(() => Context.current().heartbeat(), 5_000);
      let report;
      try {
        report = await runDrill(scenario, { tabletop: true });
      } finally {
        clearInterval(heartbeat);
      }
      const held = await recordDrillHeld(config.dataDir, report, input.at, 'schedule');
      await sendNotification(
        { config, now: () => new Date(now()) },
        {
          incidentId: `drill-${scenario.id}`,
          audience: config.reports.audience,
          subject: `drill ${scenario.id}: ${report.passed ? 'passed' : 'FAILED'} (${report.summary})`,
          text: reportMarkdown(report),
          details: { scenario: scenario.id, passed: report.passed },
        },
        `drill:${scenario.id}:${input.at}`,
      );
      return held;
    },
  };
}

export type ReportActivities = ReturnType<typeof createReportActivities>;
