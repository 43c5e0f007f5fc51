// The Temporal Schedules behind the periodic reports and the drill programme, created (or brought in line with the
// configuration) when the engine starts. One schedule per report kind and per scheduled drill; a cadence set to
// false, or a drill taken out of the configuration, removes its schedule.
import { type Client, ScheduleAlreadyRunning, ScheduleNotFoundError } from '@temporalio/client';
import type { EngineConfig } from '../config';
import { REPORT_KINDS } from '../../domain/report';

export const REPORT_SCHEDULE_PREFIX = 'incident-report-';
export const DRILL_SCHEDULE_PREFIX = 'incident-drill-';

interface Wanted {
  id: string;
  cron: string;
  workflowType: 'periodicReportWorkflow' | 'scheduledDrillWorkflow';
  args: unknown[];
}

function wantedSchedules(config: EngineConfig): { wanted: Wanted[]; unwanted: string[] } {
  const wanted: Wanted[] = [];
  const unwanted: string[] = [];
  for (const kind of REPORT_KINDS) {
    const cron = config.reports[kind];
    if (cron === false) unwanted.push(`${REPORT_SCHEDULE_PREFIX}${kind}`);
    else
      wanted.push({
        id: `${REPORT_SCHEDULE_PREFIX}${kind}`,
        cron,
        workflowType: 'periodicReportWorkflow',
        args: [{ kind }],
      });
  }
  for (const drill of config.reports.drills)
    wanted.push({
      id: `${DRILL_SCHEDULE_PREFIX}${drill.scenario}`,
      cron: drill.cron,
      workflowType: 'scheduledDrillWorkflow',
      args: [{ scenario: drill.scenario }],
    });
  return { wanted, unwanted };
}

/** Creates or updates every configured schedule and deletes the ones turned off; returns the ids in force. */
export async function ensureReportSchedules(client: Client, config: EngineConfig): Promise<string[]> {
  const { wanted, unwanted } = wantedSchedules(config);
  const wantedIds = new Set(wanted.map((w) => w.id));
  for (const w of wanted) {
    const options = {
      scheduleId: w.id,
      spec: { cronExpressions: [w.cron] },
      action: {
        type: 'startWorkflow' as const,
        workflowType: w.workflowType,
        args: w.args,
        taskQueue: config.taskQueue,
        workflowId: w.id,
      },
      // A run missed while the engine was down is made up for once within a day; never two at once.
      policies: { catchupWindow: '1 day', overlap: 'SKIP' as const },
    };
    try {
      await client.schedule.create(options);
    } catch (error) {
      if (!(error instanceof ScheduleAlreadyRunning)) throw error;
      await client.schedule
        .getHandle(w.id)
        .update((previous) => ({ ...previous, spec: options.spec, action: options.action }));
    }
  }
  // Drill schedules dropped from the configuration go too.
  for await (const s of client.schedule.list()) {
    if (s.scheduleId.startsWith(DRILL_SCHEDULE_PREFIX) && !wantedIds.has(s.scheduleId)) unwanted.push(s.scheduleId);
  }
  for (const id of unwanted) {
    try {
      await client.schedule.getHandle(id).delete();
    } catch (error) {
      if (!(error instanceof ScheduleNotFoundError)) throw error;
    }
  }
  return [...wantedIds];
}
