// The body of a replay thread (src/drills/replay-pool.ts starts them): takes histories from the pool's queue a few at
// a time, replays them with the bundle and keyring it was given, and posts back the results. Its own Temporal runtime,
// quiet like the caller's, and the same replay sandbox (src/drills/replay-sandbox.ts).
import { parentPort, workerData } from 'node:worker_threads';
import type { WorkflowBundle } from '@temporalio/worker';
import type { CodecKey, CodecKeyring } from '../codec/keys';
import { type QueuedHistory, type ShareResult, replayShare } from './replay-share';
import { skipExecutionWatchdogOnThisThread, skipStackTracesOnThisThread } from './replay-sandbox';
import { quietTemporalRuntime } from './server';

export interface ReplayThreadData {
  bundle: WorkflowBundle;
  keyring?: CodecKeyring;
  replayName: string;
}

/** Thread to pool: more histories, please; or the results, once the queue is empty. Pool to thread: a chunk. */
export type ThreadMessage = { more: true } | { results: ShareResult[] };

const data = workerData as ReplayThreadData;
const port = parentPort!;
await quietTemporalRuntime();
skipStackTracesOnThisThread();
skipExecutionWatchdogOnThisThread();
// Buffers arrive as plain Uint8Arrays.
const keyring = data.keyring && {
  ...data.keyring,
  keys: data.keyring.keys.map((k: CodecKey) => ({ id: k.id, key: Buffer.from(k.key) })),
};
const waiting: ((chunk: QueuedHistory[]) => void)[] = [];
port.on('message', (chunk: QueuedHistory[]) => waiting.shift()?.(chunk));
const take = () =>
  new Promise<QueuedHistory[]>((resolve) => {
    waiting.push(resolve);
    port.postMessage({ more: true } satisfies ThreadMessage);
  });
const results = await replayShare(data.bundle, take, keyring, data.replayName);
port.postMessage({ results } satisfies ThreadMessage);
