// Completing a follow-up after its incident closed: the incident's workflow has ended, so the record it left at close
// takes the completion. The stored review (JSON, Markdown, HTML) is rewritten with the follow-up done, and the summary
// is recorded again without it, so the reports stop listing it (the store reads the last summary of an incident), and
// the closed incident's follow-up reminders are told, so its owner is not reminded of it.
// One completion at a time per process; the API is the only writer.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { followUpCompletedSignal, followUpRemindersId } from '../../workflows/follow-up-reminders';
import type { Review } from '../../domain/review';
import { renderReview } from './review-render';
import { appendSummary, readSummaries, reviewDir, writeFileAtomic } from './store';

/** A completion the record refuses: `not_found` (no such follow-up) or `conflict` (already done). */
export class FollowUpRefused extends Error {
  constructor(
    readonly reason: 'not_found' | 'conflict',
    message: string,
  ) {
    super(message);
    this.name = 'FollowUpRefused';
  }
}

export interface RecordedCompletion {
  by: string;
  at: number;
  note?: string;
}

let queue: Promise<unknown> = Promise.resolve();

/**
 * Marks follow-up `followUpId` of the closed incident done in its record; undefined when no record exists (the
 * incident has not closed, or closed before records were kept).
 */
export function completeRecordedFollowUp(
  dataDir: string,
  incidentId: string,
  followUpId: string,
  done: RecordedCompletion,
): Promise<Review | undefined> {
  const run = queue.then(() => complete(dataDir, incidentId, followUpId, done));
  queue = run.catch(() => undefined);
  return run;
}

async function complete(
  dataDir: string,
  incidentId: string,
  followUpId: string,
  done: RecordedCompletion,
): Promise<Review | undefined> {
  const base = path.join(reviewDir(dataDir), incidentId);
  let review: Review;
  try {
    review = JSON.parse(await readFile(`${base}.json`, 'utf8')) as Review;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const followUp = review.followUps.find((f) => f.id === followUpId);
  if (!followUp) {
    const ids = review.followUps.map((f) => f.id);
    throw new FollowUpRefused(
      'not_found',
      `no follow-up "${followUpId}" on incident ${incidentId}; ` +
        (ids.length ? `its follow-ups are: ${ids.join(', ')}` : 'it has none'),
    );
  }
  if (followUp.doneAt !== undefined) {
    throw new FollowUpRefused(
      'conflict',
      `follow-up "${followUpId}" was already completed by ${followUp.doneBy ?? '?'}`,
    );
  }
  Object.assign(followUp, { doneAt: done.at, doneBy: done.by, ...(done.note ? { note: done.note } : {}) });
  for (const format of ['md', 'json', 'html'] as const) {
    await writeFileAtomic(`${base}.${format}`, renderReview(review, format));
  }
  const summary = (await readSummaries(dataDir)).find((s) => s.incidentId === incidentId);
  if (summary) {
    const same = (f: (typeof summary.followUpsOpen)[number]) =>
      f.id !== undefined
        ? f.id === followUpId
        : f.title === followUp.title && f.owner === followUp.owner && f.dueAt === followUp.dueAt;
    await appendSummary(dataDir, { ...summary, followUpsOpen: summary.followUpsOpen.filter((f) => !same(f)) });
  }
  return review;
}

/**
 * Tells the closed incident's follow-up reminders that `followUpId` is done. Not running is no error: they end when
 * none is left, and an incident closed with every follow-up done or reminded never started them.
 */
export async function tellFollowUpReminders(client: Client, incidentId: string, followUpId: string): Promise<void> {
  try {
    await client.workflow.getHandle(followUpRemindersId(incidentId)).signal(followUpCompletedSignal, { followUpId });
  } catch (error) {
    if (!(error instanceof WorkflowNotFoundError)) throw error;
  }
}
