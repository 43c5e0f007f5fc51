// The data directory's report files: the closed-incident summary store (JSON lines, one summary per closed incident),
// the log of drills held, and the review written at close. Appends are single writes of one line, so concurrent
// workers never interleave; a summary recorded twice (a retried activity) is read once, the last one winning.
import { appendFile, mkdir, readFile, writeFile, rename } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { DrillHeld, IncidentSummaryRecord } from '../../domain/report';

export function reportsDir(dataDir: string): string {
  return path.join(dataDir, 'reports');
}

export function summaryFile(dataDir: string): string {
  return path.join(reportsDir(dataDir), 'incidents.jsonl');
}

export function drillLogFile(dataDir: string): string {
  return path.join(reportsDir(dataDir), 'drills.jsonl');
}

export function reviewDir(dataDir: string): string {
  return path.join(dataDir, 'reviews');
}

async function appendLine(file: string, value: unknown): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await appendFile(file, JSON.stringify(value) + '\n', { mode: 0o600 });
}

async function readLines<T>(file: string): Promise<T[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const out: T[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      // A torn last line (a crash mid-write) is skipped; anything else is damage worth hearing about.
      if (i < lines.length - 2) throw new Error(`${file}:${i + 1}: not a JSON line`);
    }
  }
  return out;
}

export async function appendSummary(dataDir: string, summary: IncidentSummaryRecord): Promise<void> {
  await appendLine(summaryFile(dataDir), summary);
}

/** Every closed incident's summary, once each (the last recorded wins). */
export async function readSummaries(dataDir: string): Promise<IncidentSummaryRecord[]> {
  const byId = new Map<string, IncidentSummaryRecord>();
  for (const s of await readLines<IncidentSummaryRecord>(summaryFile(dataDir))) byId.set(s.incidentId, s);
  return [...byId.values()];
}

export async function appendDrillHeld(dataDir: string, drill: DrillHeld): Promise<void> {
  await appendLine(drillLogFile(dataDir), drill);
}

export async function readDrillsHeld(dataDir: string): Promise<DrillHeld[]> {
  return readLines<DrillHeld>(drillLogFile(dataDir));
}

/**
 * Writes a file whole or not at all (a reader never sees half a review). Each write has its own temporary file, so two
 * writers of one file (an activity and its retry, two workers) never rename each other's away.
 */
export async function writeFileAtomic(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.${randomUUID()}.tmp`;
  await writeFile(temporary, text, { mode: 0o600 });
  await rename(temporary, file);
}
