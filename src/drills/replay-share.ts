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

export interface ShareResult {
  replayId: string;
  /** The replay's error message, when it failed. */
  message?: string;
  /** The failure was the code no longer matching the history. */
  nondeterminism?: boolean;
  /** The history did not parse: why. */
  invalid?: string;
}

/**
 * Replays what `take` hands it until it hands none, each history parsed here, once, as the SDK asks for it (the SDK
 * would otherwise parse proto JSON again); one that does not parse is reported as such and the rest go on.
 */
export async function replayShare(
  bundle: WorkflowBundle,
  take: () => Promise<QueuedHistory[]>,
  keyring: CodecKeyring | undefined,
  replayName: string,
): Promise<ShareResult[]> {
  const results: ShareResult[] = [];
  const histories = (async function* () {
    for (let chunk = await take(); chunk.length > 0; chunk = await take()) {
      for (const queued of chunk) {
        let history: History;
        try {
          history = historyFromJSON(queued.history) as History;
        } catch (error) {
          results.push({ replayId: queued.replayId, invalid: (error as Error).message });
          continue;
        }
        yield { workflowId: queued.replayId, history };
      }
    }
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
