// Report and review generation from the data directory and live incidents: what the CLI, the API and the scheduled
// workflow share. A date given by a person is checked here, with an error that says what was expected.
import {
  type PeriodicReport,
  REPORT_KINDS,
  type ReportKind,
  buildPeriodicReport,
  periodEnd,
  periodStart,
} from '../../domain/report';
import { type Review, type ReviewInput, buildReview } from '../../domain/review';
import type { RunbookPlan } from '../../domain/runbook';
import type { TimelineEvent } from '../../domain/incident';
import type { IncidentStatusView } from '../../workflows/definitions';
import { readDrillsHeld, readSummaries } from './store';

export class ReportInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReportInputError';
  }
}

export function parseReportKind(kind: string): ReportKind {
  if (!(REPORT_KINDS as readonly string[]).includes(kind))
    throw new ReportInputError(`expected a report kind: ${REPORT_KINDS.join(', ')}; got "${kind}"`);
  return kind as ReportKind;
}

/** `2026-11-30` (midnight UTC) or a full ISO timestamp, between 2000 and 2100. */
export function parseReportDate(text: string, what = '--from'): number {
  const trimmed = text.trim();
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(trimmed) ? Date.parse(`${trimmed}T00:00:00Z`) : Date.parse(trimmed);
  if (
    !/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(trimmed) ||
    Number.isNaN(ms) ||
    ms < Date.UTC(2000, 0, 1) ||
    ms > Date.UTC(2100, 0, 1)
  )
    throw new ReportInputError(`${what}: expected a date like 2026-11-30 or 2026-11-30T08:00:00Z, got "${text}"`);
  return ms;
}

/** The window of a report: the period starting at `from`, or the period ending now. */
export function reportWindow(kind: ReportKind, from: number | undefined, now: number): { from: number; to: number } {
  return from !== undefined ? { from, to: periodEnd(kind, from) } : { from: periodStart(kind, now), to: now };
}

export async function generateReport(
  dataDir: string,
  kind: ReportKind,
  options: { from?: number; now: number },
): Promise<PeriodicReport> {
  const window = reportWindow(kind, options.from, options.now);
  const [summaries, drillsHeld] = await Promise.all([readSummaries(dataDir), readDrillsHeld(dataDir)]);
  return buildPeriodicReport({ kind, ...window, generatedAt: options.now, summaries, drillsHeld });
}

/** The plan an incident ran, when the loaded runbook is still the same content (else its windows may have changed). */
export function planFor(runbooks: Map<string, RunbookPlan>, status: IncidentStatusView): RunbookPlan | undefined {
  const plan = runbooks.get(status.runbookId);
  return plan && plan.contentHash === status.runbookHash ? plan : undefined;
}

/** What an incident exposes today, plus the optional parts later incidents will carry. */
export function reviewOf(
  status: IncidentStatusView & Partial<Pick<ReviewInput, 'notes' | 'lessons' | 'followUps'>>,
  timeline: TimelineEvent[],
  plan: ReviewInput['plan'] | undefined,
  now: number,
): Review {
  return buildReview(
    {
      status,
      timeline,
      ...(plan ? { plan } : {}),
      ...(status.notes ? { notes: status.notes } : {}),
      ...(status.lessons ? { lessons: status.lessons } : {}),
      ...(status.followUps ? { followUps: status.followUps } : {}),
    },
    now,
  );
}
