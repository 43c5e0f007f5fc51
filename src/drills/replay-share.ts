// One replay worker's share of a batch: replays the histories it is handed, one at a time as the SDK asks for them,
// and says how each ended as plain data, so that a replay thread can post it back (src/drills/replay-pool.ts).
import { type History, historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker, type WorkflowBundle } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { AesGcmCodec } from '../codec/aes-gcm';
import { dataConverterFor } from '../codec/engine';
import type { CodecKeyring } from '../codec/keys';

/** A history as read from its file (proto JSON), under an id unique within the batch. */
export interface QueuedHistory {
  replayId: string;
  history: unknown;
}

export interface ShareItem {
  replayId: string;
  history: History;
}

export interface ShareResult {
  replayId: string;
  /** The replay's error message, when it failed. */
  message?: string;
  /** The failure was the code no longer matching the history. */
  nondeterminism?: boolean;
  /** The history did not parse: why. */
  invalid?: string;
}

/** Parses a queued history where it is replayed (parsed once: the SDK would otherwise parse proto JSON again). */
function parseQueued(queued: QueuedHistory): ShareItem | ShareResult {
  try {
    return { replayId: queued.replayId, history: historyFromJSON(queued.history) as History };
  } catch (error) {
    return { replayId: queued.replayId, invalid: (error as Error).message };
  }
}

export async function replayShare(
  bundle: WorkflowBundle,
  items: AsyncIterable<ShareItem>,
  keyring: CodecKeyring | undefined,
  replayName: string,
): Promise<ShareResult[]> {
  const results: ShareResult[] = [];
  const histories = (async function* () {
    for await (const item of items) yield { workflowId: item.replayId, history: item.history };
  })();
  for await (const result of Worker.runReplayHistories(
    {
      workflowBundle: bundle,
      replayName,
      ...(keyring ? { dataConverter: dataConverterFor(new AesGcmCodec(keyring)) } : {}),
    },
    histories,
  )) {
    const error = result.error as Error | undefined;
    results.push(
      error
        ? {
            replayId: result.workflowId,
            message: error.message,
            nondeterminism: error instanceof DeterminismViolationError,
          }
        : { replayId: result.workflowId },
    );
  }
  return results;
}

/** The share's histories, parsed one by one as they are taken; those that do not parse go to `invalid`. */
export async function* parsedHistories(
  take: () => Promise<QueuedHistory[]>,
  invalid: ShareResult[],
): AsyncGenerator<ShareItem> {
  for (;;) {
    const chunk = await take();
    if (chunk.length === 0) return;
    for (const queued of chunk) {
      const parsed = parseQueued(queued);
      if ('history' in parsed) yield parsed;
      else invalid.push(parsed);
    }
  }
}
