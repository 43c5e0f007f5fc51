// Replays a batch on several threads at once: the calling thread and the replay threads (src/drills/replay-threads.ts)
// take histories from one queue, a few at a time. A replay worker runs its workflows in its thread's JavaScript, so
// one thread uses one core; the queue keeps them all busy to the end, whichever starts late or gets the long histories.
import type { WorkflowBundle } from '@temporalio/worker';
import type { CodecKeyring } from '../codec/keys';
import { type QueuedHistory, replayShare } from './replay-share';
import type { ReplayThreads, ThreadResult } from './replay-threads';

export async function replayPool(
  bundle: WorkflowBundle,
  queue: QueuedHistory[],
  keyring: CodecKeyring | undefined,
  threads: ReplayThreads | undefined,
): Promise<ThreadResult[]> {
  let next = 0;
  const take = (count: number) => {
    const chunk = queue.slice(next, next + count);
    next += chunk.length;
    return chunk;
  };
  const replayHere = async () =>
    (await replayShare(bundle, async () => take(1), keyring, 'incident-engine-replay-0')).map((r) => ({
      ...r,
      thread: 0,
    }));
  const replayThere = async () => {
    try {
      return threads ? await threads.share(bundle, keyring, take) : [];
    } catch (error) {
      next = queue.length; // the calling thread stops taking too; the batch fails as a whole
      throw error;
    }
  };
  return (await Promise.all([replayHere(), replayThere()])).flat();
}
