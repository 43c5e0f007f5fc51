// The fault suite's figures: each test file merges its counted outcomes into bench/results/faults.json (read, merged,
// written back), so the file always holds the figures of the last run of every part and says when each was measured.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';

export const FAULTS_RESULTS = path.join(import.meta.dirname, '../../bench/results/faults.json');

export type FaultFigures = Record<string, number | string | boolean>;

/** Merges `figures` into faults.json under their own names, and `part`'s run time under `measured`. */
export function recordFigures(part: string, figures: FaultFigures): void {
  let current: { measured?: Record<string, string> } & Record<string, unknown> = {};
  try {
    current = JSON.parse(readFileSync(FAULTS_RESULTS, 'utf8')) as typeof current;
  } catch {
    // First run: nothing to merge with.
  }
  const measured = { ...(current.measured ?? {}), [part]: new Date().toISOString() };
  const next = { ...current, ...figures, measured };
  mkdirSync(path.dirname(FAULTS_RESULTS), { recursive: true });
  writeFileSync(FAULTS_RESULTS, `${JSON.stringify(next, null, 2)}\n`);
}
