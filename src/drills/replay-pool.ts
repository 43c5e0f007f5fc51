// Replays a batch on several threads at once: the calling thread and `threads - 1` replay threads
// (src/drills/replay-thread.ts) take histories from one queue, a few at a time. A replay worker runs its workflows in
// its thread's JavaScript, so one thread uses one core; the queue keeps them all busy to the end, whichever starts
// late (a replay thread's start, its loader, the SDK and its own Temporal runtime, takes a second or two) or gets
// the long histories.
import { Worker as Thread } from 'node:worker_threads';
import type { WorkflowBundle } from '@temporalio/worker';
import type { CodecKeyring } from '../codec/keys';
import { type QueuedHistory, type ShareResult, replayShare } from './replay-share';
import type { ReplayThreadData, ThreadMessage } from './replay-thread';

/** Histories a replay thread takes at once: few, so that the last ones are spread, and the messages stay rare. */
const CHUNK = 4;

export interface PoolResult extends ShareResult {
  /** Where it was replayed: 0 the calling thread, 1 and up the replay threads. */
  thread: number;
}

export async function replayPool(
  bundle: WorkflowBundle,
  queue: QueuedHistory[],
  keyring: CodecKeyring | undefined,
  threads: number,
): Promise<PoolResult[]> {
  let next = 0;
  const take = (count: number) => {
    const chunk = queue.slice(next, next + count);
    next += chunk.length;
    return chunk;
  };
  const results: PoolResult[] = [];
  const collect = (thread: number, share: ShareResult[]) => results.push(...share.map((r) => ({ ...r, thread })));

  const replayHere = async () =>
    collect(0, await replayShare(bundle, async () => take(1), keyring, 'incident-engine-replay-0'));

  const replayThere = (thread: number) =>
    replayInThread(bundle, keyring, thread, take).then(
      (share) => collect(thread, share),
      (error: unknown) => {
        next = queue.length; // the other threads stop taking; the batch fails as a whole
        throw error;
      },
    );

  await Promise.all([replayHere(), ...Array.from({ length: threads - 1 }, (_, k) => replayThere(k + 1))]);
  return results;
}

/** Replays in a new replay thread what `take` hands it, `CHUNK` at a time until it hands none, and ends the thread. */
export function replayInThread(
  bundle: WorkflowBundle,
  keyring: CodecKeyring | undefined,
  thread: number,
  take: (count: number) => QueuedHistory[],
): Promise<ShareResult[]> {
  return new Promise((resolve, reject) => {
    const data: ReplayThreadData = {
      bundle,
      ...(keyring ? { keyring } : {}),
      replayName: `incident-engine-replay-${thread}`,
    };
    const worker = new Thread(new URL('./replay-thread.mjs', import.meta.url), { workerData: data });
    let reported = false;
    worker.on('message', (message: ThreadMessage) => {
      if ('more' in message) {
        worker.postMessage(take(CHUNK));
        return;
      }
      reported = true;
      resolve(message.results);
      void worker.terminate();
    });
    const fail = (error: Error) =>
      reject(new Error(`replay thread ${thread} failed: ${error.message}`, { cause: error }));
    worker.once('error', fail);
    worker.once('exit', (code) => {
      if (!reported) fail(new Error(`it exited with code ${code} before reporting`));
    });
  });
}
