// A drill held, as the programme records it: the scenario, who took part (everyone the script has act), and which
// expectations were met or missed. Written by `drill run` and by the scheduled drills; the quarterly report lists them.
import type { DrillHeld } from '../../domain/report';
import type { DrillReport } from '../drills/report';
import { appendDrillHeld } from './store';

export function drillHeld(report: DrillReport, at: number, via: string): DrillHeld {
  return {
    at,
    scenario: report.scenario.id,
    title: report.scenario.title,
    runbook: report.scenario.runbook.id,
    mode: report.scenario.executed,
    participants: [...new Set(report.script.map((line) => line.by))].sort(),
    passed: report.passed,
    expectationsMet: report.expectations.filter((e) => e.passed).map((e) => e.name),
    expectationsMissed: report.expectations.filter((e) => !e.passed).map((e) => e.name),
    via,
  };
}

export async function recordDrillHeld(
  dataDir: string,
  report: DrillReport,
  at: number,
  via: string,
): Promise<DrillHeld> {
  const held = drillHeld(report, at, via);
  await appendDrillHeld(dataDir, held);
  return held;
}
