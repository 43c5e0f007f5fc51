// `report weekly|monthly|quarterly` and `incident review <id>`: the periodic reports from the data directory's
// summary store, and an incident's post-incident review (the one written at close, else a draft from the live
// incident). Both print Markdown by default, or JSON / HTML with --format; --out writes a file instead.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type Command, Option } from 'commander';
import type { IncidentClient } from '../client';
import { loadConfig } from '../config';
import { findRunbook } from '../runbooks/load';
import { REPORT_KINDS } from '../../domain/report';
import type { Review } from '../../domain/review';
import { generateReport, parseReportDate, parseReportKind, planFor, reviewOf } from './generate';
import { REPORT_FORMATS, type ReportFormat, renderReport } from './report-render';
import { renderReview } from './review-render';
import { reviewDir } from './store';

export interface ReportCommandIo {
  json: () => boolean;
  incidents: () => Promise<IncidentClient>;
}

async function emit(text: string, out: string | undefined): Promise<void> {
  if (out) {
    await writeFile(out, text);
    process.stderr.write(`written to ${out}\n`);
  } else process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** --format, with the global --json meaning json. */
function formatOf(io: ReportCommandIo, format: ReportFormat | undefined): ReportFormat {
  return format ?? (io.json() ? 'json' : 'md');
}

const formatOption = () =>
  new Option('-f, --format <format>', 'md (default), json or html').choices([...REPORT_FORMATS]);

export function registerReportCommands(program: Command, io: ReportCommandIo): void {
  program
    .command('report <kind>')
    .description(`a periodic report (${REPORT_KINDS.join(', ')}) over the incidents closed in the period`)
    .option('--from <date>', 'start of the period, like 2026-11-30 (default: the period ending now)')
    .addOption(formatOption())
    .option('--out <file>', 'write to a file instead of stdout')
    .action(async (kind: string, opts: { from?: string; format?: ReportFormat; out?: string }) => {
      const report = await generateReport(loadConfig().dataDir, parseReportKind(kind), {
        ...(opts.from !== undefined ? { from: parseReportDate(opts.from) } : {}),
        now: Date.now(),
      });
      await emit(renderReport(report, formatOf(io, opts.format)), opts.out);
    });

  const incident =
    program.commands.find((c) => c.name() === 'incident') ??
    program.command('incident').description('incident records');
  incident
    .command('review <incident>')
    .description('the post-incident review: final once closed (written at close), a draft before')
    .addOption(formatOption())
    .option('--out <file>', 'write to a file instead of stdout')
    .action(async (id: string, opts: { format?: ReportFormat; out?: string }) => {
      let review: Review | undefined;
      if (/^[A-Z]+-\d{4}-\d{3,}$/.test(id)) {
        try {
          review = JSON.parse(
            await readFile(path.join(reviewDir(loadConfig().dataDir), `${id}.json`), 'utf8'),
          ) as Review;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        }
      }
      if (!review) {
        const client = await io.incidents();
        const status = await client.status(id);
        const timeline = await client.timeline(id);
        let plan;
        try {
          plan = planFor(new Map([[status.runbookId, findRunbook(status.runbookId)]]), status);
        } catch {
          plan = undefined; // the runbook is gone or changed: default windows, said so in the review
        }
        review = reviewOf(status, timeline, plan, Date.now());
      }
      await emit(renderReview(review, formatOf(io, opts.format)), opts.out);
    });
}
